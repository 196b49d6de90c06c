package sparksim

import (
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
)

// Defaults for the App fields that may be left zero.
const (
	DefaultSparkVersion = "3.5.1"
	DefaultUser         = "spark"
	DefaultMainClass    = "org.example.SparkApp"
	DefaultEventLogDir  = "file:/tmp/spark-events"
	DefaultCores        = 1
	DefaultMemoryMiB    = 1024
	DefaultException    = "java.lang.RuntimeException: Simulated failure"
	// MaxTaskFailures is spark.task.maxFailures: a failed run's failing task fails this often.
	MaxTaskFailures = 4

	// minMemoryMiB is the smallest executor heap Spark starts with (it refuses less than
	// 450 MiB of system memory).
	minMemoryMiB = 450
	// maxTasks bounds one simulation, so a typo cannot make it plan millions of tasks.
	maxTasks = 200_000
	// driverMemoryMiB is the driver heap the simulation assumes (spark.driver.memory=1g).
	driverMemoryMiB = 1024
)

// App describes one simulated Spark application on Kubernetes, in cluster mode. Everything
// the simulation writes follows from it: the same App (Seed included) gives the same output.
type App struct {
	AppID   string // spark.app.id, e.g. "spark-0f4e2c..." (required)
	AppName string // spark.app.name (required)
	// SparkVersion decides the version-specific parts of the output; the simulation knows
	// Spark 3.0 and later. Default DefaultSparkVersion.
	SparkVersion string
	User         string // SPARK_USER, the submitting user; default DefaultUser
	// MainClass is the application's main class; it names the call sites of stages and the
	// application's frames in stack traces. Default DefaultMainClass.
	MainClass string

	// Start is when the driver's SparkContext started (SparkListenerApplicationStart) and
	// Duration how long the application ran until SparkListenerApplicationEnd. The driver
	// log goes on for about half a second after that, while the JVM shuts down (see
	// Simulation.Exit).
	Start    time.Time
	Duration time.Duration

	// DriverHost is spark.driver.host (on Kubernetes the driver service's DNS name) and
	// DriverIP the driver pod's IP. Defaults are made up from AppName and Seed.
	DriverHost string
	DriverIP   string
	// EventLogDir is spark.eventLog.dir; the driver log says it writes the event log there.
	// Default DefaultEventLogDir.
	EventLogDir string
	// Conf is more Spark properties for the event log's environment (typically the driver's
	// spark.properties). Values of keys Spark redacts (secret, password, token, access key)
	// are redacted as Spark does.
	Conf map[string]string

	// Executors are the executors that register with the driver. A job needs at least one.
	Executors []Executor

	// Jobs run one after another, each a chain of StagesPerJob stages (shuffle map stages
	// and a final result stage) of TasksPerStage tasks each. Zero StagesPerJob means 1;
	// zero TasksPerStage means one task per executor core.
	Jobs          int
	StagesPerJob  int
	TasksPerStage int

	// Failed makes the application fail: one task of the last job's last stage fails
	// MaxTaskFailures times with Exception, which aborts the job, and the driver exits with
	// ExitCode (default 1). With no jobs, the driver's main method throws Exception itself.
	// Exception is "class: message", optionally followed by stack frames, one a line
	// ("\tat pkg.Class.method(File.scala:12)"); default DefaultException.
	Failed    bool
	ExitCode  int
	Exception string

	// Seed makes the random parts (task durations, sizes, ports, directory names) repeatable.
	Seed int64
}

// Executor is one executor of a simulated application.
type Executor struct {
	ID   string // executor ID as Spark numbers them: "1", "2", ... (required, unique)
	Host string // the executor pod's IP, which is its host on Kubernetes; default made up
	Pod  string // the executor pod's name; default "<resource prefix>-exec-<ID>"

	Cores     int // spark.executor.cores; default DefaultCores
	MemoryMiB int // spark.executor.memory in MiB; default DefaultMemoryMiB

	// Added is when the executor registered with the driver (SparkListenerExecutorAdded);
	// its log starts about 1.3 s earlier, when its JVM starts. Zero means a few seconds
	// after the application's start, as on a cluster that starts pods at once.
	Added time.Time
	// Removed is when the driver lost the executor (SparkListenerExecutorRemoved), and
	// RemovedReason why (default: the message Spark gives for a deleted pod). Zero means it
	// lived until the application ended; like Spark on Kubernetes, the event log then has no
	// SparkListenerExecutorRemoved for it.
	Removed       time.Time
	RemovedReason string
}

// ValidationError says which App field makes the App impossible to simulate.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("sparksim: %s: %s", e.Field, e.Problem)
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Simulation is the output of one simulated application: the driver's log, each executor's
// log and the event log, each as lines in time order. It is computed once by Simulate and
// not changed afterwards, so it may be shared.
type Simulation struct {
	app       App
	driver    []Line
	executors map[string][]Line
	events    []Line
	exit      time.Time
	logName   string
}

