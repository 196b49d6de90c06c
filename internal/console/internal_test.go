package console

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/eventlog"
)

func TestMaskParameters(t *testing.T) {
	for in, want := range map[string]string{
		"--conf spark.hadoop.fs.s3a.secret.key=abc --conf spark.executor.memory=2G": "--conf spark.hadoop.fs.s3a.secret.key=*********(redacted) --conf spark.executor.memory=2G",
		"--class Main --conf spark.db.password='p w' --conf spark.app.name=x":       "--class Main --conf spark.db.password=*********(redacted) --conf spark.app.name=x",
		`--conf "spark.my.token=t0k" -c spark.access.key=AKIA`:                      `--conf "spark.my.token=*********(redacted)" -c spark.access.key=*********(redacted)`,
		"--conf spark.executor.instances=50":                                        "--conf spark.executor.instances=50",
	} {
		if got := maskParameters(in); got != want {
			t.Errorf("maskParameters(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/virtualclusters/x/jobruns?state=FAILED": "/console/virtualclusters/x/jobruns?state=FAILED",
		"//evil.example/":              "/console/",
		"https://evil.example/":        "/console/",
		"/console/\\evil":              "/console/",
		"/console/api/virtualclusters": "/console/",
		"/console/signin":              "/console/",
		"/other":                       "/console/",
		"":                             "/console/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChartsEscape(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := &eventlog.Summary{Application: eventlog.Application{StartTime: start, EndTime: start.Add(time.Minute)},
		Stages: []eventlog.Stage{{StageID: 0, Name: `<script>alert(1)</script>`, Status: "COMPLETE", NumTasks: 4,
			SubmissionTime: start.Add(time.Second), CompletionTime: start.Add(30 * time.Second), DurationMs: 29000}}}
	svg := string(stageTimeline(s))
	if strings.Contains(svg, "<script>") || !strings.Contains(svg, "&lt;script&gt;") || !strings.Contains(svg, "<rect") {
		t.Fatalf("stage timeline:\n%s", svg)
	}
	bar := string(stackedBar(`a "title" <b>`, []barPart{{`<i>`, "spot", 1}, {"x", "ondemand", 3}}, "USD"))
	if strings.Contains(bar, "<i>") || strings.Contains(bar, "<b>") || !strings.Contains(bar, "75%") {
		t.Fatalf("stacked bar:\n%s", bar)
	}
}

func TestEveryDay(t *testing.T) {
	days := everyDay([]cost.DayTotal{{Day: "2026-11-28", Idle: 1}}, "2026-11-26", "2026-12-01")
	var got []string
	for _, d := range days {
		got = append(got, d.Day)
	}
	if strings.Join(got, ",") != "2026-11-26,2026-11-27,2026-11-28,2026-11-29,2026-11-30,2026-12-01" || days[2].Idle != 1 {
		t.Fatalf("everyDay: %v", days)
	}
}

func TestNodes(t *testing.T) {
	rep := cost.JobReport{Pods: []cost.PodCost{
		{Pod: "spark/app-exec-2", Role: cost.RoleExecutor, Node: "n2", CapacityType: cost.Spot},
		{Pod: "spark/app-driver", Role: cost.RoleDriver, Node: "n1", CapacityType: cost.OnDemand},
		{Pod: "spark/app-exec-10", Role: cost.RoleExecutor, Node: "n2", CapacityType: cost.Spot},
		{Pod: "spark/app-exec-1", Role: cost.RoleExecutor, Node: "n1", CapacityType: cost.OnDemand},
	}}
	ns := nodes(pods(rep))
	if len(ns) != 2 || ns[0].Node != "n1" || !ns[0].Driver || strings.Join(ns[0].Executors, ",") != "1" ||
		ns[1].Node != "n2" || strings.Join(ns[1].Executors, ",") != "2,10" {
		t.Fatalf("nodes: %+v", ns)
	}
}
