package sandbox_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
)

// TestSandboxUpStatusDown runs the real `sparkplane` binary's sandbox: up brings every part up
// healthy and writes a usable env file (checked with the real aws CLI), a second up changes
// nothing, and down leaves none of the processes behind.
func TestSandboxUpStatusDown(t *testing.T) {
	testenv.Get(t) // an integration test: skipped only under -short, like the others here
	ctx := context.Background()
	bins := t.TempDir()
	for _, cmd := range []string{"sparkplane", "sparkplane-sandbox"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bins, cmd), "../../../cmd/"+cmd)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, out)
		}
	}
	s := &sandbox.Sandbox{Dir: filepath.Join(t.TempDir(), ".sandbox"), Self: filepath.Join(bins, "sparkplane-sandbox"),
		Server: filepath.Join(bins, "sparkplane")}
	t.Cleanup(func() { _ = s.Down(context.Background()) })

	start := time.Now()
	if err := s.Up(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("sandbox up (fresh directory) took %s", time.Since(start))
	parts, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{}
	for _, p := range parts {
		if !p.Running || !p.Healthy {
			t.Errorf("after up, %s: running %t healthy %t (%s)", p.Name, p.Running, p.Healthy, p.Detail)
		}
		pids[p.Name] = p.Pid
	}
	tools, err := toolcache.Locate()
	if err != nil {
		t.Fatal(err)
	}
	clusterPids := sandbox.NewCluster(tools, sandbox.ClusterName, filepath.Join(s.Dir, "kwok")).Pids()
	if len(clusterPids) < 5 {
		t.Fatalf("cluster pids = %v, want etcd, kube-apiserver, scheduler, controller-manager, kwok", clusterPids)
	}

	start = time.Now()
	if err := s.Up(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("sandbox up (already up) took %s", time.Since(start))
	again, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range again {
		if p.Pid != pids[p.Name] {
			t.Errorf("second up replaced %s: pid %d, was %d", p.Name, p.Pid, pids[p.Name])
		}
	}

	env := readEnv(t, filepath.Join(s.Dir, "env"))
	for _, k := range []string{"KUBECONFIG", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION",
		"SPARKPLANE_ENDPOINT", "SPARKPLANE_S3_ENDPOINT", "S3BUCKET", "EMR_ROLE_ARN", "VIRTUAL_CLUSTER_ID"} {
		if env[k] == "" {
			t.Errorf("env file lacks %s", k)
		}
	}
	aws := func(args ...string) string {
		cmd := exec.Command("aws", args...)
		cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := aws("emr-containers", "describe-virtual-cluster", "--endpoint-url", env["SPARKPLANE_ENDPOINT"],
		"--id", env["VIRTUAL_CLUSTER_ID"], "--query", "virtualCluster.[state,containerProvider.info.eksInfo.namespace]", "--output", "text"); strings.Fields(out)[0] != "RUNNING" || strings.Fields(out)[1] != "spark" {
		t.Errorf("virtual cluster = %q, want RUNNING on namespace spark", out)
	}
	if out := aws("s3", "ls", "--endpoint-url", env["SPARKPLANE_S3_ENDPOINT"]); !strings.Contains(out, env["S3BUCKET"]) {
		t.Errorf("aws s3 ls = %q, want bucket %s", out, env["S3BUCKET"])
	}

	t.Run("seed walkthrough", func(t *testing.T) { runWalkthrough(t, s.Server, s.Dir, env) })
	t.Run("a Karpenter that stops provisioning is noticed and restarted", func(t *testing.T) {
		karpenterRecovers(t, s)
		pids[sandbox.PartKarpenter] = sandbox.ReadPid(s.Dir, sandbox.PartKarpenter)
	})

	if err := s.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		if sandbox.Alive(pid) {
			t.Errorf("after down, %s (pid %d) still runs", name, pid)
		}
	}
	for name, pid := range clusterPids {
		if sandbox.Alive(pid) {
			t.Errorf("after down, cluster component %s (pid %d) still runs", name, pid)
		}
	}
	parts, err = s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.Running {
			t.Errorf("after down, status says %s runs", p.Name)
		}
	}
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}

// placement is where one pod of the walkthrough's job ran.
type placement struct {
	role, capacityType, zone, nodePool string
}

