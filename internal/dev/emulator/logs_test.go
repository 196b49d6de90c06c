package emulator_test

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/emulator"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

// TestEmulatedLogs reads, through the API server's pods/log as kubectl does, the Spark logs
// the emulator writes for the drivers and executors it plays: while the job runs (snapshot and
// follow), and after the driver ended, for a job that succeeds, one that fails in a task and
// one whose conf Spark would refuse.
func TestEmulatedLogs(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	ensureNode(t, ctx, env)

	t.Run("succeeds", func(t *testing.T) {
		t.Parallel()
		driver := driverFixture(t, ctx, env, "job-logs", map[string]string{"spark.executor.instances": "2", emulator.ConfDuration: "6s",
			"spark.eventLog.enabled": "true", "spark.eventLog.dir": "s3a://spark-logs/events"}, nil)
		appID := driver.Labels["spark-app-selector"]
		log := waitLog(t, env, driver.Name, "spark-kubernetes-driver", "Registered executor")
		for _, want := range []string{
			"WARN NativeCodeLoader: Unable to load native-hadoop library",
			"INFO SparkContext: Running Spark version 3.5.3",
			"INFO SparkContext: Submitted application: Emulated job-logs",
			"INFO SingleEventLogFileWriter: Logging events to s3a://spark-logs/events/" + appID + ".inprogress",
			"INFO ExecutorPodsAllocator: Going to request 2 executors from Kubernetes",
		} {
			if !strings.Contains(log, want) {
				t.Errorf("driver log while running lacks %q:\n%s", want, log)
			}
		}

		// The executor's own log, while it runs (it goes with its pod at the end).
		exec := strings.TrimSuffix(driver.Name, "-driver") + "-exec-1"
		waitLog(t, env, exec, "spark-kubernetes-executor", "CoarseGrainedExecutorBackend: Successfully registered with driver",
			"Executor: Starting executor ID 1 on host ")

		// A follow stream started now receives the lines written from now on.
		if log := podLog(t, env, driver.Name, "spark-kubernetes-driver"); strings.Contains(log, "Successfully stopped SparkContext") {
			t.Fatalf("the driver stopped before the follow started; the test needs a longer job:\n%s", log)
		}
		fctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		zero := int64(0)
		rc, err := env.Client.CoreV1().Pods("default").GetLogs(driver.Name,
			&corev1.PodLogOptions{Container: "spark-kubernetes-driver", Follow: true, TailLines: &zero}).Stream(fctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		s := bufio.NewScanner(rc)
		wants := []string{"INFO DAGScheduler: Job 2 finished", "INFO SparkContext: Successfully stopped SparkContext", "INFO ShutdownHookManager: Shutdown hook called"}
		followed := 0
		for len(wants) > 0 && s.Scan() {
			followed++
			if strings.Contains(s.Text(), "Running Spark version") {
				t.Errorf("the follow stream repeats the start: %q", s.Text())
			}
			if strings.Contains(s.Text(), wants[0]) {
				wants = wants[1:]
			}
		}
		if len(wants) > 0 {
			t.Fatalf("follow stream ended (%v) after %d lines without %q", s.Err(), followed, wants[0])
		}
		cancel()

		waitPhase(t, env, driver.Name, corev1.PodSucceeded)
		log = podLog(t, env, driver.Name, "spark-kubernetes-driver")
		for want, n := range map[string]int{
			"Running Spark version": 1, "Registered executor": 2, "INFO DAGScheduler: Job 0 finished": 1,
			"INFO DAGScheduler: Job 2 finished": 1, "Successfully stopped SparkContext": 1, "Exception in thread": 0,
		} {
			if got := strings.Count(log, want); got != n {
				t.Errorf("final driver log has %q %d times, want %d", want, got, n)
			}
		}
		if !strings.Contains(lastLine(log), "ShutdownHookManager: Deleting directory /tmp/spark-") {
			t.Errorf("driver log ends with %q", lastLine(log))
		}
	})

	t.Run("fails", func(t *testing.T) {
		t.Parallel()
		driver := driverFixture(t, ctx, env, "job-logs-failed", map[string]string{"spark.executor.instances": "1", emulator.ConfDuration: "2s",
			emulator.ConfExitCode: "4", "spark.kubernetes.executor.deleteOnTermination": "false"}, nil)
		waitPhase(t, env, driver.Name, corev1.PodFailed)
		log := podLog(t, env, driver.Name, "spark-kubernetes-driver")
		stopped := strings.Index(log, "Successfully stopped SparkContext")
		thrown := strings.Index(log, `Exception in thread "main" org.apache.spark.SparkException: Job aborted due to stage failure: Task`)
		if stopped < 0 || thrown < stopped {
			t.Errorf("driver log: want the stop, then the uncaught exception:\n%s", log)
		}
		for _, want := range []string{
			"in stage 5.0 failed 4 times; aborting job", // the last job's result stage
			"Caused by: org.apache.spark.SparkException: simulated failure: the driver exits with code 4",
			"SparkContext: SparkContext is stopping with exitCode 0.",
		} {
			if !strings.Contains(log, want) {
				t.Errorf("failed driver log lacks %q:\n%s", want, log)
			}
		}
		// The executor is kept (deleteOnTermination=false), and so is its log.
		exec := podLog(t, env, strings.TrimSuffix(driver.Name, "-driver")+"-exec-1", "spark-kubernetes-executor")
		for _, want := range []string{"ERROR Executor: Exception in task", "simulated failure: the driver exits with code 4",
			"CoarseGrainedExecutorBackend: Driver commanded a shutdown"} {
			if !strings.Contains(exec, want) {
				t.Errorf("executor log lacks %q:\n%s", want, exec)
			}
		}
	})

	t.Run("bad conf", func(t *testing.T) {
		t.Parallel()
		driver := driverFixture(t, ctx, env, "job-logs-badconf", map[string]string{emulator.ConfDuration: "soon"}, nil)
		waitPhase(t, env, driver.Name, corev1.PodFailed)
		want := `Exception in thread "main" org.apache.spark.SparkException: ` + emulator.ConfDuration + `="soon"`
		// kwok may not have seen the Logs object of a driver that ends at once.
		log := waitLog(t, env, driver.Name, "spark-kubernetes-driver", want)
		if !strings.Contains(log, "Running Spark version") {
			t.Errorf("driver log lacks the start:\n%s", log)
		}
	})
}

// podLog returns a container's log as `kubectl logs` does, failing the test on an error.
func podLog(t *testing.T, env *testenv.Env, pod, container string) string {
	t.Helper()
	b, err := env.Client.CoreV1().Pods("default").GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("logs of %s/%s: %v", pod, container, err)
	}
	return string(b)
}

// waitLog waits until a container's log holds every one of wants and returns it. kwok serves
// a log once it has seen the pod's Logs object: until then a request fails.
func waitLog(t *testing.T, env *testenv.Env, pod, container string, wants ...string) string {
	t.Helper()
	var log string
	var err error
	deadline := time.Now().Add(time.Minute)
	for {
		var b []byte
		b, err = env.Client.CoreV1().Pods("default").GetLogs(pod, &corev1.PodLogOptions{Container: container}).DoRaw(context.Background())
		log = string(b)
		if err == nil && containsAll(log, wants) {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("log of %s/%s never held %q (last error %v):\n%s", pod, container, wants, err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func waitPhase(t *testing.T, env *testenv.Env, pod string, phase corev1.PodPhase) {
	t.Helper()
	waitFor(t, time.Minute, "pod "+pod+" to be "+string(phase), func() bool {
		p, err := env.Client.CoreV1().Pods("default").Get(context.Background(), pod, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Status.Phase == phase
	})
}

func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}
