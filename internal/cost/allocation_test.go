package cost_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/cost"
)

// testCatalog has round numbers so that every expectation below is computed by hand: CPU:memory
// split 4:1, c5d.9xlarge 1.728 on-demand / 1.2096 spot, m5.4xlarge 0.768 on-demand.
//
// Node A (c5d.9xlarge spot, 36 cores, 72 GiB): 4*36+72 = 216 units, so memory costs
// 1.2096/216 = 0.0056 per GiB-hour and CPU 0.0224 per core-hour; at on-demand 1.728/216 =
// 0.008 per GiB-hour and 0.032 per core-hour.
// Node B (m5.4xlarge on-demand, 16 cores, 64 GiB): 4*16+64 = 128 units, memory 0.768/128 =
// 0.006 per GiB-hour, CPU 0.024 per core-hour.
const testCatalogYAML = `source: hand-made test prices
date: "2026-01-01"
split: {cpuCoreHour: 4, memoryGiBHour: 1}
spotDiscount: {default: 0.5}
regions:
  us-west-2:
    onDemand: {c5d.9xlarge: 1.728, m5.4xlarge: 0.768}
    spot: {c5d.9xlarge: 1.2096}
`

func testCatalog(t testing.TB) *cost.Catalog {
	t.Helper()
	c, err := cost.ParseCatalog([]byte(testCatalogYAML))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var day0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func at(h, m int) time.Time {
	return day0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

const gi = int64(1) << 30

var (
	nodeA = cost.NodeFacts{Cluster: "c", Name: "a", UID: "ua", InstanceType: "c5d.9xlarge", CapacityType: cost.Spot,
		Zone: "us-west-2a", Region: "us-west-2", CPUMillis: 36000, MemoryBytes: 72 * gi, Created: at(10, 0), Deleted: at(11, 0)}
	nodeB = cost.NodeFacts{Cluster: "c", Name: "b", UID: "ub", InstanceType: "m5.4xlarge", CapacityType: cost.OnDemand,
		Zone: "us-west-2a", Region: "us-west-2", CPUMillis: 16000, MemoryBytes: 64 * gi, Created: at(9, 0)}
	nodeUnknown = cost.NodeFacts{Cluster: "c", Name: "x", InstanceType: "x9z.large", CapacityType: cost.Spot,
		Zone: "us-west-2a", Region: "us-west-2", CPUMillis: 2000, MemoryBytes: 4 * gi, Created: at(9, 0)}
)

func pod(name, job, vc string, role cost.Role, node string, milli, mem int64, start, end time.Time) cost.PodUsage {
	return cost.PodUsage{UID: "uid-" + name, Cluster: "c", Namespace: "ns", Name: name, JobRunID: job, VirtualClusterID: vc,
		Role: role, NodeName: node, CPUMillis: milli, MemoryBytes: mem, Start: start, End: end}
}

func TestUnitPrices(t *testing.T) {
	tests := []struct {
		name         string
		hourly       float64
		milli, bytes int64
		split        cost.Split
		core, gib    float64
	}{
		{"node A spot", 1.2096, 36000, 72 * gi, cost.Split{CPUCoreHour: 4, MemoryGiBHour: 1}, 0.0224, 0.0056},
		{"node B", 0.768, 16000, 64 * gi, cost.Split{CPUCoreHour: 4, MemoryGiBHour: 1}, 0.024, 0.006},
		// Only the ratio matters: 8:2 is 4:1.
		{"ratio only", 0.768, 16000, 64 * gi, cost.Split{CPUCoreHour: 8, MemoryGiBHour: 2}, 0.024, 0.006},
		{"no allocatable", 1, 0, 0, cost.Split{CPUCoreHour: 4, MemoryGiBHour: 1}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			core, gib := cost.UnitPrices(tc.hourly, tc.milli, tc.bytes, tc.split)
			if !near(core, tc.core) || !near(gib, tc.gib) {
				t.Fatalf("UnitPrices = %v, %v; want %v, %v", core, gib, tc.core, tc.gib)
			}
		})
	}
}

func TestChargePod(t *testing.T) {
	cat := testCatalog(t)
	now := at(12, 0)
	tests := []struct {
		name             string
		pod              cost.PodUsage
		node             cost.NodeFacts
		w                cost.Window
		priced           bool
		hours, cost, od  float64
		cpuCost, memCost float64
		reason           string
	}{
		// 4 cores, 8 GiB for 30 min on A: (4*0.0224 + 8*0.0056) * 0.5 = 0.0672; on-demand
		// (4*0.032 + 8*0.008) * 0.5 = 0.096.
		{name: "spot executor", pod: pod("e1", "j1", "v1", cost.RoleExecutor, "a", 4000, 8*gi, at(10, 5), at(10, 35)), node: nodeA,
			priced: true, hours: 0.5, cost: 0.0672, od: 0.096, cpuCost: 0.0448, memCost: 0.0224},
		// Usage above the request is charged (OpenCost's max(request, usage)): 8 cores.
		{name: "usage above request", pod: func() cost.PodUsage {
			p := pod("e1", "j1", "v1", cost.RoleExecutor, "a", 4000, 8*gi, at(10, 5), at(10, 35))
			p.CPUUsageMillis = 8000
			return p
		}(), node: nodeA, priced: true, hours: 0.5, cost: 0.112, od: 0.16, cpuCost: 0.0896, memCost: 0.0224},
		// Still running: until now, clipped to the node's deletion at 11:00.
		{name: "running, node gone at 11", pod: pod("e2", "j1", "v1", cost.RoleExecutor, "a", 4000, 8*gi, at(10, 30), time.Time{}), node: nodeA,
			priced: true, hours: 0.5, cost: 0.0672, od: 0.096, cpuCost: 0.0448, memCost: 0.0224},
		// A window cuts the interval: 10:00-11:00 of a pod running 09:30-11:30 on B, 2 cores 4 GiB.
		{name: "window", pod: pod("d", "j1", "v1", cost.RoleDriver, "b", 2000, 4*gi, at(9, 30), at(11, 30)), node: nodeB,
			w: cost.Window{From: at(10, 0), To: at(11, 0)}, priced: true, hours: 1, cost: 0.072, od: 0.072, cpuCost: 0.048, memCost: 0.024},
		{name: "never scheduled", pod: pod("p", "j1", "v1", cost.RoleExecutor, "", 4000, 8*gi, time.Time{}, time.Time{}), priced: true},
		{name: "outside the window", pod: pod("d", "j1", "v1", cost.RoleDriver, "b", 2000, 4*gi, at(9, 30), at(9, 45)), node: nodeB,
			w: cost.Window{From: at(10, 0)}, priced: true},
		{name: "node never observed", pod: pod("e3", "j1", "v1", cost.RoleExecutor, "gone", 4000, 8*gi, at(10, 0), at(11, 0)),
			hours: 1, reason: "node gone was never observed"},
		{name: "unknown price", pod: pod("e4", "j1", "v1", cost.RoleExecutor, "x", 1000, 2*gi, at(10, 0), at(11, 0)), node: nodeUnknown,
			hours: 1, reason: "not in the price catalog"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var price, od cost.Price
			if tc.node.Name != "" {
				price, od = cat.NodePrice(tc.node), cat.OnDemandPrice(tc.node)
			}
			c := cost.ChargePod(tc.pod, tc.node, price, od, cat.Split(), tc.w, now)
			if c.Priced != tc.priced || !near(c.Hours, tc.hours) || !near(c.Cost, tc.cost) || !near(c.CPUCost, tc.cpuCost) || !near(c.MemoryCost, tc.memCost) {
				t.Fatalf("charge = %+v", c)
			}
			if tc.priced && c.Hours > 0 && (!c.OnDemandKnown || !near(c.OnDemandCost, tc.od)) {
				t.Fatalf("on-demand equivalent = %v (known %v), want %v", c.OnDemandCost, c.OnDemandKnown, tc.od)
			}
			if !strings.Contains(c.Reason, tc.reason) || (tc.reason == "") != (c.Reason == "") {
				t.Fatalf("reason = %q, want %q", c.Reason, tc.reason)
			}
		})
	}
}

