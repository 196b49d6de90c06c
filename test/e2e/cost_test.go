package e2e

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	corev1 "k8s.io/api/core/v1"

	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// Simulated job length and when the cancelled job is cancelled: halfway through the time its
// executors are held.
const (
	jobDuration = 20 * time.Second
	cancelAfter = jobDuration / 2
	executors   = 2
)

// skew bounds, per pod, how far apart the test's and the server's records of the pod's life
// can be. Both read the same API timestamps (PodScheduled, containers' finishedAt) except
// when a running pod is deleted: then each takes the time its own informer in this process
// delivered the deletion from the same API server, which differs by goroutine scheduling and
// GC pauses: milliseconds, bounded here with a wide margin for a loaded 2-core machine.
const skew = 500 * time.Millisecond

// placement confs: driver and executors on the sandbox NodePool (app=demo), each on a
// capacity type.
func placement(driver, executor cost.CapacityType) []string {
	return []string{
		"spark.kubernetes.driver.node.selector.app=demo",
		"spark.kubernetes.driver.node.selector.karpenter.sh/capacity-type=" + string(driver),
		"spark.kubernetes.executor.node.selector.app=demo",
		"spark.kubernetes.executor.node.selector.karpenter.sh/capacity-type=" + string(executor),
		"spark.executor.instances=" + strconv.Itoa(executors), "spark.executor.cores=1", "spark.executor.memory=1g",
		"spark.sparkplane.sandbox.duration=" + jobDuration.String(),
	}
}

// hand is a job run's cost computed in the test from what its own informers saw and the
// catalog's prices.
type hand struct {
	totals cost.Totals
	// tol is the largest difference skew can make to the total (and to each part).
	tol float64
	// execHours and execRateHours: executor pod-hours, and the executors' cost at their
	// nodes' prices (so execRateHours/execHours is their mean hourly rate).
	execHours, execCost float64
	// execTol is the part of tol that falls on the executors.
	execTol float64
	// perPod is each pod's cost and hourly rate by namespace/name.
	perPod map[string][2]float64
	pods   int
	lines  []string
}

// cpuToMemory is the catalog's split: a CPU core is priced like this many GiB of memory.
func cpuToMemory(cat *cost.Catalog) float64 { s := cat.Split(); return s.CPUCoreHour / s.MemoryGiBHour }

// handCost prices every pod of the job run the test saw: a pod holds what its containers
// request, from when it was bound to its node until its containers finished (or, deleted while
// running, until the deletion was seen), at a share of the node's catalog price: memory m per
// GiB-hour and CPU r*m per core-hour, m = price/(r*allocatable cores + allocatable GiB).
func handCost(t *testing.T, o *observer, jobID string, cat *cost.Catalog) hand {
	t.Helper()
	r := cpuToMemory(cat)
	h := hand{perPod: map[string][2]float64{}}
	for _, sp := range o.jobPods(jobID) {
		p := sp.pod
		if p.Spec.NodeName == "" {
			continue // never held a node
		}
		if len(p.Spec.InitContainers) > 0 {
			t.Fatalf("pod %s has init containers; the hand computation counts app containers only", p.Name)
		}
		start := scheduledAt(p)
		end, ok := endedAt(sp)
		if !ok {
			t.Fatalf("pod %s has not ended", p.Name)
		}
		hours := end.Sub(start).Hours()
		n := o.node(p.Spec.NodeName)
		if n == nil {
			t.Fatalf("node %s of pod %s was never seen", p.Spec.NodeName, p.Name)
		}
		typ, zone := n.Labels[corev1.LabelInstanceTypeStable], n.Labels[corev1.LabelTopologyZone]
		ct := cost.CapacityType(n.Labels[wellknown.LabelCapacityType])
		price, err := cat.Lookup(typ, "", zone, ct)
		if err != nil || !price.Known() {
			t.Fatalf("node %s (%s %s %s): no catalog price: %v %+v", n.Name, typ, ct, zone, err, price)
		}
		od, err := cat.Lookup(typ, "", zone, cost.OnDemand)
		if err != nil || !od.Known() {
			t.Fatalf("node %s: no on-demand price: %v", n.Name, err)
		}
		// Karpenter's kwok provider labels each node with its price from the same data the
		// catalog's us-west-2 section was taken from; they must agree (the label has 6 decimals).
		if label, err := strconv.ParseFloat(n.Labels[cost.PriceLabel], 64); err != nil || math.Abs(label-price.Hourly) > 5e-7 {
			t.Errorf("node %s %s %s: price label %q, catalog %v", n.Name, typ, ct, n.Labels[cost.PriceLabel], price.Hourly)
		}
		nodeCores := float64(n.Status.Allocatable.Cpu().MilliValue()) / 1000
		nodeGiB := float64(n.Status.Allocatable.Memory().Value()) / (1 << 30)
		var cpuMilli, mem int64
		for _, c := range p.Spec.Containers {
			cpuMilli += c.Resources.Requests.Cpu().MilliValue()
			mem += c.Resources.Requests.Memory().Value()
		}
		cores, memGiB := float64(cpuMilli)/1000, float64(mem)/(1<<30)
		share := r*cores + memGiB
		rate := price.Hourly / (r*nodeCores + nodeGiB) * share
		odRate := od.Hourly / (r*nodeCores + nodeGiB) * share
		c := rate * hours
		h.totals.Cost += c
		h.totals.OnDemandEquivalent += odRate * hours
		if ct == cost.Spot {
			h.totals.Spot += c
		} else {
			h.totals.OnDemand += c
		}
		switch p.Labels[wellknown.LabelSparkRole] {
		case "driver":
			h.totals.Driver += c
		case "executor":
			h.totals.Executors += c
			h.execHours += hours
			h.execCost += c
			h.execTol += odRate * skew.Hours()
		default:
			h.totals.Other += c
		}
		h.tol += odRate * skew.Hours()
		h.perPod[p.Namespace+"/"+p.Name] = [2]float64{c, rate}
		h.pods++
		h.lines = append(h.lines, fmt.Sprintf("%s %s on %s %s %s ($%.4f/h, %.1f cores %.1f GiB): %.1f cores %.2f GiB x %.1fs = $%.6f",
			p.Labels[wellknown.LabelSparkRole], p.Name, n.Name, typ, ct, price.Hourly, nodeCores, nodeGiB, cores, memGiB, end.Sub(start).Seconds(), c))
	}
	h.totals.Savings = h.totals.OnDemandEquivalent - h.totals.Cost
	return h
}

