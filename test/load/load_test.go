package load_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/test/bench/benchkit"
)

var (
	flagSandbox    = flag.String("sandbox", "", "the running sandbox's directory (default $SPARKPLANE_SANDBOX, else ../../.sandbox)")
	flagJobs       = flag.Int("jobs", 600, "job runs per throughput experiment (sparkplane and raw client-go)")
	flagClients    = flag.Int("clients", 32, "concurrent SigV4 clients calling StartJobRun")
	flagRawWorkers = flag.Int("raw-workers", 32, "concurrent client-go workers of the raw baseline")
	flagRate       = flag.Float64("rate", 10, "job runs per second of the latency experiment")
	flagDuration   = flag.Duration("duration", 30*time.Second, "length of the latency experiment")
	flagLive       = flag.Int("live", 10000, "live job runs of the memory experiment")
	flagWait       = flag.Duration("wait", 10*time.Minute, "how long an experiment waits for its objects before it fails")
)

// env is the running sandbox, as .sandbox/env describes it to a user.
type env struct {
	dir       string
	endpoint  string
	roleArn   string
	kwokDir   string
	config    *rest.Config
	client    kubernetes.Interface
	emr       *emrcontainers.Client
	serverPid int
}

var namespaces atomic.Int64

func namespace(kind string) string {
	return fmt.Sprintf("load-%s-%d-%d", kind, os.Getpid()%10000, namespaces.Add(1))
}

// sandboxEnv reads the sandbox's env file and checks that every part runs: these benchmarks
// measure what a user meets, so they need the whole sandbox, not a quiet cluster.
func sandboxEnv(b *testing.B) *env {
	b.Helper()
	dir := *flagSandbox
	if dir == "" {
		dir = os.Getenv("SPARKPLANE_SANDBOX")
	}
	if dir == "" {
		dir = "../../.sandbox"
	}
	dir, _ = filepath.Abs(dir)
	f, err := os.Open(filepath.Join(dir, "env"))
	if err != nil {
		b.Fatalf("these benchmarks run against a running sandbox (make sandbox, or hack/bench.sh starts one): %v", err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok && !strings.HasPrefix(k, "#") {
			vars[k] = v
		}
	}
	for _, part := range sandbox.Parts {
		if !sandbox.Alive(sandbox.ReadPid(dir, part)) {
			b.Fatalf("sandbox part %s does not run; start it with bin/sparkplane-sandbox up --dir %s", part, dir)
		}
	}
	rc, err := clientcmd.BuildConfigFromFlags("", vars["KUBECONFIG"])
	if err != nil {
		b.Fatal(err)
	}
	return &env{
		dir: dir, endpoint: vars["SPARKPLANE_ENDPOINT"], roleArn: vars["EMR_ROLE_ARN"], kwokDir: filepath.Join(dir, "kwok"),
		config: rc, client: benchkit.FastClient(b, rc), serverPid: sandbox.ReadPid(dir, sandbox.PartServer),
		emr: emrcontainers.New(emrcontainers.Options{
			Region: vars["AWS_DEFAULT_REGION"], BaseEndpoint: aws.String(vars["SPARKPLANE_ENDPOINT"]),
			Credentials: credentials.NewStaticCredentialsProvider(vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], ""),
		}),
	}
}

// job is the SparkPi example with two executors, placed by the seed's NodePool (Karpenter
// provisions nodes for it) and held by the driver emulator for 5 s once running.
func job(e *env) benchkit.Job {
	return benchkit.Job{Provider: sandbox.ContainerProvider, RoleArn: e.roleArn, Release: "emr-6.15.0-latest",
		EntryPoint: "local:///opt/spark/examples/jars/spark-examples.jar", Args: []string{"10"},
		Params: "--class org.apache.spark.examples.SparkPi --conf spark.executor.instances=2 --conf spark.executor.memory=1g" +
			" --conf spark.kubernetes.node.selector.app=demo --conf spark.sparkplane.sandbox.duration=5s"}
}

func (e *env) virtualCluster(b *testing.B, ns string) string {
	b.Helper()
	out, err := e.emr.CreateVirtualCluster(b.Context(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(ns),
		ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(sandbox.ContainerProvider),
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String(ns)}}},
	})
	if err != nil {
		b.Fatalf("CreateVirtualCluster: %v", err)
	}
	return *out.Id
}

