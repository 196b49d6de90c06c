package eventlog

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestPeekEvent(t *testing.T) {
	tests := []struct {
		line string
		want string // "" when peekEvent declines
	}{
		{`{"Event":"SparkListenerTaskEnd","Stage ID":1}`, "SparkListenerTaskEnd"},
		{` { "Event" : "SparkListenerJobEnd" }`, "SparkListenerJobEnd"},
		{"{\t\"Event\":\t\"X\"}", "X"},
		{`{"Stage ID":1,"Event":"SparkListenerTaskEnd"}`, ""}, // not first: generic path
		{`{"Event":"Spark\u004cistener"}`, ""},                // escape: generic path
		{`{"Event":""}`, ""},
		{`{"Event":5}`, ""},
		{`{"Event":"unterminated`, ""},
		{`["Event","X"]`, ""},
		{``, ""},
		{`{"Eventual":"X"}`, ""},
	}
	for _, tc := range tests {
		got, ok := peekEvent([]byte(tc.line))
		if string(got) != tc.want || ok != (tc.want != "") {
			t.Errorf("peekEvent(%q) = %q, %v; want %q", tc.line, got, ok, tc.want)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantKind kind
		wantErr  string // substring; "" for none
		check    func(t *testing.T, d *decoder)
	}{
		{
			name:     "task end with metrics",
			line:     `{"Event":"SparkListenerTaskEnd","Stage ID":3,"Stage Attempt ID":1,"Task End Reason":{"Reason":"Success"},"Task Info":{"Executor ID":"7","Speculative":true,"Accumulables":[{"ID":1,"Update":"12"}]},"Task Metrics":{"Input Metrics":{"Bytes Read":10,"Records Read":2},"Shuffle Read Metrics":{"Remote Bytes Read":4,"Local Bytes Read":5,"Total Records Read":6}}}`,
			wantKind: kindTaskEnd,
			check: func(t *testing.T, d *decoder) {
				e := d.taskEnd
				if e.StageID != 3 || e.StageAttemptID != 1 || e.EndReason.Reason != "Success" || e.TaskInfo.ExecutorID != "7" || !e.TaskInfo.Speculative ||
					e.Metrics.Input.BytesRead != 10 || e.Metrics.ShuffleRead.LocalBytesRead != 5 {
					t.Errorf("decoded %+v", e)
				}
			},
		},
		{
			name:     "a reused struct forgets the previous line",
			line:     `{"Event":"SparkListenerTaskEnd","Stage ID":4}`,
			wantKind: kindTaskEnd,
			check: func(t *testing.T, d *decoder) {
				if d.taskEnd.StageAttemptID != 0 || d.taskEnd.Metrics.Input.BytesRead != 0 || d.taskEnd.TaskInfo.ExecutorID != "" {
					t.Errorf("left over from the previous line: %+v", d.taskEnd)
				}
			},
		},
		{
			name:     "job start properties",
			line:     `{"Event":"SparkListenerJobStart","Job ID":2,"Stage Infos":[{"Stage ID":5,"Stage Name":"s","Number of Tasks":3,"RDD Info":[]}],"Stage IDs":[5],"Properties":{"spark.sql.execution.id":"9","spark.job.description":"d","other":"x"}}`,
			wantKind: kindJobStart,
			check: func(t *testing.T, d *decoder) {
				e := d.jobStart
				if e.JobID != 2 || len(e.StageInfos) != 1 || e.StageInfos[0].NumTasks != 3 || e.Properties.SQLExecutionID != "9" || e.Properties.Description != "d" {
					t.Errorf("decoded %+v", e)
				}
			},
		},
		{
			name:     "job 0 is a job",
			line:     `{"Event":"SparkListenerJobEnd","Job ID":0,"Job Result":{"Result":"JobSucceeded"}}`,
			wantKind: kindJobEnd,
		},
		{
			name:     "SQL start",
			line:     `{"Event":"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart","executionId":0,"description":"q","physicalPlanDescription":"== Physical Plan ==","sparkPlanInfo":{"children":[]},"time":5}`,
			wantKind: kindSQLStart,
			check: func(t *testing.T, d *decoder) {
				if d.sqlStart.ExecutionID != 0 || d.sqlStart.Description != "q" || d.sqlStart.Time != 5 {
					t.Errorf("decoded %+v", d.sqlStart)
				}
			},
		},
		{name: "skipped type", line: `{"Event":"SparkListenerBlockManagerAdded","Block Manager ID":{}}`, wantKind: kindOther},
		{name: "skipped type, cut", line: `{"Event":"SparkListenerEnvironmentUpdate","JVM Information":{`, wantKind: kindInvalid, wantErr: "unexpected end of JSON input"},
		{name: "used type, cut", line: `{"Event":"SparkListenerTaskEnd","Stage ID":3,"Task`, wantKind: kindInvalid, wantErr: "unexpected end of JSON input"},
		{name: "trailing garbage", line: `{"Event":"SparkListenerLogStart"} x`, wantKind: kindInvalid, wantErr: "invalid character"},
		{name: "Event last", line: `{"Spark Version":"3.5.1","Event":"SparkListenerLogStart"}`, wantKind: kindLogStart,
			check: func(t *testing.T, d *decoder) {
				if d.logStart.SparkVersion != "3.5.1" {
					t.Errorf("version %q", d.logStart.SparkVersion)
				}
			}},
		{name: "escaped name", line: `{"Event":"SparkListener\u004cogStart","Spark Version":"1"}`, wantKind: kindLogStart},
		{name: "no Event", line: `{"Job ID":1}`, wantKind: kindInvalid, wantErr: `no "Event" member`},
		{name: "not an object", line: `"SparkListenerLogStart"`, wantKind: kindInvalid, wantErr: "cannot unmarshal string"},
		{name: "no stage id", line: `{"Event":"SparkListenerStageSubmitted","Stage Info":{"Stage Name":"x"}}`, wantKind: kindInvalid, wantErr: "no Stage Info.Stage ID"},
		{name: "id of the wrong type", line: `{"Event":"SparkListenerTaskStart","Stage ID":"3"}`, wantKind: kindInvalid, wantErr: "no Stage ID"},
		{name: "other member of the wrong type", line: `{"Event":"SparkListenerTaskStart","Stage ID":3,"Stage Attempt ID":"0"}`, wantKind: kindTaskStart, wantErr: "cannot unmarshal string"},
		{name: "exit code not an integer", line: `{"Event":"SparkListenerApplicationEnd","Timestamp":1,"ExitCode":1.5}`, wantKind: kindAppEnd, wantErr: "ExitCode 1.5 is not an integer"},
	}
	var d decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name, k, err := d.decode([]byte(tc.line))
			if k != tc.wantKind {
				t.Errorf("kind = %d, want %d (err %v)", k, tc.wantKind, err)
			}
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
			if k != kindInvalid && len(name) == 0 {
				t.Error("a usable event without a name")
			}
			if tc.check != nil {
				tc.check(t, &d)
			}
		})
	}
}

