package console

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// podRow is one row of the run page's #pods table as the page shows it.
type podRow struct {
	Pod, Role, Node, Capacity, InstanceType, Zone, Cost string
}

const readPods = `JSON.stringify([...document.querySelectorAll("#pods tbody tr")].filter((tr) => tr.cells.length === 9).map((tr) => {
	const c = (i) => tr.cells[i].textContent.trim();
	return {Pod: c(0), Role: c(1), Node: c(2), Capacity: c(3), InstanceType: c(4), Zone: c(5), Cost: c(8)};
}))`

func (p *page) pods() []podRow {
	p.t.Helper()
	var rows []podRow
	if err := json.Unmarshal([]byte(eval[string](p, readPods)), &rows); err != nil {
		p.fail("read #pods: %v", err)
	}
	return rows
}

// reloadUntil opens path again, once a second, until ok says the page shows what the test
// waits for; the page is not live, so a person would reload it too.
func (p *page) reloadUntil(what, path string, within time.Duration, ok func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if status := p.open(path); status == 200 && ok() {
			return
		}
		if time.Now().After(deadline) {
			p.fail("%s: not within %s", what, within)
		}
		time.Sleep(time.Second)
	}
}

// testJobRunPlacementAndCost: while the run's executors run, its page lists the driver and
// both executors with the node each runs on and that node's capacity type, instance type and
// zone, as Karpenter's kwok provider labelled it; once the run has COMPLETED, the cost KPIs
// show what it cost and the Spark application section draws its stage timeline from the
// event log the logUri kept.
func (s *suite) testJobRunPlacementAndCost(t *testing.T) {
	vc := s.vc(t, "placement")
	id := s.start(t, vc, run{name: "placed", hold: 10 * time.Second, logs: true})
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning)
	p := s.signedIn(t, desktop)

	placed := func(rows []podRow) bool {
		if len(rows) != 3 {
			return false
		}
		for _, r := range rows {
			if r.Node == "" || r.Capacity == "" || r.InstanceType == "" || r.Zone == "" {
				return false
			}
		}
		return true
	}
	var rows []podRow
	p.reloadUntil("the driver and two executors placed", runPath(vc, id), runTimeout, func() bool {
		rows = p.pods()
		return placed(rows)
	})
	p.shot("running")
	// What the page shows is what the cluster says: each pod's node and that node's labels.
	pods, err := s.env.Client.CoreV1().Pods(metav1.NamespaceAll).List(context.Background(), metav1.ListOptions{LabelSelector: wellknown.LabelJobID + "=" + id})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]corev1.Pod{}
	for _, pod := range pods.Items {
		byName[pod.Name] = pod
	}
	for i, r := range rows {
		wantRole := "executor " + strconv.Itoa(i)
		if i == 0 {
			wantRole = "driver"
		}
		if r.Role != wantRole {
			t.Errorf("row %d is %q (%s), want %s", i, r.Role, r.Pod, wantRole)
		}
		pod, ok := byName[r.Pod]
		if !ok {
			t.Errorf("row %q: no such pod of the run on the cluster", r.Pod)
			continue
		}
		node, err := s.env.Client.CoreV1().Nodes().Get(context.Background(), pod.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("node %s of pod %s: %v", pod.Spec.NodeName, pod.Name, err)
		}
		want := podRow{Pod: r.Pod, Role: r.Role, Node: node.Name, Capacity: node.Labels[wellknown.LabelCapacityType],
			InstanceType: node.Labels[corev1.LabelInstanceTypeStable], Zone: node.Labels[corev1.LabelTopologyZone], Cost: r.Cost}
		if r != want {
			t.Errorf("row %q shows %+v, the cluster says %+v", r.Pod, r, want)
		}
		// The placement the run asked for: the driver on on-demand, the executors on spot.
		if wantCapacity := map[bool]string{true: "on-demand", false: "spot"}[i == 0]; r.Capacity != wantCapacity {
			t.Errorf("row %q: capacity %s, want %s", r.Pod, r.Capacity, wantCapacity)
		}
	}

	s.waitState(t, vc, id, emrtypes.JobRunStateCompleted)
	var total float64
	p.reloadUntil("the completed run's cost and stage timeline", runPath(vc, id), time.Minute, func() bool {
		total = dollars(p.text("#cost-kpis .big"))
		return total > 0 && len(p.pods()) == 3 &&
			eval[int](p, `document.querySelectorAll("#stage-timeline svg rect").length`) > 0
	})
	if got := p.text("h1 .badge"); got != "COMPLETED" {
		p.fail("the run page's state says %q", got)
	}
	if label := p.text("#cost-kpis .label"); label != "Total" {
		p.fail("the completed run's total is labelled %q, want Total", label)
	}
	for _, r := range p.pods() {
		if dollars(r.Cost) <= 0 {
			t.Errorf("pod %s costs %s", r.Pod, r.Cost)
		}
	}
	p.shot("completed")
	t.Logf("total %s; pods %+v", p.text("#cost-kpis .big"), rows)
}

