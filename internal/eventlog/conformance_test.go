package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The conformance test reads every event log real Spark applications wrote
// (../../../shared/conformance/spark-event-logs, relative to this package) and checks the
// summary against an oracle computed in this file, independently of the parser: each line is
// decoded generically (map[string]any), events are counted by their "Event" value, task
// metrics are summed per stage attempt by walking the decoded maps, and jobs, stages,
// executors and SQL executions are tallied from their own events. The summary is compared in
// its JSON form, the one a server route serves.

// conformanceLogs are the oracle's logs, with facts its README states about each (so a wrong
// oracle cannot agree with a wrong parser unnoticed).
var conformanceLogs = []struct {
	name      string
	spark     string
	jobs      int
	stagesRan int
	tasks     int
	added     int
	removed   int
	sql       int
}{
	{name: "app-20200706201101-0003", spark: "3.1.0-SNAPSHOT", jobs: 3, stagesRan: 3, tasks: 48, added: 1, removed: 0, sql: 1},
	{name: "application_1628109047826_1317105", spark: "3.1.1.119", jobs: 1, stagesRan: 1, tasks: 5, added: 10, removed: 6, sql: 0},
	{name: "local-1642039451826", spark: "3.3.0-SNAPSHOT", jobs: 6, stagesRan: 6, tasks: 35, added: 1, removed: 0, sql: 2},
	{name: "eventlog_v2_local-1766844910796", spark: "4.2.0-SNAPSHOT", jobs: 1, stagesRan: 1, tasks: 2, added: 1, removed: 0, sql: 0},
}

// eventLogDir locates the oracle beside the repository (the shared workspace layout:
// <root>/main is the repository, <root>/shared the oracle).
func eventLogDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "conformance", "spark-event-logs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Fatalf("Spark event-log oracle not found at %s (expected beside the repository as shared/conformance/spark-event-logs): %v", dir, err)
	}
	return dir
}

func TestConformance(t *testing.T) {
	dir := eventLogDir(t)
	var totalShuffleWrite, totalInputRecords float64
	for _, tc := range conformanceLogs {
		t.Run(tc.name, func(t *testing.T) {
			sum, err := ReadFS(os.DirFS(dir), tc.name)
			if err != nil {
				t.Fatalf("ReadFS: %v", err)
			}
			want := scanOracle(t, filepath.Join(dir, tc.name))
			got := toJSONMap(t, sum)

			checkReadme(t, tc.spark, tc.jobs, tc.stagesRan, tc.tasks, tc.added, tc.removed, tc.sql, want)
			compareApplication(t, got, want)
			compareEvents(t, got, want)
			compareJobs(t, got, want)
			compareStages(t, got, want)
			compareExecutors(t, got, want)
			compareSQL(t, got, want)

			if !sum.Complete {
				t.Errorf("Complete = false for a whole log; notes: %q", sum.Notes)
			}
			for _, n := range sum.Notes { // the rolling log lacks its appstatus marker (README)
				if !strings.Contains(n, "appstatus_") {
					t.Errorf("unexpected note %q", n)
				}
			}
			for _, st := range want.stages {
				totalShuffleWrite += st.metrics["shuffleWriteBytes"]
				totalInputRecords += st.metrics["inputRecords"]
			}
			t.Logf("%s: lines %d (oracle %d); jobs %d (%d); stage attempts %d (%d); tasks ended %d (%d); executors +%d -%d (+%d -%d); sql %d (%d)",
				tc.name, sum.Events.Lines, want.lines, len(sum.Jobs), len(want.jobs), len(sum.Stages), len(want.stages),
				endedTasks(sum), want.byType["SparkListenerTaskEnd"], len(sum.Executors), removedExecutors(sum),
				len(want.executors), want.removed(), len(sum.SQL), len(want.sql))
		})
	}
	// Guard against a vacuous metrics comparison: the logs do move data.
	if totalShuffleWrite == 0 || totalInputRecords == 0 {
		t.Errorf("oracle sums are zero (shuffle write %v, input records %v): the metric paths are wrong", totalShuffleWrite, totalInputRecords)
	}
}

func endedTasks(s *Summary) int64 {
	var n int64
	for _, st := range s.Stages {
		n += st.Tasks.Completed + st.Tasks.Failed + st.Tasks.Killed
	}
	return n
}

