package cost_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// clock is a settable time source for the Recorder.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func storeOpen(path string) (*store.SQLite, error) { return store.Open(context.Background(), path) }

func openStore(t *testing.T, path string) *store.SQLite {
	t.Helper()
	s, err := storeOpen(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func k8sNode(name, typ string, ct cost.CapacityType, cpu, mem string, created time.Time, priceLabel string) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{wellknown.LabelInstanceType: typ, wellknown.LabelCapacityType: string(ct), wellknown.LabelZone: "us-west-2a"}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)},
			// Capacity differs from allocatable on purpose: allocation uses allocatable.
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}},
	}
	if priceLabel != "" {
		n.Labels[cost.PriceLabel] = priceLabel
	}
	return n
}

// k8sPod is a job run pod: pending when node is empty, else scheduled at sched.
func k8sPod(name, job, vc, role, node, cpu, mem string, sched time.Time) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(sched.Add(-time.Minute)),
			Labels: map[string]string{wellknown.LabelJobID: job, wellknown.LabelSparkRole: role}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "spark", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	if vc != "" {
		p.Labels[wellknown.LabelVirtualClusterID] = vc
	}
	if node != "" {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(sched)}}
		p.Status.Phase = corev1.PodRunning
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(sched)}}}}
	}
	return p
}

func finished(p *corev1.Pod, phase corev1.PodPhase, at time.Time) *corev1.Pod {
	p = p.DeepCopy()
	p.Status.Phase = phase
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, FinishedAt: metav1.NewTime(at)}}}}
	return p
}

// TestRecorderPersistsJobCost plays a job's pod and node events into a Recorder over a real
// SQLite store, deletes the executors, restarts the store, and checks the job's cost against
// the hand computation of TestBuildJobReport (0.24 in all, 0.072 saved by spot).
func TestRecorderPersistsJobCost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cost.db")
	st := openStore(t, path)
	cat := testCatalog(t)
	clk := &clock{t: at(10, 0)}
	reg := prometheus.NewRegistry()
	metrics, err := cost.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := cost.NewRecorder(cost.RecorderOptions{Store: st, Catalog: cat, Cluster: "c", Metrics: metrics, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	podHandler, nodeHandler := rec.Handlers()

	// Node A: spot c5d.9xlarge, 36 cores / 72 GiB allocatable; node B: on-demand m5.4xlarge.
	nodeHandler.OnAdd(k8sNode("a", "c5d.9xlarge", cost.Spot, "36", "72Gi", at(10, 0), "1.2096"), false)
	nodeHandler.OnAdd(k8sNode("b", "m5.4xlarge", cost.OnDemand, "16", "64Gi", at(9, 0), ""), false)
	// A pod of no job run and a pending executor are not recorded.
	podHandler.OnAdd(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "dns", UID: "dns"}, Spec: corev1.PodSpec{NodeName: "b"}}, false)
	podHandler.OnAdd(k8sPod("e1", "j1", "v1", "executor", "", "4", "8Gi", at(10, 5)), false)

	driver := k8sPod("d", "j1", "v1", "driver", "b", "2", "4Gi", at(10, 0))
	e1 := k8sPod("e1", "j1", "v1", "executor", "a", "4", "8Gi", at(10, 5))
	e2 := k8sPod("e2", "j1", "", "executor", "a", "4", "8Gi", at(10, 5)) // no virtual cluster label
	for _, p := range []*corev1.Pod{driver, e1, e2, e1.DeepCopy()} {
		podHandler.OnUpdate(nil, p)
	}
	clk.Set(at(10, 40))
	// e1 succeeds at 10:35 and is deleted later; e2 is deleted while it runs, at 10:50 (the
	// delete event arrives as a tombstone); the driver succeeds at 11:00.
	podHandler.OnUpdate(e1, finished(e1, corev1.PodSucceeded, at(10, 35)))
	clk.Set(at(10, 50))
	podHandler.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/e2", Obj: e2})
	podHandler.OnDelete(finished(e1, corev1.PodSucceeded, at(10, 35)))
	clk.Set(at(11, 0))
	nodeHandler.OnDelete(k8sNode("a", "c5d.9xlarge", cost.Spot, "36", "72Gi", at(10, 0), "1.2096"))
	clk.Set(at(11, 5))
	podHandler.OnUpdate(driver, finished(driver, corev1.PodSucceeded, at(11, 0)))
	if rec.Pending() != 0 {
		t.Fatalf("%d writes pending", rec.Pending())
	}

	// The metrics counted each pod once, when it ended.
	if got := gathered(t, reg, "sparkplane_job_cost_dollars_total", map[string]string{"virtual_cluster_id": "v1"}); !near(got, 0.24) {
		t.Errorf("cost metric = %v, want 0.24", got)
	}
	if got := gathered(t, reg, "sparkplane_job_spot_savings_dollars_total", map[string]string{"virtual_cluster_id": "v1"}); !near(got, 0.072) {
		t.Errorf("savings metric = %v, want 0.072", got)
	}
	if got := gathered(t, reg, "sparkplane_job_cost_dollars_total", map[string]string{"role": "executor", "capacity_type": "spot"}); !near(got, 0.168) {
		t.Errorf("executor spot metric = %v, want 0.168", got)
	}

	// Restart: a new store handle and Reporter see the same job cost.
	st.Close()
	st2 := openStore(t, path)
	rep := cost.NewReporter(st2, cat, func() time.Time { return at(12, 0) })
	r, err := rep.JobRun(context.Background(), "j1")
	if err != nil {
		t.Fatal(err)
	}
	checkTotals(t, "recorded job", r.Totals, cost.Totals{Cost: 0.24, Driver: 0.072, Executors: 0.168, Spot: 0.168, OnDemand: 0.072,
		CPU: 0.16, Memory: 0.08, OnDemandEquivalent: 0.312, Savings: 0.072})
	if len(r.Pods) != 3 || r.Running || !r.End.Equal(at(11, 0)) || r.VirtualClusterID != "v1" {
		t.Fatalf("report = %+v", r)
	}

	vr, err := rep.VirtualCluster(context.Background(), "v1", day0, day0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Node A (10:00-11:00, deleted) ran only v1: 1.2096 - 0.168 idle. Node B still runs at 12:00
	// and ran only v1's driver: 3h*0.768 - 0.072 idle.
	if !near(vr.Totals.Cost, 0.24) || len(vr.Jobs) != 1 || !near(vr.Idle, 1.2096-0.168+3*0.768-0.072) || len(vr.Days) != 1 {
		t.Fatalf("virtual cluster report = %+v", vr)
	}
	if _, err := rep.VirtualCluster(context.Background(), "v1", day0, day0); err == nil {
		t.Fatal("empty range accepted")
	}
}