// job1 is the hand-computed job: a driver of 2 cores/4 GiB on on-demand node B for one hour
// (2*0.024 + 4*0.006 = 0.072) and two executors of 4 cores/8 GiB on spot node A, for 30 and
// 45 minutes (0.1344 per hour: 0.0672 and 0.1008; at on-demand 0.192 per hour: 0.096 and
// 0.144).
func job1() []cost.PodUsage {
	return []cost.PodUsage{
		pod("e2", "j1", "v1", cost.RoleExecutor, "a", 4000, 8*gi, at(10, 5), at(10, 50)),
		pod("d", "j1", "v1", cost.RoleDriver, "b", 2000, 4*gi, at(10, 0), at(11, 0)),
		pod("e1", "j1", "", cost.RoleExecutor, "a", 4000, 8*gi, at(10, 5), at(10, 35)),
	}
}

func TestBuildJobReport(t *testing.T) {
	cat := testCatalog(t)
	nodes := map[cost.NodeKey]cost.NodeFacts{nodeA.Key(): nodeA, nodeB.Key(): nodeB, nodeUnknown.Key(): nodeUnknown}
	r := cost.BuildJobReport("j1", job1(), nodes, cat, at(12, 0))
	want := cost.Totals{Cost: 0.24, Driver: 0.072, Executors: 0.168, Spot: 0.168, OnDemand: 0.072,
		CPU: 0.16, Memory: 0.08, OnDemandEquivalent: 0.312, Savings: 0.072}
	checkTotals(t, "job", r.Totals, want)
	if r.VirtualClusterID != "v1" || r.Running || !r.Start.Equal(at(10, 0)) || !r.End.Equal(at(11, 0)) || len(r.Pods) != 3 || r.Pods[0].Pod != "ns/d" {
		t.Fatalf("report = %+v", r)
	}
	// The parts add up to the total both ways.
	if !near(r.Totals.Driver+r.Totals.Executors+r.Totals.Other, r.Totals.Cost) || !near(r.Totals.Spot+r.Totals.OnDemand, r.Totals.Cost) {
		t.Fatalf("parts do not add up: %+v", r.Totals)
	}
	// Executors forced onto on-demand cost more by the catalog's ratio 1.728/1.2096.
	if ratio := (r.Totals.Executors + r.Totals.Savings) / r.Totals.Executors; !near(ratio, 1.728/1.2096) {
		t.Fatalf("on-demand/spot ratio = %v", ratio)
	}
	if len(r.Prices) != 2 || r.Prices[0].Pods+r.Prices[1].Pods != 3 || len(r.Unpriced) != 0 || len(r.Catalog) != 1 {
		t.Fatalf("prices = %+v unpriced = %v catalog = %v", r.Prices, r.Unpriced, r.Catalog)
	}

	// A pod on an unknown type is listed, counts zero, and the rest is unchanged; a running
	// pod makes the job Running with no End.
	pods := append(job1(), pod("e9", "j1", "v1", cost.RoleExecutor, "x", 1000, 2*gi, at(10, 0), time.Time{}))
	r = cost.BuildJobReport("j1", pods, nodes, cat, at(12, 0))
	checkTotals(t, "with unpriced", r.Totals, want)
	if len(r.Unpriced) != 1 || !strings.Contains(r.Unpriced[0], "ns/e9") || !r.Running || !r.End.IsZero() {
		t.Fatalf("unpriced = %v running = %v end = %v", r.Unpriced, r.Running, r.End)
	}

	// A job cancelled halfway (every pod ends at half its duration) costs half.
	half := job1()
	for i := range half {
		half[i].End = half[i].Start.Add(half[i].End.Sub(half[i].Start) / 2)
	}
	if r := cost.BuildJobReport("j1", half, nodes, cat, at(12, 0)); !near(r.Totals.Cost, 0.12) {
		t.Fatalf("half job = %v, want 0.12", r.Totals.Cost)
	}
	if r := cost.BuildJobReport("none", nil, nodes, cat, at(12, 0)); r.Totals.Cost != 0 || r.Pods == nil || r.Running {
		t.Fatalf("empty job report = %+v", r)
	}
}

