package apitest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/server"
)

// Registered by default so tests can create virtual clusters and start job runs at once.
const (
	// RoleArn is an execution role every virtual cluster may use.
	RoleArn = "arn:aws:iam::000000000000:role/spark-jobs"
	// ContainerProvider is a configured container provider id (no kubeconfig behind it).
	ContainerProvider = "test-cluster"
	// ReleaseLabel is a label the built-in release catalog knows.
	ReleaseLabel = "emr-6.5.0-latest"
)

// Server is a running API server.
type Server struct {
	URL             string
	AccessKeyID     string
	SecretAccessKey string
	Region          string
	AccountID       string
	// Principal is the ARN requests signed with AccessKeyID run as (createdBy).
	Principal string
	// App is the wired server, for tests that need the store or service directly.
	App *server.Server

	stop func()
}

// Stop shuts the server down before the test ends (a restart test starts another on the same
// data directory); it runs at the end of the test anyway and may be called twice.
func (s *Server) Stop() { s.stop() }

// Option changes the configuration (or apitest's own settings) before the server starts.
type Option func(*options)

// options are what Start builds the server from.
type options struct {
	cfg     config.Config
	logFile string
}

// WithExecutionRole registers an execution role for the given virtual cluster ids ("*" = all).
func WithExecutionRole(arn string, virtualClusters ...string) Option {
	return func(o *options) {
		c := &o.cfg
		c.ExecutionRoles = append(c.ExecutionRoles, config.ExecutionRole{Arn: arn, VirtualClusters: virtualClusters})
	}
}

// WithContainerProvider registers a Kubernetes cluster id (kubeconfig may be empty).
func WithContainerProvider(id, kubeconfig string) Option {
	return func(o *options) {
		c := &o.cfg
		c.ContainerProviders = append(c.ContainerProviders, config.ContainerProvider{ID: id, Kubeconfig: kubeconfig})
	}
}

// WithConfig applies an arbitrary change to the configuration.
func WithConfig(f func(*config.Config)) Option { return func(o *options) { f(&o.cfg) } }

// ClusterProvider is the container provider id WithCluster registers.
const ClusterProvider = "sandbox"

// WithCluster makes the server drive a real cluster: the kubeconfig becomes the only container
// provider (ClusterProvider, namespaces created on demand), so the lifecycle controller runs,
// with a 2 s resync to keep tests quick.
func WithCluster(kubeconfig string) Option {
	return func(o *options) {
		c := &o.cfg
		c.ContainerProviders = []config.ContainerProvider{{ID: ClusterProvider, Kubeconfig: kubeconfig, CreateNamespaces: true}}
		c.Controller.Resync = config.Duration{Duration: 2 * time.Second}
	}
}

// WithDataDir keeps the store in dir, which outlives the server (for restart tests).
func WithDataDir(dir string) Option {
	return func(o *options) {
		o.cfg.DataDir, o.cfg.Database, o.cfg.CredentialsFile, o.cfg.SecretsKeyFile = dir, "", "", ""
	}
}

// WithLogFile writes the server's log (info level: every state change) to path instead of the
// test log.
func WithLogFile(path string) Option {
	return func(o *options) { o.logFile = path }
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	dir := t.TempDir()
	key := randomKey()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.Database = filepath.Join(dir, "sparkplane.db")
	cfg.CredentialsFile = filepath.Join(dir, "credentials")
	cfg.Credentials = []config.Credential{key}
	cfg.ExecutionRoles = []config.ExecutionRole{{Arn: RoleArn, VirtualClusters: []string{"*"}}}
	cfg.ContainerProviders = []config.ContainerProvider{{ID: ContainerProvider}}
	o := options{cfg: cfg}
	for _, opt := range opts {
		opt(&o)
	}
	cfg = o.cfg
	if cfg.Database == "" {
		cfg.Database = filepath.Join(cfg.DataDir, "sparkplane.db")
	}
	if cfg.CredentialsFile == "" {
		cfg.CredentialsFile = filepath.Join(cfg.DataDir, "credentials")
	}
	if cfg.SecretsKeyFile == "" {
		// config.Load sets this default, which Start bypasses; without it server.New fails
		// to create the key that seals access keys.
		cfg.SecretsKeyFile = filepath.Join(cfg.DataDir, "secrets.key")
	}
	// The lifecycle controller runs only when some provider names a real cluster.
	cfg.Controller.Disabled = true
	for _, p := range cfg.ContainerProviders {
		if p.Kubeconfig != "" {
			cfg.Controller.Disabled = false
		}
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.logFile != "" {
		f, err := os.OpenFile(o.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatalf("apitest: log file: %v", err)
		}
		t.Cleanup(func() { f.Close() })
		log = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err := server.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("apitest: start server: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		app.Close()
		t.Fatalf("apitest: listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, ln) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("apitest: serve: %v", err)
		}
		if err := app.Close(); err != nil {
			t.Errorf("apitest: close store: %v", err)
		}
	}
	t.Cleanup(stop)
	return &Server{
		URL: "http://" + ln.Addr().String(), AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey,
		Region: cfg.Region, AccountID: cfg.AccountID, Principal: cfg.DefaultPrincipal(key.AccessKeyID), App: app,
		stop: stop,
	}
}

func randomKey() config.Credential {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	h := strings.ToUpper(hex.EncodeToString(b))
	return config.Credential{AccessKeyID: "SPKTEST" + h[:13], SecretAccessKey: hex.EncodeToString(b)}
}

// testWriter sends server logs to t.Log so they show only for failing tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Client returns an aws-sdk-go-v2 emrcontainers client signed with the server's key.
func (s *Server) Client() *emrcontainers.Client {
	return s.ClientWith(s.AccessKeyID, s.SecretAccessKey)
}

// ClientWith returns a client signing with the given key (for authentication tests).
func (s *Server) ClientWith(accessKeyID, secret string) *emrcontainers.Client {
	return emrcontainers.New(emrcontainers.Options{
		Region:           s.Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKeyID, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// Env is the environment for the aws CLI (or any AWS SDK) to reach this server: the access
// key, region, and no user config files. Pass it to exec.Cmd.Env; use --endpoint-url s.URL.
func (s *Server) Env() []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + s.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretAccessKey,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_REGION=" + s.Region,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "PATH" || k == "HOME" || k == "LANG" || k == "TMPDIR" {
			env = append(env, kv)
		}
	}
	return env
}

// AWS runs `aws --endpoint-url URL --output json <args>` against the server and returns its
// stdout; on a non-zero exit the error carries stderr. The test fails if the aws CLI is not
// installed.
func (s *Server) AWS(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("apitest: the aws CLI is required: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)...)
	cmd.Env = s.Env()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &CLIError{Err: err, Stderr: stderr.String()}
	}
	return out, nil
}

// CLIError is a failed aws CLI run.
type CLIError struct {
	Err    error
	Stderr string
}

func (e *CLIError) Error() string { return e.Err.Error() + ": " + e.Stderr }
