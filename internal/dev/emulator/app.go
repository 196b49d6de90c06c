package emulator

import (
	"hash/fnv"
	"regexp"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkplane/sparkplane/internal/dev/sparksim"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// reImageVersion finds a Spark version in an image tag (apache/spark:3.5.1-scala...).
var reImageVersion = regexp.MustCompile(`:v?(\d+\.\d+\.\d+)`)

// reEMRTag finds an EMR release in an image tag (eks-spark-benchmark:emr6.5,
// spark:emr-6.15.0-latest): such images run that release's Spark.
var reEMRTag = regexp.MustCompile(`:emr-?(\d+)\.(\d+)(?:\.(\d+))?`)

// emrSparkVersion is the Spark version of the EMR release an image's tag names, or "".
func emrSparkVersion(image string) string {
	m := reEMRTag.FindStringSubmatch(image)
	if m == nil {
		return ""
	}
	patch := m[3]
	if patch == "" {
		patch = "0"
	}
	rel, err := release.Default().Lookup("emr-" + m[1] + "." + m[2] + "." + patch)
	if err != nil {
		return ""
	}
	return rel.SparkVersion
}

// reVersion is a Spark version as the spark-version label carries it.
var reVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

// Shape of every simulated application: three jobs of a shuffle map stage and a result stage.
const (
	simJobs         = 3
	simStagesPerJob = 2
)

// Timing rules of the simulated application, beside sparksim's own.
const (
	// minJobsTime is how long, at least, the application runs after its last executor
	// registered, so that its jobs fit (sparksim refuses a plan whose jobs have no room).
	minJobsTime = 1500 * time.Millisecond
	// provisionalLength is the length of the provisional application, which only serves the
	// driver's start-up lines: long enough that sparksim does not compress its start-up.
	provisionalLength = time.Hour
)

// bootHorizon is how far into the driver's log, from its start, the emulator writes before
// all its executors run and the application's length is known (see buildApp). Before 1 s,
// sparksim's driver log is the same lines in the same order whatever the application's
// length: SparkContext, SparkEnv and the UI starting. Up to 2.5 s (the executors requested,
// the block manager, "Logging events to" with the application id) it is the same only when
// the application runs 20 s or more, because sparksim compresses the start-up of shorter
// ones; a hold of 20 s or more guarantees that. No executor registers before the horizon
// (buildApp), so its lines are a prefix of the final log too. TestProvisionalLogIsPrefix
// checks both.
func bootHorizon(hold time.Duration) time.Duration {
	if hold >= 20*time.Second {
		return 2500 * time.Millisecond
	}
	return time.Second
}

// run is what the emulator knows of one driver's run when it builds the application.
type run struct {
	// hold is the job's simulated duration (ConfDuration).
	hold time.Duration
	// end is when the application ends (SparkListenerApplicationEnd); zero while it is not
	// known, which builds the provisional application.
	end time.Time
	// executors are the driver's executor pods; those that never started never registered.
	// The provisional application has count executors instead, ids 1 to count, none of them
	// registered before the horizon.
	executors map[string]*corev1.Pod
	count     int
	// code is the driver's exit code and message why it failed, if it failed on its conf.
	code    int
	message string
}

// driverStart is when the driver's container started: the application's start.
func driverStart(driver *corev1.Pod) time.Time {
	if driver.Status.StartTime != nil {
		return driver.Status.StartTime.Time
	}
	return driver.CreationTimestamp.Time
}

// buildApp returns the one application the emulator simulates for driver: the driver log,
// the executor logs and the event log all come from it, so they agree with each other and
// with the pods (app id and name, executor ids, pods and IPs, start, outcome). The seed
// derives from the app id, so that the same run gives the same application on every pass and
// after a restart.
//
// With r.end set it is the final application: its executors are the pods that started, each
// registering when its pod started (not before the boot horizon), and it ends at r.end,
// stretched when needed so that the jobs fit after the last registration. Without r.end it
// is provisional: r.count executors that register only near its end, an hour away; only its
// driver lines before the boot horizon are used, and those are the final log's first lines.
func buildApp(driver *corev1.Pod, conf Conf, r run) sparksim.App {
	appID := conf.get("spark.app.id", driver.Labels[wellknown.LabelSparkAppSelector])
	start := driverStart(driver).UTC().Truncate(time.Millisecond)
	cores, err := conf.integer("spark.executor.cores", 1)
	if err != nil || cores < 1 {
		cores = 1
	}
	// sparksim's executor memory is the heap, spark.executor.memory, without the overhead.
	heap, err := byteStringMiB("spark.executor.memory", conf.get("spark.executor.memory", "1g"), "m")
	if err != nil {
		heap = sparksim.DefaultMemoryMiB
	}
	app := sparksim.App{
		AppID: appID, AppName: conf.get("spark.app.name", "spark"), User: conf.get("spark.kubernetes.driverEnv.SPARK_USER", ""),
		MainClass: conf.get("spark.sparkplane.mainClass", ""), Start: start,
		DriverHost: conf.get("spark.driver.host", ""), DriverIP: driver.Status.PodIP, EventLogDir: conf.get("spark.eventLog.dir", ""),
		Conf: conf, Jobs: simJobs, StagesPerJob: simStagesPerJob, Failed: r.code != 0, ExitCode: r.code, Seed: seed(appID),
	}
	image := ""
	name := sparkContainer(driver, conf.get("spark.kubernetes.driver.podTemplateContainerName", DriverContainerName))
	for _, c := range driver.Spec.Containers {
		if c.Name == name {
			image = c.Image
		}
	}
	// The driver's spark-version label (Spark 3.3 and later) is the version; older drivers
	// have only their image's tag to go by: a Spark version, or an EMR release whose Spark
	// the image carries.
	if v := driver.Labels[wellknown.LabelSparkVersion]; reVersion.MatchString(v) {
		app.SparkVersion = v
	} else if m := reImageVersion.FindStringSubmatch(conf.get("spark.kubernetes.container.image", image)); m != nil {
		app.SparkVersion = m[1]
	} else if v := emrSparkVersion(conf.get("spark.kubernetes.container.image", image)); v != "" {
		app.SparkVersion = v
	}
	if r.code != 0 {
		app.Exception = "org.apache.spark.SparkException: simulated failure: the driver exits with code " + strconv.Itoa(r.code)
		if r.message != "" {
			app.Exception = "org.apache.spark.SparkException: " + r.message
		}
	}

	if r.end.IsZero() {
		end := start.Add(provisionalLength)
		for id := 1; id <= r.count; id++ {
			app.Executors = append(app.Executors, sparksim.Executor{ID: strconv.Itoa(id), Cores: cores, MemoryMiB: int(heap),
				Added: end.Add(-time.Minute)})
		}
		app.Duration = provisionalLength
		app.Jobs = 0 // its jobs would come after the horizon; planning them costs for nothing
		return app
	}

	floor := start.Add(bootHorizon(r.hold))
	var last time.Time
	for _, p := range r.executors {
		started, ok := podStarted(p)
		if !ok {
			continue // never ran, so never registered
		}
		added := started.UTC().Truncate(time.Millisecond)
		if added.Before(floor) {
			added = floor
		}
		if added.After(last) {
			last = added
		}
		app.Executors = append(app.Executors, sparksim.Executor{ID: executorID(p), Host: p.Status.PodIP, Pod: p.Name,
			Cores: cores, MemoryMiB: int(heap), Added: added})
	}
	sort.Slice(app.Executors, func(i, j int) bool {
		a, _ := strconv.Atoi(app.Executors[i].ID)
		b, _ := strconv.Atoi(app.Executors[j].ID)
		return a < b
	})
	end := r.end.UTC().Truncate(time.Millisecond)
	if minEnd := start.Add(time.Second); end.Before(minEnd) {
		end = minEnd
	}
	if len(app.Executors) == 0 {
		app.Jobs = 0 // a driver that never got executors ran no job
	} else if minEnd := last.Add(minJobsTime); end.Before(minEnd) {
		end = minEnd
	}
	app.Duration = end.Sub(start)
	return app
}

// podStarted is when a pod's containers started, and whether they did.
func podStarted(p *corev1.Pod) (time.Time, bool) {
	if p.Status.StartTime != nil {
		return p.Status.StartTime.Time, true
	}
	switch p.Status.Phase {
	case corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed:
		return p.CreationTimestamp.Time, true
	}
	return time.Time{}, false
}

// executorID is an executor pod's Spark executor id.
func executorID(p *corev1.Pod) string { return p.Labels[wellknown.LabelSparkExecID] }

func seed(s string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return int64(h.Sum64() >> 1)
}
