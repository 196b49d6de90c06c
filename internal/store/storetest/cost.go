package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/cost"
)

// RunCost runs the conformance suite of cost.Store: the merge rules the cost.Recorder relies
// on, and what each query returns in which order. newStore must return a new empty store for
// each call.
func RunCost(t *testing.T, newStore func(t *testing.T) cost.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, cost.Store)
	}{
		{"PodMerge", testPodMerge},
		{"PodVirtualClusterFromSiblings", testPodSiblings},
		{"PodQueries", testPodQueries},
		{"NodeFacts", testNodeFacts},
		{"RequiredFields", testCostRequired},
		{"ConcurrentPodEnd", testConcurrentPodEnd},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// costAt is a time on the cost tests' day, with nanoseconds a store cannot keep.
func costAt(hour, minute int) time.Time {
	return time.Date(2026, 3, 2, hour, minute, 0, 123456789, time.UTC)
}

// micro is t as a store keeps it: UTC, whole microseconds.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Microsecond).UTC()
}

func podUsage(uid, job, vc, node string, start, end time.Time) cost.PodUsage {
	return cost.PodUsage{UID: uid, Cluster: "c", Namespace: "ns", Name: "pod-" + uid, JobRunID: job, VirtualClusterID: vc,
		Role: cost.RoleExecutor, NodeName: node, CPUMillis: 4000, MemoryBytes: 8 << 30, Start: start, End: end}
}

func uids(pods []cost.PodUsage) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.UID)
	}
	return fmt.Sprint(out)
}

