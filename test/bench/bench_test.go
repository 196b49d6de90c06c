package bench_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/spark"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/wellknown"
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
		plans := rawPlans(b, ns, *flagJobs)
		client := fastClient(b, env.Config)
		ensureRawAccess(b, client, plans[0])
		b.ReportMetric(float64(objectBytes(b, plans[0].Objects)), "bytes/job")
		w := watchObjects(b, env.Config, ns, len(plans))
		cpu := startCPU(b, env)

		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, *flagRawWorkers)
		start := time.Now()
		for range *flagRawWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j := next.Add(1) - 1
					if j >= int64(len(plans)) {
						return
					}
					if err := createObjects(b.Context(), client, plans[j]); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		created := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		_, all := w.wait(b)
		cpu.report(b, len(plans))
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
		w := watchObjects(b, env.Config, ns, *flagJobs)
		cpu := startCPU(b, env)

		submitted := make([]time.Time, *flagJobs)
		ids := make([]string, *flagJobs)
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, *flagClients)
		start := time.Now()
		for range *flagClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j := next.Add(1) - 1
					if j >= int64(*flagJobs) {
						return
					}
					submitted[j] = time.Now()
					id, err := srv.start(b.Context(), vc)
					if err != nil {
						errs <- err
						return
					}
					ids[j] = id
				}
			}()
		}
		wg.Wait()
		accepted := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		pods, all := w.wait(b)
		cpu.report(b, *flagJobs)
		podRate := float64(*flagJobs) / pods.Sub(start).Seconds()
		allRate := float64(*flagJobs) / all.Sub(start).Seconds()
		b.ReportMetric(float64(*flagJobs)/accepted.Seconds(), "accepted/s")
		b.ReportMetric(podRate, "jobs/s")
		b.ReportMetric(allRate, "jobs_all_objects/s")
		if raw > 0 {
			b.ReportMetric(allRate/raw, "ratio_vs_raw")
		}
		lat := w.latencies(b, ids, submitted)
		b.ReportMetric(percentile(lat, 0.50), "p50_ms")
		b.ReportMetric(percentile(lat, 0.99), "p99_ms")
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
		w := watchObjects(b, env.Config, ns, n)

		submitted := make([]time.Time, n)
		calls := make([]float64, n)
		ids := make([]string, n)
		errs := make(chan error, n)
		var wg sync.WaitGroup
		interval := time.Duration(float64(time.Second) / *flagRate)
		tick := time.NewTicker(interval)
		for j := range n {
			if j > 0 {
				<-tick.C
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				submitted[j] = time.Now()
				id, err := srv.start(b.Context(), vc)
				if err != nil {
					errs <- err
					return
				}
				calls[j] = ms(time.Since(submitted[j]))
				ids[j] = id
			}()
		}
		tick.Stop()
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		w.wait(b)
		lat := w.latencies(b, ids, submitted)
		b.ReportMetric(percentile(lat, 0.50), "p50_ms")
		b.ReportMetric(percentile(lat, 0.99), "p99_ms")
		b.ReportMetric(percentile(lat, 1), "max_ms")
		b.ReportMetric(percentile(calls, 0.50), "call_p50_ms")
		b.ReportMetric(percentile(calls, 0.99), "call_p99_ms")
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
	if srv.App.Controller == nil {
		b.Fatal("server started without a controller; the container provider has a kubeconfig")
	}
	select {
	case <-srv.App.Controller.Ready():
	case <-time.After(time.Minute):
		b.Fatal("controller informers did not sync within a minute")
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

// rawPlans builds n jobs' objects with sparkplane's own planner (so spark.Build makes them
// exactly as the server does), for job run ids that only the baseline uses.
func rawPlans(b *testing.B, ns string, n int) []*controller.Plan {
	b.Helper()
	planner := &submission.Planner{Releases: release.Default(), CreateNamespaces: map[string]bool{providerID: true}}
	vc := jobs.VirtualCluster{ID: "rawbaselinevirtualcluster", Name: ns, State: jobs.VirtualClusterState("RUNNING"),
		ContainerProvider: jobs.ContainerProvider{Type: "EKS", ID: providerID,
			Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: ns}}}}
	plans := make([]*controller.Plan, n)
	for i := range plans {
		run := jobs.JobRun{ID: fmt.Sprintf("0000000raw%09d", i), Name: "pi", VirtualClusterID: vc.ID,
			State: jobs.StatePending, ExecutionRoleArn: roleArn, ReleaseLabel: release6, CreatedAt: time.Now(),
			JobDriver: jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{
				EntryPoint: entryPoint, EntryPointArguments: []string{"10"}, SparkSubmitParameters: params}}}
		p, err := planner.Plan(b.Context(), run, vc, 1)
		if err != nil {
			b.Fatalf("plan raw job %s: %v", run.ID, err)
		}
		plans[i] = p
	}
	return plans
}