func removedExecutors(s *Summary) int {
	n := 0
	for _, e := range s.Executors {
		if !e.RemoveTime.IsZero() {
			n++
		}
	}
	return n
}

// oracle is what the raw events say, tallied without the parser.
type oracle struct {
	lines  int64
	byType map[string]int64
	app    map[string]any // ApplicationStart merged with LogStart and ApplicationEnd members
	jobs   map[float64]*oracleJob
	stages map[[2]float64]*oracleStage
	// executors by id; tasks are counted for added executors only
	executors map[string]*oracleExecutor
	sql       map[float64]*oracleSQL
}

type oracleJob struct {
	stageIDs      []float64
	numTasks      float64
	stageTasks    map[float64]float64
	submit, end   float64
	result        string
	failure       string
	sqlID         *float64
	ended         bool
	ran           map[float64]bool
	done, failed  float64
	killed        float64
	stagesDone    map[float64]bool
	stagesFailed  float64
	name          string
	description   string
	lastStageSeen float64
}

type oracleStage struct {
	name                 string
	numTasks             float64
	submit, end          float64
	failure              string
	done, failed, killed float64
	speculative          float64
	started              float64
	reasons              map[string]float64
	metrics              map[string]float64
	jobs                 []float64
}

type oracleExecutor struct {
	host                 string
	cores                float64
	added, removedAt     float64
	reason               string
	done, failed, killed float64
}

type oracleSQL struct {
	description string
	start, end  float64
	jobs        []float64
}

func (o *oracle) removed() int {
	n := 0
	for _, e := range o.executors {
		if e.removedAt > 0 {
			n++
		}
	}
	return n
}

// metricPaths maps each StageMetrics JSON key to the Task Metrics members it sums.
var metricPaths = map[string][][]string{
	"executorRunTimeMs":      {{"Executor Run Time"}},
	"executorCpuTimeNs":      {{"Executor CPU Time"}},
	"jvmGcTimeMs":            {{"JVM GC Time"}},
	"inputBytes":             {{"Input Metrics", "Bytes Read"}},
	"inputRecords":           {{"Input Metrics", "Records Read"}},
	"outputBytes":            {{"Output Metrics", "Bytes Written"}},
	"outputRecords":          {{"Output Metrics", "Records Written"}},
	"shuffleReadBytes":       {{"Shuffle Read Metrics", "Remote Bytes Read"}, {"Shuffle Read Metrics", "Local Bytes Read"}},
	"shuffleRemoteBytesRead": {{"Shuffle Read Metrics", "Remote Bytes Read"}},
	"shuffleLocalBytesRead":  {{"Shuffle Read Metrics", "Local Bytes Read"}},
	"shuffleReadRecords":     {{"Shuffle Read Metrics", "Total Records Read"}},
	"shuffleWriteBytes":      {{"Shuffle Write Metrics", "Shuffle Bytes Written"}},
	"shuffleWriteRecords":    {{"Shuffle Write Metrics", "Shuffle Records Written"}},
	"memoryBytesSpilled":     {{"Memory Bytes Spilled"}},
	"diskBytesSpilled":       {{"Disk Bytes Spilled"}},
}

