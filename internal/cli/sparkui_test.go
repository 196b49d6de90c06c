package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
	"github.com/sparkplane/sparkplane/internal/eventlog"
	"github.com/sparkplane/sparkplane/internal/spark"
	"github.com/sparkplane/sparkplane/internal/sparkui"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the output")

// eventLogs locates the event logs real Spark applications wrote
// (shared/conformance/spark-event-logs, which the shared workspace keeps in a directory above
// the repository's worktrees).
func eventLogs(t *testing.T) fs.FS {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "conformance", "spark-event-logs")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return os.DirFS(p)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("Spark event logs not found: expected shared/conformance/spark-event-logs in a directory above the package")
		}
		dir = parent
	}
}

// The real event logs, by their names in the conformance folder (a rolling log is a folder).
const (
	logSQL     = "local-1642039451826"               // 6 jobs (skipped stages), 2 SQL executions
	logYARN    = "application_1628109047826_1317105" // 10 executors, 6 removed with a reason
	logShell   = "app-20200706201101-0003"           // 3 jobs of 16 tasks, 1 SQL execution
	logRolling = "eventlog_v2_local-1766844910796"   // name and user are an HTML script
)

// cutLog is the first half of the SQL log's lines and half of the next one, as a log Spark is
// still writing (or a driver that died) leaves it.
func cutLog(t *testing.T, logs fs.FS) []byte {
	t.Helper()
	raw, err := fs.ReadFile(logs, logSQL)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	half := len(lines) / 2
	return append(bytes.Join(lines[:half], nil), lines[half][:len(lines[half])/2]...)
}

// uiAnswer is the server's answer for a summary, encoded by the server's own type.
func uiAnswer(t *testing.T, jobRunID string, attempt int, appID, eventLog string, sum *eventlog.Summary) []byte {
	t.Helper()
	raw, err := json.Marshal(&sparkui.UI{JobRunID: jobRunID, Attempt: attempt, AppID: appID, EventLog: eventLog, Summary: sum})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// renderUI decodes an answer as `jobs ui` does and prints the report.
func renderUI(t *testing.T, raw []byte) string {
	t.Helper()
	var r jobRunUI
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("decode answer: %v", err)
	}
	var b bytes.Buffer
	if err := printJobRunUI(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestJobRunUIReport prints the report of the summaries internal/eventlog rebuilds from real
// Spark event logs, encoded as the server encodes them, and compares it with the golden files
// in testdata/jobs-ui (go test -run TestJobRunUIReport -update rewrites them). Apart from the
// golden text, every job, stage, executor and SQL execution of the summary must have its row.
func TestJobRunUIReport(t *testing.T) {
	logs := eventLogs(t)
	cut, err := eventlog.ReadFS(fstest.MapFS{"app.inprogress": {Data: cutLog(t, logs)}}, "app.inprogress")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		sum    func() (*eventlog.Summary, error)
		want   []string
	}{
		{logSQL, func() (*eventlog.Summary, error) { return eventlog.ReadFS(logs, logSQL) },
			[]string{"Spark shell", "lijunqing", "3.3.0-SNAPSHOT", "2022-01-13T02:04:10Z", "1.4 min", "1/1 (1 skipped)", "10/10 (8 skipped)", "3.7 KiB", "SQL EXECUTIONS (2)"}},
		{logYARN, func() (*eventlog.Summary, error) { return eventlog.ReadFS(logs, logYARN) },
			[]string{"EXECUTORS (10)", "host-25253", "Container container_e18_1628109047826_1317105_01_000002 exited from explicit termination request.", "(1 killed)"}},
		{logShell, func() (*eventlog.Summary, error) { return eventlog.ReadFS(logs, logShell) },
			[]string{"terryk", "16/16", "SQL EXECUTIONS (1)", "foreach at <console>:26"}},
		{logRolling, func() (*eventlog.Summary, error) { return eventlog.ReadFS(logs, logRolling) },
			[]string{"Name            <script>alert('XSS')</script>", "Exit code       0", "4.2.0-SNAPSHOT", "2/2"}},
		{"cut", func() (*eventlog.Summary, error) { return cut, nil },
			[]string{"INCOMPLETE: the event log does not hold the whole application", "End             -", "Duration        - (no end in the log)", "Last event      2022-01-13T"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			sum, err := tc.sum()
			if err != nil {
				t.Fatalf("read event log: %v", err)
			}
			appID := "spark-0123456789abcdef0123456789abcdef"
			got := renderUI(t, uiAnswer(t, "0000000abcdefghijkl", 1, appID, "s3://logs/vc/jobs/0000000abcdefghijkl/sparklogs/"+appID, sum))
			golden := filepath.Join("testdata", "jobs-ui", tc.golden+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden file: %v (run with -update to write it)", err)
			}
			if got != string(want) {
				t.Errorf("report differs from %s (run with -update to accept it):\n%s", golden, got)
			}
			for _, w := range append(tc.want, "Job run         0000000abcdefghijkl (attempt 1)", "Event log       s3://logs/vc/jobs/") {
				if !strings.Contains(got, w) {
					t.Errorf("report lacks %q:\n%s", w, got)
				}
			}
			checkRows(t, got, sum)
		})
	}
}

// checkRows checks that the report has one row per job, stage attempt, executor and SQL
// execution of the summary, under the section that counts them, and a line per note.
func checkRows(t *testing.T, report string, sum *eventlog.Summary) {
	t.Helper()
	sections := map[string][]string{}
	var cur string
	for _, l := range strings.Split(report, "\n") {
		switch {
		case l == "":
			cur = ""
		case cur == "" && strings.Contains(l, " ("):
			cur = l[:strings.Index(l, " (")]
		case cur != "" && !strings.HasPrefix(l, "ID "):
			sections[cur] = append(sections[cur], l)
		}
	}
	rowIDs := func(section string) []string {
		var ids []string
		for _, l := range sections[section] {
			if f := strings.Fields(l); len(f) > 0 && !strings.Contains(l, " failed: ") {
				ids = append(ids, f[0])
			}
		}
		return ids
	}
	var jobs, stages, executors, sql []string
	for _, j := range sum.Jobs {
		jobs = append(jobs, fmt.Sprint(j.ID))
	}
	for _, s := range sum.Stages {
		stages = append(stages, fmt.Sprintf("%d.%d", s.StageID, s.AttemptID))
	}
	for _, e := range sum.Executors {
		executors = append(executors, e.ID)
	}
	for _, q := range sum.SQL {
		sql = append(sql, fmt.Sprint(q.ExecutionID))
	}
	for _, c := range []struct {
		section string
		want    []string
	}{{"JOBS", jobs}, {"STAGES", stages}, {"EXECUTORS", executors}, {"SQL EXECUTIONS", sql}} {
		if got := rowIDs(c.section); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s rows %v, want %v", c.section, got, c.want)
		}
	}
	if sum.Complete != !strings.Contains(report, "INCOMPLETE") {
		t.Errorf("complete %v, but the report says:\n%s", sum.Complete, report)
	}
	for _, n := range sum.Notes {
		if !strings.Contains(report, "  - "+text(n, 0)+"\n") {
			t.Errorf("report lacks the note %q", n)
		}
	}
}

