package api_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"

	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
)

// costFixture is a server with one virtual cluster, one job run whose driver ran an hour on an
// on-demand node and whose two executors ran half an hour on a spot node (records written to
// the real store as the controller's recorder would), and one job run with no record.
type costFixture struct {
	srv        *apitest.Server
	vc, job    string
	bare       string
	start      time.Time
	want       cost.Totals // computed by hand from the catalog
	spotNode   string
	driverRate float64
}

const gib = 1 << 30

// rate is what a pod reserving cores and memGiB pays per hour on a node of nodeCores and
// nodeGiB priced hourly, by the OpenCost split: memory m per GiB-hour and CPU r*m per
// core-hour, with r the catalog's CPU:memory unit price ratio and m chosen so the whole node
// costs its price.
func rate(hourly, nodeCores, nodeGiB, cores, memGiB float64) float64 {
	r := 0.031611 / 0.004237
	m := hourly / (r*nodeCores + nodeGiB)
	return (r*cores + memGiB) * m
}

func newCostFixture(t testing.TB) *costFixture {
	t.Helper()
	srv := apitest.Start(t)
	ctx := context.Background()
	c := srv.Client()
	vc, err := c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{Name: aws.String("costs"),
		ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks}})
	if err != nil {
		t.Fatal(err)
	}
	f := &costFixture{srv: srv, vc: *vc.Id, spotNode: "spot-1"}
	f.job = startRun(t, c, f.vc)
	f.bare = startRun(t, c, f.vc)
	// Whole hours, well inside the default 7-day report range.
	f.start = time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Hour)
	cat := cost.DefaultCatalog()
	od, err := cat.Lookup("c5a.4xlarge", "us-west-2", "us-west-2a", cost.OnDemand)
	if err != nil {
		t.Fatal(err)
	}
	spot, err := cat.Lookup("c5a.4xlarge", "us-west-2", "us-west-2a", cost.Spot)
	if err != nil {
		t.Fatal(err)
	}
	nodes := []cost.NodeFacts{
		{Cluster: apitest.ContainerProvider, Name: "od-1", UID: "n1", InstanceType: "c5a.4xlarge", CapacityType: cost.OnDemand,
			Zone: "us-west-2a", Region: "us-west-2", CPUMillis: 16000, MemoryBytes: 32 * gib, Created: f.start.Add(-time.Minute)},
		{Cluster: apitest.ContainerProvider, Name: f.spotNode, UID: "n2", InstanceType: "c5a.4xlarge", CapacityType: cost.Spot,
			Zone: "us-west-2a", Region: "us-west-2", CPUMillis: 16000, MemoryBytes: 32 * gib, Created: f.start.Add(-time.Minute)},
	}
	for _, n := range nodes {
		if err := srv.App.Store.SaveNodeFacts(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	pod := func(uid, name string, role cost.Role, node string, cpu int64, mem int64, from, to time.Duration) cost.PodUsage {
		return cost.PodUsage{UID: uid, Cluster: apitest.ContainerProvider, Namespace: "spark", Name: name, JobRunID: f.job,
			VirtualClusterID: f.vc, Role: role, NodeName: node, CPUMillis: cpu, MemoryBytes: mem,
			Start: f.start.Add(from), End: f.start.Add(to)}
	}
	pods := []cost.PodUsage{
		pod("p1", "driver", cost.RoleDriver, "od-1", 1000, 2*gib, 0, time.Hour),
		pod("p2", "exec-1", cost.RoleExecutor, f.spotNode, 4000, 8*gib, 10*time.Minute, 40*time.Minute),
		pod("p3", "exec-2", cost.RoleExecutor, f.spotNode, 4000, 8*gib, 10*time.Minute, 40*time.Minute),
	}
	for _, p := range pods {
		if _, _, err := srv.App.Store.SavePodUsage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	f.driverRate = rate(od.Hourly, 16, 32, 1, 2)
	execSpot := 2 * rate(spot.Hourly, 16, 32, 4, 8) * 0.5
	execOD := 2 * rate(od.Hourly, 16, 32, 4, 8) * 0.5
	f.want = cost.Totals{Cost: f.driverRate + execSpot, Driver: f.driverRate, Executors: execSpot, Spot: execSpot,
		OnDemand: f.driverRate, OnDemandEquivalent: f.driverRate + execOD, Savings: execOD - execSpot}
	return f
}

func startRun(t testing.TB, c *emrcontainers.Client, vc string) string {
	t.Helper()
	out, err := c.StartJobRun(context.Background(), startInput(vc, "pi"))
	if err != nil {
		t.Fatal(err)
	}
	return *out.Id
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func checkTotals(t *testing.T, what string, got, want cost.Totals) {
	t.Helper()
	pairs := []struct {
		name      string
		got, want float64
	}{
		{"cost", got.Cost, want.Cost}, {"driver", got.Driver, want.Driver}, {"executors", got.Executors, want.Executors},
		{"spot", got.Spot, want.Spot}, {"onDemand", got.OnDemand, want.OnDemand},
		{"onDemandEquivalent", got.OnDemandEquivalent, want.OnDemandEquivalent}, {"savings", got.Savings, want.Savings},
	}
	for _, p := range pairs {
		if !near(p.got, p.want) {
			t.Errorf("%s %s = %.9f, want %.9f (by hand)", what, p.name, p.got, p.want)
		}
	}
}

func TestJobRunCostRoute(t *testing.T) {
	f := newCostFixture(t)
	code, _, body := f.srv.Get(t, "/virtualclusters/"+f.vc+"/jobruns/"+f.job+"/cost", true)
	if code != http.StatusOK {
		t.Fatalf("job run cost: HTTP %d %s", code, body)
	}
	var rep cost.JobReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	checkTotals(t, "job report", rep.Totals, f.want)
	if rep.JobRunID != f.job || rep.VirtualClusterID != f.vc || rep.Currency != "USD" || rep.Running || len(rep.Pods) != 3 || len(rep.Prices) != 2 {
		t.Errorf("job report = %+v", rep)
	}
	// A job run without records costs zero and is still found.
	code, _, body = f.srv.Get(t, "/virtualclusters/"+f.vc+"/jobruns/"+f.bare+"/cost", true)
	if err := json.Unmarshal(body, &rep); code != http.StatusOK || err != nil || rep.Totals.Cost != 0 || len(rep.Pods) != 0 || rep.VirtualClusterID != f.vc {
		t.Errorf("cost of a job run without records: HTTP %d %s", code, body)
	}
}

func TestVirtualClusterCostRoute(t *testing.T) {
	f := newCostFixture(t)
	for _, q := range []string{"", "?createdAfter=" + url.QueryEscape(f.start.Add(-time.Hour).Format(time.RFC3339)),
		"?since=" + f.start.AddDate(0, 0, -1).Format(time.DateOnly) + "&until=" + url.QueryEscape(time.Now().UTC().Add(time.Hour).Format(time.RFC3339))} {
		code, _, body := f.srv.Get(t, "/virtualclusters/"+f.vc+"/cost"+q, true)
		if code != http.StatusOK {
			t.Fatalf("virtual cluster cost%s: HTTP %d %s", q, code, body)
		}
		var rep cost.VirtualClusterReport
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		checkTotals(t, "virtual cluster report"+q, rep.Totals, f.want)
		if len(rep.Jobs) != 1 || rep.Jobs[0].JobRunID != f.job {
			t.Errorf("jobs%s = %+v, want the one job with records", q, rep.Jobs)
		}
		var days float64
		for _, d := range rep.Days {
			days += d.Totals.Cost
		}
		if !near(days, f.want.Cost) {
			t.Errorf("days%s add up to %.9f, want %.9f", q, days, f.want.Cost)
		}
		// Both nodes ran only this virtual cluster's pods: their uncharged time is idle cost,
		// reported beside the totals.
		if len(rep.IdleNodes) != 2 || rep.Idle <= 0 {
			t.Errorf("idle%s = %v %+v, want both nodes", q, rep.Idle, rep.IdleNodes)
		}
	}
	// The default range is the last seven days.
	_, _, body := f.srv.Get(t, "/virtualclusters/"+f.vc+"/cost", true)
	var rep cost.VirtualClusterReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if d := rep.To.Sub(rep.From); d != api.DefaultCostRange {
		t.Errorf("default range = %s, want %s", d, api.DefaultCostRange)
	}
}

func TestCostRouteErrors(t *testing.T) {
	f := newCostFixture(t)
	other := createVC(t, f.srv.Client(), "other", "other")
	tests := []struct {
		name, path string
		unsigned   bool
		status     int
		code, msg  string
	}{
		{"unknown job run", "/virtualclusters/" + f.vc + "/jobruns/0000000000000000000/cost", false, 404, "ResourceNotFoundException", ""},
		{"job run of another virtual cluster", "/virtualclusters/" + other + "/jobruns/" + f.job + "/cost", false, 404, "ResourceNotFoundException", ""},
		{"unknown virtual cluster", "/virtualclusters/0000000000000000000000000/cost", false, 404, "ResourceNotFoundException", ""},
		{"unknown virtual cluster of a job run", "/virtualclusters/0000000000000000000000000/jobruns/" + f.job + "/cost", false, 404, "ResourceNotFoundException", ""},
		{"bad createdAfter", "/virtualclusters/" + f.vc + "/cost?createdAfter=yesterday", false, 400, "ValidationException", "createdAfter: must be an ISO-8601"},
		{"bad until", "/virtualclusters/" + f.vc + "/cost?until=2026-13-01", false, 400, "ValidationException", "until: must be an ISO-8601"},
		{"both names", "/virtualclusters/" + f.vc + "/cost?createdAfter=2026-01-01&since=2026-01-01", false, 400, "ValidationException", "createdAfter: must not be given together with since"},
		{"start after end", "/virtualclusters/" + f.vc + "/cost?since=2026-02-01&until=2026-01-01", false, 400, "ValidationException", "since: must be before until"},
		{"range too long", "/virtualclusters/" + f.vc + "/cost?since=2020-01-01&until=2026-01-01", false, 400, "ValidationException", "since: must be at most 366 days"},
		{"unknown parameter", "/virtualclusters/" + f.vc + "/cost?createdAftr=2026-01-01", false, 400, "ValidationException", `"createdAftr": is not a parameter`},
		{"parameter on job run cost", "/virtualclusters/" + f.vc + "/jobruns/" + f.job + "/cost?x=1", false, 400, "ValidationException", `"x": is not a parameter`},
		{"unsigned job run cost", "/virtualclusters/" + f.vc + "/jobruns/" + f.job + "/cost", true, 403, "", ""},
		{"unsigned virtual cluster cost", "/virtualclusters/" + f.vc + "/cost", true, 403, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, errType, body := f.srv.Get(t, tc.path, !tc.unsigned)
			if code != tc.status || (tc.code != "" && errType != tc.code) {
				t.Fatalf("HTTP %d %s %s, want %d %s", code, errType, body, tc.status, tc.code)
			}
			var m map[string]string
			if err := json.Unmarshal(body, &m); err != nil || m["message"] == "" || !strings.Contains(m["message"], tc.msg) {
				t.Errorf("message %s, want one containing %q", body, tc.msg)
			}
		})
	}
	// Refused requests change nothing: the report is the same afterwards.
	code, _, body := f.srv.Get(t, "/virtualclusters/"+f.vc+"/jobruns/"+f.job+"/cost", true)
	var rep cost.JobReport
	if err := json.Unmarshal(body, &rep); code != 200 || err != nil {
		t.Fatalf("HTTP %d %s", code, body)
	}
	checkTotals(t, "after refused requests", rep.Totals, f.want)
}

// TestDescribeJobRunCostMember checks the extension member in the raw response, and that the
// aws CLI and aws-sdk-go-v2 still decode DescribeJobRun with it present.
func TestDescribeJobRunCostMember(t *testing.T) {
	f := newCostFixture(t)
	code, _, body := f.srv.Get(t, "/virtualclusters/"+f.vc+"/jobruns/"+f.job, true)
	if code != 200 {
		t.Fatalf("HTTP %d %s", code, body)
	}
	var raw struct {
		JobRun map[string]json.RawMessage `json:"jobRun"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	var sum api.JobRunCost
	if err := json.Unmarshal(raw.JobRun[api.CostMember], &sum); err != nil {
		t.Fatalf("%s member %s: %v", api.CostMember, raw.JobRun[api.CostMember], err)
	}
	checkTotals(t, "sparkplaneCost", cost.Totals{Cost: sum.Total, Driver: sum.Driver, Executors: sum.Executors, Spot: sum.Spot,
		OnDemand: sum.OnDemand, OnDemandEquivalent: sum.OnDemandEquivalent, Savings: sum.Savings}, f.want)
	if sum.Currency != "USD" || len(sum.PriceSources) != 2 || sum.Running || len(sum.UnpricedPods) != 0 {
		t.Errorf("summary = %+v", sum)
	}
	if string(raw.JobRun["id"]) != `"`+f.job+`"` || raw.JobRun["state"] == nil {
		t.Errorf("AWS members lost beside the extension: %s", body)
	}
	// No record yet: no member.
	_, _, body = f.srv.Get(t, "/virtualclusters/"+f.vc+"/jobruns/"+f.bare, true)
	if strings.Contains(string(body), api.CostMember) {
		t.Errorf("job run without records has a cost member: %s", body)
	}

	out, err := f.srv.Client().DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{Id: aws.String(f.job), VirtualClusterId: aws.String(f.vc)})
	if err != nil || aws.ToString(out.JobRun.Id) != f.job || out.JobRun.State == "" {
		t.Fatalf("aws-sdk-go-v2 DescribeJobRun with the extension member: %v %+v", err, out)
	}
	cli, err := f.srv.AWS(t, "emr-containers", "describe-job-run", "--virtual-cluster-id", f.vc, "--id", f.job)
	if err != nil {
		t.Fatalf("aws emr-containers describe-job-run with the extension member: %v", err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(cli, &m); err != nil || m["jobRun"]["id"] != f.job {
		t.Fatalf("aws CLI output %s: %v", cli, err)
	}
}

// BenchmarkDescribeJobRunCost measures DescribeJobRun through the whole stack (SDK client,
// SigV4, SQLite) for a job run with cost records (three pods on two nodes: the extension
// member is computed) and for one without (the member is omitted), to show what the member
// adds.
func BenchmarkDescribeJobRunCost(b *testing.B) {
	f := newCostFixture(b)
	c := f.srv.Client()
	for _, tc := range []struct{ name, id string }{{"with-cost", f.job}, {"no-records", f.bare}} {
		b.Run(tc.name, func(b *testing.B) {
			in := &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(f.vc), Id: aws.String(tc.id)}
			lat := make([]time.Duration, 0, b.N)
			start := time.Now()
			for b.Loop() {
				t0 := time.Now()
				if _, err := c.DescribeJobRun(b.Context(), in); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			reportLatencies(b, lat, time.Since(start))
		})
	}
}