// ensureRawAccess creates what the server's controller ensures once per namespace before its
// first driver: the namespace and the driver's service account (without which the API
// server's admission refuses the pod).
func ensureRawAccess(b *testing.B, k kubernetes.Interface, p *controller.Plan) {
	b.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}}
	if _, err := k.CoreV1().Namespaces().Create(b.Context(), ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatalf("create namespace %s: %v", p.Namespace, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: p.ServiceAccount, Namespace: p.Namespace}}
	if _, err := k.CoreV1().ServiceAccounts(p.Namespace).Create(b.Context(), sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatalf("create service account %s/%s: %v", p.Namespace, p.ServiceAccount, err)
	}
}

// createObjects creates one job's objects in the order the controller does: the driver pod,
// then its dependents with the pod's UID in their owner references.
func createObjects(ctx context.Context, k kubernetes.Interface, p *controller.Plan) error {
	pod, err := k.CoreV1().Pods(p.Namespace).Create(ctx, p.Objects.DriverPod, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create driver pod %s/%s: %w", p.Namespace, p.Objects.DriverPod.Name, err)
	}
	p.Objects.SetDriverUID(pod.UID)
	for _, obj := range p.Objects.Dependents() {
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			_, err = k.CoreV1().ConfigMaps(p.Namespace).Create(ctx, o, metav1.CreateOptions{})
		case *corev1.Service:
			_, err = k.CoreV1().Services(p.Namespace).Create(ctx, o, metav1.CreateOptions{})
		default:
			err = fmt.Errorf("the baseline creates ConfigMaps and Services only, got %T", obj)
		}
		if err != nil {
			return fmt.Errorf("create %T %s/%s: %w", obj, p.Namespace, obj.GetName(), err)
		}
	}
	return nil
}

// objectBytes is the JSON size of one job's objects, to show both sides send the same load.
func objectBytes(b *testing.B, o *spark.Objects) int {
	b.Helper()
	n := 0
	for _, obj := range append([]spark.OwnedObject{o.DriverPod}, o.Dependents()...) {
		data, err := json.Marshal(obj)
		if err != nil {
			b.Fatal(err)
		}
		n += len(data)
	}
	return n
}

// fastClient is a client of the test cluster with the server's client-side rate limits.
func fastClient(b *testing.B, rc *rest.Config) kubernetes.Interface {
	b.Helper()
	c := rest.CopyConfig(rc)
	c.QPS, c.Burst = 500, 1000
	k, err := kubernetes.NewForConfig(c)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// objectWatch records, from informers in this process, the local time each driver pod of a
// namespace is first seen (by job id), and when the namespace holds want driver pods,
// Services and ConfigMaps owned by a pod.
type objectWatch struct {
	want int
	mu   sync.Mutex
	pods map[string]time.Time
	// owned counts the Services and ConfigMaps owned by a driver pod.
	svcs, cms       map[string]bool
	podsAt, allAt   time.Time
	podsDone, alldn chan struct{}
}

func watchObjects(b *testing.B, rc *rest.Config, ns string, want int) *objectWatch {
	b.Helper()
	w := &objectWatch{want: want, pods: map[string]time.Time{}, svcs: map[string]bool{}, cms: map[string]bool{},
		podsDone: make(chan struct{}), alldn: make(chan struct{})}
	k := fastClient(b, rc)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	podFactory := informers.NewSharedInformerFactoryWithOptions(k, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = wellknown.DriverSelector }))
	depFactory := informers.NewSharedInformerFactoryWithOptions(k, 0, informers.WithNamespace(ns))
	add := func(f func(obj any)) cache.ResourceEventHandlerFuncs {
		return cache.ResourceEventHandlerFuncs{AddFunc: f}
	}
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{podFactory.Core().V1().Pods().Informer(), add(func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				w.seenPod(p.Labels[wellknown.LabelJobID])
			}
		})},
		{depFactory.Core().V1().Services().Informer(), add(func(obj any) { w.seenDependent(obj, w.svcs) })},
		{depFactory.Core().V1().ConfigMaps().Informer(), add(func(obj any) { w.seenDependent(obj, w.cms) })},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			b.Fatal(err)
		}
	}
	podFactory.Start(ctx.Done())
	depFactory.Start(ctx.Done())
	for typ, ok := range podFactory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			b.Fatalf("watch %v in %s did not sync", typ, ns)
		}
	}
	for typ, ok := range depFactory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			b.Fatalf("watch %v in %s did not sync", typ, ns)
		}
	}
	return w
}