// runWalkthrough runs hack/sandbox-demo.sh — the seed's start-job-run through the real aws CLI
// — against the sandbox, and checks from the cluster's side what the seed promises: the job
// completes, its driver ran on an on-demand node and each of its 50 executors on a spot node,
// all in one zone and all created by Karpenter's NodePool demo; and it has a cost.
func runWalkthrough(t *testing.T, bin, dir string, env map[string]string) {
	cfg, err := clientcmd.BuildConfigFromFlags("", env["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := map[string]placement{}
	var mu sync.Mutex
	var executorLog string // an executor's `kubectl logs`, read while it runs
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			pods, err := client.CoreV1().Pods("spark").List(ctx, metav1.ListOptions{LabelSelector: "emr-containers.amazonaws.com/job.id"})
			if err == nil {
				for _, p := range pods.Items {
					if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning {
						continue
					}
					if p.Labels["spark-role"] == "executor" && !strings.Contains(executorLog, "Successfully registered with driver") {
						b, err := client.CoreV1().Pods("spark").GetLogs(p.Name, &corev1.PodLogOptions{Container: "spark-kubernetes-executor"}).DoRaw(ctx)
						if err == nil {
							executorLog = string(b)
						}
					}
					node, err := client.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
					if err != nil {
						continue
					}
					mu.Lock()
					seen[p.Name] = placement{role: p.Labels["spark-role"], capacityType: node.Labels["karpenter.sh/capacity-type"],
						zone: node.Labels["topology.kubernetes.io/zone"], nodePool: node.Labels["karpenter.sh/nodepool"]}
					mu.Unlock()
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
	}()
	cmd := exec.Command("bash", "../../../hack/sandbox-demo.sh", dir)
	cmd.Env = append(os.Environ(), "SPARKPLANE_BIN="+bin, "PATH="+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	cancel()
	<-done
	t.Logf("hack/sandbox-demo.sh:\n%s", out)
	if err != nil {
		t.Fatalf("the walkthrough failed: %v", err)
	}
	// The seed's run (with the sandbox's logUri) leaves its 51 pods' logs in S3 at EMR's keys,
	// and an executor's is read back from there once Spark deleted it.
	for _, want := range []string{"COMPLETED", "all 50 executors run", "Savings", "the job's logs in S3 (51 pods)",
		"-exec-1/stderr.gz", "-driver/stderr.gz", "stderr, shipped to s3://", "driver and executor logs go to s3://"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walkthrough's output lacks %q", want)
		}
	}
	drivers, executors := 0, 0
	for name, p := range seen {
		want := "spot"
		if p.role == "driver" {
			drivers++
			want = "on-demand"
		} else {
			executors++
		}
		if p.capacityType != want || p.zone != "us-west-2a" || p.nodePool != "demo" {
			t.Errorf("%s (%s) ran on a %s node in %s of NodePool %q, want %s in us-west-2a of demo", name, p.role, p.capacityType, p.zone, p.nodePool, want)
		}
	}
	if drivers != 1 || executors != 50 {
		t.Errorf("saw %d driver and %d executor pods running, want 1 and 50", drivers, executors)
	}

	// The emulator's Spark logs reach `kubectl logs` through kwok: the executor's while it
	// ran, the driver's after it ended.
	if !strings.Contains(executorLog, "Successfully registered with driver") {
		t.Errorf("no executor's log said it registered; last read:\n%s", executorLog)
	}
	driverPods, err := client.CoreV1().Pods("spark").List(context.Background(), metav1.ListOptions{LabelSelector: "spark-role=driver"})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, d := range driverPods.Items {
		b, err := client.CoreV1().Pods("spark").GetLogs(d.Name, &corev1.PodLogOptions{Container: "spark-kubernetes-driver"}).DoRaw(context.Background())
		if err != nil {
			t.Errorf("logs of driver %s: %v", d.Name, err)
			continue
		}
		log := string(b)
		if strings.Count(log, "Registered executor") != 50 {
			continue // not a run of the seed's job
		}
		checked++
		for want, n := range map[string]int{"Running Spark version 3.1.2": 1, "INFO DAGScheduler: Job 2 finished": 1, "Successfully stopped SparkContext": 1} {
			if got := strings.Count(log, want); got != n {
				t.Errorf("driver %s: log has %q %d times, want %d", d.Name, want, got, n)
			}
		}
		if id := d.Labels["spark-app-selector"]; !strings.Contains(log, "Logging events to ") || !strings.Contains(log, id+".inprogress") {
			t.Errorf("driver %s: log does not name the application %s", d.Name, id)
		}
	}
	if checked == 0 {
		t.Errorf("no driver's log registered the seed's 50 executors (%d drivers)", len(driverPods.Items))
	}
}

// karpenterRecovers freezes Karpenter (SIGSTOP: its process runs, nothing it does happens),
// checks that status reports it unhealthy, and that up restarts it into a Karpenter that
// provisions again.
func karpenterRecovers(t *testing.T, s *sandbox.Sandbox) {
	ctx := context.Background()
	pid := sandbox.ReadPid(s.Dir, sandbox.PartKarpenter)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT) //nolint:errcheck // the process is usually gone by then
	parts, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.Name == sandbox.PartKarpenter && (p.Healthy || !p.Running) {
			t.Fatalf("a frozen Karpenter shows as running %t healthy %t (%s)", p.Running, p.Healthy, p.Detail)
		}
	}
	if err := s.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if now := sandbox.ReadPid(s.Dir, sandbox.PartKarpenter); now == pid || !sandbox.Alive(now) {
		t.Fatalf("up left Karpenter at pid %d (was %d, alive %t)", now, pid, sandbox.Alive(now))
	}
	parts, err = s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if !p.Healthy {
			t.Errorf("after up restarted Karpenter, %s: healthy %t (%s)", p.Name, p.Healthy, p.Detail)
		}
	}
}