// Simulate plans the application and renders its outputs. It fails only for an App that
// cannot be simulated (a *ValidationError), never at random.
func (a App) Simulate() (*Simulation, error) {
	p, err := newPlan(a)
	if err != nil {
		return nil, err
	}
	s := &Simulation{
		app:       p.app,
		driver:    p.driverLog(),
		executors: map[string][]Line{},
		events:    p.eventLog(),
		logName:   p.eventLogName(),
	}
	for _, e := range p.execs {
		s.executors[e.ID] = p.executorLog(e)
	}
	s.exit = p.end
	for _, lines := range append([][]Line{s.driver, s.events}, mapValues(s.executors)...) {
		if n := len(lines); n > 0 && lines[n-1].At.After(s.exit) {
			s.exit = lines[n-1].At
		}
	}
	return s, nil
}

func mapValues(m map[string][]Line) [][]Line {
	out := make([][]Line, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// App returns the application as simulated, with every default filled in.
func (s *Simulation) App() App { return s.app }

// Driver returns the driver's log (the driver pod's stdout and stderr), in time order.
func (s *Simulation) Driver() []Line { return s.driver }

// Executor returns the log of the executor with the given ID, in time order, and whether
// there is such an executor.
func (s *Simulation) Executor(id string) ([]Line, bool) {
	lines, ok := s.executors[id]
	return lines, ok
}

// EventLog returns the event log, one JSON event a line, in the order Spark writes them.
func (s *Simulation) EventLog() []Line { return s.events }

// EventLogName is the event log's file name in EventLogDir as Spark names a single-file log
// (the application ID, sanitized); Spark adds ".inprogress" while the application runs.
func (s *Simulation) EventLogName() string { return s.logName }

// End is when the application ended (SparkListenerApplicationEnd): Start + Duration.
func (s *Simulation) End() time.Time { return s.app.Start.Add(s.app.Duration) }

// Exit is the time of the last line of any output: the driver JVM's exit, a moment after End.
func (s *Simulation) Exit() time.Time { return s.exit }

// DriverLog writes the driver's whole log to w.
func (a App) DriverLog(w io.Writer) error {
	s, err := a.Simulate()
	if err != nil {
		return err
	}
	return WriteLines(w, s.Driver())
}

// ExecutorLog writes the whole log of the executor with the given ID to w.
func (a App) ExecutorLog(id string, w io.Writer) error {
	s, err := a.Simulate()
	if err != nil {
		return err
	}
	lines, ok := s.Executor(id)
	if !ok {
		return invalid("Executors", "no executor with ID %q", id)
	}
	return WriteLines(w, lines)
}

// EventLog writes the whole event log to w.
func (a App) EventLog(w io.Writer) error {
	s, err := a.Simulate()
	if err != nil {
		return err
	}
	return WriteLines(w, s.EventLog())
}

// normalize checks an App and fills in its defaults. rng supplies the made-up names, so
// they follow from the Seed.
func (a App) normalize(rng *rand.Rand) (App, version, error) {
	if strings.TrimSpace(a.AppID) == "" {
		return a, version{}, invalid("AppID", "must be set")
	}
	if strings.TrimSpace(a.AppName) == "" {
		return a, version{}, invalid("AppName", "must be set")
	}
	if a.SparkVersion == "" {
		a.SparkVersion = DefaultSparkVersion
	}
	v, ok := parseVersion(a.SparkVersion)
	if !ok {
		return a, v, invalid("SparkVersion", "%q is not a Spark version", a.SparkVersion)
	}
	if !v.atLeast(3, 0) {
		return a, v, invalid("SparkVersion", "%s: only Spark 3.0 and later are simulated", a.SparkVersion)
	}
	if a.User == "" {
		a.User = DefaultUser
	}
	if a.MainClass == "" {
		a.MainClass = DefaultMainClass
	}
	if a.Start.IsZero() {
		return a, v, invalid("Start", "must be set")
	}
	// The event log counts milliseconds; so does the simulation.
	a.Start = a.Start.UTC().Truncate(time.Millisecond)
	a.Duration = a.Duration.Truncate(time.Millisecond)
	if a.Duration < time.Second {
		return a, v, invalid("Duration", "%s: must be at least 1s", a.Duration)
	}
	end := a.Start.Add(a.Duration)
	prefix := resourcePrefix(a.AppName, rng)
	if a.DriverHost == "" {
		a.DriverHost = prefix + "-driver-svc.default.svc"
	}
	if a.DriverIP == "" {
		a.DriverIP = podIP(0)
	}
	if a.EventLogDir == "" {
		a.EventLogDir = DefaultEventLogDir
	}
	if a.Jobs < 0 || a.StagesPerJob < 0 || a.TasksPerStage < 0 {
		return a, v, invalid("Jobs", "Jobs, StagesPerJob and TasksPerStage must not be negative")
	}
	if a.Failed {
		if a.ExitCode == 0 {
			a.ExitCode = 1
		}
		if strings.TrimSpace(a.Exception) == "" {
			a.Exception = DefaultException
		}
	}
	if a.ExitCode < 0 || a.ExitCode > 255 {
		return a, v, invalid("ExitCode", "%d: must be 0-255", a.ExitCode)
	}

	scale := bootScale(a.Duration)
	execs := make([]Executor, len(a.Executors))
	seen := map[string]bool{}
	cores := 0
	for i, e := range a.Executors {
		field := fmt.Sprintf("Executors[%d]", i)
		if strings.TrimSpace(e.ID) == "" {
			return a, v, invalid(field+".ID", "must be set")
		}
		if seen[e.ID] {
			return a, v, invalid(field+".ID", "%q is used twice", e.ID)
		}
		seen[e.ID] = true
		if e.Host == "" {
			e.Host = podIP(i + 1)
		}
		if e.Pod == "" {
			e.Pod = prefix + "-exec-" + e.ID
		}
		if e.Cores < 0 {
			return a, v, invalid(field+".Cores", "must not be negative")
		}
		if e.Cores == 0 {
			e.Cores = DefaultCores
		}
		if e.MemoryMiB == 0 {
			e.MemoryMiB = DefaultMemoryMiB
		}
		if e.MemoryMiB < minMemoryMiB {
			return a, v, invalid(field+".MemoryMiB", "%d: Spark needs at least %d MiB", e.MemoryMiB, minMemoryMiB)
		}
		if e.Added.IsZero() {
			// Spark asks for executors about 2 s after start; pods take a few seconds more.
			e.Added = a.Start.Add(scaled(4*time.Second, scale) + time.Duration(i)*scaled(150*time.Millisecond, scale))
		}
		e.Added = e.Added.UTC().Truncate(time.Millisecond)
		if e.Added.Before(a.Start) || !e.Added.Before(end) {
			return a, v, invalid(field+".Added", "%s: must be within the application (%s to %s)", e.Added.Format(time.RFC3339Nano), a.Start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
		}
		if !e.Removed.IsZero() {
			e.Removed = e.Removed.UTC().Truncate(time.Millisecond)
			if !e.Removed.After(e.Added) || e.Removed.After(end) {
				return a, v, invalid(field+".Removed", "%s: must be after Added and not after the application's end", e.Removed.Format(time.RFC3339Nano))
			}
			if e.RemovedReason == "" {
				e.RemovedReason = fmt.Sprintf("The executor with id %s was deleted by a user or the framework.", e.ID)
			}
		}
		cores += e.Cores
		execs[i] = e
	}
	a.Executors = execs
	if a.Jobs > 0 {
		if len(execs) == 0 {
			return a, v, invalid("Executors", "jobs need at least one executor")
		}
		if a.StagesPerJob == 0 {
			a.StagesPerJob = 1
		}
		if a.TasksPerStage == 0 {
			a.TasksPerStage = cores
		}
		if a.Jobs*a.StagesPerJob*a.TasksPerStage > maxTasks {
			return a, v, invalid("Jobs", "%d jobs of %d stages of %d tasks: more than %d tasks", a.Jobs, a.StagesPerJob, a.TasksPerStage, maxTasks)
		}
	}
	if len(a.Conf) > 0 {
		conf := make(map[string]string, len(a.Conf))
		for k, val := range a.Conf {
			conf[k] = val
		}
		a.Conf = conf
	}
	return a, v, nil
}

// bootScale shrinks the start-up timings of very short applications, so that they still fit.
func bootScale(d time.Duration) float64 {
	return min(1, float64(d)/float64(20*time.Second))
}

func scaled(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) * scale).Truncate(time.Millisecond)
}

// resourcePrefix is how spark-submit names an application's Kubernetes resources: the app
// name made DNS-safe, a dash and 16 hex digits.
func resourcePrefix(name string, rng *rand.Rand) string {
	s := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	if s == "" {
		s = "spark"
	}
	return fmt.Sprintf("%s-%016x", s, rng.Uint64())
}

var nonDNS = regexp.MustCompile(`[^a-z0-9]+`)

// podIP makes up the n-th pod IP of a cluster's pod network.
func podIP(n int) string {
	return fmt.Sprintf("10.244.%d.%d", n/250, n%250+4)
}

// sanitizeDirName is Spark's Utils.sanitizeDirName, which names event log files.
func sanitizeDirName(s string) string {
	s = strings.NewReplacer(" ", "-", ":", "-", "/", "-").Replace(s)
	s = strings.NewReplacer(".", "_", "$", "_", "{", "_", "}", "_", "'", "_", `"`, "_").Replace(s)
	return strings.ToLower(s)
}