func (w *objectWatch) seenPod(jobID string) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.pods[jobID]; ok || jobID == "" {
		return
	}
	w.pods[jobID] = now
	if len(w.pods) == w.want {
		w.podsAt = now
		close(w.podsDone)
	}
	w.checkAll(now)
}

func (w *objectWatch) seenDependent(obj any, set map[string]bool) {
	now := time.Now()
	o, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	owned := false
	for _, ref := range o.GetOwnerReferences() {
		owned = owned || ref.Kind == "Pod"
	}
	if !owned {
		return // kube-root-ca.crt and anything else not created for a driver
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	set[o.GetName()] = true
	w.checkAll(now)
}

// checkAll closes alldn once every kind has reached want; w.mu is held.
func (w *objectWatch) checkAll(now time.Time) {
	if w.allAt.IsZero() && len(w.pods) >= w.want && len(w.svcs) >= w.want && len(w.cms) >= w.want {
		w.allAt = now
		close(w.alldn)
	}
}

// wait blocks until every object exists and returns when the last driver pod and the last
// object of any kind arrived.
func (w *objectWatch) wait(b *testing.B) (pods, all time.Time) {
	b.Helper()
	select {
	case <-w.alldn:
	case <-time.After(*flagWaitObjects):
		w.mu.Lock()
		defer w.mu.Unlock()
		b.Fatalf("after %s: %d driver pods, %d services, %d config maps of %d jobs", *flagWaitObjects, len(w.pods), len(w.svcs), len(w.cms), w.want)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.podsAt, w.allAt
}

// latencies returns, in ms, each job's time from its submission to its driver pod's ADDED
// event.
func (w *objectWatch) latencies(b *testing.B, ids []string, submitted []time.Time) []float64 {
	b.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]float64, len(ids))
	for i, id := range ids {
		at, ok := w.pods[id]
		if !ok {
			b.Fatalf("no driver pod seen for job run %s", id)
		}
		out[i] = ms(at.Sub(submitted[i]))
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile returns the p-quantile (0..1) of v by the nearest-rank method; v is sorted in
// place.
func percentile(v []float64, p float64) float64 {
	sort.Float64s(v)
	return v[int(p*float64(len(v)-1))]
}

// cpuMeter measures the CPU time this process (the server, its controller and the benchmark's
// clients) and the cluster's control plane (kube-apiserver, etcd, kube-scheduler,
// kube-controller-manager, read from /proc by the pid files kwokctl keeps) spend during an
// experiment. On 2 cores they compete for the same CPUs, so where the time goes matters.
type cpuMeter struct {
	pids  map[string]int
	self  time.Duration
	start map[string]time.Duration
}

func startCPU(b *testing.B, env *testenv.Env) *cpuMeter {
	b.Helper()
	m := &cpuMeter{pids: map[string]int{}, start: map[string]time.Duration{}}
	files, _ := filepath.Glob(filepath.Join(env.Dir, "kwok", "clusters", "*", "pids", "*.pid"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		if t, ok := procCPU(pid); ok {
			m.pids[name], m.start[name] = pid, t
		}
	}
	if len(m.pids) == 0 {
		b.Logf("no control-plane pid files under %s: reporting this process's CPU only", env.Dir)
	}
	m.self = selfCPU()
	return m
}

// report adds cpu_ms/job for this process and for each control-plane component.
func (m *cpuMeter) report(b *testing.B, jobs int) {
	b.Helper()
	perJob := func(d time.Duration) float64 { return ms(d) / float64(jobs) }
	b.ReportMetric(perJob(selfCPU()-m.self), "proc_cpu_ms/job")
	var total time.Duration
	for name, pid := range m.pids {
		if t, ok := procCPU(pid); ok {
			total += t - m.start[name]
			if name == "kube-apiserver" || name == "etcd" {
				b.ReportMetric(perJob(t-m.start[name]), strings.TrimPrefix(name, "kube-")+"_cpu_ms/job")
			}
		}
	}
	if len(m.pids) > 0 {
		b.ReportMetric(perJob(total), "cluster_cpu_ms/job")
	}
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is a process's user and system CPU time from /proc/<pid>/stat (in clock ticks of
// 1/100 s, the value of USER_HZ on Linux).
func procCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; the fields after it start past its ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}