// TestJobRunUIFailures pins what none of the real logs holds: failed jobs, stages and SQL
// executions with their reasons (first line only, control characters defused), a stage's
// retry, spill, and a log cut before the application started.
func TestJobRunUIFailures(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	trace := "org.apache.spark.SparkException: Job aborted due to stage failure: \x1b[2Jboom\n\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2672)"
	sum := &eventlog.Summary{
		Jobs: []eventlog.Job{{ID: 4, Name: "save at Job.scala:12", Status: eventlog.JobFailed, SubmissionTime: at, CompletionTime: at.Add(90 * time.Second),
			DurationMs: 90_000, StageIDs: []int{7, 8}, NumTasks: 20, NumCompletedTasks: 9, NumFailedTasks: 4, NumKilledTasks: 1,
			NumCompletedStages: 1, NumFailedStages: 1, FailureReason: trace}},
		Stages: []eventlog.Stage{{StageID: 8, AttemptID: 1, Name: "save at Job.scala:12", Status: eventlog.StageFailed, NumTasks: 10,
			SubmissionTime: at, CompletionTime: at.Add(time.Minute), DurationMs: 60_000, FailureReason: trace,
			Tasks:   eventlog.TaskCounts{Completed: 5, Failed: 4, Killed: 1},
			Metrics: eventlog.StageMetrics{InputBytes: 3 << 30, OutputBytes: 1536, MemoryBytesSpilled: 5 << 20, DiskBytesSpilled: 2 << 20}}},
		SQL: []eventlog.SQLExecution{{ExecutionID: 2, Description: "INSERT INTO t SELECT * FROM a JOIN b ON a.id = b.id WHERE a.day = '2026-11-01'",
			Status: eventlog.SQLFailed, StartTime: at, EndTime: at.Add(2 * time.Minute), DurationMs: 120_000, ErrorMessage: trace, JobIDs: []int{4}}},
		Notes: []string{"no SparkListenerApplicationStart"},
	}
	got := renderUI(t, uiAnswer(t, "0000000abcdefghijkl", 2, "spark-0123", "s3://logs/x", sum))
	for _, want := range []string{
		"Application     spark-0123\n",
		"Job run         0000000abcdefghijkl (attempt 2)",
		"INCOMPLETE: the event log does not hold the whole application",
		"  - no SparkListenerApplicationStart\n",
		"4    FAILED   1/2 (1 failed)   9/20 (4 failed) (1 killed)   1.5 min    save at Job.scala:12",
		"Job 4 failed: org.apache.spark.SparkException: Job aborted due to stage failure: \uFFFD[2Jboom\n",
		"8.1   save at Job.scala:12   FAILED   1.0 min    5/10 (4 failed) (1 killed)   3.0 GiB   1.5 KiB   -              -               5.0 MiB / 2.0 MiB",
		"Stage 8.1 failed: org.apache.spark.SparkException",
		"2    INSERT INTO t SELECT * FROM a JOIN b ON a.id...   2.0 min    FAILED   4",
		"SQL execution 2 failed: org.apache.spark.SparkException",
		"EXECUTORS: none",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "DAGScheduler") || strings.Contains(got, "\x1b") {
		t.Errorf("report carries more than the first line of a reason, or an escape sequence:\n%s", got)
	}
}