// scanOracle tallies one log (a file, or a rolling directory's events files in order).
func scanOracle(t *testing.T, p string) *oracle {
	t.Helper()
	files := []string{p}
	if info, err := os.Stat(p); err != nil {
		t.Fatal(err)
	} else if info.IsDir() {
		matches, err := filepath.Glob(filepath.Join(p, "events_*"))
		if err != nil || len(matches) == 0 {
			t.Fatalf("no events files in %s: %v", p, err)
		}
		num := func(f string) int {
			n, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(f), "events_"), "_", 2)[0])
			return n
		}
		sort.Slice(matches, func(i, j int) bool { return num(matches[i]) < num(matches[j]) })
		files = matches
	}
	o := &oracle{
		byType: map[string]int64{}, app: map[string]any{}, jobs: map[float64]*oracleJob{},
		stages: map[[2]float64]*oracleStage{}, executors: map[string]*oracleExecutor{}, sql: map[float64]*oracleSQL{},
	}
	active := map[float64]bool{}
	stage := func(id, attempt float64) *oracleStage {
		k := [2]float64{id, attempt}
		if o.stages[k] == nil {
			o.stages[k] = &oracleStage{reasons: map[string]float64{}, metrics: map[string]float64{}}
			for jid := range active {
				if slices.Contains(o.jobs[jid].stageIDs, id) {
					o.stages[k].jobs = append(o.stages[k].jobs, jid)
				}
			}
		}
		return o.stages[k]
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			o.lines++
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s: line %d of the oracle does not parse: %v", f, o.lines, err)
			}
			typ, _ := ev["Event"].(string)
			o.byType[typ]++
			switch typ {
			case "SparkListenerLogStart":
				o.app["Spark Version"] = ev["Spark Version"]
			case "SparkListenerApplicationStart":
				for k, v := range ev {
					o.app[k] = v
				}
			case "SparkListenerApplicationEnd":
				o.app["End"] = ev["Timestamp"]
				o.app["ExitCode"] = ev["ExitCode"]
			case "SparkListenerJobStart":
				j := &oracleJob{submit: num(ev["Submission Time"]), stageTasks: map[float64]float64{}, ran: map[float64]bool{}, stagesDone: map[float64]bool{}, lastStageSeen: -1}
				for _, id := range ev["Stage IDs"].([]any) {
					j.stageIDs = append(j.stageIDs, id.(float64))
				}
				for _, si := range ev["Stage Infos"].([]any) {
					m := si.(map[string]any)
					j.numTasks += num(m["Number of Tasks"])
					j.stageTasks[num(m["Stage ID"])] = num(m["Number of Tasks"])
					if num(m["Stage ID"]) > j.lastStageSeen {
						j.lastStageSeen, j.name = num(m["Stage ID"]), m["Stage Name"].(string)
					}
				}
				props, _ := ev["Properties"].(map[string]any)
				if s, ok := props["spark.sql.execution.id"].(string); ok {
					id, _ := strconv.ParseFloat(s, 64)
					j.sqlID = &id
					if o.sql[id] == nil {
						o.sql[id] = &oracleSQL{}
					}
					o.sql[id].jobs = append(o.sql[id].jobs, num(ev["Job ID"]))
				}
				j.description, _ = props["spark.job.description"].(string)
				o.jobs[num(ev["Job ID"])] = j
				active[num(ev["Job ID"])] = true
			case "SparkListenerJobEnd":
				j := o.jobs[num(ev["Job ID"])]
				j.ended, j.end = true, num(ev["Completion Time"])
				res := ev["Job Result"].(map[string]any)
				j.result = res["Result"].(string)
				if ex, ok := res["Exception"].(map[string]any); ok {
					j.failure, _ = ex["Message"].(string)
				}
				delete(active, num(ev["Job ID"]))
			case "SparkListenerStageSubmitted", "SparkListenerStageCompleted":
				si := ev["Stage Info"].(map[string]any)
				s := stage(num(si["Stage ID"]), num(si["Stage Attempt ID"]))
				s.name, s.numTasks, s.submit = si["Stage Name"].(string), num(si["Number of Tasks"]), num(si["Submission Time"])
				if typ == "SparkListenerStageCompleted" {
					s.end = num(si["Completion Time"])
					s.failure, _ = si["Failure Reason"].(string)
				}
			case "SparkListenerTaskStart":
				stage(num(ev["Stage ID"]), num(ev["Stage Attempt ID"])).started++
			case "SparkListenerTaskEnd":
				s := stage(num(ev["Stage ID"]), num(ev["Stage Attempt ID"]))
				reason := ev["Task End Reason"].(map[string]any)["Reason"].(string)
				info := ev["Task Info"].(map[string]any)
				s.reasons[reason]++
				var done, failed, killed float64
				switch reason {
				case "Success":
					done = 1
				case "TaskKilled", "TaskCommitDenied":
					killed = 1
				default:
					failed = 1
				}
				s.done, s.failed, s.killed = s.done+done, s.failed+failed, s.killed+killed
				if info["Speculative"] == true {
					s.speculative++
				}
				if ex := o.executors[info["Executor ID"].(string)]; ex != nil {
					ex.done, ex.failed, ex.killed = ex.done+done, ex.failed+failed, ex.killed+killed
				}
				tm, _ := ev["Task Metrics"].(map[string]any)
				for key, paths := range metricPaths {
					for _, p := range paths {
						s.metrics[key] += dig(tm, p...)
					}
				}
			case "SparkListenerExecutorAdded":
				info := ev["Executor Info"].(map[string]any)
				o.executors[ev["Executor ID"].(string)] = &oracleExecutor{host: info["Host"].(string), cores: num(info["Total Cores"]), added: num(ev["Timestamp"])}
			case "SparkListenerExecutorRemoved":
				ex := o.executors[ev["Executor ID"].(string)]
				ex.removedAt, ex.reason = num(ev["Timestamp"]), ev["Removed Reason"].(string)
			case "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart":
				id := num(ev["executionId"])
				if o.sql[id] == nil {
					o.sql[id] = &oracleSQL{}
				}
				o.sql[id].description, o.sql[id].start = ev["description"].(string), num(ev["time"])
			case "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd":
				o.sql[num(ev["executionId"])].end = num(ev["time"])
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	// Attribute stage attempts to jobs: what ran, what completed, which tasks.
	for k, s := range o.stages {
		for _, jid := range s.jobs {
			j := o.jobs[jid]
			j.ran[k[0]] = true
			j.done, j.failed, j.killed = j.done+s.done, j.failed+s.failed, j.killed+s.killed
			switch {
			case s.end > 0 && s.failure == "":
				j.stagesDone[k[0]] = true
			case s.failure != "":
				j.stagesFailed++
			}
		}
	}
	return o
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func dig(m map[string]any, path ...string) float64 {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return 0
		}
		cur = mm[p]
	}
	return num(cur)
}

