package benchkit

import (
	"context"
	"encoding/json"
	"fmt"
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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/spark"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/wellknown"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Job is the job every experiment of a benchmark submits, through sparkplane and as the raw
// baseline's objects.
type Job struct {
	Provider, RoleArn, Release, EntryPoint, Params string
	Args                                           []string
}

// RawPlans builds n jobs' objects with sparkplane's own planner (so spark.Build makes them
// exactly as the server does), for job run ids that only the baseline uses.
func RawPlans(b *testing.B, ns string, n int, job Job) []*controller.Plan {
	b.Helper()
	planner := &submission.Planner{Releases: release.Default(), CreateNamespaces: map[string]bool{job.Provider: true}}
	vc := jobs.VirtualCluster{ID: "rawbaselinevirtualcluster", Name: ns, State: jobs.VirtualClusterState("RUNNING"),
		ContainerProvider: jobs.ContainerProvider{Type: "EKS", ID: job.Provider,
			Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: ns}}}}
	plans := make([]*controller.Plan, n)
	for i := range plans {
		run := jobs.JobRun{ID: fmt.Sprintf("0000000raw%09d", i), Name: "pi", VirtualClusterID: vc.ID,
			State: jobs.StatePending, ExecutionRoleArn: job.RoleArn, ReleaseLabel: job.Release, CreatedAt: time.Now(),
			JobDriver: jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{
				EntryPoint: job.EntryPoint, EntryPointArguments: job.Args, SparkSubmitParameters: job.Params}}}
		p, err := planner.Plan(b.Context(), run, vc, jobs.VirtualClusterSettings{}, 1)
		if err != nil {
			b.Fatalf("plan raw job %s: %v", run.ID, err)
		}
		plans[i] = p
	}
	return plans
}

