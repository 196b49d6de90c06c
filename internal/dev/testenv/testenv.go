package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/emulator"
	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
)

// Options choose the parts beside the control plane.
type Options struct {
	// Karpenter installs Karpenter's CRDs, the sandbox KWOKNodeClass and NodePools, and runs
	// Karpenter's kwok provider.
	Karpenter bool
	// Emulator runs the Spark driver emulator in the test process; it writes the pods' Spark
	// logs under Dir/pod-logs, for `kubectl logs`.
	Emulator bool
	// S3 runs versitygw on a temporary directory with one bucket.
	S3 bool
}

// Env is a package's shared cluster.
type Env struct {
	// Name is the kwokctl cluster name.
	Name string
	// Dir holds the cluster's state, the parts' pid files and logs.
	Dir        string
	Kubeconfig string
	Config     *rest.Config
	Client     kubernetes.Interface
	Dynamic    dynamic.Interface
	// S3 is set with Options.S3; Bucket exists on it.
	S3     *sandbox.S3
	Bucket string
	// KarpenterMetricsURL is Karpenter's Prometheus endpoint, with Options.Karpenter.
	KarpenterMetricsURL string

	cluster   *sandbox.Cluster
	processes []*sandbox.Process
	cancel    context.CancelFunc
	emulated  chan struct{}
}

var (
	shared   *Env
	startErr error
	started  bool
)

// Main starts the shared cluster, runs the package's tests and tears the cluster down. It
// exits the test binary with the tests' result; a cluster that cannot start fails the package.
func Main(m *testing.M, opts Options) {
	flag.Parse()
	started = true
	if testing.Short() {
		os.Exit(m.Run())
	}
	start := time.Now()
	env, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		if env != nil {
			env.Stop()
		}
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "testenv: cluster %s ready in %s\n", env.Name, time.Since(start).Round(time.Millisecond))
	shared = env
	code := m.Run()
	env.Stop()
	os.Exit(code)
}

// Get returns the package's shared cluster. It fails the test when the package has no
// testenv.Main, and skips it under -short.
func Get(t testing.TB) *Env {
	t.Helper()
	if !started {
		t.Fatal("testenv.Get: the package's TestMain must call testenv.Main")
	}
	if testing.Short() {
		t.Skip("needs the shared cluster; runs without -short")
	}
	if shared == nil {
		t.Fatalf("testenv: no cluster: %v", startErr)
	}
	return shared
}

// Cluster is the kwokctl cluster, for failure tests that stop and start its components.
func (e *Env) Cluster() *sandbox.Cluster { return e.cluster }

// baseDir holds one directory per running test cluster.
func baseDir() string { return filepath.Join(os.TempDir(), "sparkplane-testenv") }

// Start brings up a cluster with opts. Callers other than Main must call Stop.
func Start(ctx context.Context, opts Options) (*Env, error) {
	tools, err := toolcache.Locate()
	if err != nil {
		return nil, err
	}
	reapStale(tools)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	name := fmt.Sprintf("sptest-%d-%s", os.Getpid(), hex.EncodeToString(suffix))
	dir := filepath.Join(baseDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	env := &Env{Name: name, Dir: dir}
	env.cluster = sandbox.NewCluster(tools, name, filepath.Join(dir, "kwok"))
	env.Kubeconfig = env.cluster.Kubeconfig
	if err := env.cluster.Create(ctx, nil); err != nil {
		return env, err
	}
	if env.Config, err = env.cluster.RESTConfig(); err != nil {
		return env, err
	}
	if env.Client, err = kubernetes.NewForConfig(env.Config); err != nil {
		return env, err
	}
	if env.Dynamic, err = dynamic.NewForConfig(env.Config); err != nil {
		return env, err
	}
	if err := waitDefaultServiceAccount(ctx, env.Client); err != nil {
		return env, err
	}

	if opts.Karpenter {
		if err := sandbox.InstallKarpenter(ctx, env.Config, tools); err != nil {
			return env, err
		}
		ports, err := freePorts(2)
		if err != nil {
			return env, err
		}
		p, err := sandbox.StartProcess(sandbox.KarpenterSpec(tools, dir, env.Kubeconfig,
			sandbox.KarpenterPorts{Metrics: ports[0], Health: ports[1]}))
		if err != nil {
			return env, err
		}
		env.processes = append(env.processes, p)
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err = sandbox.WaitHTTP(wctx, sandbox.KarpenterHealthURL(ports[1]), func() bool { return !p.Exited() })
		cancel()
		if err != nil {
			return env, fmt.Errorf("karpenter (log %s): %w", p.LogPath, err)
		}
		env.KarpenterMetricsURL = fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0])
	}

	if opts.S3 {
		ports, err := freePorts(1)
		if err != nil {
			return env, err
		}
		data := filepath.Join(dir, "s3")
		if err := os.MkdirAll(data, 0o755); err != nil {
			return env, err
		}
		s3 := &sandbox.S3{
			Endpoint:    fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
			AccessKeyID: "TESTENV" + randomHex(6), SecretAccessKey: randomHex(20), Region: "us-east-1",
		}
		p, err := sandbox.StartProcess(sandbox.S3Spec(tools, dir, data, ports[0], s3.Region, s3.AccessKeyID, s3.SecretAccessKey))
		if err != nil {
			return env, err
		}
		env.processes = append(env.processes, p)
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = s3.WaitReady(wctx, func() bool { return !p.Exited() })
		cancel()
		if err != nil {
			return env, fmt.Errorf("versitygw (log %s): %w", p.LogPath, err)
		}
		env.S3, env.Bucket = s3, "sparkplane-test"
		if err := s3.EnsureBucket(ctx, env.Bucket); err != nil {
			return env, err
		}
	}

	if opts.Emulator {
		ectx, cancel := context.WithCancel(context.Background())
		env.cancel = cancel
		env.emulated = make(chan struct{})
		logFile, err := os.Create(filepath.Join(dir, "emulator.log"))
		if err != nil {
			return env, err
		}
		// The pods' Spark logs go to files kwok serves to `kubectl logs`.
		eopts := emulator.Options{Log: slog.New(slog.NewTextHandler(logFile, nil)),
			Dynamic: env.Dynamic, LogDir: filepath.Join(dir, "pod-logs")}
		if opts.S3 {
			eopts.S3 = env.S3.Client() // the drivers' event logs
			// The pods' log-shipping sidecars, run as the real binary with the S3 server's key
			// standing in for the jobs' roles.
			bin, err := buildSparkplane(ctx, dir)
			if err != nil {
				return env, err
			}
			eopts.LogShipper = bin
			eopts.ShipperEnv = []string{"AWS_ACCESS_KEY_ID=" + env.S3.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + env.S3.SecretAccessKey,
				"AWS_REGION=" + env.S3.Region}
		}
		em := emulator.New(env.Client, eopts)
		go func() {
			defer close(env.emulated)
			defer logFile.Close()
			if err := em.Run(ectx); err != nil {
				fmt.Fprintf(logFile, "emulator stopped: %v\n", err)
			}
		}()
	}
	return env, nil
}