// dollars reads "$0.0123"; anything else is -1.
func dollars(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimPrefix(s, "$"), 64)
	if err != nil || !strings.HasPrefix(s, "$") {
		return -1
	}
	return v
}

// testLogsFollow: the logs viewer opened with follow on a RUNNING run streams the driver's
// log into the page as the driver writes it, with no reload, and ends with the line that
// says how the run ended.
func (s *suite) testLogsFollow(t *testing.T) {
	// The run holds its executors long enough that the page, opened once it runs, sees the
	// log grow before it ends even on a loaded machine (9 browser tests share 2 cores).
	vc := s.vc(t, "logs")
	id := s.start(t, vc, run{name: "followed", hold: 45 * time.Second, logs: true})
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning)
	p := s.signedIn(t, desktop)
	p.open(logsPath(vc, id) + "?follow=true")
	if !eval[bool](p, `document.querySelector("#logs-form [name=follow]").checked`) {
		p.fail("follow=true: the Follow box is not checked")
	}
	// Record the log's length each time the page adds to it.
	eval[bool](p, `(() => {
		window.__marker = "not reloaded";
		window.__growth = [];
		const log = document.getElementById("log");
		new MutationObserver(() => window.__growth.push({at: Date.now(), length: log.textContent.length,
			ended: log.textContent.includes("--- job run ")})).observe(log, {childList: true, subtree: true, characterData: true});
		return true;
	})()`)
	// The log grows while the run runs: several additions over more than two seconds, before
	// the run's end.
	waitFor[bool](p, "the log grows while the run runs", 2*time.Minute, `(() => {
		const g = window.__growth.filter((x) => !x.ended && x.length > 0);
		return g.length >= 3 && g[g.length - 1].at - g[0].at >= 2000 && g[g.length - 1].length > g[0].length;
	})()`)
	p.shot("following")
	if st := s.state(t, vc, id); st != emrtypes.JobRunStateRunning {
		p.fail("the log grew, but the run is already %s: the test saw no follow", st)
	}

	end := "--- job run " + id + " ended COMPLETED"
	waitFor[bool](p, "the end line", runTimeout, `document.getElementById("log").textContent.includes(`+strconv.Quote(end)+`)`)
	waitFor[bool](p, "the viewer says the log ended", 10*time.Second, `document.getElementById("log-status").textContent === "The log has ended."`)
	p.notReloaded("follow")
	text := eval[string](p, `document.getElementById("log").textContent`)
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if lastLine := lines[len(lines)-1]; !strings.HasPrefix(lastLine, end) {
		p.fail("the log ends with %q, want %q", lastLine, end)
	}
	if len(lines) < 10 {
		p.fail("the followed log has %d lines:\n%s", len(lines), text)
	}
	p.shot("ended")
	t.Logf("followed %d lines, ending %q", len(lines), lines[len(lines)-1])
}
