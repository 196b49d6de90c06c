package bench_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"k8s.io/klog/v2"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/test/bench/benchkit"
)

// The driver emulator is off: these benchmarks measure how fast driver objects reach the API
// server, and nothing runs in the pods (no node is registered, so the drivers stay Pending).
func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

// Knobs of the experiments; hack/bench.sh passes them after -args.
var (
	flagJobs        = flag.Int("jobs", 500, "job runs per throughput experiment (sparkplane and raw client-go)")
	flagClients     = flag.Int("clients", 64, "concurrent aws-sdk-go-v2 clients calling StartJobRun in the throughput experiment")
	flagRawWorkers  = flag.Int("raw-workers", 32, "concurrent client-go workers of the raw baseline")
	flagCtlWorkers  = flag.Int("controller-workers", 64, "config.Controller.Workers of the server under test")
	flagRate        = flag.Float64("rate", 10, "job runs per second of the latency experiment")
	flagDuration    = flag.Duration("duration", 25*time.Second, "length of the latency experiment")
	flagWaitObjects = flag.Duration("wait", 5*time.Minute, "how long an experiment waits for its objects before it fails")
	flagLogDir      = flag.String("log-dir", "", "directory for the servers' logs (default: a temporary directory removed at the end)")
)

const (
	providerID = apitest.ClusterProvider
	roleArn    = apitest.RoleArn
	release6   = "emr-6.15.0-latest"
	entryPoint = "local:///opt/spark/examples/jars/spark-examples.jar"
	params     = "--class org.apache.spark.examples.SparkPi --conf spark.executor.instances=2 --conf spark.executor.memory=1g"
)

// piJob is the SparkPi example every experiment and the raw baseline use.
var piJob = benchkit.Job{Provider: providerID, RoleArn: roleArn, Release: release6, EntryPoint: entryPoint, Params: params, Args: []string{"10"}}

// namespaces numbers the namespaces of the experiments: every run, also with -count, starts in
// a namespace of its own.
var namespaces atomic.Int64

func namespace(kind string) string { return fmt.Sprintf("bench-%s-%d", kind, namespaces.Add(1)) }

// BenchmarkThroughput measures sustained jobs/s: first the raw client-go baseline, then
// sparkplane, against the same API server in the same run, and reports sparkplane's ratio to
// the baseline just measured. go test -count repeats each sub-benchmark before the next (the
// ratio then uses the last raw run), which is why hack/bench.sh runs its rounds as separate
// test binaries instead.
func BenchmarkThroughput(b *testing.B) {
	var raw float64
	b.Run("raw", func(b *testing.B) { raw = benchRawClientGo(b) })
	b.Run("sparkplane", func(b *testing.B) { benchSparkplane(b, raw) })
}

// benchRawClientGo is the baseline: raw client-go creating each job's driver Pod, then its
// headless Service and spark.properties ConfigMap (the objects sparkplane's planner builds with
// spark.Build, built before the clock starts), with -raw-workers concurrent workers and the
// same client-side rate limits as the server (QPS 500, burst 1000). Like benchSparkplane it
// counts a job done when a watch in this process has seen all three objects, and reports
// jobs/s (returned as the mean over b.N runs), created/s (until every create returned) and
// the CPU spent per job.
func benchRawClientGo(b *testing.B) float64 {
	env := testenv.Get(b)
	logDir(b)
	sum := 0.0
	for range b.N {
		ns := namespace("raw")
		plans := benchkit.RawPlans(b, ns, *flagJobs, piJob)
		client := benchkit.FastClient(b, env.Config)
		benchkit.EnsureRawAccess(b, client, plans[0])
		b.ReportMetric(float64(benchkit.ObjectBytes(b, plans[0].Objects)), "bytes/job")
		w := benchkit.WatchObjects(b, env.Config, ns, len(plans))
		cpu := benchkit.StartCPU(b, filepath.Join(env.Dir, "kwok"))

		start := time.Now()
		_, created := benchkit.Burst(b, *flagRawWorkers, len(plans), func(ctx context.Context, i int) (string, error) {
			return "", benchkit.CreateObjects(ctx, client, plans[i])
		})
		_, all := w.Wait(b, *flagWaitObjects)
		cpu.Report(b, len(plans))
		rate := float64(len(plans)) / all.Sub(start).Seconds()
		sum += rate
		b.ReportMetric(float64(len(plans))/created.Seconds(), "created/s")
		b.ReportMetric(rate, "jobs/s")
	}
	return sum / float64(b.N)
}

