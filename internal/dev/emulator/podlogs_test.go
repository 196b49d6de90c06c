package emulator

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/kwoklogs"
	"github.com/sparkplane/sparkplane/internal/dev/sparksim"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

func testDriver() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "job-driver", Namespace: "spark", UID: "uid-1",
			Labels: map[string]string{"spark-app-selector": "spark-0123456789abcdef0123456789abcdef"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "log-shipper", Image: "fluent/fluent-bit:2.0.0"},
			{Name: DriverContainerName, Image: "apache/spark:3.5.3"},
		}},
		Status: corev1.PodStatus{StartTime: &metav1.Time{Time: t0}, PodIP: "10.1.0.7", Phase: corev1.PodRunning},
	}
}

func testExecutors(n int, startedAfter time.Duration) map[string]*corev1.Pod {
	out := map[string]*corev1.Pod{}
	for id := 1; id <= n; id++ {
		name := fmt.Sprintf("job-exec-%d", id)
		started := metav1.NewTime(t0.Add(startedAfter + time.Duration(id)*97*time.Millisecond))
		out[name] = &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "spark", UID: "exec-uid",
				Labels: map[string]string{"spark-exec-id": fmt.Sprint(id)}},
			Status: corev1.PodStatus{StartTime: &started, PodIP: fmt.Sprintf("10.1.1.%d", id), Phase: corev1.PodRunning},
		}
	}
	return out
}

// message is a log record without its time, which the provisional and final simulations
// may set a moment apart.
func message(l sparksim.Line) string {
	const stamp = len("06/01/02 15:04:05 ")
	if len(l.Text) > stamp && l.Text[2] == '/' {
		return l.Text[stamp:]
	}
	return l.Text
}

// TestProvisionalLogIsPrefix pins what lets the emulator write a driver's start-up before its
// executors all run: the lines the provisional simulation gives up to the boot horizon are the
// first lines of the final one, whatever the hold and however late the executors start, and
// the final application can always be simulated.
func TestProvisionalLogIsPrefix(t *testing.T) {
	conf := Conf{"spark.app.id": "spark-0123456789abcdef0123456789abcdef", "spark.app.name": "Prefix test",
		"spark.executor.cores": "2", "spark.executor.memory": "4g", "spark.eventLog.dir": "s3a://bucket/events", "spark.eventLog.enabled": "true"}
	for _, hold := range []time.Duration{0, time.Second, 3 * time.Second, 19 * time.Second, 20 * time.Second, 2 * time.Minute} {
		for _, count := range []int{0, 2, 7} {
			for _, late := range []time.Duration{-time.Second, 150 * time.Millisecond, 2 * time.Second, 15 * time.Second, 45 * time.Second} {
				t.Run(fmt.Sprintf("hold %s, %d executors started after %s", hold, count, late), func(t *testing.T) {
					driver := testDriver()
					execs := testExecutors(count, late)
					prov, err := buildApp(driver, conf, run{hold: hold, executors: execs, count: count}).Simulate()
					if err != nil {
						t.Fatalf("provisional: %v", err)
					}
					written := sparksim.Until(prov.Driver(), prov.App().Start.Add(bootHorizon(hold)))
					if len(written) == 0 || !strings.Contains(written[1].Text, "Running Spark version 3.5.3") {
						t.Fatalf("provisional start-up: %q", written)
					}
					runningSince := t0.Add(max(late, 0) + time.Duration(count)*97*time.Millisecond + 120*time.Millisecond)
					final, err := buildApp(driver, conf, run{hold: hold, end: runningSince.Add(hold), executors: execs, count: count}).Simulate()
					if err != nil {
						t.Fatalf("final: %v", err)
					}
					if len(final.App().Executors) != count {
						t.Fatalf("final has %d executors, want %d", len(final.App().Executors), count)
					}
					got := final.Driver()
					for i, l := range written {
						if message(got[i]) != message(l) {
							t.Fatalf("line %d: final %q, provisional %q", i, got[i].Text, l.Text)
						}
					}
					if hold >= 20*time.Second && !strings.Contains(written[len(written)-1].Text, "Logging events to s3a://bucket/events/"+conf["spark.app.id"]) {
						t.Errorf("long hold: start-up ends with %q, want the event log line", written[len(written)-1].Text)
					}
				})
			}
		}
	}
}