func toJSONMap(t *testing.T, s *Summary) map[string]any {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("marshal summary: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("unmarshal summary: %v", err)
	}
	return m
}

// ms reads a JSON time of the summary as epoch milliseconds (0 when absent).
func ms(t *testing.T, v any) float64 {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		return 0
	}
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return float64(tm.UnixMilli())
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, oracle says %v", what, got, want)
	}
}

func checkReadme(t *testing.T, spark string, jobs, stagesRan, tasks, added, removed, sql int, o *oracle) {
	t.Helper()
	eq(t, "README: Spark version", o.app["Spark Version"], any(spark))
	eq(t, "README: jobs", len(o.jobs), jobs)
	eq(t, "README: stages that ran", len(o.stages), stagesRan)
	eq(t, "README: tasks", o.byType["SparkListenerTaskEnd"], int64(tasks))
	eq(t, "README: executors added", len(o.executors), added)
	eq(t, "README: executors removed", o.removed(), removed)
	eq(t, "README: SQL executions", len(o.sql), sql)
}

func compareApplication(t *testing.T, got map[string]any, o *oracle) {
	t.Helper()
	app := got["application"].(map[string]any)
	eq(t, "application.id", app["id"], o.app["App ID"])
	eq(t, "application.name", app["name"], o.app["App Name"])
	eq(t, "application.user", app["user"], o.app["User"])
	eq(t, "application.sparkVersion", app["sparkVersion"], o.app["Spark Version"])
	eq(t, "application.startTime", ms(t, app["startTime"]), num(o.app["Timestamp"]))
	eq(t, "application.endTime", ms(t, app["endTime"]), num(o.app["End"]))
	eq(t, "application.durationMs", num(app["durationMs"]), num(o.app["End"])-num(o.app["Timestamp"]))
	eq(t, "application.exitCode", app["exitCode"], o.app["ExitCode"])
}

// usedEvents are the events the summary is built from; every other valid event is skipped.
var usedEvents = []string{
	"SparkListenerLogStart", "SparkListenerApplicationStart", "SparkListenerApplicationEnd",
	"SparkListenerJobStart", "SparkListenerJobEnd", "SparkListenerStageSubmitted", "SparkListenerStageCompleted",
	"SparkListenerTaskStart", "SparkListenerTaskEnd", "SparkListenerExecutorAdded", "SparkListenerExecutorRemoved",
	"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart", "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd",
}