// TestRecorderResync closes the records of pods and nodes that vanished while the server was
// down, and keeps the others open.
func TestRecorderResync(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "cost.db"))
	clk := &clock{t: at(10, 0)}
	rec, err := cost.NewRecorder(cost.RecorderOptions{Store: st, Catalog: testCatalog(t), Cluster: "c", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	b := k8sNode("b", "m5.4xlarge", cost.OnDemand, "16", "64Gi", at(9, 0), "")
	gone := k8sNode("gone", "m5.4xlarge", cost.OnDemand, "16", "64Gi", at(9, 0), "")
	rec.ObserveNode(b)
	rec.ObserveNode(gone)
	kept := k8sPod("kept", "j1", "v1", "driver", "b", "2", "4Gi", at(10, 0))
	rec.ObservePod(kept)
	rec.ObservePod(k8sPod("lost", "j1", "v1", "executor", "b", "2", "4Gi", at(10, 0)))

	clk.Set(at(11, 0))
	if err := rec.Resync(context.Background(), []*corev1.Pod{kept}, []*corev1.Node{b}); err != nil {
		t.Fatal(err)
	}
	open, err := st.OpenPodUsage(context.Background(), "c")
	if err != nil || len(open) != 1 || open[0].Name != "kept" {
		t.Fatalf("open pods = %+v %v", open, err)
	}
	nodes, err := st.OpenNodes(context.Background(), "c")
	if err != nil || len(nodes) != 1 || nodes[0].Name != "b" {
		t.Fatalf("open nodes = %+v %v", nodes, err)
	}
	r, err := cost.NewReporter(st, testCatalog(t), func() time.Time { return at(12, 0) }).JobRun(context.Background(), "j1")
	if err != nil {
		t.Fatal(err)
	}
	// "lost" ended at the resync (1h), "kept" still runs (2h): 3h * 0.072.
	if !near(r.Totals.Cost, 0.216) || !r.Running {
		t.Fatalf("cost = %v running = %v", r.Totals.Cost, r.Running)
	}
}

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	c := func(cpu, mem string) corev1.Container {
		return corev1.Container{Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}
	}
	sidecar := c("500m", "1Gi")
	sidecar.RestartPolicy = &always
	tests := []struct {
		name      string
		spec      corev1.PodSpec
		milli     int64
		memoryGiB int64
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{c("1", "2Gi"), c("500m", "1Gi")}}, 1500, 3},
		{"a bigger init container wins", corev1.PodSpec{InitContainers: []corev1.Container{c("4", "1Gi")}, Containers: []corev1.Container{c("1", "2Gi")}}, 4000, 2},
		{"sidecars add to the app", corev1.PodSpec{InitContainers: []corev1.Container{sidecar}, Containers: []corev1.Container{c("1", "2Gi")}}, 1500, 3},
		{"overhead adds", corev1.PodSpec{Containers: []corev1.Container{c("1", "2Gi")}, Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("1Gi")}}, 1250, 3},
		{"no requests", corev1.PodSpec{Containers: []corev1.Container{{}}}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			milli, mem := cost.PodRequests(&tc.spec)
			if milli != tc.milli || mem != tc.memoryGiB*gi {
				t.Fatalf("PodRequests = %d, %d; want %d, %d GiB", milli, mem, tc.milli, tc.memoryGiB)
			}
		})
	}
}

// gathered sums the samples of a metric whose labels include match.
func gathered(t *testing.T, reg *prometheus.Registry, name string, match map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range match {
				if labels[k] != v {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