func (e *env) start(ctx context.Context, vc string, j benchkit.Job) (string, error) {
	out, err := e.emr.StartJobRun(ctx, &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String("pi"), ExecutionRoleArn: aws.String(j.RoleArn),
		ReleaseLabel: aws.String(j.Release),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
			EntryPoint: aws.String(j.EntryPoint), EntryPointArguments: j.Args, SparkSubmitParameters: aws.String(j.Params)}},
	})
	if err != nil {
		return "", fmt.Errorf("StartJobRun: %w", err)
	}
	return *out.Id, nil
}

// cleanUp deletes an experiment's virtual cluster (cancelling what still runs) and its
// namespace, so the next experiment starts on a sandbox that has settled.
func (e *env) cleanUp(b *testing.B, vc, ns string) {
	b.Helper()
	ctx := context.Background()
	if vc != "" {
		if _, err := e.emr.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: aws.String(vc)}); err != nil {
			b.Errorf("DeleteVirtualCluster %s: %v", vc, err)
		}
	}
	if err := e.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		b.Errorf("delete namespace %s: %v", ns, err)
	}
	// Wait for the namespace's pods to be gone, so the next experiment does not share the
	// cluster with this one's garbage collection.
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := e.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			return
		}
		time.Sleep(time.Second)
	}
	b.Errorf("namespace %s still exists 5 minutes after its deletion", ns)
}

// BenchmarkSandboxThroughput is the measure: with the whole sandbox up (Karpenter
// provisioning nodes for the jobs, the driver emulator starting their executors, the
// controller-manager collecting garbage), raw client-go first creates -jobs jobs' driver Pod,
// headless Service and ConfigMaps from -raw-workers goroutines, then -clients SigV4 clients
// submit -jobs StartJobRun calls to the sandbox's sparkplane server. Both are timed until a
// watch here has seen every job's objects; the ratio of the rates is reported.
func BenchmarkSandboxThroughput(b *testing.B) {
	e := sandboxEnv(b)
	j := job(e)
	for range b.N {
		ns := namespace("raw")
		plans := benchkit.RawPlans(b, ns, *flagJobs, j)
		benchkit.EnsureRawAccess(b, e.client, plans[0])
		w := benchkit.WatchObjects(b, e.config, ns, len(plans))
		cpu := benchkit.StartCPU(b, e.kwokDir)
		start := time.Now()
		benchkit.Burst(b, *flagRawWorkers, len(plans), func(ctx context.Context, i int) (string, error) {
			return "", benchkit.CreateObjects(ctx, e.client, plans[i])
		})
		_, all := w.Wait(b, *flagWait)
		raw := float64(len(plans)) / all.Sub(start).Seconds()
		cpu.Report(b, len(plans))
		b.ReportMetric(raw, "raw_jobs/s")
		e.cleanUp(b, "", ns)

		ns = namespace("sp")
		vc := e.virtualCluster(b, ns)
		w = benchkit.WatchObjects(b, e.config, ns, *flagJobs)
		rss := startRSS(e.serverPid)
		reqBefore := e.kubeRequests(b)
		start = time.Now()
		sub, accepted := benchkit.Burst(b, *flagClients, *flagJobs, func(ctx context.Context, _ int) (string, error) { return e.start(ctx, vc, j) })
		_, all = w.Wait(b, *flagWait)
		rate := float64(*flagJobs) / all.Sub(start).Seconds()
		b.ReportMetric(float64(*flagJobs)/accepted.Seconds(), "accepted/s")
		b.ReportMetric(rate, "jobs/s")
		b.ReportMetric(rate/raw, "ratio_vs_raw")
		lat := w.Latencies(b, sub.IDs, sub.At)
		b.ReportMetric(benchkit.Percentile(lat, 0.99), "burst_p99_ms")
		rss.report(b)
		// What each job cost the API server, from the server's own request counter: creates
		// of the driver's objects, and whatever else it sent (reads, namespace set-up).
		reqAfter := e.kubeRequests(b)
		for _, verb := range []string{"post", "get", "list", "delete"} {
			b.ReportMetric((reqAfter[verb]-reqBefore[verb])/float64(*flagJobs), "kube_"+verb+"/job")
		}
		e.cleanUp(b, vc, ns)
	}
}