func compareEvents(t *testing.T, got map[string]any, o *oracle) {
	t.Helper()
	ev := got["events"].(map[string]any)
	eq(t, "events.lines", num(ev["lines"]), float64(o.lines))
	eq(t, "events.corrupt", num(ev["corrupt"]), 0)
	var skipped int64
	for typ, n := range o.byType {
		if !slices.Contains(usedEvents, typ) {
			skipped += n
		}
	}
	eq(t, "events.skipped", num(ev["skipped"]), float64(skipped))
	byType := ev["byType"].(map[string]any)
	eq(t, "len(events.byType)", len(byType), len(o.byType))
	for typ, n := range o.byType {
		eq(t, "events.byType["+typ+"]", num(byType[typ]), float64(n))
	}
}

func floats(v any) []float64 {
	var out []float64
	for _, x := range v.([]any) {
		out = append(out, x.(float64))
	}
	return out
}

func sortedFloats(v []float64) []float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v
}

func compareJobs(t *testing.T, got map[string]any, o *oracle) {
	t.Helper()
	jobs := got["jobs"].([]any)
	eq(t, "len(jobs)", len(jobs), len(o.jobs))
	for _, x := range jobs {
		j := x.(map[string]any)
		id := num(j["jobId"])
		w := o.jobs[id]
		if w == nil {
			t.Errorf("job %v not in the log", id)
			continue
		}
		what := fmt.Sprintf("job %v ", id)
		eq(t, what+"stageIds", fmt.Sprint(floats(j["stageIds"])), fmt.Sprint(w.stageIDs))
		eq(t, what+"name", j["name"], any(w.name))
		eq(t, what+"description", fmt.Sprint(j["description"]), fmt.Sprint(map[bool]any{true: w.description, false: nil}[w.description != ""]))
		eq(t, what+"submissionTime", ms(t, j["submissionTime"]), w.submit)
		eq(t, what+"completionTime", ms(t, j["completionTime"]), w.end)
		eq(t, what+"durationMs", num(j["durationMs"]), w.end-w.submit)
		eq(t, what+"result", fmt.Sprint(j["result"]), w.result)
		status := map[string]string{"JobSucceeded": "SUCCEEDED", "JobFailed": "FAILED"}[w.result]
		eq(t, what+"status", j["status"], any(status))
		eq(t, what+"failureReason", fmt.Sprint(j["failureReason"]), fmt.Sprint(map[bool]any{true: w.failure, false: nil}[w.failure != ""]))
		if w.sqlID == nil {
			eq(t, what+"sqlExecutionId", j["sqlExecutionId"], nil)
		} else {
			eq(t, what+"sqlExecutionId", num(j["sqlExecutionId"]), *w.sqlID)
		}
		eq(t, what+"numTasks", num(j["numTasks"]), w.numTasks)
		eq(t, what+"numCompletedTasks", num(j["numCompletedTasks"]), w.done)
		eq(t, what+"numFailedTasks", num(j["numFailedTasks"]), w.failed)
		eq(t, what+"numKilledTasks", num(j["numKilledTasks"]), w.killed)
		var skipped []float64
		var skippedTasks float64
		for _, sid := range w.stageIDs {
			if !w.ran[sid] {
				skipped = append(skipped, sid)
				skippedTasks += w.stageTasks[sid]
			}
		}
		var gotSkipped []float64
		if j["skippedStageIds"] != nil {
			gotSkipped = floats(j["skippedStageIds"])
		}
		eq(t, what+"skippedStageIds", fmt.Sprint(sortedFloats(gotSkipped)), fmt.Sprint(sortedFloats(skipped)))
		eq(t, what+"numSkippedStages", num(j["numSkippedStages"]), float64(len(skipped)))
		eq(t, what+"numSkippedTasks", num(j["numSkippedTasks"]), skippedTasks)
		eq(t, what+"numCompletedStages", num(j["numCompletedStages"]), float64(len(w.stagesDone)))
		eq(t, what+"numFailedStages", num(j["numFailedStages"]), w.stagesFailed)
	}
}