func TestUIText(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{"", 0, "-"},
		{"count at <console>:23", 0, "count at <console>:23"},
		{"SELECT *\n  FROM t\tWHERE x", 0, "SELECT * FROM t WHERE x"},
		{"red \x1b[31mtext\x1b[0m", 0, "red \uFFFD[31mtext\uFFFD[0m"},
		{"abc\u202Edef", 0, "abc\uFFFDdef"},
		{"abcdefghij", 8, "abcde..."},
		{"abcde fghij", 9, "abcde..."},
		{"äöüäöüäöüäöü", 6, "äöü..."},
		{"abcdefgh", 8, "abcdefgh"},
	} {
		if got := text(tc.in, tc.width); got != tc.want {
			t.Errorf("text(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int64
		want string
	}{{0, "-"}, {1, "1 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {3760, "3.7 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 40, "3.0 TiB"}} {
		if got := bytesText(tc.n); got != tc.want {
			t.Errorf("bytesText(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ms   int64
		want string
	}{{0, "0 ms"}, {999, "999 ms"}, {1000, "1.0 s"}, {59_940, "59.9 s"}, {86_045, "1.4 min"}, {3_600_000, "1.0 h"}} {
		if got := durationText(tc.ms); got != tc.want {
			t.Errorf("durationText(%d) = %q, want %q", tc.ms, got, tc.want)
		}
	}
}

// startS3 runs versitygw, the S3 server the sandbox runs, on a temporary directory and
// returns it with a bucket made on it.
func startS3(t *testing.T) (sandbox.S3, string) {
	t.Helper()
	tools, err := toolcache.Locate()
	if err != nil {
		t.Fatalf("the S3 server (versitygw) is needed: %v", err)
	}
	port, err := sandbox.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	srv := sandbox.S3{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), AccessKeyID: "CLITESTS3KEY", SecretAccessKey: "cli-test-s3-secret", Region: "us-east-1"}
	p, err := sandbox.StartProcess(sandbox.S3Spec(tools, dir, data, port, srv.Region, srv.AccessKeyID, srv.SecretAccessKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(5 * time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.WaitReady(ctx, func() bool { return !p.Exited() }); err != nil {
		t.Fatalf("versitygw (log %s): %v", p.LogPath, err)
	}
	const bucket = "cli-ui"
	if err := srv.EnsureBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	return srv, bucket
}

// TestJobsUI runs `jobs ui` against the real server reading real event logs from a real S3
// server: each job run's log is put where its driver would have written it (a single file, a
// rolling log's folder, a log still being written), and -o json must be the summary
// internal/eventlog rebuilds from the same files (each read under its own name, as the server
// reads them), the report must be that summary's, and -o yaml must carry it too.
func TestJobsUI(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the S3 server (versitygw); runs without -short")
	}
	logs := eventLogs(t)
	store, bucket := startS3(t)
	startServer(t, apitest.WithConfig(func(c *config.Config) {
		c.S3 = config.S3{Endpoint: store.Endpoint, Region: store.Region, AccessKeyID: store.AccessKeyID,
			SecretAccessKey: store.SecretAccessKey, ForcePathStyle: true}
	}))
	vc := createVC(t)
	logURI := "s3://" + bucket + "/logs"
	withLogs := `{"monitoringConfiguration":{"s3MonitoringConfiguration":{"logUri":"` + logURI + `"}}}`
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := store.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
		}
	}
	read := func(name string) []byte {
		t.Helper()
		raw, err := fs.ReadFile(logs, name)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	cut := cutLog(t, logs)

	// logFile is one file of a run's log: its path under the run's sparklogs folder.
	type logFile struct {
		path string
		body []byte
	}
	for _, tc := range []struct {
		name string
		// files are the run's log for the application id its driver has, as Spark names it.
		files func(app string) []logFile
		// at is the log's path under the sparklogs folder, as the answer names it.
		at   func(app string) string
		want []string
	}{
		{"single file", func(app string) []logFile { return []logFile{{app, read(logSQL)}} },
			func(app string) string { return app },
			[]string{"Application     local-1642039451826", "JOBS (6)", "STAGES (6)", "EXECUTORS (1)", "SQL EXECUTIONS (2)"}},
		{"rolling log", func(app string) []logFile {
			return []logFile{{"eventlog_v2_" + app + "/events_1_" + app, read(logRolling + "/events_1_local-1766844910796")}}
		}, func(app string) string { return "eventlog_v2_" + app + "/" },
			[]string{"Name            <script>alert('XSS')</script>", "Exit code       0", "JOBS (1)"}},
		{"log being written", func(app string) []logFile { return []logFile{{app + ".inprogress", cut}} },
			func(app string) string { return app + ".inprogress" },
			[]string{"INCOMPLETE: the event log does not hold the whole application", "Duration        - (no end in the log)",
				".inprogress: the file name ends in .inprogress: Spark was still writing this log"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := startJob(t, vc, "ui", "--configuration-overrides", withLogs)
			app := spark.AppID(job, 1)
			dir := "logs/" + vc + "/jobs/" + job + "/sparklogs/"
			// What internal/eventlog makes of the same files, each read under its own name.
			var b eventlog.Builder
			for _, f := range tc.files(app) {
				put(dir+f.path, f.body)
				if err := b.ReadLog(filepath.Base(f.path), bytes.NewReader(f.body)); err != nil {
					t.Fatal(err)
				}
			}
			sum := b.Summary()
			eventLog := "s3://" + bucket + "/" + dir + tc.at(app)
			answer := uiAnswer(t, job, 1, app, eventLog, sum)

			// -o json is the server's answer as it came: the summary of the same log.
			got := runJSON(t, "jobs", "ui", "--virtual-cluster-id", vc, "--id", job)
			var want map[string]any
			if err := json.Unmarshal(answer, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				for k := range want {
					if !reflect.DeepEqual(got[k], want[k]) {
						t.Errorf("jobs ui -o json: %s = %v, want %v", k, got[k], want[k])
					}
				}
				t.Fatalf("jobs ui -o json differs from the summary of the log read from s3 (%s)", eventLog)
			}
			// The table is the report of that answer; the job run may be the argument.
			out, stderr, err := execute(t, "jobs", "ui", job, "--virtual-cluster-id", vc)
			if err != nil {
				t.Fatalf("jobs ui: %v %s", err, stderr)
			}
			if report := renderUI(t, answer); out != report {
				t.Errorf("jobs ui printed:\n%s\nwant:\n%s", out, report)
			}
			for _, w := range append(tc.want, "Job run         "+job+" (attempt 1)", "Event log       "+eventLog) {
				if !strings.Contains(out, w) {
					t.Errorf("jobs ui lacks %q:\n%s", w, out)
				}
			}
			checkRows(t, out, sum)
			out, _, err = execute(t, "jobs", "ui", job, "--virtual-cluster-id", vc, "--attempt", "1", "-o", "yaml")
			if err != nil || !strings.Contains(out, "sparkApplicationId: "+app+"\n") || !strings.Contains(out, "jobRunId: "+job+"\n") {
				t.Errorf("jobs ui --attempt 1 -o yaml: %v\n%s", err, out)
			}
		})
	}

	// A run that keeps its logs but whose driver has written none yet, and an attempt the
	// run has not made.
	job := startJob(t, vc, "ui-no-log-yet", "--configuration-overrides", withLogs)
	err := wantError(t, "ResourceNotFoundException: ", "jobs", "ui", job, "--virtual-cluster-id", vc)
	if !strings.Contains(err.Error(), "no Spark event log of job run "+job+" attempt 1 at "+logURI+"/"+vc+"/jobs/"+job+"/sparklogs/"+spark.AppID(job, 1)+" yet") {
		t.Errorf("jobs ui of a run with no log yet: %v", err)
	}
	wantError(t, "ValidationException: attempt: must be between 1 and 1", "jobs", "ui", job, "--virtual-cluster-id", vc, "--attempt", "2")
}

// TestJobsUIErrors runs `jobs ui` against the real server where no event log can be: the
// server's answer is the error printed, and flags are checked before any request.
func TestJobsUIErrors(t *testing.T) {
	startServer(t)
	vc := createVC(t)
	job := startJob(t, vc, "no-event-log")

	// No logUri and no eventLogUri on the server: the run keeps no event log, and says why.
	_, stderr, err := execute(t, "jobs", "ui", "--virtual-cluster-id", vc, "--id", job)
	want := "ResourceNotFoundException: job run " + job + " keeps no Spark event log: its monitoringConfiguration has persistentAppUI DISABLED or no s3MonitoringConfiguration.logUri, and the server configures no eventLogUri"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasPrefix(stderr, "Error: "+want) || ExitCode(err) != ExitError {
		t.Fatalf("jobs ui of a run without event logs: %v (exit %d), stderr %q; want %q", err, ExitCode(err), stderr, want)
	}
	for _, output := range []string{"json", "yaml"} {
		if out, _, err := execute(t, "jobs", "ui", job, "--virtual-cluster-id", vc, "-o", output); err == nil || !strings.HasPrefix(err.Error(), want) || out != "" {
			t.Errorf("jobs ui -o %s of a run without event logs: %v, printed %q", output, err, out)
		}
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown job run", []string{"jobs", "ui", "--virtual-cluster-id", vc, "--id", "0000000000000000000"}, "ResourceNotFoundException: "},
		{"unknown virtual cluster", []string{"jobs", "ui", job, "--virtual-cluster-id", "0000000000000000000000000"}, "ResourceNotFoundException: "},
		{"attempt not made", []string{"jobs", "ui", job, "--virtual-cluster-id", vc, "--attempt", "3"}, "ValidationException: attempt: must be between 1 and 1"},
		{"no job run", []string{"jobs", "ui", "--virtual-cluster-id", vc}, `required flag(s) "id" not set`},
		{"two job runs", []string{"jobs", "ui", "a", "--id", "b", "--virtual-cluster-id", vc}, `--id: "b" and the argument "a" name different job runs`},
		{"no virtual cluster", []string{"jobs", "ui", job}, `required flag(s) "virtual-cluster-id" not set`},
		{"zero attempt", []string{"jobs", "ui", job, "--virtual-cluster-id", vc, "--attempt", "0"}, "--attempt: must be a positive number, got 0"},
		{"attempt not a number", []string{"jobs", "ui", job, "--virtual-cluster-id", vc, "--attempt", "last"}, `invalid argument "last" for "--attempt"`},
		{"two arguments", []string{"jobs", "ui", job, job, "--virtual-cluster-id", vc}, "accepts at most 1 arg(s), received 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := execute(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("sparkplane %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.want)
			}
		})
	}

	t.Run("denied", func(t *testing.T) {
		// A user whose policy lets it describe job runs but not read their Spark UI.
		runDefault(t, "iam", "create-user", "--user-name", "viewer")
		runQuiet(t, "iam", "put-user-policy", "--user-name", "viewer", "--policy-name", "describe",
			"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"emr-containers:Describe*","Resource":"*"}]}`)
		key := runDefault(t, "iam", "create-access-key", "--user-name", "viewer")["AccessKey"].(map[string]any)
		t.Setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"].(string))
		t.Setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"].(string))
		if _, _, err := execute(t, "jobs", "describe", "--id", job, "--virtual-cluster-id", vc); err != nil {
			t.Fatalf("jobs describe with a policy allowing it: %v", err)
		}
		err := wantError(t, "AccessDeniedException: ", "jobs", "ui", job, "--virtual-cluster-id", vc)
		if !strings.Contains(err.Error(), "sparkplane:DescribeJobRunUI") {
			t.Errorf("denied jobs ui: %v, want it to name sparkplane:DescribeJobRunUI", err)
		}
	})
}