// BenchmarkSandboxLatency submits StartJobRun at a steady -rate for -duration (open loop) to
// the sandbox's server and reports the time from each call's start to its driver pod's ADDED
// event on a watch here.
func BenchmarkSandboxLatency(b *testing.B) {
	e := sandboxEnv(b)
	j := job(e)
	for range b.N {
		ns := namespace("steady")
		vc := e.virtualCluster(b, ns)
		n := int(*flagRate * flagDuration.Seconds())
		w := benchkit.WatchObjects(b, e.config, ns, n)
		sub := benchkit.Steady(b, *flagRate, n, func(ctx context.Context) (string, error) { return e.start(ctx, vc, j) })
		w.Wait(b, *flagWait)
		lat := w.Latencies(b, sub.IDs, sub.At)
		b.ReportMetric(benchkit.Percentile(lat, 0.50), "p50_ms")
		b.ReportMetric(benchkit.Percentile(lat, 0.90), "p90_ms")
		b.ReportMetric(benchkit.Percentile(lat, 0.99), "p99_ms")
		b.ReportMetric(benchkit.Percentile(lat, 1), "max_ms")
		b.ReportMetric(benchkit.Percentile(sub.Calls, 0.99), "call_p99_ms")
		e.cleanUp(b, vc, ns)
	}
}

// BenchmarkSandboxLiveRuns holds -live job runs live at once, their drivers pending on a node
// selector no NodePool offers, and reports the sparkplane server's resident memory while it
// tracks them all. It then deletes their virtual cluster (cancelling every run) and checks
// what a user would check next: that the sandbox still provisions a node for a new pod.
func BenchmarkSandboxLiveRuns(b *testing.B) {
	e := sandboxEnv(b)
	j := job(e)
	j.Params += " --conf spark.kubernetes.driver.node.selector.sparkplane.io/bench=nowhere"
	for range b.N {
		ns := namespace("live")
		vc := e.virtualCluster(b, ns)
		before := readRSS(e.serverPid)
		benchkit.Burst(b, *flagClients, *flagLive, func(ctx context.Context, _ int) (string, error) { return e.start(ctx, vc, j) })
		// Every run is live once its driver pod exists (SUBMITTED, pending on no node).
		deadline := time.Now().Add(*flagWait)
		for {
			pods, err := e.client.CoreV1().Pods(ns).List(b.Context(), metav1.ListOptions{ResourceVersion: "0"})
			if err == nil && len(pods.Items) >= *flagLive {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("after %s only %d of %d driver pods exist", *flagWait, len(pods.Items), *flagLive)
			}
			time.Sleep(2 * time.Second)
		}
		time.Sleep(35 * time.Second) // one full resync of every live run
		after := readRSS(e.serverPid)
		b.ReportMetric(float64(after.rss)/(1<<20), "server_rss_MB")
		b.ReportMetric(float64(after.hwm)/(1<<20), "server_peak_rss_MB")
		b.ReportMetric(float64(after.rss-before.rss)/(1<<10)/float64(*flagLive), "KB/live_run")
		e.cleanUp(b, vc, ns)
		probe := time.Now()
		if _, err := sandbox.ProvisionProbe(b.Context(), e.config); err != nil {
			b.Fatalf("after the live runs were cancelled the sandbox no longer provisions nodes: %v", err)
		}
		b.ReportMetric(time.Since(probe).Seconds(), "probe_node_s")
	}
}

// kubeRequests sums the server's sparkplane_kubernetes_requests_total by verb, read from its
// /metrics (the sandbox sets no metrics token).
func (e *env) kubeRequests(b *testing.B) map[string]float64 {
	b.Helper()
	resp, err := http.Get(e.endpoint + "/metrics")
	if err != nil {
		b.Fatalf("read the server's metrics: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "sparkplane_kubernetes_requests_total{") {
			continue
		}
		labels, value, _ := strings.Cut(strings.TrimPrefix(line, "sparkplane_kubernetes_requests_total{"), "} ")
		v, _ := strconv.ParseFloat(value, 64)
		for _, l := range strings.Split(labels, ",") {
			if k, val, _ := strings.Cut(l, "="); k == "verb" {
				out[strings.Trim(val, `"`)] += v
			}
		}
	}
	return out
}

type rssSample struct{ rss, hwm int64 }

// readRSS reads a process's resident set (VmRSS) and its peak (VmHWM) from /proc.
func readRSS(pid int) rssSample {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var s rssSample
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			s.rss = kb << 10
		case "VmHWM:":
			s.hwm = kb << 10
		}
	}
	return s
}

type rssMeter struct {
	pid    int
	before rssSample
}

func startRSS(pid int) rssMeter { return rssMeter{pid: pid, before: readRSS(pid)} }

func (m rssMeter) report(b *testing.B) {
	b.ReportMetric(float64(readRSS(m.pid).rss)/(1<<20), "server_rss_MB")
}