// waitDefaultServiceAccount waits for the controller-manager to create the default service
// account, without which the API server rejects every pod in the namespace.
func waitDefaultServiceAccount(ctx context.Context, client kubernetes.Interface) error {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("default service account never appeared: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var nodeClaims = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodeclaims"}

// Stop tears the cluster down: NodeClaims first (while Karpenter still runs to release their
// finalizers), then the emulator and every process by its pid, then the kwokctl cluster.
func (e *Env) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if e.Dynamic != nil && e.KarpenterMetricsURL != "" {
		_ = e.Dynamic.Resource(nodeClaims).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			l, err := e.Dynamic.Resource(nodeClaims).List(ctx, metav1.ListOptions{})
			if err != nil || len(l.Items) == 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if e.cancel != nil {
		e.cancel()
		<-e.emulated
	}
	for i := len(e.processes) - 1; i >= 0; i-- {
		if err := e.processes[i].Stop(10 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		}
	}
	if e.cluster != nil {
		if err := e.cluster.Delete(ctx, nil); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		}
	}
	if os.Getenv("SPARKPLANE_KEEP_TESTENV") == "" {
		_ = os.RemoveAll(e.Dir)
	}
}

// reapStale removes the clusters of test binaries that died without tearing down.
func reapStale(tools toolcache.Tools) {
	entries, _ := os.ReadDir(baseDir())
	for _, ent := range entries {
		dir := filepath.Join(baseDir(), ent.Name())
		owner := sandbox.ReadPid(dir, "owner")
		if owner == 0 || sandbox.Alive(owner) {
			continue
		}
		for _, part := range []string{"karpenter", "versitygw"} {
			if pid := sandbox.ReadPid(dir, part); sandbox.Alive(pid) {
				_ = sandbox.StopPid(pid, 5*time.Second)
			}
		}
		c := sandbox.NewCluster(tools, ent.Name(), filepath.Join(dir, "kwok"))
		if c.Exists() {
			_ = c.Delete(context.Background(), io.Discard)
		}
		_ = os.RemoveAll(dir)
	}
}

func freePorts(n int) ([]int, error) {
	var out []int
	for len(out) < n {
		p, err := sandbox.FreePort()
		if err != nil {
			return nil, err
		}
		dup := false
		for _, q := range out {
			dup = dup || q == p
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ServerS3 is the sparkplane server setting that reads from this cluster's S3 server (with
// Options.S3), for tests whose jobs name s3:// pod templates.
func (e *Env) ServerS3() config.S3 {
	return config.S3{Endpoint: e.S3.Endpoint, Region: e.S3.Region, AccessKeyID: e.S3.AccessKeyID, SecretAccessKey: e.S3.SecretAccessKey, ForcePathStyle: true}
}

// buildSparkplane builds the sparkplane binary into dir/bin for the emulator to run as pods'
// log-shipping sidecars; Go's build cache makes it a link after the first time.
func buildSparkplane(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "bin", "sparkplane")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/sparkplane/sparkplane/cmd/sparkplane")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build sparkplane for the log shipper: %w\n%s", err, out)
	}
	return bin, nil
}