// benchSparkplane submits -jobs StartJobRun calls at once from -clients aws-sdk-go-v2
// clients (SigV4, validation, SQLite commit, controller, native objects) and waits until every
// job's driver pod, headless Service and spark.properties ConfigMap exist, as seen by a watch.
// It reports jobs/s to the driver pods (the measure) and to all three objects (the
// raw baseline's measure), the ratio of the latter to the baseline's raw jobs/s, and the
// submit→driver-pod latency percentiles inside the burst.
func benchSparkplane(b *testing.B, raw float64) {
	env := testenv.Get(b)
	for range b.N {
		ns := namespace("burst")
		srv := startServer(b, env.Kubeconfig)
		vc := srv.virtualCluster(b, ns)
		w := benchkit.WatchObjects(b, env.Config, ns, *flagJobs)
		cpu := benchkit.StartCPU(b, filepath.Join(env.Dir, "kwok"))

		start := time.Now()
		sub, accepted := benchkit.Burst(b, *flagClients, *flagJobs, func(ctx context.Context, _ int) (string, error) { return srv.start(ctx, vc) })
		pods, all := w.Wait(b, *flagWaitObjects)
		cpu.Report(b, *flagJobs)
		podRate := float64(*flagJobs) / pods.Sub(start).Seconds()
		allRate := float64(*flagJobs) / all.Sub(start).Seconds()
		b.ReportMetric(float64(*flagJobs)/accepted.Seconds(), "accepted/s")
		b.ReportMetric(podRate, "jobs/s")
		b.ReportMetric(allRate, "jobs_all_objects/s")
		if raw > 0 {
			b.ReportMetric(allRate/raw, "ratio_vs_raw")
		}
		lat := w.Latencies(b, sub.IDs, sub.At)
		b.ReportMetric(benchkit.Percentile(lat, 0.50), "p50_ms")
		b.ReportMetric(benchkit.Percentile(lat, 0.99), "p99_ms")
	}
}

// BenchmarkLatency submits StartJobRun at a steady -rate for -duration (open loop: each call
// starts on its tick, whatever the earlier ones do) and reports, per job, the time from the
// start of its StartJobRun call to the arrival of its driver pod's ADDED event on a watch in
// this process (creationTimestamp has only one-second resolution), plus the StartJobRun call
// latency itself.
func BenchmarkLatency(b *testing.B) {
	env := testenv.Get(b)
	for range b.N {
		ns := namespace("steady")
		srv := startServer(b, env.Kubeconfig)
		vc := srv.virtualCluster(b, ns)
		n := int(*flagRate * flagDuration.Seconds())
		w := benchkit.WatchObjects(b, env.Config, ns, n)

		sub := benchkit.Steady(b, *flagRate, n, func(ctx context.Context) (string, error) { return srv.start(ctx, vc) })
		w.Wait(b, *flagWaitObjects)
		lat := w.Latencies(b, sub.IDs, sub.At)
		b.ReportMetric(benchkit.Percentile(lat, 0.50), "p50_ms")
		b.ReportMetric(benchkit.Percentile(lat, 0.99), "p99_ms")
		b.ReportMetric(benchkit.Percentile(lat, 1), "max_ms")
		b.ReportMetric(benchkit.Percentile(sub.Calls, 0.50), "call_p50_ms")
		b.ReportMetric(benchkit.Percentile(sub.Calls, 0.99), "call_p99_ms")
	}
}

var klogOnce sync.Once

// logDir returns -log-dir (created), or a temporary directory without it. The first call also
// sends client-go's klog output there: on stderr it would interleave with the benchmark result
// lines that hack/bench.sh parses.
func logDir(b *testing.B) string {
	b.Helper()
	dir := *flagLogDir
	if dir == "" {
		dir = b.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	klogOnce.Do(func() {
		f, err := os.OpenFile(filepath.Join(dir, "client-go.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		// Left open: informers of finished experiments may still log while they stop.
		klog.SetSlogLogger(slog.New(slog.NewTextHandler(f, nil)))
	})
	return dir
}

// server is one sparkplane server: the real App (SQLite, SigV4 API, controller) on a
// temporary data directory, served on a loopback port.
type server struct {
	client *emrcontainers.Client
}

func startServer(b *testing.B, kubeconfig string) *server {
	b.Helper()
	srv := apitest.Start(b, apitest.WithCluster(kubeconfig),
		apitest.WithLogFile(filepath.Join(logDir(b), "server-"+strings.ReplaceAll(b.Name(), "/", "-")+".log")),
		apitest.WithConfig(func(c *config.Config) {
			c.Controller.Workers = *flagCtlWorkers
			c.Controller.Resync = config.Duration{Duration: 30 * time.Second}
		}))
	select {
	case <-srv.App.ControllerReady():
	case <-time.After(time.Minute):
		b.Fatal("the controller did not start, or its informers did not sync, within a minute")
	}
	return &server{client: srv.Client()}
}

func (s *server) virtualCluster(b *testing.B, namespace string) string {
	b.Helper()
	out, err := s.client.CreateVirtualCluster(b.Context(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(namespace),
		ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(providerID),
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String(namespace)}}},
	})
	if err != nil {
		b.Fatalf("CreateVirtualCluster: %v", err)
	}
	return *out.Id
}

// start submits the SparkPi example, the same job every experiment and the raw baseline use.
func (s *server) start(ctx context.Context, vc string) (string, error) {
	out, err := s.client.StartJobRun(ctx, &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String("pi"), ExecutionRoleArn: aws.String(roleArn),
		ReleaseLabel: aws.String(release6),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
			EntryPoint: aws.String(entryPoint), EntryPointArguments: []string{"10"},
			SparkSubmitParameters: aws.String(params)}},
	})
	if err != nil {
		return "", fmt.Errorf("StartJobRun: %w", err)
	}
	return *out.Id, nil
}