// TestBuildApp checks that the application agrees with the pods the emulator made.
func TestBuildApp(t *testing.T) {
	driver := testDriver()
	execs := testExecutors(3, 4*time.Second)
	conf := Conf{"spark.app.id": "spark-0123456789abcdef0123456789abcdef", "spark.app.name": "Build test",
		"spark.executor.cores": "2", "spark.executor.memory": "4g", ConfExitCode: "3"}
	end := t0.Add(40 * time.Second)
	app := buildApp(driver, conf, run{hold: 30 * time.Second, end: end, executors: execs, count: 3, code: 3})
	if app.SparkVersion != "3.5.3" || app.Start != t0.Truncate(time.Millisecond) || app.Duration != 40*time.Second ||
		app.DriverIP != "10.1.0.7" || !app.Failed || app.ExitCode != 3 || app.Seed != seed(conf["spark.app.id"]) {
		t.Errorf("app = %+v", app)
	}
	if !strings.Contains(app.Exception, "exits with code 3") {
		t.Errorf("exception %q", app.Exception)
	}
	for i, x := range app.Executors {
		p := execs[fmt.Sprintf("job-exec-%d", i+1)]
		if x.ID != fmt.Sprint(i+1) || x.Pod != p.Name || x.Host != p.Status.PodIP || !x.Added.Equal(p.Status.StartTime.Time) ||
			x.Cores != 2 || x.MemoryMiB != 4096 {
			t.Errorf("executor %d = %+v", i, x)
		}
	}
	// Spark 3.3 and later label the driver with their version, which wins over the image's tag.
	driver.Labels["spark-version"] = "3.4.1"
	if v := buildApp(driver, conf, run{end: end}).SparkVersion; v != "3.4.1" {
		t.Errorf("version %s, want the label's 3.4.1", v)
	}
	// The end is stretched so that the jobs fit after the last registration.
	short := buildApp(driver, conf, run{hold: 0, end: t0.Add(time.Second), executors: execs, count: 3})
	if want := 4*time.Second + 3*97*time.Millisecond + minJobsTime; short.Duration != want {
		t.Errorf("short run lasts %s, want %s", short.Duration, want)
	}
	if _, err := short.Simulate(); err != nil {
		t.Error(err)
	}
}

// TestAppendLines checks that a file receives each record once, across passes and across a
// restart that forgets what was written, stack traces (records of several lines) included.
func TestAppendLines(t *testing.T) {
	lines := []sparksim.Line{
		{At: t0, Text: "26/03/04 05:06:07 INFO SparkContext: Running Spark version 3.5.3"},
		{At: t0.Add(time.Second), Text: "Exception in thread \"main\" boom\n\tat A.b(A.scala:1)\n\tat C.d(C.scala:2)"},
		{At: t0.Add(2 * time.Second), Text: "26/03/04 05:06:09 INFO ShutdownHookManager: Shutdown hook called"},
	}
	var want bytes.Buffer
	for _, l := range lines {
		if err := kwoklogs.WriteLine(&want, kwoklogs.Stderr, l.At, l.Text); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		steps []time.Time // each a pass writing up to that time
		fresh bool        // each pass with a new podLogs, as after a restart
	}{
		{"one pass", []time.Time{farFuture}, false},
		{"passes", []time.Time{t0.Add(-time.Second), t0, t0, t0.Add(1500 * time.Millisecond), farFuture, farFuture}, false},
		{"restarts", []time.Time{t0, t0.Add(time.Second), t0.Add(time.Second), farFuture, farFuture}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.log")
			pl := &podLogs{written: map[string]int{}}
			for _, until := range tc.steps {
				if tc.fresh {
					pl = &podLogs{written: map[string]int{}}
				}
				if err := pl.appendLines(file, sparksim.Until(lines, until)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want.String() {
				t.Errorf("file:\n%s\nwant:\n%s", got, want.String())
			}
		})
	}
	if n := recordsIn(lines, 2); n != 1 {
		t.Errorf("half a stack trace counts as %d records, want 1", n)
	}
}