// EnsureRawAccess creates what the server's controller ensures once per namespace before its
// first driver: the namespace and the driver's service account (without which the API
// server's admission refuses the pod).
func EnsureRawAccess(b *testing.B, k kubernetes.Interface, p *controller.Plan) {
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

// CreateObjects creates one job's objects in the order the controller does: the driver pod,
// then its dependents with the pod's UID in their owner references.
func CreateObjects(ctx context.Context, k kubernetes.Interface, p *controller.Plan) error {
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

// ObjectBytes is the JSON size of one job's objects, to show both sides send the same load.
func ObjectBytes(b *testing.B, o *spark.Objects) int {
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

// FastClient is a client of the test cluster with the server's client-side rate limits.
func FastClient(b *testing.B, rc *rest.Config) kubernetes.Interface {
	b.Helper()
	c := rest.CopyConfig(rc)
	c.QPS, c.Burst = 500, 1000
	k, err := kubernetes.NewForConfig(c)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

// ObjectWatch records, from informers in this process, the local time each driver pod of a
// namespace is first seen (by job id), and when the namespace holds want driver pods,
// Services and ConfigMaps owned by a pod.
type ObjectWatch struct {
	want int
	mu   sync.Mutex
	pods map[string]time.Time
	// owned counts the Services and ConfigMaps owned by a driver pod.
	svcs, cms       map[string]bool
	podsAt, allAt   time.Time
	podsDone, alldn chan struct{}
}

func WatchObjects(b *testing.B, rc *rest.Config, ns string, want int) *ObjectWatch {
	b.Helper()
	w := &ObjectWatch{want: want, pods: map[string]time.Time{}, svcs: map[string]bool{}, cms: map[string]bool{},
		podsDone: make(chan struct{}), alldn: make(chan struct{})}
	k := FastClient(b, rc)
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

func (w *ObjectWatch) seenPod(jobID string) {
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

func (w *ObjectWatch) seenDependent(obj any, set map[string]bool) {
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
func (w *ObjectWatch) checkAll(now time.Time) {
	if w.allAt.IsZero() && len(w.pods) >= w.want && len(w.svcs) >= w.want && len(w.cms) >= w.want {
		w.allAt = now
		close(w.alldn)
	}
}

// Wait blocks until every object exists and returns when the last driver pod and the last
// object of any kind arrived.
func (w *ObjectWatch) Wait(b *testing.B, within time.Duration) (pods, all time.Time) {
	b.Helper()
	select {
	case <-w.alldn:
	case <-time.After(within):
		w.mu.Lock()
		defer w.mu.Unlock()
		b.Fatalf("after %s: %d driver pods, %d services, %d config maps of %d jobs", within, len(w.pods), len(w.svcs), len(w.cms), w.want)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.podsAt, w.allAt
}

// Latencies returns, in Ms, each job's time from its submission to its driver pod's ADDED
// event.
func (w *ObjectWatch) Latencies(b *testing.B, ids []string, submitted []time.Time) []float64 {
	b.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]float64, len(ids))
	for i, id := range ids {
		at, ok := w.pods[id]
		if !ok {
			b.Fatalf("no driver pod seen for job run %s", id)
		}
		out[i] = Ms(at.Sub(submitted[i]))
	}
	return out
}

func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Percentile returns the p-quantile (0..1) of v by the nearest-rank method; v is sorted in
// place.
func Percentile(v []float64, p float64) float64 {
	sort.Float64s(v)
	return v[int(p*float64(len(v)-1))]
}

// CPUMeter measures the CPU time this process (the server, its controller and the benchmark's
// clients) and the cluster's control plane (kube-apiserver, etcd, kube-scheduler,
// kube-controller-manager, read from /proc by the pid files kwokctl keeps) spend during an
// experiment. On 2 cores they compete for the same CPUs, so where the time goes matters.
type CPUMeter struct {
	pids  map[string]int
	self  time.Duration
	start map[string]time.Duration
}

func StartCPU(b *testing.B, kwokDir string) *CPUMeter {
	b.Helper()
	m := &CPUMeter{pids: map[string]int{}, start: map[string]time.Duration{}}
	files, _ := filepath.Glob(filepath.Join(kwokDir, "clusters", "*", "pids", "*.pid"))
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
		b.Logf("no control-plane pid files under %s: reporting this process's CPU only", kwokDir)
	}
	m.self = selfCPU()
	return m
}

// Report adds cpu_ms/job for this process and for each control-plane component.
func (m *CPUMeter) Report(b *testing.B, jobs int) {
	b.Helper()
	perJob := func(d time.Duration) float64 { return Ms(d) / float64(jobs) }
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

// Submitted is what a submission experiment records per job: when its call started, how long
// the call took (ms), and the job run id it returned.
type Submitted struct {
	At    []time.Time
	Calls []float64
	IDs   []string
}

// Steady calls start n times at rate per second, open loop (each call on its tick, whatever
// the earlier ones do), and fails the benchmark on the first error.
func Steady(b *testing.B, rate float64, n int, start func(context.Context) (string, error)) Submitted {
	b.Helper()
	s := Submitted{At: make([]time.Time, n), Calls: make([]float64, n), IDs: make([]string, n)}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i := range n {
		if i > 0 {
			<-tick.C
		}
		wg.Go(func() {
			s.At[i] = time.Now()
			id, err := start(b.Context())
			if err != nil {
				errs <- err
				return
			}
			s.Calls[i] = Ms(time.Since(s.At[i]))
			s.IDs[i] = id
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return s
}

// Burst calls start for 0..n-1 from clients goroutines at once, closed loop, and returns what it
// recorded and how long until the last call returned; it fails the benchmark on the first
// error.
func Burst(b *testing.B, clients, n int, start func(ctx context.Context, i int) (string, error)) (Submitted, time.Duration) {
	b.Helper()
	s := Submitted{At: make([]time.Time, n), Calls: make([]float64, n), IDs: make([]string, n)}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	begin := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				s.At[i] = time.Now()
				id, err := start(b.Context(), int(i))
				if err != nil {
					errs <- err
					return
				}
				s.Calls[i] = Ms(time.Since(s.At[i]))
				s.IDs[i] = id
			}
		})
	}
	wg.Wait()
	took := time.Since(begin)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return s, took
}