// FuzzDecode checks the line decoder on arbitrary input: it never panics, accepts only
// whole JSON objects, and names the event encoding/json finds in them.
func FuzzDecode(f *testing.F) {
	for _, tc := range []string{
		`{"Event":"SparkListenerTaskEnd","Stage ID":3,"Stage Attempt ID":0,"Task End Reason":{"Reason":"Success"},"Task Info":{"Executor ID":"1"},"Task Metrics":{"Input Metrics":{"Bytes Read":1}}}`,
		`{"Event":"SparkListenerJobStart","Job ID":0,"Stage Infos":[],"Stage IDs":[0],"Properties":{"spark.sql.execution.id":"0"}}`,
		`{"Event":"SparkListenerApplicationEnd","Timestamp":1,"ExitCode":0}`,
		`{"Event":"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd","executionId":1,"time":2}`,
		`{"Event":"SparkListenerExecutorRemoved","Executor ID":"1","Removed Reason":"x"}`,
		`{"Timestamp":1,"Event":"SparkListenerApplicationEnd"}`,
		`{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":1,"Failure Reason":"x"}}`,
		`{"Event":"X"}`, `{"Event":`, `[]`, `null`, "\xff",
	} {
		f.Add([]byte(tc))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var d decoder
		name, k, err := d.decode(line)
		if k == kindInvalid {
			if err == nil {
				t.Fatalf("invalid without an error: %q", line)
			}
			return
		}
		if !json.Valid(line) {
			t.Fatalf("accepted invalid JSON %q", line)
		}
		var env struct{ Event string }
		if e := json.Unmarshal(line, &env); e != nil && k != kindOther {
			t.Fatalf("accepted %q, which encoding/json cannot decode: %v", line, e)
		}
		// encoding/json keeps the last of duplicate keys and matches them case-insensitively;
		// decode reads the first "Event". Compare only when the name occurs once.
		if bytes.Count(bytes.ToLower(line), []byte(`"event"`)) == 1 && env.Event != string(name) {
			t.Fatalf("decode named %q, encoding/json finds %q in %q", name, env.Event, line)
		}
		if kindOf(name) != k {
			t.Fatalf("kind %d for %q", k, name)
		}
	})
}

// FuzzRead feeds arbitrary bytes to a Builder: it never panics, never fails on a reader that
// does not fail, and its summary always marshals.
func FuzzRead(f *testing.F) {
	f.Add([]byte("{\"Event\":\"SparkListenerJobStart\",\"Job ID\":1,\"Stage IDs\":[1,1]}\n{\"Event\":\"SparkListenerStageSubmitted\",\"Stage Info\":{\"Stage ID\":1}}\n{\"Event\":\"SparkListenerTaskEnd\",\"Stage ID\":1}\n{\"Event\":\"SparkListenerJobEnd\",\"Job ID\":1}\n"))
	f.Add([]byte("{\"Event\":\"SparkListenerExecutorRemoved\",\"Executor ID\":\"x\"}\r\n\n\n{\"Event\":\"org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd\",\"executionId\":3}"))
	f.Add([]byte("{\"Event\":\"SparkListenerJobStart\",\"Job ID\":1,\"Stage Infos\":[{\"Stage ID\":2,\"Number of Tasks\":3}],\"Properties\":{\"spark.sql.execution.id\":\"x\"}}\n{\"Event\":\"SparkListenerTaskStart\",\"Stage ID\":2}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := Builder{MaxLineBytes: 64}
		if _, err := b.ReadFrom(bytes.NewReader(data)); err != nil {
			t.Fatalf("ReadFrom: %v", err)
		}
		s := b.Summary()
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("summary does not marshal: %v", err)
		}
		if s.Complete && s.Events.Corrupt > 0 {
			t.Fatalf("complete with %d corrupt lines", s.Events.Corrupt)
		}
	})
}