// scheduledAt is when the pod was bound to its node, as the API server recorded it.
func scheduledAt(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.Status.StartTime != nil {
		return p.Status.StartTime.Time
	}
	return p.CreationTimestamp.Time
}

// endedAt is when the pod let go of its node: its containers' last finish when all finished,
// else when its deletion was seen.
func endedAt(sp seenPod) (time.Time, bool) {
	var last time.Time
	all := len(sp.pod.Status.ContainerStatuses) > 0
	for _, s := range sp.pod.Status.ContainerStatuses {
		if s.State.Terminated == nil {
			all = false
			continue
		}
		if s.State.Terminated.FinishedAt.After(last) {
			last = s.State.Terminated.FinishedAt.Time
		}
	}
	terminal := sp.pod.Status.Phase == corev1.PodSucceeded || sp.pod.Status.Phase == corev1.PodFailed
	switch {
	case all && (terminal || !sp.deleted.IsZero()):
		return last, true
	case !sp.deleted.IsZero():
		return sp.deleted, true
	}
	return time.Time{}, false
}

// report waits until the server has recorded every pod the test saw of the job run as ended,
// and returns its cost report from the extension route.
func (s *server) report(t *testing.T, o *observer, vc, id string) cost.JobReport {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var rep cost.JobReport
		s.get(t, "/virtualclusters/"+vc+"/jobruns/"+id+"/cost", &rep)
		seen, ended := 0, 0
		for _, sp := range o.jobPods(id) {
			if sp.pod.Spec.NodeName != "" {
				seen++
				if _, ok := endedAt(sp); ok {
					ended++
				}
			}
		}
		if !rep.Running && seen > 0 && ended == seen && len(rep.Pods) == seen {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("job run %s: after 90s the report has %d pods (running %v), the test saw %d pods, %d ended", id, len(rep.Pods), rep.Running, seen, ended)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// executorsRunning waits until the job run's executors all run and returns when the test saw
// that.
func executorsRunning(t *testing.T, o *observer, id string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		running := 0
		for _, sp := range o.jobPods(id) {
			if sp.pod.Labels[wellknown.LabelSparkRole] == "executor" && sp.pod.Status.Phase == corev1.PodRunning && sp.deleted.IsZero() {
				running++
			}
		}
		if running == executors {
			return time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("job run %s: %d executors not running after %s", id, executors, within)
	return time.Time{}
}

func checkAgainstHand(t *testing.T, name string, rep cost.JobReport, h hand) {
	t.Helper()
	const eps = 1e-9
	got := rep.Totals
	if d := got.Driver + got.Executors + got.Other - got.Cost; math.Abs(d) > eps {
		t.Errorf("%s: driver %.9f + executors %.9f + other %.9f != total %.9f", name, got.Driver, got.Executors, got.Other, got.Cost)
	}
	if d := got.Spot + got.OnDemand - got.Cost; math.Abs(d) > eps {
		t.Errorf("%s: spot %.9f + on-demand %.9f != total %.9f", name, got.Spot, got.OnDemand, got.Cost)
	}
	if len(rep.Pods) != h.pods || len(rep.Unpriced) > 0 {
		t.Errorf("%s: report prices %d pods (unpriced %v), the test saw %d", name, len(rep.Pods), rep.Unpriced, h.pods)
	}
	// Pod by pod: how far apart the two records of the pod's life are, in seconds.
	var worst time.Duration
	for _, p := range rep.Pods {
		want, ok := h.perPod[p.Pod]
		if !ok {
			t.Errorf("%s: the report has pod %s, which the test never saw on a node", name, p.Pod)
			continue
		}
		d := time.Duration(math.Abs(p.Charge.Cost-want[0]) / want[1] * float64(time.Hour))
		worst = max(worst, d)
		if d > skew {
			t.Errorf("%s: pod %s costs $%.9f, by hand $%.9f: %s of its time apart, more than %s", name, p.Pod, p.Charge.Cost, want[0], d, skew)
		}
	}
	for _, p := range []struct {
		part      string
		got, want float64
	}{
		{"total", got.Cost, h.totals.Cost}, {"driver", got.Driver, h.totals.Driver}, {"executors", got.Executors, h.totals.Executors},
		{"spot", got.Spot, h.totals.Spot}, {"on-demand", got.OnDemand, h.totals.OnDemand},
		{"on-demand equivalent", got.OnDemandEquivalent, h.totals.OnDemandEquivalent},
	} {
		if math.Abs(p.got-p.want) > h.tol+eps {
			t.Errorf("%s: %s $%.6f, by hand $%.6f (tolerance $%.6f)", name, p.part, p.got, p.want, h.tol)
		}
	}
	t.Logf("%s: pods at most %s apart from the hand computation", name, worst)
	t.Logf("%s: total $%.9f (hand $%.9f, tolerance $%.6f): driver $%.6f executors $%.6f, spot $%.6f on-demand $%.6f, on-demand equivalent $%.6f, savings $%.6f\n  %s",
		name, got.Cost, h.totals.Cost, h.tol, got.Driver, got.Executors, got.Spot, got.OnDemand, got.OnDemandEquivalent, got.Savings,
		strings.Join(h.lines, "\n  "))
}

// TestJobCost runs, at once, the seed's placement (driver on-demand, executors spot), the same
// job with executors on on-demand, and the seed's placement cancelled halfway, and checks
// each cost against a computation by hand and against each other.
func TestJobCost(t *testing.T) {
	s := startServer(t)
	o := observe(t)
	cat := cost.DefaultCatalog()
	vcSpot, vcOD, vcCancel := s.virtualCluster(t, "cost-spot"), s.virtualCluster(t, "cost-od"), s.virtualCluster(t, "cost-cancel")
	spotJob := s.start(t, vcSpot, placement(cost.OnDemand, cost.Spot)...)
	odJob := s.start(t, vcOD, placement(cost.OnDemand, cost.OnDemand)...)
	cancelJob := s.start(t, vcCancel, placement(cost.OnDemand, cost.Spot)...)

	held := executorsRunning(t, o, cancelJob, 2*time.Minute)
	time.Sleep(time.Until(held.Add(cancelAfter)))
	if _, err := s.client.CancelJobRun(context.Background(), &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vcCancel), Id: aws.String(cancelJob)}); err != nil {
		t.Fatalf("CancelJobRun: %v", err)
	}
	s.waitState(t, vcCancel, cancelJob, emrtypes.JobRunStateCancelled, time.Minute)
	s.waitState(t, vcSpot, spotJob, emrtypes.JobRunStateCompleted, 2*time.Minute)
	s.waitState(t, vcOD, odJob, emrtypes.JobRunStateCompleted, 2*time.Minute)

	spot, od, cancelled := s.report(t, o, vcSpot, spotJob), s.report(t, o, vcOD, odJob), s.report(t, o, vcCancel, cancelJob)
	hSpot, hOD, hCancel := handCost(t, o, spotJob, cat), handCost(t, o, odJob, cat), handCost(t, o, cancelJob, cat)

	t.Run("parts add up to the hand computation", func(t *testing.T) {
		checkAgainstHand(t, "driver on-demand, executors spot", spot, hSpot)
		checkAgainstHand(t, "all on-demand", od, hOD)
		checkAgainstHand(t, "cancelled halfway", cancelled, hCancel)
		// The placement shows in the parts: drivers are the on-demand part, spot executors
		// the spot part.
		if math.Abs(spot.Totals.Driver-spot.Totals.OnDemand) > 1e-9 || math.Abs(spot.Totals.Executors-spot.Totals.Spot) > 1e-9 || spot.Totals.Savings <= 0 {
			t.Errorf("seed placement: parts %+v, want driver = on-demand, executors = spot, savings > 0", spot.Totals)
		}
		if od.Totals.Spot != 0 || math.Abs(od.Totals.Savings) > 1e-9 {
			t.Errorf("all on-demand: parts %+v, want no spot part and no savings", od.Totals)
		}
	})

	t.Run("executors on on-demand cost more by the catalog's ratio", func(t *testing.T) {
		// The catalog's prediction: the executors' mean hourly rate on the nodes they got, at
		// the catalog's prices (hand), on-demand over spot.
		predicted := (hOD.execCost / hOD.execHours) / (hSpot.execCost / hSpot.execHours)
		measured := (od.Totals.Executors / hOD.execHours) / (spot.Totals.Executors / hSpot.execHours)
		// Each run's executors' part may be off by its share of the skew tolerance.
		tol := predicted * (hOD.execTol/hOD.execCost + hSpot.execTol/hSpot.execCost)
		t.Logf("executor cost per executor-hour: on-demand $%.6f, spot $%.6f; ratio %.4f, catalog predicts %.4f (tolerance %.4f); job totals $%.6f vs $%.6f (x%.4f)",
			od.Totals.Executors/hOD.execHours, spot.Totals.Executors/hSpot.execHours, measured, predicted, tol,
			od.Totals.Cost, spot.Totals.Cost, od.Totals.Cost/spot.Totals.Cost)
		if predicted <= 1 {
			t.Errorf("the catalog predicts on-demand executors at %.4f times spot; want more", predicted)
		}
		if math.Abs(measured-predicted) > tol {
			t.Errorf("on-demand executors cost %.4f times spot per executor-hour, catalog predicts %.4f ± %.4f", measured, predicted, tol)
		}
		if od.Totals.Executors <= spot.Totals.Executors || od.Totals.Cost <= spot.Totals.Cost {
			t.Errorf("all on-demand $%.6f (executors $%.6f) does not cost more than spot executors $%.6f (executors $%.6f)",
				od.Totals.Cost, od.Totals.Executors, spot.Totals.Cost, spot.Totals.Executors)
		}
	})

	t.Run("cancelled halfway costs about half", func(t *testing.T) {
		// Cancelled when its executors had been held for half of jobDuration. The parts that
		// do not scale with the duration (node provisioning before the executors run, a few
		// seconds; deletion after the cancel, about one) are in both runs and lift the ratio
		// above one half by their share of a ~25 s run, hence the bounds.
		ratio := cancelled.Totals.Cost / spot.Totals.Cost
		t.Logf("cancelled $%.6f / full $%.6f = %.3f", cancelled.Totals.Cost, spot.Totals.Cost, ratio)
		if ratio < 0.35 || ratio > 0.7 {
			t.Errorf("cancelled halfway costs %.3f of the full run, want about half (0.35-0.7)", ratio)
		}
	})

	t.Run("DescribeJobRun and the virtual cluster report agree", func(t *testing.T) {
		var desc struct {
			JobRun map[string]any `json:"jobRun"`
		}
		s.get(t, "/virtualclusters/"+vcSpot+"/jobruns/"+spotJob, &desc)
		sum, _ := desc.JobRun[api.CostMember].(map[string]any)
		if total, _ := sum["total"].(float64); math.Abs(total-spot.Totals.Cost) > 1e-9 {
			t.Errorf("DescribeJobRun %s = %v, want total %.9f", api.CostMember, desc.JobRun[api.CostMember], spot.Totals.Cost)
		}
		// The release's Spark (emr-6.15.0 ships 3.4.1) built the driver; DescribeJobRun says so.
		if v := desc.JobRun["sparkplaneSparkVersion"]; v != "3.4.1" {
			t.Errorf("DescribeJobRun sparkplaneSparkVersion = %v, want 3.4.1 (the Spark of %s)", v, release)
		}
		var vcr cost.VirtualClusterReport
		s.get(t, "/virtualclusters/"+vcSpot+"/cost?since="+time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), &vcr)
		if len(vcr.Jobs) != 1 || vcr.Jobs[0].JobRunID != spotJob || math.Abs(vcr.Totals.Cost-spot.Totals.Cost) > 1e-9 || vcr.Idle < 0 {
			t.Errorf("virtual cluster report: jobs %+v totals %+v idle %v, want the one job at $%.9f", vcr.Jobs, vcr.Totals, vcr.Idle, spot.Totals.Cost)
		}
		var days float64
		for _, d := range vcr.Days {
			days += d.Totals.Cost
		}
		if math.Abs(days-vcr.Totals.Cost) > 1e-9 {
			t.Errorf("days add up to %.9f, totals %.9f", days, vcr.Totals.Cost)
		}
		t.Logf("virtual cluster %s: total $%.6f, idle $%.6f on %d dedicated nodes, savings $%.6f", vcSpot, vcr.Totals.Cost, vcr.Idle, len(vcr.IdleNodes), vcr.Totals.Savings)
	})
}
