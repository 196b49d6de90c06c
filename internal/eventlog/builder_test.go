package eventlog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// realLog returns the lines of one of the oracle's logs, each with its line break.
func realLog(t testing.TB, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(eventLogDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatalf("%s does not end with a line break", name)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	return lines[:len(lines)-1] // SplitAfter leaves an empty element after the last break
}

func join(lines ...[]byte) []byte { return bytes.Join(lines, nil) }

// withoutEvent drops the lines of one event type.
func withoutEvent(lines [][]byte, event string) [][]byte {
	var out [][]byte
	for _, l := range lines {
		if !bytes.Contains(l, []byte(`"Event":"`+event+`"`)) {
			out = append(out, l)
		}
	}
	return out
}

// TestCorruptAndTruncated feeds damaged versions of a real log (Spark 3.3, 6 jobs, SQL) and
// checks that each yields a partial summary with a note, never an error.
func TestCorruptAndTruncated(t *testing.T) {
	lines := realLog(t, "local-1642039451826")
	whole := join(lines...)
	wholeSum, err := Read(bytes.NewReader(whole))
	if err != nil || !wholeSum.Complete {
		t.Fatalf("whole log: err %v, complete %v, notes %q", err, wholeSum.Complete, wholeSum.Notes)
	}
	// The index of the 3rd TaskEnd of stage 8 (job 4), to cut the log in the middle of a job.
	cutAt := 0
	seen := 0
	for i, l := range lines {
		if bytes.Contains(l, []byte(`"SparkListenerTaskEnd","Stage ID":8,`)) {
			if seen++; seen == 3 {
				cutAt = i
				break
			}
		}
	}
	if cutAt == 0 {
		t.Fatal("no third TaskEnd of stage 8 in the log")
	}
	var longLines int64
	for _, l := range lines {
		if len(l) > 4096 {
			longLines++
		}
	}

	tests := []struct {
		name         string
		input        []byte
		maxLine      int
		wantComplete bool
		wantCorrupt  int64
		wantNotes    []string // substrings, each of some note
		check        func(t *testing.T, s *Summary)
	}{
		{
			name:         "whole log",
			input:        whole,
			wantComplete: true,
		},
		{
			name:        "last line cut",
			input:       whole[:len(whole)-20],
			wantCorrupt: 1,
			wantNotes:   []string{"line 115: cut short", "no SparkListenerApplicationEnd"},
			check: func(t *testing.T, s *Summary) {
				sameEntries(t, s, wholeSum)
				if !s.Application.EndTime.IsZero() || s.Application.DurationMs != 0 {
					t.Errorf("end %v duration %d, want none", s.Application.EndTime, s.Application.DurationMs)
				}
			},
		},
		{
			name:        "cut in the middle of a task event",
			input:       join(append(cloneLines(lines[:cutAt]), lines[cutAt][:len(lines[cutAt])/2])...),
			wantCorrupt: 1,
			wantNotes:   []string{"cut short", "1 jobs without SparkListenerJobEnd, 1 stage attempts without SparkListenerStageCompleted"},
			check: func(t *testing.T, s *Summary) {
				if len(s.Jobs) != 5 || s.Jobs[4].Status != JobRunning || s.Jobs[3].Status != JobSucceeded {
					t.Fatalf("jobs %+v, want 5 with the last running", s.Jobs)
				}
				st := s.Stages[len(s.Stages)-1]
				if st.StageID != 8 || st.Status != StageActive || st.Tasks.Completed != 2 || st.Tasks.Active == 0 {
					t.Errorf("last stage %+v, want stage 8 active with 2 tasks done and some running", st)
				}
				if len(s.Jobs[4].SkippedStageIDs) != 0 {
					t.Errorf("running job lists skipped stages %v; nothing is skipped before it ends", s.Jobs[4].SkippedStageIDs)
				}
				if s.SQL[1].Status != SQLRunning {
					t.Errorf("SQL 1 status %s, want %s", s.SQL[1].Status, SQLRunning)
				}
			},
		},
		{
			name: "garbage lines in the middle",
			input: join(append(cloneLines(lines[:50]), append([][]byte{
				[]byte("not json at all\n"),
				[]byte("{\"Event\": \"SparkListenerTaskEnd\", \"Stage ID\": 2\n"),
				{0xff, 0xfe, 0x00, '\n'},
			}, lines[50:]...)...)...),
			wantCorrupt: 3,
			wantNotes:   []string{"line 51: not a Spark event", "line 52: not a Spark event", "line 53: not a Spark event"},
			check:       func(t *testing.T, s *Summary) { sameEntries(t, s, wholeSum) },
		},
		{
			name:      "no ApplicationEnd",
			input:     join(withoutEvent(lines, "SparkListenerApplicationEnd")...),
			wantNotes: []string{"no SparkListenerApplicationEnd"},
			check:     func(t *testing.T, s *Summary) { sameEntries(t, s, wholeSum) },
		},
		{
			name:      "no ApplicationStart",
			input:     join(withoutEvent(lines, "SparkListenerApplicationStart")...),
			wantNotes: []string{"no SparkListenerApplicationStart"},
			// The rest of the application is known, so the log is still whole.
			wantComplete: true,
		},
		{
			name:      "empty input",
			input:     nil,
			wantNotes: []string{"the log holds no events"},
			check: func(t *testing.T, s *Summary) {
				if s.Jobs == nil || s.Stages == nil || s.Executors == nil || s.SQL == nil || s.Events.ByType == nil {
					t.Errorf("nil slices or maps in %+v; a route would serve null", s)
				}
			},
		},
		{
			name:         "CRLF line ends and blank lines",
			input:        bytes.ReplaceAll(bytes.ReplaceAll(whole, []byte("\n"), []byte("\r\n")), []byte("\r\n{\"Event\":\"SparkListenerJobEnd\""), []byte("\r\n\r\n  \r\n{\"Event\":\"SparkListenerJobEnd\"")),
			wantComplete: true,
			check:        func(t *testing.T, s *Summary) { sameEntries(t, s, wholeSum) },
		},
		{
			name: "valid JSON that is not a usable event",
			input: join(append(cloneLines(lines), [][]byte{
				[]byte("[1, 2]\n"),
				[]byte("{\"foo\": 1}\n"),
				[]byte("{\"Event\": 5}\n"),
				[]byte("null\n"),
				[]byte("{\"Event\": \"SparkListenerTaskEnd\", \"Stage Attempt ID\": 0}\n"),
				[]byte("{\"Event\": \"SparkListenerJobStart\"}\n"),
				[]byte("{\"Event\": \"SparkListenerExecutorAdded\", \"Timestamp\": 1}\n"),
				[]byte("{\"Event\": \"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd\", \"time\": 1}\n"),
			}...)...),
			wantCorrupt: 8,
			wantNotes:   []string{"line 116", "line 123: not a Spark event: org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd: no executionId"},
			check:       func(t *testing.T, s *Summary) { sameEntries(t, s, wholeSum) },
		},
		{
			name:         "unknown event types are skipped and counted",
			input:        join(append(cloneLines(lines), []byte("{\"Event\": \"com.example.CustomEvent\", \"payload\": {\"a\": [1, 2]}}\n"))...),
			wantComplete: true,
			check: func(t *testing.T, s *Summary) {
				if s.Events.ByType["com.example.CustomEvent"] != 1 || s.Events.Skipped != wholeSum.Events.Skipped+1 {
					t.Errorf("events %+v, want the custom event counted and skipped", s.Events)
				}
			},
		},
		{
			name:         "Event not the first member",
			input:        join(append(cloneLines(withoutEvent(lines, "SparkListenerApplicationEnd")), []byte("{\"Timestamp\": 1642039536564, \"Event\": \"SparkListenerApplicationEnd\"}\n"))...),
			wantComplete: true,
			check: func(t *testing.T, s *Summary) {
				if s.Application != wholeSum.Application {
					t.Errorf("application %+v, want %+v", s.Application, wholeSum.Application)
				}
			},
		},
		{
			name:        "lines over the limit are skipped",
			input:       whole,
			maxLine:     4096,
			wantCorrupt: longLines,
			wantNotes:   []string{"longer than the 4096-byte line limit; skipped"},
			check: func(t *testing.T, s *Summary) {
				if s.Events.Lines != wholeSum.Events.Lines {
					t.Errorf("lines %d, want %d", s.Events.Lines, wholeSum.Events.Lines)
				}
			},
		},
		{
			name: "a member of the wrong type is left out, the event kept",
			input: join(append(cloneLines(withoutEvent(lines, "SparkListenerApplicationEnd")),
				[]byte("{\"Event\": \"SparkListenerApplicationEnd\", \"Timestamp\": 1642039536564, \"ExitCode\": \"zero\"}\n"))...),
			wantComplete: true,
			wantNotes:    []string{"line 115: SparkListenerApplicationEnd: a member has an unexpected type", "1 events had a member of an unexpected type"},
			check: func(t *testing.T, s *Summary) {
				if s.Application.EndTime != wholeSum.Application.EndTime || s.Application.ExitCode != nil {
					t.Errorf("application %+v, want the end time kept and no exit code", s.Application)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := Builder{MaxLineBytes: tc.maxLine}
			if _, err := b.ReadFrom(bytes.NewReader(tc.input)); err != nil {
				t.Fatalf("ReadFrom: %v", err)
			}
			s := b.Summary()
			if s.Complete != tc.wantComplete {
				t.Errorf("Complete = %v, want %v (notes %q)", s.Complete, tc.wantComplete, s.Notes)
			}
			if s.Events.Corrupt != tc.wantCorrupt {
				t.Errorf("Events.Corrupt = %d, want %d (notes %q)", s.Events.Corrupt, tc.wantCorrupt, s.Notes)
			}
			for _, want := range tc.wantNotes {
				if !slicesContainsSub(s.Notes, want) {
					t.Errorf("no note contains %q; notes: %q", want, s.Notes)
				}
			}
			if tc.wantComplete && len(tc.wantNotes) == 0 && len(s.Notes) != 0 {
				t.Errorf("unexpected notes %q", s.Notes)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
			if _, err := json.Marshal(s); err != nil {
				t.Errorf("summary does not marshal: %v", err)
			}
		})
	}
}

func cloneLines(l [][]byte) [][]byte { return append([][]byte(nil), l...) }

func slicesContainsSub(notes []string, sub string) bool {
	for _, n := range notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// sameEntries checks that damage elsewhere left jobs, stages, executors and SQL untouched.
func sameEntries(t *testing.T, got, want *Summary) {
	t.Helper()
	if !reflect.DeepEqual(got.Jobs, want.Jobs) {
		t.Errorf("jobs differ from the whole log's:\n got %+v\nwant %+v", got.Jobs, want.Jobs)
	}
	if !reflect.DeepEqual(got.Stages, want.Stages) {
		t.Errorf("stages differ from the whole log's")
	}
	if !reflect.DeepEqual(got.Executors, want.Executors) || !reflect.DeepEqual(got.SQL, want.SQL) {
		t.Errorf("executors or SQL differ from the whole log's")
	}
}

// TestAttribution pins how stage attempts, tasks and SQL executions are attributed to jobs
// where Spark's rules matter: a stage reused by a later job is skipped there, a retried stage
// attempt belongs to the job running it, and a failed job fails its SQL execution.
func TestAttribution(t *testing.T) {
	log := strings.Join([]string{
		`{"Event":"SparkListenerApplicationStart","App Name":"attr","App ID":"app-1","Timestamp":1000,"User":"u"}`,
		`{"Event":"SparkListenerExecutorAdded","Timestamp":1001,"Executor ID":"1","Executor Info":{"Host":"h1","Total Cores":4}}`,
		`{"Event":"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart","executionId":7,"description":"q","time":1002}`,
		// Job 0 runs stages 0 and 1.
		`{"Event":"SparkListenerJobStart","Job ID":0,"Submission Time":1010,"Stage Infos":[{"Stage ID":0,"Stage Name":"map","Number of Tasks":2},{"Stage ID":1,"Stage Name":"reduce","Number of Tasks":1}],"Stage IDs":[0,1],"Properties":{"spark.sql.execution.id":"7","spark.job.description":"first","spark.jobGroup.id":"g"}}`,
		`{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"map","Number of Tasks":2,"Submission Time":1011}}`,
		`{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"},"Task Info":{"Executor ID":"1","Finish Time":1012},"Task Metrics":{"Shuffle Write Metrics":{"Shuffle Bytes Written":10,"Shuffle Records Written":1}}}`,
		`{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"},"Task Info":{"Executor ID":"1","Speculative":true,"Finish Time":1013},"Task Metrics":{"Shuffle Write Metrics":{"Shuffle Bytes Written":5,"Shuffle Records Written":1}}}`,
		`{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":0,"Stage Attempt ID":0,"Stage Name":"map","Number of Tasks":2,"Submission Time":1011,"Completion Time":1014}}`,
		`{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":1,"Stage Attempt ID":0,"Stage Name":"reduce","Number of Tasks":1,"Submission Time":1015}}`,
		`{"Event":"SparkListenerTaskEnd","Stage ID":1,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"},"Task Info":{"Executor ID":"1"},"Task Metrics":{"Shuffle Read Metrics":{"Remote Bytes Read":6,"Local Bytes Read":9,"Total Records Read":2}}}`,
		`{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":1,"Stage Attempt ID":0,"Stage Name":"reduce","Number of Tasks":1,"Submission Time":1015,"Completion Time":1016}}`,
		`{"Event":"SparkListenerJobEnd","Job ID":0,"Completion Time":1017,"Job Result":{"Result":"JobSucceeded"}}`,
		// Job 1 reuses stage 0's output (skipped) and runs stage 2 twice: attempt 0 fails on a fetch failure.
		`{"Event":"SparkListenerJobStart","Job ID":1,"Submission Time":1020,"Stage Infos":[{"Stage ID":0,"Stage Name":"map","Number of Tasks":2},{"Stage ID":2,"Stage Name":"count","Number of Tasks":1}],"Stage IDs":[0,2],"Properties":{"spark.sql.execution.id":"7"}}`,
		`{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":2,"Stage Attempt ID":0,"Stage Name":"count","Number of Tasks":1,"Submission Time":1021}}`,
		`{"Event":"SparkListenerTaskEnd","Stage ID":2,"Stage Attempt ID":0,"Task End Reason":{"Reason":"FetchFailed"},"Task Info":{"Executor ID":"1","Failed":true}}`,
		`{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":2,"Stage Attempt ID":0,"Stage Name":"count","Number of Tasks":1,"Submission Time":1021,"Completion Time":1022,"Failure Reason":"fetch failed"}}`,
		`{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":2,"Stage Attempt ID":1,"Stage Name":"count","Number of Tasks":1,"Submission Time":1023}}`,
		`{"Event":"SparkListenerTaskEnd","Stage ID":2,"Stage Attempt ID":1,"Task End Reason":{"Reason":"ExceptionFailure"},"Task Info":{"Executor ID":"1","Failed":true}}`,
		`{"Event":"SparkListenerTaskEnd","Stage ID":2,"Stage Attempt ID":1,"Task End Reason":{"Reason":"TaskCommitDenied"},"Task Info":{"Executor ID":"2"}}`,
		`{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":2,"Stage Attempt ID":1,"Stage Name":"count","Number of Tasks":1,"Submission Time":1023,"Completion Time":1025,"Failure Reason":"task failed 4 times"}}`,
		`{"Event":"SparkListenerJobEnd","Job ID":1,"Completion Time":1026,"Job Result":{"Result":"JobFailed","Exception":{"Message":"Job aborted","Stack Trace":[]}}}`,
		`{"Event":"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd","executionId":7,"time":1027}`,
		// Job 2 re-runs stage 2 (attempt 2): the attempt is job 2's alone, not ended job 1's.
		`{"Event":"SparkListenerJobStart","Job ID":2,"Submission Time":1040,"Stage Infos":[{"Stage ID":2,"Stage Name":"count","Number of Tasks":1}],"Stage IDs":[2]}`,
		`{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage ID":2,"Stage Attempt ID":2,"Stage Name":"count","Number of Tasks":1,"Submission Time":1041}}`,
		`{"Event":"SparkListenerTaskEnd","Stage ID":2,"Stage Attempt ID":2,"Task End Reason":{"Reason":"Success"},"Task Info":{"Executor ID":"1"}}`,
		`{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":2,"Stage Attempt ID":2,"Stage Name":"count","Number of Tasks":1,"Submission Time":1041,"Completion Time":1042}}`,
		`{"Event":"SparkListenerJobEnd","Job ID":2,"Completion Time":1043,"Job Result":{"Result":"JobSucceeded"}}`,
		`{"Event":"SparkListenerExecutorRemoved","Timestamp":1050,"Executor ID":"1","Removed Reason":"lost"}`,
		`{"Event":"SparkListenerApplicationEnd","Timestamp":1060}`,
	}, "\n")
	s, err := Read(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Complete || len(s.Notes) != 0 {
		t.Errorf("complete %v notes %q", s.Complete, s.Notes)
	}
	i64 := func(v int64) *int64 { return &v }
	wantJobs := []Job{
		{ID: 0, Name: "reduce", Description: "first", JobGroup: "g", SQLExecutionID: i64(7), Status: JobSucceeded,
			SubmissionTime: s.Jobs[0].SubmissionTime, CompletionTime: s.Jobs[0].CompletionTime, DurationMs: 7,
			Result: "JobSucceeded", StageIDs: []int{0, 1}, NumTasks: 3, NumCompletedTasks: 3, NumCompletedStages: 2},
		{ID: 1, Name: "count", SQLExecutionID: i64(7), Status: JobFailed,
			SubmissionTime: s.Jobs[1].SubmissionTime, CompletionTime: s.Jobs[1].CompletionTime, DurationMs: 6,
			Result: "JobFailed", FailureReason: "Job aborted", StageIDs: []int{0, 2}, SkippedStageIDs: []int{0},
			NumTasks: 3, NumFailedTasks: 2, NumKilledTasks: 1, NumSkippedTasks: 2, NumFailedStages: 2, NumSkippedStages: 1},
		{ID: 2, Name: "count", Status: JobSucceeded,
			SubmissionTime: s.Jobs[2].SubmissionTime, CompletionTime: s.Jobs[2].CompletionTime, DurationMs: 3,
			Result: "JobSucceeded", StageIDs: []int{2}, NumTasks: 1, NumCompletedTasks: 1, NumCompletedStages: 1},
	}
	if !reflect.DeepEqual(s.Jobs, wantJobs) {
		t.Errorf("jobs:\n got %+v\nwant %+v", s.Jobs, wantJobs)
	}
	type stageView struct {
		id, attempt int
		status      string
		jobs        []int
		tasks       TaskCounts
		failure     string
		shuffleRead int64
	}
	var got []stageView
	for _, st := range s.Stages {
		got = append(got, stageView{st.StageID, st.AttemptID, st.Status, st.JobIDs, st.Tasks, st.FailureReason, st.Metrics.ShuffleReadBytes})
	}
	want := []stageView{
		{0, 0, StageComplete, []int{0}, TaskCounts{Completed: 2, Speculative: 1}, "", 0},
		{1, 0, StageComplete, []int{0}, TaskCounts{Completed: 1}, "", 15},
		{2, 0, StageFailed, []int{1}, TaskCounts{Failed: 1}, "fetch failed", 0},
		{2, 1, StageFailed, []int{1}, TaskCounts{Failed: 1, Killed: 1}, "task failed 4 times", 0},
		{2, 2, StageComplete, []int{2}, TaskCounts{Completed: 1}, "", 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stages:\n got %+v\nwant %+v", got, want)
	}
	if m := s.Stages[0].Metrics; m.ShuffleWriteBytes != 15 || m.ShuffleWriteRecords != 2 {
		t.Errorf("stage 0 shuffle write %d bytes %d records, want 15 and 2", m.ShuffleWriteBytes, m.ShuffleWriteRecords)
	}
	if len(s.SQL) != 1 || s.SQL[0].Status != SQLFailed || !reflect.DeepEqual(s.SQL[0].JobIDs, []int{0, 1}) || s.SQL[0].DurationMs != 25 {
		t.Errorf("sql %+v, want execution 7 failed (its job 1 failed) with jobs 0 and 1", s.SQL)
	}
	// Executor 2 was never added: its task counts nowhere but in the stage.
	if len(s.Executors) != 1 || s.Executors[0].Tasks != (TaskCounts{Completed: 4, Failed: 2, Speculative: 1}) || s.Executors[0].RemovedReason != "lost" {
		t.Errorf("executors %+v", s.Executors)
	}
}

// TestSummaryWhileReading checks that a summary taken mid-log shows the application as far as
// it got, and that reading on afterwards neither disturbs it nor is disturbed by it.
func TestSummaryWhileReading(t *testing.T) {
	lines := realLog(t, "local-1642039451826")
	half := len(lines) / 2
	var b Builder
	if _, err := b.ReadFrom(bytes.NewReader(join(lines[:half]...))); err != nil {
		t.Fatal(err)
	}
	mid := b.Summary()
	midJSON, _ := json.Marshal(mid)
	if mid.Complete || mid.Application.LastEventTime.IsZero() {
		t.Errorf("mid-log summary complete %v, last event %v", mid.Complete, mid.Application.LastEventTime)
	}
	if _, err := b.ReadFrom(bytes.NewReader(join(lines[half:]...))); err != nil {
		t.Fatal(err)
	}
	end := b.Summary()
	if again, _ := json.Marshal(mid); !bytes.Equal(again, midJSON) {
		t.Error("reading on changed a summary already returned")
	}
	whole, _ := Read(bytes.NewReader(join(lines...)))
	endJSON, _ := json.Marshal(end)
	wholeJSON, _ := json.Marshal(whole)
	if !bytes.Equal(endJSON, wholeJSON) {
		t.Errorf("reading in two parts differs from reading at once:\n%s\n%s", endJSON, wholeJSON)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadError checks that the reader's own error is returned, with what came before it.
func TestReadError(t *testing.T) {
	lines := realLog(t, "local-1642039451826")
	boom := errSentinel("connection reset")
	s, err := Read(&failingReader{data: join(lines[:20]...), err: boom})
	if err == nil || !strings.Contains(err.Error(), "connection reset") || !strings.Contains(err.Error(), "after line 20") {
		t.Fatalf("err = %v, want the reader's error with where it stopped", err)
	}
	if s == nil || s.Application.ID != "local-1642039451826" || s.Complete || !slicesContainsSub(s.Notes, "reading stopped after line 20") {
		t.Errorf("summary %+v, want the partial application with a note", s)
	}
}

type errSentinel string

func (e errSentinel) Error() string { return string(e) }
