package failover

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

const (
	roleArn  = "arn:aws:iam::000000000000:role/spark-jobs"
	provider = "failover"
	region   = "us-east-1"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// serverBinary builds cmd/sparkplane once for the package: the tests run what ships.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sparkplane-failover-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "sparkplane")
		out, err := exec.Command("go", "build", "-o", binary, "../../cmd/sparkplane").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/sparkplane: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	t.Cleanup(func() {}) // the binary's directory goes with the package's temporary files
	return binary
}

// replica is one `sparkplane server` process of the test, known by its pid.
type replica struct {
	name    string
	config  string
	url     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

// start runs the binary on the replica's configuration file, its output in its log file, and
// waits until it answers. The kernel kills it if the test process dies first.
func (r *replica) start(t *testing.T, bin string) {
	t.Helper()
	if err := r.run(bin); err != nil {
		t.Fatal(err)
	}
}

// run is start for any goroutine: it returns what went wrong.
func (r *replica) run(bin string) error {
	log, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	r.cmd = exec.Command(bin, "server", "--config", r.config)
	r.cmd.Stdout, r.cmd.Stderr = log, log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.name, err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(r.cmd, r.exited)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := sandbox.WaitHTTP(ctx, r.url+"/healthz", func() bool { return !r.done() }); err != nil {
		return fmt.Errorf("%s did not answer: %w\n%s", r.name, err, r.logTail())
	}
	return nil
}

func (r *replica) pid() int { return r.cmd.Process.Pid }

func (r *replica) done() bool {
	select {
	case <-r.exited:
		return true
	default:
		return false
	}
}

// stop sends sig and waits for the process to end.
func (r *replica) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if r.cmd == nil || r.done() {
		return
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Errorf("signal %s: %v", r.name, err)
	}
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		t.Errorf("%s did not stop within 30 s of %s", r.name, sig)
	}
}

// leads reads the replica's sparkplane_leader metric.
func (r *replica) leads() bool {
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "sparkplane_leader "); ok {
			return strings.TrimSpace(v) == "1"
		}
	}
	return false
}

func (r *replica) logTail() string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return r.name + "'s log:\n" + string(b)
}

// replicas are several servers on one PostgreSQL database and the test cluster, electing
// their leader on a Lease of their own.
type replicas struct {
	list  []*replica
	lease string
	key   config.Credential
	dsn   string
	dir   string
}

// startReplicas writes n configurations (each its own port and data directory, the rest
// alike) and starts the servers one after the other.
func startReplicas(t *testing.T, bin, dsn string, n int) *replicas {
	t.Helper()
	rs := &replicas{lease: fmt.Sprintf("failover-%d", time.Now().UnixNano()%1e9), dsn: dsn, dir: t.TempDir(),
		key: config.Credential{AccessKeyID: "SPKFAILOVERTEST00001", SecretAccessKey: "failover-test-secret-key-0001"}}
	for range n {
		rs.add(t).start(t, bin)
	}
	t.Cleanup(func() {
		for _, r := range rs.list {
			r.stop(t, syscall.SIGTERM)
		}
		if t.Failed() {
			for _, r := range rs.list {
				t.Log(r.logTail())
			}
		}
	})
	return rs
}

// add writes the configuration of one more replica (its own port and data directory, the
// rest as the others'), which the caller starts.
func (rs *replicas) add(t *testing.T) *replica {
	t.Helper()
	port, err := sandbox.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("replica-%d", len(rs.list)+1)
	cfg := config.Config{
		Listen: fmt.Sprintf("127.0.0.1:%d", port), DataDir: filepath.Join(rs.dir, name), Database: rs.dsn,
		Region: region, AccountID: "000000000000", LogLevel: "info",
		Credentials:        []config.Credential{rs.key},
		ExecutionRoles:     []config.ExecutionRole{{Arn: roleArn, VirtualClusters: []string{"*"}}},
		ContainerProviders: []config.ContainerProvider{{ID: provider, Kubeconfig: testenv.Get(t).Kubeconfig, CreateNamespaces: true}},
		LeaderElection:     config.LeaderElection{Namespace: "default", Name: rs.lease},
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(rs.dir, name+".yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, config: path, url: "http://" + cfg.Listen, logPath: filepath.Join(rs.dir, name+".log")}
	rs.list = append(rs.list, r)
	return r
}

// holder is the replica whose pid the Lease's holder identity (host_pid_random) names, or nil.
func (rs *replicas) holder(t *testing.T) *replica {
	t.Helper()
	env := testenv.Get(t)
	l, err := env.Client.CoordinationV1().Leases("default").Get(context.Background(), rs.lease, metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return nil
	}
	for _, r := range rs.list {
		if r.cmd != nil && !r.done() && strings.Contains(*l.Spec.HolderIdentity, "_"+strconv.Itoa(r.pid())+"_") {
			return r
		}
	}
	return nil
}

// waitLeader waits for a replica to hold the Lease and run its controller.
func (rs *replicas) waitLeader(t *testing.T, within time.Duration) *replica {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if r := rs.holder(t); r != nil && r.leads() {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no replica led within %s", within)
	return nil
}

// client is an SDK client of one replica. Its own retries are off: the test retries each call
// itself, with the same clientToken, on the next replica, as an SDK behind a load balancer
// does.
func (rs *replicas) client(r *replica) *emrcontainers.Client {
	return emrcontainers.New(emrcontainers.Options{
		Region: region, BaseEndpoint: aws.String(r.url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(rs.key.AccessKeyID, rs.key.SecretAccessKey, ""),
	})
}

// waitFor polls cond every interval until it holds or within has passed, and says how long it
// took.
func waitFor(within, interval time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start), true
		}
		time.Sleep(interval)
	}
	return time.Since(start), false
}

// runCommand runs the binary with args and extra environment, and returns its exit code and
// output; it fails the test when the command does not end within a minute.
func runCommand(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s still ran after a minute:\n%s", bin, strings.Join(args, " "), out)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("run %s: %v", bin, err)
	return 0, ""
}