func save(t *testing.T, s cost.Store, p cost.PodUsage) (cost.PodUsage, bool) {
	t.Helper()
	stored, ended, err := s.SavePodUsage(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	return stored, ended
}

// testPodMerge plays one pod's observations in the order an informer may deliver them: a
// later observation that lacks the node, start, end or virtual cluster keeps what was
// recorded, and only the save that first records the end says so.
func testPodMerge(t *testing.T, s cost.Store) {
	full := podUsage("p1", "j1", "v1", "n1", costAt(10, 0), time.Time{})
	// like is full changed by f.
	like := func(f func(p *cost.PodUsage)) cost.PodUsage { p := full; f(&p); return p }
	steps := []struct {
		name      string
		save      cost.PodUsage
		wantEnded bool
		want      cost.PodUsage
	}{
		{"first save", full, false, full},
		{"a later one without node, start or virtual cluster keeps them",
			like(func(p *cost.PodUsage) {
				p.NodeName, p.Start, p.VirtualClusterID, p.CPUUsageMillis = "", time.Time{}, "", 1500
			}),
			false, like(func(p *cost.PodUsage) { p.CPUUsageMillis = 1500 })},
		{"the end is recorded once",
			like(func(p *cost.PodUsage) { p.End = costAt(10, 30) }),
			true, like(func(p *cost.PodUsage) { p.End = costAt(10, 30) })},
		{"a later end does not move it, nor a node",
			like(func(p *cost.PodUsage) { p.End, p.NodeName = costAt(11, 0), "n2" }),
			false, like(func(p *cost.PodUsage) { p.End = costAt(10, 30) })},
	}
	for _, st := range steps {
		stored, ended := save(t, s, st.save)
		want := st.want
		want.Start, want.End = micro(want.Start), micro(want.End)
		if ended != st.wantEnded {
			t.Errorf("%s: ended = %v, want %v", st.name, ended, st.wantEnded)
		}
		if stored != want {
			t.Errorf("%s: stored\n%+v, want\n%+v", st.name, stored, want)
		}
		read, err := s.PodUsageByJobRun(ctx(t), "j1")
		if err != nil {
			t.Fatal(err)
		}
		if len(read) != 1 || read[0] != want {
			t.Errorf("%s: read back\n%+v, want\n%+v", st.name, read, want)
		}
	}
}

// testPodSiblings reads a pod saved without the virtual cluster label under its job run's
// virtual cluster, taken from the job's other pods, in every query that returns pods.
func testPodSiblings(t *testing.T, s cost.Store) {
	save(t, s, podUsage("d", "j1", "v1", "n1", costAt(10, 0), time.Time{}))
	save(t, s, podUsage("e", "j1", "", "n1", costAt(10, 5), time.Time{}))
	save(t, s, podUsage("x", "j2", "", "n1", costAt(10, 5), time.Time{})) // no sibling knows
	for name, read := range map[string]func() ([]cost.PodUsage, error){
		"by job run": func() ([]cost.PodUsage, error) { return s.PodUsageByJobRun(ctx(t), "j1") },
		"by virtual cluster": func() ([]cost.PodUsage, error) {
			return s.PodUsageByVirtualCluster(ctx(t), "v1", costAt(9, 0), costAt(12, 0))
		},
		"open": func() ([]cost.PodUsage, error) { return s.OpenPodUsage(ctx(t), "c") },
		"on nodes": func() ([]cost.PodUsage, error) {
			return s.PodUsageOnNodes(ctx(t), []cost.NodeKey{{Cluster: "c", Name: "n1"}}, costAt(9, 0), costAt(12, 0))
		},
	} {
		pods, err := read()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods {
			want := "v1"
			if p.UID == "x" {
				want = ""
			}
			if p.VirtualClusterID != want {
				t.Errorf("%s: pod %s has virtual cluster %q, want %q", name, p.UID, p.VirtualClusterID, want)
			}
		}
		if name != "by virtual cluster" && len(pods) < 2 {
			t.Errorf("%s: %s", name, uids(pods))
		}
	}
}

// testPodQueries checks which pods each query returns, and in which order: by start (a pod
// never started first), then by UID; PodUsageOnNodes node by node in the order asked.
func testPodQueries(t *testing.T, s cost.Store) {
	for _, p := range []cost.PodUsage{
		podUsage("a-before", "j1", "v1", "n1", costAt(8, 0), costAt(8, 30)),   // ended before the window
		podUsage("b-open", "j1", "v1", "n2", costAt(9, 30), time.Time{}),      // still holds its node
		podUsage("c-inside", "j1", "v1", "n1", costAt(10, 0), costAt(10, 30)), // within
		podUsage("d-after", "j2", "v1", "n1", costAt(12, 0), time.Time{}),     // starts at the window's end
		podUsage("e-edge", "j2", "v1", "n2", costAt(8, 0), costAt(9, 0)),      // ends at the window's start
		podUsage("f-other", "j3", "v2", "n1", costAt(10, 0), time.Time{}),     // another virtual cluster
		podUsage("g-also", "j1", "v1", "n1", costAt(10, 0), time.Time{}),      // same start as c: by UID
		func() cost.PodUsage { p := podUsage("h-never", "j1", "v1", "", time.Time{}, costAt(9, 0)); return p }(),
		func() cost.PodUsage {
			p := podUsage("i-cluster", "j4", "v1", "n1", costAt(10, 0), time.Time{})
			p.Cluster = "c2"
			return p
		}(),
	} {
		save(t, s, p)
	}
	from, to := costAt(9, 0), costAt(12, 0)
	tests := []struct {
		name string
		read func() ([]cost.PodUsage, error)
		want string
	}{
		{"by job run", func() ([]cost.PodUsage, error) { return s.PodUsageByJobRun(ctx(t), "j1") },
			"[h-never a-before b-open c-inside g-also]"},
		{"by virtual cluster", func() ([]cost.PodUsage, error) { return s.PodUsageByVirtualCluster(ctx(t), "v1", from, to) },
			"[b-open c-inside g-also i-cluster]"},
		{"on nodes", func() ([]cost.PodUsage, error) {
			return s.PodUsageOnNodes(ctx(t), []cost.NodeKey{{Cluster: "c", Name: "n2"}, {Cluster: "c", Name: "n1"}, {Cluster: "c", Name: "none"}}, from, to)
		}, "[b-open c-inside f-other g-also]"},
		{"on no nodes", func() ([]cost.PodUsage, error) { return s.PodUsageOnNodes(ctx(t), nil, from, to) }, "[]"},
		{"open", func() ([]cost.PodUsage, error) { return s.OpenPodUsage(ctx(t), "c") }, "[b-open f-other g-also d-after]"},
		{"open in another cluster", func() ([]cost.PodUsage, error) { return s.OpenPodUsage(ctx(t), "c2") }, "[i-cluster]"},
	}
	for _, tc := range tests {
		pods, err := tc.read()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := uids(pods); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func testNodeFacts(t *testing.T, s cost.Store) {
	node := func(cluster, name, uid string, deleted time.Time) cost.NodeFacts {
		return cost.NodeFacts{Cluster: cluster, Name: name, UID: uid, InstanceType: "m5.4xlarge", CapacityType: cost.OnDemand,
			Zone: "us-west-2a", Region: "us-west-2", CPUMillis: 16000, MemoryBytes: 64 << 30, Created: costAt(9, 0), Deleted: deleted}
	}
	for _, n := range []cost.NodeFacts{
		node("c", "b", "uid-b", time.Time{}),
		node("c", "a", "uid-a", time.Time{}),
		node("c", "gone", "uid-gone", costAt(11, 0)),
		node("c", "gone", "uid-gone", time.Time{}), // a late observation of the deleted node
		node("c", "deleted", "uid-d", costAt(10, 0)),
		node("c", "deleted", "uid-d", costAt(11, 0)), // the first deletion time stays
		node("c", "reused", "uid-old", costAt(10, 0)),
		func() cost.NodeFacts {
			n := node("c", "reused", "uid-new", time.Time{})
			n.InstanceType = "c5d.9xlarge"
			return n
		}(),
		node("c2", "a", "uid-a2", time.Time{}),
	} {
		if err := s.SaveNodeFacts(ctx(t), n); err != nil {
			t.Fatal(err)
		}
	}
	open, err := s.OpenNodes(ctx(t), "c")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range open {
		names = append(names, n.Name)
	}
	if fmt.Sprint(names) != "[a b reused]" {
		t.Errorf("open nodes %v, want [a b reused]", names)
	}
	keys := []cost.NodeKey{{Cluster: "c", Name: "a"}, {Cluster: "c2", Name: "a"}, {Cluster: "c", Name: "gone"},
		{Cluster: "c", Name: "deleted"}, {Cluster: "c", Name: "reused"}, {Cluster: "c", Name: "none"}}
	facts, err := s.NodeFacts(ctx(t), keys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[cost.NodeKey]cost.NodeFacts{
		keys[0]: node("c", "a", "uid-a", time.Time{}),
		keys[1]: node("c2", "a", "uid-a2", time.Time{}),
		keys[2]: node("c", "gone", "uid-gone", costAt(11, 0)),
		keys[3]: node("c", "deleted", "uid-d", costAt(10, 0)),
		keys[4]: func() cost.NodeFacts {
			n := node("c", "reused", "uid-new", time.Time{})
			n.InstanceType = "c5d.9xlarge"
			return n
		}(),
	}
	if len(facts) != len(want) {
		t.Errorf("NodeFacts returned %d nodes, want %d: %+v", len(facts), len(want), facts)
	}
	for k, w := range want {
		w.Created, w.Deleted = micro(w.Created), micro(w.Deleted)
		if got := facts[k]; got != w {
			t.Errorf("node %v:\n%+v, want\n%+v", k, got, w)
		}
	}
	if facts, err := s.NodeFacts(ctx(t), nil); err != nil || len(facts) != 0 {
		t.Errorf("NodeFacts of no keys: %v %v", facts, err)
	}
}

func testCostRequired(t *testing.T, s cost.Store) {
	for name, p := range map[string]cost.PodUsage{
		"no uid":     podUsage("", "j1", "v1", "n1", costAt(10, 0), time.Time{}),
		"no job run": podUsage("p", "", "v1", "n1", costAt(10, 0), time.Time{}),
	} {
		if _, _, err := s.SavePodUsage(ctx(t), p); err == nil {
			t.Errorf("pod with %s was saved", name)
		}
	}
	if err := s.SaveNodeFacts(ctx(t), cost.NodeFacts{Cluster: "c", UID: "u"}); err == nil {
		t.Error("a node without a name was saved")
	}
}

// testConcurrentPodEnd saves pods' ends from many goroutines at once, as a resync and an
// informer event might: of a pod first seen ended and of a pod recorded running, the end is
// reported once, and the first end recorded stays.
func testConcurrentPodEnd(t *testing.T, s cost.Store) {
	save(t, s, podUsage("running", "j1", "v1", "n1", costAt(10, 0), time.Time{}))
	const n = 20
	for _, uid := range []string{"new", "running"} {
		var ended atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				p := podUsage(uid, "j1", "v1", "n1", costAt(10, 0), costAt(11, i))
				_, e, err := s.SavePodUsage(context.Background(), p)
				if err != nil {
					t.Error(err)
				}
				if e {
					ended.Add(1)
				}
			})
		}
		wg.Wait()
		if ended.Load() != 1 {
			t.Errorf("pod %s: %d of %d concurrent saves reported the end, want 1", uid, ended.Load(), n)
		}
	}
	pods, err := s.PodUsageByJobRun(ctx(t), "j1")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 2 || pods[0].End.IsZero() || pods[1].End.IsZero() {
		t.Fatalf("after the race: %+v", pods)
	}
}
