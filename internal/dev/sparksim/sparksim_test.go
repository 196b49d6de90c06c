package sparksim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/eventlog"
)

var start = time.Date(2024, 12, 1, 10, 0, 0, 0, time.UTC)

// succeededApp runs three jobs on three executors, one of which the driver loses midway.
func succeededApp() App {
	return App{
		AppID:    "spark-7d1c5a8f3b2e4a10b2c4d6e8f0a1b3c5",
		AppName:  "nightly-etl",
		User:     "etl",
		Start:    start,
		Duration: 2 * time.Minute,
		Executors: []Executor{
			{ID: "1", Cores: 2, MemoryMiB: 2048},
			{ID: "2", Cores: 2, MemoryMiB: 2048, Added: start.Add(5 * time.Second)},
			{ID: "3", Cores: 2, MemoryMiB: 2048, Added: start.Add(6 * time.Second), Removed: start.Add(70 * time.Second),
				RemovedReason: "The executor with id 3 exited with exit code 137(SIGKILL, possible container OOM)."},
		},
		Jobs:          3,
		StagesPerJob:  3,
		TasksPerStage: 8,
		Seed:          42,
	}
}

// failedApp fails in its second job.
func failedApp() App {
	return App{
		AppID:         "spark-00aa11bb22cc33dd44ee55ff66778899",
		AppName:       "failing job",
		Start:         start,
		Duration:      90 * time.Second,
		Executors:     []Executor{{ID: "1", Cores: 2}, {ID: "2", Cores: 2}},
		Jobs:          2,
		StagesPerJob:  2,
		TasksPerStage: 6,
		Failed:        true,
		Exception:     "java.lang.IllegalStateException: input partition is corrupt",
		Seed:          7,
	}
}

func simulate(t *testing.T, a App) *Simulation {
	t.Helper()
	s, err := a.Simulate()
	if err != nil {
		t.Fatalf("Simulate: %v", err)
	}
	return s
}

func text(lines []Line) string {
	var b bytes.Buffer
	if err := WriteLines(&b, lines); err != nil {
		panic(err)
	}
	return b.String()
}

func summarize(t *testing.T, s *Simulation) *eventlog.Summary {
	t.Helper()
	var b eventlog.Builder
	if _, err := b.ReadFrom(strings.NewReader(text(s.EventLog()))); err != nil {
		t.Fatalf("read event log: %v", err)
	}
	return b.Summary()
}

// rawEvent is one event log line decoded generically, independently of internal/eventlog.
type rawEvent map[string]any

func rawEvents(t *testing.T, s *Simulation) []rawEvent {
	t.Helper()
	var out []rawEvent
	for i, l := range s.EventLog() {
		var e rawEvent
		if err := json.Unmarshal([]byte(l.Text), &e); err != nil {
			t.Fatalf("event log line %d is not JSON: %v", i+1, err)
		}
		out = append(out, e)
	}
	return out
}

func (e rawEvent) typ() string { s, _ := e["Event"].(string); return s }

// num reads a number at a path of members.
func (e rawEvent) num(path ...string) int64 {
	var v any = map[string]any(e)
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return 0
		}
		v = m[k]
	}
	f, _ := v.(float64)
	return int64(f)
}