func compareStages(t *testing.T, got map[string]any, o *oracle) {
	t.Helper()
	stages := got["stages"].([]any)
	eq(t, "len(stages)", len(stages), len(o.stages))
	for _, x := range stages {
		s := x.(map[string]any)
		key := [2]float64{num(s["stageId"]), num(s["attemptId"])}
		w := o.stages[key]
		if w == nil {
			t.Errorf("stage attempt %v not in the log", key)
			continue
		}
		what := fmt.Sprintf("stage %v.%v ", key[0], key[1])
		eq(t, what+"name", s["name"], any(w.name))
		eq(t, what+"numTasks", num(s["numTasks"]), w.numTasks)
		eq(t, what+"submissionTime", ms(t, s["submissionTime"]), w.submit)
		eq(t, what+"completionTime", ms(t, s["completionTime"]), w.end)
		eq(t, what+"durationMs", num(s["durationMs"]), w.end-w.submit)
		status := "COMPLETE"
		if w.failure != "" {
			status = "FAILED"
		}
		eq(t, what+"status", s["status"], any(status))
		eq(t, what+"jobIds", fmt.Sprint(sortedFloats(floats(s["jobIds"]))), fmt.Sprint(sortedFloats(w.jobs)))
		tasks := s["tasks"].(map[string]any)
		eq(t, what+"tasks.completed", num(tasks["completed"]), w.done)
		eq(t, what+"tasks.failed", num(tasks["failed"]), w.failed)
		eq(t, what+"tasks.killed", num(tasks["killed"]), w.killed)
		eq(t, what+"tasks.speculative", num(tasks["speculative"]), w.speculative)
		eq(t, what+"tasks.active", num(tasks["active"]), w.started-(w.done+w.failed+w.killed))
		reasons, _ := s["endReasons"].(map[string]any)
		eq(t, what+"len(endReasons)", len(reasons), len(w.reasons))
		for r, n := range w.reasons {
			eq(t, what+"endReasons["+r+"]", num(reasons[r]), n)
		}
		metrics := s["metrics"].(map[string]any)
		eq(t, what+"len(metrics)", len(metrics), len(metricPaths))
		for key, want := range w.metrics {
			if g := num(metrics[key]); math.Abs(g-want) > 0 {
				t.Errorf("%smetrics.%s = %v, oracle sums %v", what, key, g, want)
			}
		}
	}
}

func compareExecutors(t *testing.T, got map[string]any, o *oracle) {
	t.Helper()
	execs := got["executors"].([]any)
	eq(t, "len(executors)", len(execs), len(o.executors))
	for _, x := range execs {
		e := x.(map[string]any)
		id := e["id"].(string)
		w := o.executors[id]
		if w == nil {
			t.Errorf("executor %s not added in the log", id)
			continue
		}
		what := "executor " + id + " "
		eq(t, what+"host", e["host"], any(w.host))
		eq(t, what+"totalCores", num(e["totalCores"]), w.cores)
		eq(t, what+"addTime", ms(t, e["addTime"]), w.added)
		eq(t, what+"removeTime", ms(t, e["removeTime"]), w.removedAt)
		eq(t, what+"removedReason", fmt.Sprint(e["removedReason"]), fmt.Sprint(map[bool]any{true: w.reason, false: nil}[w.reason != ""]))
		tasks := e["tasks"].(map[string]any)
		eq(t, what+"tasks.completed", num(tasks["completed"]), w.done)
		eq(t, what+"tasks.failed", num(tasks["failed"]), w.failed)
		eq(t, what+"tasks.killed", num(tasks["killed"]), w.killed)
	}
}

func compareSQL(t *testing.T, got map[string]any, o *oracle) {
	t.Helper()
	sql := got["sqlExecutions"].([]any)
	eq(t, "len(sqlExecutions)", len(sql), len(o.sql))
	for _, x := range sql {
		q := x.(map[string]any)
		id := num(q["executionId"])
		w := o.sql[id]
		if w == nil {
			t.Errorf("SQL execution %v not in the log", id)
			continue
		}
		what := fmt.Sprintf("sql %v ", id)
		eq(t, what+"description", q["description"], any(w.description))
		eq(t, what+"startTime", ms(t, q["startTime"]), w.start)
		eq(t, what+"endTime", ms(t, q["endTime"]), w.end)
		eq(t, what+"durationMs", num(q["durationMs"]), w.end-w.start)
		eq(t, what+"status", q["status"], any("COMPLETED"))
		eq(t, what+"jobIds", fmt.Sprint(sortedFloats(floats(q["jobIds"]))), fmt.Sprint(sortedFloats(w.jobs)))
	}
}