func TestBuildVirtualClusterReport(t *testing.T) {
	cat := testCatalog(t)
	nodes := map[cost.NodeKey]cost.NodeFacts{nodeA.Key(): nodeA, nodeB.Key(): nodeB}
	// v1: job1 plus j3, 1 core/2 GiB on B from 23:00 to 01:00 the next day (0.036 per hour).
	// v2: j2 on B, 1 core/2 GiB 11:00-11:30 (0.018): node B is shared, so no idle on it for v1.
	j3 := pod("j3d", "j3", "v1", cost.RoleDriver, "b", 1000, 2*gi, at(23, 0), at(25, 0))
	j2 := pod("j2d", "j2", "v2", cost.RoleDriver, "b", 1000, 2*gi, at(11, 0), at(11, 30))
	v1 := append(job1(), j3)
	onNodes := append(append(job1(), j3), j2)
	from, to, now := day0, day0.Add(48*time.Hour), day0.Add(36*time.Hour)
	r := cost.BuildVirtualClusterReport("v1", from, to, v1, onNodes, nodes, cat, now)

	checkTotals(t, "v1", r.Totals, cost.Totals{Cost: 0.312, Driver: 0.144, Executors: 0.168, Spot: 0.168, OnDemand: 0.144,
		CPU: 0.208, Memory: 0.104, OnDemandEquivalent: 0.384, Savings: 0.072})
	if len(r.Jobs) != 2 || r.Jobs[0].JobRunID != "j1" || !near(r.Jobs[0].Totals.Cost, 0.24) || !near(r.Jobs[1].Totals.Cost, 0.072) {
		t.Fatalf("jobs = %+v", r.Jobs)
	}
	// Node A ran only v1's executors: 1 hour at 1.2096 less 0.168 charged = 1.0416 idle.
	if !near(r.Idle, 1.0416) || len(r.IdleNodes) != 1 || r.IdleNodes[0].Node != "a" || !near(r.IdleNodes[0].Charged, 0.168) {
		t.Fatalf("idle = %v %+v", r.Idle, r.IdleNodes)
	}
	if len(r.Days) != 2 || r.Days[0].Day != "2026-03-01" || !near(r.Days[0].Totals.Cost, 0.276) || !near(r.Days[0].Idle, 1.0416) ||
		r.Days[1].Day != "2026-03-02" || !near(r.Days[1].Totals.Cost, 0.036) {
		t.Fatalf("days = %+v", r.Days)
	}

	// v2 used only shared node B: no idle attributed.
	r2 := cost.BuildVirtualClusterReport("v2", from, to, []cost.PodUsage{j2}, onNodes, nodes, cat, now)
	if !near(r2.Totals.Cost, 0.018) || r2.Idle != 0 || len(r2.IdleNodes) != 0 {
		t.Fatalf("v2 = %+v", r2)
	}

	// A window of 10:30-10:45 charges only that part: the driver 0.25h*0.072 = 0.018, e2
	// 0.25h*0.1344 = 0.0336, e1 (ended 10:35) 5 minutes = 0.0112.
	r3 := cost.BuildVirtualClusterReport("v1", at(10, 30), at(10, 45), v1, onNodes, nodes, cat, now)
	if !near(r3.Totals.Cost, 0.0628) {
		t.Fatalf("window cost = %v, want 0.0628", r3.Totals.Cost)
	}
	// Within that window node B ran only v1's driver (j2 of v2 came at 11:00), so both nodes
	// are idle for v1: A 0.25h*1.2096 = 0.3024 less 0.0448 charged, B 0.25h*0.768 = 0.192 less
	// 0.018.
	if !near(r3.Idle, 0.3024-0.0448+0.192-0.018) || len(r3.IdleNodes) != 2 {
		t.Fatalf("window idle = %v", r3.Idle)
	}
}

func checkTotals(t *testing.T, what string, got, want cost.Totals) {
	t.Helper()
	pairs := []struct {
		name      string
		got, want float64
	}{
		{"cost", got.Cost, want.Cost}, {"driver", got.Driver, want.Driver}, {"executors", got.Executors, want.Executors},
		{"other", got.Other, want.Other}, {"spot", got.Spot, want.Spot}, {"onDemand", got.OnDemand, want.OnDemand},
		{"cpu", got.CPU, want.CPU}, {"memory", got.Memory, want.Memory},
		{"onDemandEquivalent", got.OnDemandEquivalent, want.OnDemandEquivalent}, {"savings", got.Savings, want.Savings},
	}
	for _, p := range pairs {
		if !near(p.got, p.want) {
			t.Errorf("%s %s = %v, want %v", what, p.name, p.got, p.want)
		}
	}
}