func (e rawEvent) str(path ...string) string {
	var v any = map[string]any(e)
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// totals are metric sums, from the summary or from the raw lines.
type totals struct {
	inBytes, inRecords, outBytes, outRecords    int64
	shuffleRead, shuffleReadRecords             int64
	shuffleWrite, shuffleWriteRecords           int64
	memSpilled, diskSpilled                     int64
	completed, failed, killed                   int64
	endReasons                                  map[string]int64
	execAdded, execRemoved, jobStarts, jobFails int
}

func rawTotals(events []rawEvent) totals {
	t := totals{endReasons: map[string]int64{}}
	for _, e := range events {
		switch e.typ() {
		case "SparkListenerTaskEnd":
			t.inBytes += e.num("Task Metrics", "Input Metrics", "Bytes Read")
			t.inRecords += e.num("Task Metrics", "Input Metrics", "Records Read")
			t.outBytes += e.num("Task Metrics", "Output Metrics", "Bytes Written")
			t.outRecords += e.num("Task Metrics", "Output Metrics", "Records Written")
			t.shuffleRead += e.num("Task Metrics", "Shuffle Read Metrics", "Remote Bytes Read") + e.num("Task Metrics", "Shuffle Read Metrics", "Local Bytes Read")
			t.shuffleReadRecords += e.num("Task Metrics", "Shuffle Read Metrics", "Total Records Read")
			t.shuffleWrite += e.num("Task Metrics", "Shuffle Write Metrics", "Shuffle Bytes Written")
			t.shuffleWriteRecords += e.num("Task Metrics", "Shuffle Write Metrics", "Shuffle Records Written")
			t.memSpilled += e.num("Task Metrics", "Memory Bytes Spilled")
			t.diskSpilled += e.num("Task Metrics", "Disk Bytes Spilled")
			reason := e.str("Task End Reason", "Reason")
			t.endReasons[reason]++
			switch reason {
			case "Success":
				t.completed++
			case "TaskKilled":
				t.killed++
			default:
				t.failed++
			}
		case "SparkListenerExecutorAdded":
			t.execAdded++
		case "SparkListenerExecutorRemoved":
			t.execRemoved++
		case "SparkListenerJobStart":
			t.jobStarts++
		case "SparkListenerJobEnd":
			if e.str("Job Result", "Result") == "JobFailed" {
				t.jobFails++
			}
		}
	}
	return t
}

func summaryTotals(s *eventlog.Summary) totals {
	t := totals{endReasons: map[string]int64{}}
	for _, st := range s.Stages {
		m := st.Metrics
		t.inBytes += m.InputBytes
		t.inRecords += m.InputRecords
		t.outBytes += m.OutputBytes
		t.outRecords += m.OutputRecords
		t.shuffleRead += m.ShuffleReadBytes
		t.shuffleReadRecords += m.ShuffleReadRecords
		t.shuffleWrite += m.ShuffleWriteBytes
		t.shuffleWriteRecords += m.ShuffleWriteRecords
		t.memSpilled += m.MemoryBytesSpilled
		t.diskSpilled += m.DiskBytesSpilled
		t.completed += st.Tasks.Completed
		t.failed += st.Tasks.Failed
		t.killed += st.Tasks.Killed
		for r, n := range st.EndReasons {
			t.endReasons[r] += n
		}
	}
	for _, ex := range s.Executors {
		t.execAdded++
		if ex.RemovedReason != "" {
			t.execRemoved++
		}
	}
	t.jobStarts = len(s.Jobs)
	for _, j := range s.Jobs {
		if j.Status == eventlog.JobFailed {
			t.jobFails++
		}
	}
	return t
}

// TestEventLogSummary reads each simulated event log with internal/eventlog and checks the
// summary against the App and against sums taken straight from the raw lines.
func TestEventLogSummary(t *testing.T) {
	v311 := succeededApp()
	v311.SparkVersion = "3.1.1"
	v400 := failedApp()
	v400.SparkVersion = "4.0.0"
	v400.ExitCode = 3
	noJobs := App{AppID: "spark-idle", AppName: "idle", Start: start, Duration: 20 * time.Second, Executors: []Executor{{ID: "1"}}}
	failedNoJobs := noJobs
	failedNoJobs.Failed = true

	tests := []struct {
		name string
		app  App
	}{
		{"succeeded", succeededApp()},
		{"failed", failedApp()},
		{"spark 3.1", v311},
		{"spark 4.0 failed", v400},
		{"no jobs", noJobs},
		{"failed without jobs", failedNoJobs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := simulate(t, tc.app)
			a := s.App()
			sum := summarize(t, s)
			if !sum.Complete || len(sum.Notes) != 0 || sum.Events.Corrupt != 0 {
				t.Fatalf("summary not complete and clean: complete=%v corrupt=%d notes=%q", sum.Complete, sum.Events.Corrupt, sum.Notes)
			}
			app := sum.Application
			end := a.Start.Add(a.Duration)
			if app.ID != a.AppID || app.Name != a.AppName || app.User != a.User || app.SparkVersion != a.SparkVersion {
				t.Errorf("application = %+v, want %s %q by %s on %s", app, a.AppID, a.AppName, a.User, a.SparkVersion)
			}
			if !app.StartTime.Equal(a.Start) || !app.EndTime.Equal(end) || app.DurationMs != a.Duration.Milliseconds() {
				t.Errorf("start %s end %s duration %d ms, want %s %s %d", app.StartTime, app.EndTime, app.DurationMs, a.Start, end, a.Duration.Milliseconds())
			}
			wantExit := a.ExitCode
			switch v, _ := parseVersion(a.SparkVersion); {
			case !v.atLeast(4, 0) && app.ExitCode != nil:
				t.Errorf("exit code %d in a Spark %s log, which has none", *app.ExitCode, a.SparkVersion)
			case v.atLeast(4, 0) && (app.ExitCode == nil || *app.ExitCode != wantExit):
				t.Errorf("exit code %v, want %d", app.ExitCode, wantExit)
			}

			// Jobs and stages.
			if len(sum.Jobs) != a.Jobs {
				t.Fatalf("%d jobs, want %d", len(sum.Jobs), a.Jobs)
			}
			for i, j := range sum.Jobs {
				last := a.Failed && i == a.Jobs-1
				want := eventlog.JobSucceeded
				if last {
					want = eventlog.JobFailed
				}
				if j.Status != want || len(j.StageIDs) != a.StagesPerJob || j.NumSkippedStages != 0 {
					t.Errorf("job %d: status %s, %d stages, %d skipped; want %s, %d, 0", j.ID, j.Status, len(j.StageIDs), j.NumSkippedStages, want, a.StagesPerJob)
				}
				if last {
					if !strings.Contains(j.FailureReason, "Job aborted due to stage failure") || !strings.Contains(j.FailureReason, firstLine(a.Exception)) {
						t.Errorf("job %d failure reason %q does not carry the exception %q", j.ID, firstLine(a.Exception), j.FailureReason)
					}
					if j.NumFailedTasks != MaxTaskFailures || j.NumFailedStages != 1 || j.NumKilledTasks == 0 {
						t.Errorf("failed job: %d failed tasks, %d failed stages, %d killed tasks; want %d, 1 and some killed", j.NumFailedTasks, j.NumFailedStages, j.NumKilledTasks, MaxTaskFailures)
					}
				} else if j.NumCompletedTasks != int64(a.StagesPerJob*a.TasksPerStage) || j.NumCompletedStages != a.StagesPerJob {
					t.Errorf("job %d: %d tasks and %d stages completed, want %d and %d", j.ID, j.NumCompletedTasks, j.NumCompletedStages, a.StagesPerJob*a.TasksPerStage, a.StagesPerJob)
				}
			}
			if len(sum.Stages) != a.Jobs*a.StagesPerJob {
				t.Fatalf("%d stage attempts, want %d", len(sum.Stages), a.Jobs*a.StagesPerJob)
			}
			for i, st := range sum.Stages {
				failedStage := a.Failed && i == len(sum.Stages)-1
				switch {
				case failedStage:
					if st.Status != eventlog.StageFailed || st.Tasks.Failed != MaxTaskFailures || st.EndReasons["ExceptionFailure"] != MaxTaskFailures ||
						st.Tasks.Completed+st.Tasks.Killed > int64(a.TasksPerStage-1) || !strings.Contains(st.FailureReason, firstLine(a.Exception)) {
						t.Errorf("failed stage %d: %+v", st.StageID, st)
					}
				case st.Status != eventlog.StageComplete || st.Tasks.Completed != int64(a.TasksPerStage) || st.Tasks.Failed != 0 || st.Tasks.Killed != 0:
					t.Errorf("stage %d: status %s, tasks %+v; want COMPLETE with %d completed", st.StageID, st.Status, st.Tasks, a.TasksPerStage)
				}
				if st.DurationMs <= 0 || st.Tasks.Active != 0 {
					t.Errorf("stage %d: duration %d ms, %d tasks active", st.StageID, st.DurationMs, st.Tasks.Active)
				}
			}

			// Executors: added and removed as the App says.
			if len(sum.Executors) != len(a.Executors) {
				t.Fatalf("%d executors, want %d", len(sum.Executors), len(a.Executors))
			}
			for _, want := range a.Executors {
				i := slices.IndexFunc(sum.Executors, func(e eventlog.Executor) bool { return e.ID == want.ID })
				if i < 0 {
					t.Errorf("executor %s missing", want.ID)
					continue
				}
				got := sum.Executors[i]
				if got.Host != want.Host || got.TotalCores != want.Cores || !got.AddTime.Equal(want.Added) ||
					!got.RemoveTime.Equal(want.Removed) || got.RemovedReason != want.RemovedReason {
					t.Errorf("executor %s = %+v, want host %s, %d cores, added %s, removed %s (%q)", want.ID, got, want.Host, want.Cores, want.Added, want.Removed, want.RemovedReason)
				}
			}

			// Totals: the summary's equal the raw lines', and a successful run shows them all.
			raw, got := rawTotals(rawEvents(t, s)), summaryTotals(sum)
			if fmt.Sprint(got) != fmt.Sprint(raw) {
				t.Errorf("summary totals differ from the raw lines:\n got %+v\nwant %+v", got, raw)
			}
			if !a.Failed && a.Jobs > 0 {
				if got.inBytes == 0 || got.outBytes == 0 || got.shuffleRead == 0 || got.shuffleWrite == 0 || got.memSpilled == 0 || got.diskSpilled == 0 {
					t.Errorf("a metric total is zero: %+v", got)
				}
				if got.shuffleRead != got.shuffleWrite || got.shuffleReadRecords != got.shuffleWriteRecords {
					t.Errorf("shuffle read %d bytes (%d records), written %d (%d): every byte written should be read once",
						got.shuffleRead, got.shuffleReadRecords, got.shuffleWrite, got.shuffleWriteRecords)
				}
				if got.completed != int64(a.Jobs*a.StagesPerJob*a.TasksPerStage) {
					t.Errorf("%d tasks completed, want %d", got.completed, a.Jobs*a.StagesPerJob*a.TasksPerStage)
				}
			}
		})
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

var (
	log4jLine = regexp.MustCompile(`^\d\d/\d\d/\d\d \d\d:\d\d:\d\d (INFO|WARN|ERROR) [A-Za-z0-9$]+: `)
	stackLine = regexp.MustCompile(`^(\tat \S+\(.*\)|Caused by: .*|Driver stacktrace:|)$`)
)

// checkFormat requires every record to be a log4j line, or the JVM's uncaught exception,
// followed only by stack trace lines.
func checkFormat(t *testing.T, name string, lines []Line) {
	t.Helper()
	for i, l := range lines {
		physical := strings.Split(l.Text, "\n")
		if !log4jLine.MatchString(physical[0]) && !strings.HasPrefix(physical[0], `Exception in thread "main" `) {
			t.Errorf("%s record %d is not a log4j line: %q", name, i, physical[0])
		}
		if got := l.At.UTC().Format(logTimeLayout); log4jLine.MatchString(physical[0]) && !strings.HasPrefix(physical[0], got) {
			t.Errorf("%s record %d is stamped %q but written at %s", name, i, physical[0][:17], got)
		}
		for _, p := range physical[1:] {
			if !stackLine.MatchString(p) && !strings.HasPrefix(p, "java.") {
				t.Errorf("%s record %d has a continuation line that is no stack trace: %q", name, i, p)
			}
		}
	}
}

func TestDriverLog(t *testing.T) {
	app := succeededApp()
	if strings.Contains(text(simulate(t, app).Driver()), "Logging events to") {
		t.Error("the driver log says where it logs events with spark.eventLog.enabled unset")
	}
	app.Conf = map[string]string{"spark.eventLog.enabled": "true"}
	s := simulate(t, app)
	a := s.App()
	lines := s.Driver()
	checkFormat(t, "driver", lines)
	log := text(lines)
	want := []string{
		"INFO SparkContext: Running Spark version " + DefaultSparkVersion + "\n",
		"INFO SparkContext: Submitted application: " + a.AppName + "\n",
		"INFO Utils: Successfully started service 'sparkDriver' on port 7078.\n",
		"INFO SingleEventLogFileWriter: Logging events to file:/tmp/spark-events/" + a.AppID + ".inprogress\n",
		"INFO ExecutorPodsAllocator: Going to request 3 executors from Kubernetes for ResourceProfile Id: 0, target: 3,",
		"INFO KubernetesClusterSchedulerBackend: SchedulerBackend is ready for scheduling beginning after reached minRegisteredResourcesRatio: 0.8\n",
		"INFO DAGScheduler: Got job 0 (",
		"INFO DAGScheduler: Submitting ShuffleMapStage 0 (MapPartitionsRDD[1] at ",
		"INFO DAGScheduler: Submitting ResultStage 2 (",
		"INFO TaskSetManager: Starting task 0.0 in stage 0.0 (TID 0) (",
		"INFO TaskSetManager: Finished task ",
		"INFO DAGScheduler: Job 0 finished: ",
		"INFO DAGScheduler: Job 2 finished: ",
		"ERROR TaskSchedulerImpl: Lost executor 3 on " + a.Executors[2].Host + ": " + a.Executors[2].RemovedReason + "\n",
		"INFO SparkContext: SparkContext is stopping with exitCode 0.\n",
		"INFO SparkContext: Successfully stopped SparkContext\n",
	}
	for _, w := range want {
		if !strings.Contains(log, w) {
			t.Errorf("driver log lacks %q", w)
		}
	}
	for _, e := range a.Executors {
		w := fmt.Sprintf("INFO KubernetesClusterSchedulerBackend$KubernetesDriverEndpoint: Registered executor NettyRpcEndpointRef(spark-client://Executor) (%s:", e.Host)
		if !strings.Contains(log, w) || !strings.Contains(log, ") with ID "+e.ID+",  ResourceProfileId 0\n") {
			t.Errorf("driver log does not register executor %s", e.ID)
		}
	}
	if last := lines[len(lines)-1].Text; !strings.Contains(last, "ShutdownHookManager: Deleting directory") {
		t.Errorf("driver log ends with %q, want the shutdown hook", last)
	}
	if strings.Contains(log, "Exception in thread") || strings.Contains(log, " ERROR TaskSetManager") {
		t.Error("a successful run's driver log has a failure")
	}

	// Every task of the event log is started and finished in the driver log.
	for _, e := range rawEvents(t, s) {
		if e.typ() != "SparkListenerTaskEnd" {
			continue
		}
		name := fmt.Sprintf("task %d.%d in stage %d.0 (TID %d)", e.num("Task Info", "Index"), e.num("Task Info", "Attempt"), e.num("Stage ID"), e.num("Task Info", "Task ID"))
		host, exec := e.str("Task Info", "Host"), e.str("Task Info", "Executor ID")
		ms := e.num("Task Info", "Finish Time") - e.num("Task Info", "Launch Time")
		for _, w := range []string{
			fmt.Sprintf("Starting %s (%s, executor %s, partition %d, ", name, host, exec, e.num("Task Info", "Index")),
			fmt.Sprintf("Finished %s in %d ms on %s (executor %s) (", name, ms, host, exec),
		} {
			if !strings.Contains(log, w) {
				t.Errorf("driver log lacks %q", w)
			}
		}
	}
}

func TestFailedDriverLog(t *testing.T) {
	t.Run("task failure aborts the last job", func(t *testing.T) {
		s := simulate(t, failedApp())
		a := s.App()
		lines := s.Driver()
		checkFormat(t, "driver", lines)
		log := text(lines)
		events := rawEvents(t, s)

		var lastJobEnd rawEvent
		var failedTask rawEvent
		for _, e := range events {
			switch e.typ() {
			case "SparkListenerJobEnd":
				lastJobEnd = e
			case "SparkListenerTaskEnd":
				if e.str("Task End Reason", "Reason") == "ExceptionFailure" && failedTask == nil {
					failedTask = e
				}
			}
		}
		if lastJobEnd.str("Job Result", "Result") != "JobFailed" || !strings.Contains(lastJobEnd.str("Job Result", "Exception", "Message"), a.Exception) {
			t.Fatalf("last JobEnd is %v, want JobFailed carrying %q", lastJobEnd["Job Result"], a.Exception)
		}
		if failedTask.str("Task End Reason", "Class Name") != "java.lang.IllegalStateException" ||
			failedTask.str("Task End Reason", "Description") != "input partition is corrupt" ||
			!strings.HasPrefix(failedTask.str("Task End Reason", "Full Stack Trace"), a.Exception+"\n\tat ") {
			t.Errorf("failed task's end reason = %v", failedTask["Task End Reason"])
		}

		stage := failedTask.num("Stage ID")
		index := failedTask.num("Task Info", "Index")
		for _, w := range []string{
			fmt.Sprintf("WARN TaskSetManager: Lost task %d.0 in stage %d.0 (TID ", index, stage),
			"[duplicate 3]\n",
			fmt.Sprintf("ERROR TaskSetManager: Task %d in stage %d.0 failed 4 times; aborting job\n", index, stage),
			fmt.Sprintf("INFO DAGScheduler: ResultStage %d (", stage),
			"INFO DAGScheduler: Job 1 failed: ",
		} {
			if !strings.Contains(log, w) {
				t.Errorf("driver log lacks %q", w)
			}
		}

		// After the SparkContext stops: the uncaught exception, then only the shutdown hooks.
		stopped := slices.IndexFunc(lines, func(l Line) bool { return strings.HasSuffix(l.Text, "Successfully stopped SparkContext") })
		if stopped < 0 || stopped+1 >= len(lines) {
			t.Fatal("driver log does not stop the SparkContext before its end")
		}
		exc := lines[stopped+1].Text
		if !strings.HasPrefix(exc, `Exception in thread "main" org.apache.spark.SparkException: Job aborted due to stage failure: Task `) ||
			!strings.Contains(exc, "\nDriver stacktrace:\n\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(") ||
			!strings.Contains(exc, "\nCaused by: "+a.Exception+"\n\tat ") {
			t.Errorf("uncaught exception is\n%s", exc)
		}
		for _, l := range lines[stopped+2:] {
			if !strings.Contains(l.Text, " INFO ShutdownHookManager: ") {
				t.Errorf("after the uncaught exception: %q, want only the shutdown hooks", l.Text)
			}
		}
	})

	t.Run("main throws before any job", func(t *testing.T) {
		a := App{AppID: "spark-x", AppName: "x", Start: start, Duration: 10 * time.Second, Failed: true,
			Exception: "java.io.FileNotFoundException: s3a://bucket/conf.json\n\tat org.example.Conf$.load(Conf.scala:12)"}
		s := simulate(t, a)
		lines := s.Driver()
		checkFormat(t, "driver", lines)
		stopped := slices.IndexFunc(lines, func(l Line) bool { return strings.HasSuffix(l.Text, "Successfully stopped SparkContext") })
		want := "Exception in thread \"main\" java.io.FileNotFoundException: s3a://bucket/conf.json\n\tat org.example.Conf$.load(Conf.scala:12)\n\tat org.example.SparkApp$.main("
		if stopped < 0 || !strings.HasPrefix(lines[stopped+1].Text, want) {
			t.Errorf("uncaught exception is not the application's: %q", lines[stopped+1].Text)
		}
		if sum := summarize(t, s); len(sum.Jobs) != 0 || !sum.Complete {
			t.Errorf("summary: %d jobs, complete %v", len(sum.Jobs), sum.Complete)
		}
	})
}

// TestExecutorLogsMatchEventLog checks that every task attempt of the event log is in the
// log of the executor it ran on, with the same IDs, outcome and result size.
func TestExecutorLogsMatchEventLog(t *testing.T) {
	for _, a := range []App{succeededApp(), failedApp()} {
		t.Run(a.AppName, func(t *testing.T) {
			s := simulate(t, a)
			logs := map[string]string{}
			for _, e := range s.App().Executors {
				lines, ok := s.Executor(e.ID)
				if !ok {
					t.Fatalf("no log for executor %s", e.ID)
				}
				checkFormat(t, "executor "+e.ID, lines)
				logs[e.ID] = text(lines)
				if !strings.Contains(lines[0].Text, "INFO CoarseGrainedExecutorBackend: Started daemon with process name: ") ||
					strings.Count(logs[e.ID], "INFO CoarseGrainedExecutorBackend: Successfully registered with driver\n") != 1 {
					t.Errorf("executor %s does not start and register once", e.ID)
				}
				if !e.Removed.IsZero() && lines[len(lines)-1].At.After(e.Removed) {
					t.Errorf("executor %s logs after it was removed at %s", e.ID, e.Removed)
				}
			}
			if _, ok := s.Executor("no-such"); ok {
				t.Error("a log for an unknown executor")
			}
			tasks := 0
			for _, e := range rawEvents(t, s) {
				if e.typ() != "SparkListenerTaskEnd" {
					continue
				}
				tasks++
				log := logs[e.str("Task Info", "Executor ID")]
				name := fmt.Sprintf("task %d.%d in stage %d.0 (TID %d)", e.num("Task Info", "Index"), e.num("Task Info", "Attempt"), e.num("Stage ID"), e.num("Task Info", "Task ID"))
				var want string
				switch e.str("Task End Reason", "Reason") {
				case "Success":
					want = fmt.Sprintf("INFO Executor: Finished %s. %d bytes result sent to driver\n", name, e.num("Task Metrics", "Result Size"))
				case "ExceptionFailure":
					want = fmt.Sprintf("ERROR Executor: Exception in %s\n%s", name, firstLine(a.Exception))
				case "TaskKilled":
					want = fmt.Sprintf("INFO Executor: Executor killed %s, reason: Stage cancelled\n", name)
				}
				for _, w := range []string{fmt.Sprintf("INFO Executor: Running %s\n", name), want} {
					if !strings.Contains(log, w) {
						t.Errorf("executor %s log lacks %q", e.str("Task Info", "Executor ID"), w)
					}
				}
			}
			if tasks == 0 {
				t.Fatal("no tasks")
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	outputs := func(a App) string {
		s := simulate(t, a)
		var b strings.Builder
		b.WriteString(text(s.Driver()))
		b.WriteString(text(s.EventLog()))
		for _, e := range s.App().Executors {
			l, _ := s.Executor(e.ID)
			b.WriteString(text(l))
		}
		return b.String()
	}
	a := succeededApp()
	if first, again := outputs(a), outputs(a); first != again {
		t.Error("the same App gave different outputs")
	}
	other := a
	other.Seed++
	if outputs(a) == outputs(other) {
		t.Error("another seed gave the same outputs")
	}
	// The writers give what the Simulation holds.
	var d, e, x bytes.Buffer
	s := simulate(t, a)
	if err := a.DriverLog(&d); err != nil || d.String() != text(s.Driver()) {
		t.Errorf("DriverLog: %v", err)
	}
	if err := a.EventLog(&e); err != nil || e.String() != text(s.EventLog()) {
		t.Errorf("EventLog: %v", err)
	}
	l, _ := s.Executor("2")
	if err := a.ExecutorLog("2", &x); err != nil || x.String() != text(l) {
		t.Errorf("ExecutorLog: %v", err)
	}
	var ve *ValidationError
	if err := a.ExecutorLog("9", &x); !errors.As(err, &ve) {
		t.Errorf("ExecutorLog of an unknown executor: %v", err)
	}
}

// TestIncremental checks what a caller emitting lines as time passes relies on: every output
// is in time order, Until cuts it at a time, and nothing is written after Exit.
func TestIncremental(t *testing.T) {
	s := simulate(t, failedApp())
	all := map[string][]Line{"driver": s.Driver(), "events": s.EventLog()}
	for _, e := range s.App().Executors {
		all["executor "+e.ID], _ = s.Executor(e.ID)
	}
	for name, lines := range all {
		if !slices.IsSortedFunc(lines, func(x, y Line) int { return x.At.Compare(y.At) }) {
			t.Errorf("%s is not in time order", name)
		}
		if last := lines[len(lines)-1].At; last.After(s.Exit()) {
			t.Errorf("%s ends at %s, after Exit %s", name, last, s.Exit())
		}
		mid := s.App().Start.Add(s.App().Duration / 2)
		cut := Until(lines, mid)
		if len(cut) == 0 || len(cut) == len(lines) || cut[len(cut)-1].At.After(mid) || !lines[len(cut)].At.After(mid) {
			t.Errorf("%s: Until(mid) gave %d of %d lines", name, len(cut), len(lines))
		}
	}
	if !s.Exit().After(s.End()) || s.Exit().Sub(s.End()) > time.Second {
		t.Errorf("Exit %s, End %s: the JVM should stop within a second of the application's end", s.Exit(), s.End())
	}
	events := s.EventLog()
	if !strings.Contains(events[0].Text, `"SparkListenerLogStart"`) || !strings.Contains(events[len(events)-1].Text, `"SparkListenerApplicationEnd"`) {
		t.Error("event log does not begin with LogStart and end with ApplicationEnd")
	}
	if s.EventLogName() != s.App().AppID {
		t.Errorf("EventLogName = %q", s.EventLogName())
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		version       string
		driverHas     []string
		driverHasNot  []string
		eventsHave    []string
		eventsHaveNot []string
	}{
		{
			version:       "3.1.1",
			driverHas:     []string{"PROCESS_LOCAL, ", " bytes) taskResourceAssignments Map()\n", "INFO SparkUI: Bound SparkUI to 0.0.0.0, and started at http://", "users  with view permissions: Set(etl)"},
			driverHasNot:  []string{"SparkContext is stopping", "OS info", "push-merged-local"},
			eventsHave:    []string{`"SparkListenerResourceProfileAdded"`, `"Resource Profile Id":0`},
			eventsHaveNot: []string{`"Partition ID"`, `"DeterministicLevel"`, `"Shuffle Push Enabled"`, `"TotalGCTime"`, `"ExitCode"`},
		},
		{
			version:       "3.5.1",
			driverHas:     []string{" bytes) \n", "INFO SparkContext: SparkContext is stopping with exitCode 0.\n", " s\n"},
			driverHasNot:  []string{"taskResourceAssignments"},
			eventsHave:    []string{`"Partition ID"`, `"DeterministicLevel":"DETERMINATE"`, `"Shuffle Push Enabled":false`, `"Push Based Shuffle"`, `"TotalGCTime"`},
			eventsHaveNot: []string{`"ExitCode"`, `"Use Off Heap"`, `"ConcurrentGCCount"`},
		},
		{
			version:    "4.0.0",
			driverHas:  []string{" ms\n"},
			eventsHave: []string{`"ExitCode":0}`, `"Use Off Heap":false`, `"ConcurrentGCCount"`, `"Metrics Properties"`, `"Scala Version":"version 2.13.`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			a := succeededApp()
			a.SparkVersion = tc.version
			s := simulate(t, a)
			driver, events := text(s.Driver()), text(s.EventLog())
			for _, w := range tc.driverHas {
				if !strings.Contains(driver, w) {
					t.Errorf("driver log lacks %q", w)
				}
			}
			for _, w := range tc.driverHasNot {
				if strings.Contains(driver, w) {
					t.Errorf("driver log has %q", w)
				}
			}
			for _, w := range tc.eventsHave {
				if !strings.Contains(events, w) {
					t.Errorf("event log lacks %s", w)
				}
			}
			for _, w := range tc.eventsHaveNot {
				if strings.Contains(events, w) {
					t.Errorf("event log has %s", w)
				}
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	a := succeededApp()
	a.Conf = map[string]string{
		"spark.hadoop.fs.s3a.secret.key":           "wJalrXUtnFEMI",
		"spark.hadoop.fs.s3a.access.key":           "AKIAEXAMPLE",
		"spark.kubernetes.namespace":               "team-a",
		"spark.app.name":                           "submitted name",
		"spark.kubernetes.authenticate.oauthToken": "tok",
		"spark.eventLog.enabled":                   "true",
	}
	a.EventLogDir = "s3a://logs/spark-events/"
	s := simulate(t, a)
	var env rawEvent
	for _, e := range rawEvents(t, s) {
		if e.typ() == "SparkListenerEnvironmentUpdate" {
			env = e
		}
	}
	props, _ := env["Spark Properties"].(map[string]any)
	for k, want := range map[string]string{
		"spark.hadoop.fs.s3a.secret.key":           redacted,
		"spark.hadoop.fs.s3a.access.key":           redacted,
		"spark.kubernetes.authenticate.oauthToken": redacted,
		"spark.kubernetes.namespace":               "team-a",
		"spark.app.name":                           a.AppName,
		"spark.app.id":                             a.AppID,
		"spark.eventLog.dir":                       a.EventLogDir,
		"spark.executor.instances":                 "3",
	} {
		if props[k] != want {
			t.Errorf("Spark Properties %s = %v, want %q", k, props[k], want)
		}
	}
	if all := text(s.EventLog()) + text(s.Driver()); strings.Contains(all, "wJalrXUtnFEMI") || strings.Contains(all, "AKIAEXAMPLE") {
		t.Error("a secret from Conf is in the output")
	}
	if !strings.Contains(text(s.Driver()), "Logging events to s3a://logs/spark-events/"+a.AppID+".inprogress\n") {
		t.Error("driver log does not name the event log in EventLogDir")
	}
}

func TestValidation(t *testing.T) {
	ok := succeededApp()
	tests := []struct {
		field string
		edit  func(a *App)
	}{
		{"AppID", func(a *App) { a.AppID = "" }},
		{"AppName", func(a *App) { a.AppName = " " }},
		{"SparkVersion", func(a *App) { a.SparkVersion = "latest" }},
		{"SparkVersion", func(a *App) { a.SparkVersion = "2.4.8" }},
		{"Start", func(a *App) { a.Start = time.Time{} }},
		{"Duration", func(a *App) { a.Duration = 500 * time.Millisecond }},
		{"Duration", func(a *App) { // no time for jobs after the executors register
			a.Duration, a.Executors = 6*time.Second, a.Executors[:2]
			a.Executors[1].Added = start.Add(5900 * time.Millisecond)
		}},
		{"ExitCode", func(a *App) { a.ExitCode = 300 }},
		{"Jobs", func(a *App) { a.Jobs = -1 }},
		{"Jobs", func(a *App) { a.Jobs, a.StagesPerJob, a.TasksPerStage = 1000, 100, 1000 }},
		{"Executors", func(a *App) { a.Executors = nil }},
		{"Executors[1].ID", func(a *App) { a.Executors[1].ID = "1" }},
		{"Executors[0].ID", func(a *App) { a.Executors[0].ID = "" }},
		{"Executors[0].MemoryMiB", func(a *App) { a.Executors[0].MemoryMiB = 256 }},
		{"Executors[0].Cores", func(a *App) { a.Executors[0].Cores = -2 }},
		{"Executors[1].Added", func(a *App) { a.Executors[1].Added = start.Add(-time.Second) }},
		{"Executors[1].Added", func(a *App) { a.Executors[1].Added = start.Add(time.Hour) }},
		{"Executors[2].Removed", func(a *App) { a.Executors[2].Removed = a.Executors[2].Added }},
		{"Executors[2].Removed", func(a *App) { a.Executors[2].Removed = start.Add(time.Hour) }},
	}
	for _, tc := range tests {
		a := ok
		a.Executors = slices.Clone(ok.Executors)
		tc.edit(&a)
		_, err := a.Simulate()
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: got %v, want a ValidationError on %s", tc.field, err, tc.field)
		}
	}
	if _, err := ok.Simulate(); err != nil {
		t.Fatalf("the valid App: %v", err)
	}
}

// TestDefaults checks the zero values an emulator may leave: executors without times or
// sizes, no stage or task counts.
func TestDefaults(t *testing.T) {
	a := App{AppID: "spark-d", AppName: "d", Start: start, Duration: time.Minute, Jobs: 2,
		Executors: []Executor{{ID: "1"}, {ID: "2", Cores: 4}}}
	s := simulate(t, a)
	got := s.App()
	if got.SparkVersion != DefaultSparkVersion || got.User != DefaultUser || got.StagesPerJob != 1 || got.TasksPerStage != 5 ||
		got.EventLogDir != DefaultEventLogDir || got.DriverHost == "" || got.DriverIP == "" {
		t.Errorf("defaults not filled in: %+v", got)
	}
	for _, e := range got.Executors {
		if e.Host == "" || e.Pod == "" || e.Cores == 0 || e.MemoryMiB != DefaultMemoryMiB || e.Added.IsZero() || !e.Removed.IsZero() {
			t.Errorf("executor defaults not filled in: %+v", e)
		}
	}
	if sum := summarize(t, s); !sum.Complete || len(sum.Jobs) != 2 || len(sum.Stages) != 2 {
		t.Errorf("summary: complete %v, %d jobs, %d stages", sum.Complete, len(sum.Jobs), len(sum.Stages))
	}
}

func TestBytesString(t *testing.T) {
	for n, want := range map[int64]string{
		0:                   "0.0 B",
		2047:                "2047.0 B",
		2048:                "2.0 KiB",
		3 << 19:             "1536.0 KiB",
		455501414:           "434.4 MiB",
		storageMemory(1500): "720.0 MiB",
		5 << 30:             "5.0 GiB",
	} {
		if got := bytesString(n); got != want {
			t.Errorf("bytesString(%d) = %q, want %q", n, got, want)
		}
	}
}

func BenchmarkSimulate(b *testing.B) {
	a := succeededApp()
	a.Jobs, a.StagesPerJob, a.TasksPerStage = 10, 3, 50
	a.Duration = 10 * time.Minute
	for b.Loop() {
		if _, err := a.Simulate(); err != nil {
			b.Fatal(err)
		}
	}
}
