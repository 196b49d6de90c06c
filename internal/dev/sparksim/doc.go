// Package sparksim simulates the output of one Spark application on Kubernetes, for the
// sandbox where no Spark runs: the driver pod's log, each executor pod's log and the
// application's event log, all consistent with each other. The driver emulator
// (internal/dev/emulator) drives pods; this package supplies what those pods would have
// written. It is pure: an App goes in, lines come out, and the only I/O is an io.Writer.
//
// # What is simulated
//
// An App names the application, its executors (when each registered and, if it did, when
// the driver lost it), how long it ran, how many jobs it ran (each a chain of shuffle map
// stages ending in a result stage, of a fixed number of tasks), and whether it failed. From
// that and a seed, a plan lays out a timeline the way Spark's scheduler would: SparkContext
// starts, the Kubernetes backend asks for executor pods in batches of five, executors
// register, the scheduler waits for 80% of them (spark.scheduler.minRegisteredResourcesRatio
// on Kubernetes) or 30 s, then the jobs run one after another until shortly before the end.
// Each stage's tasks are spread over the cores of the executors registered at the time and
// run in waves; no task runs on an executor before it registered or after it was removed.
// Tasks carry metrics that add up the way Spark's do: the first stage of a job reads input,
// shuffle map stages write shuffle data that the next stage reads in full (local or remote,
// by where the map tasks ran), some reducers spill, and the result stage writes output.
//
// A failed run fails the way most Spark jobs fail: one task of the last job's last stage
// throws App.Exception on each of its spark.task.maxFailures (4) attempts; the stage is
// aborted, its running tasks are killed, the job ends JobFailed with DAGScheduler's "Job
// aborted due to stage failure" message, and the driver's main method dies with it.
//
// # How it maps to Spark's output
//
// Driver and executor logs use Spark's default log4j2 pattern ("yy/MM/dd HH:mm:ss LEVEL
// Logger: message", in UTC) and the wording of the classes that write them in Spark 3.x on
// Kubernetes: SparkContext, ExecutorPodsAllocator, KubernetesClusterSchedulerBackend,
// BlockManagerMasterEndpoint, DAGScheduler, TaskSchedulerImpl, TaskSetManager on the driver;
// CoarseGrainedExecutorBackend, Executor, TorrentBroadcast, ShuffleBlockFetcherIterator on
// executors. The driver log also says where the event log goes (SingleEventLogFileWriter's
// "Logging events to <dir>/<app id>.inprogress"). Where Spark prints an uncaught exception,
// the log has the JVM's "Exception in thread "main"" text. As on Kubernetes, spark-submit
// stops the SparkContext before the exception leaves main, so a failed driver's log ends
// with that exception followed only by the shutdown hooks' lines.
//
// The event log is what EventLoggingListener writes with JsonProtocol: one JSON event a line,
// its type first in "Event", members in Spark's order and named as in real logs (checked in
// this package's tests against the logs in shared/conformance/spark-event-logs):
// LogStart, ResourceProfileAdded, the driver's BlockManagerAdded, EnvironmentUpdate,
// ApplicationStart, ExecutorAdded and BlockManagerAdded per executor (ExecutorRemoved and
// BlockManagerRemoved for the removed ones; like Spark on Kubernetes, none for executors
// that live until the end), JobStart, StageSubmitted, TaskStart, TaskEnd (Task Info with
// internal accumulables, Task Executor Metrics, Task Metrics), StageCompleted (Failure
// Reason when aborted), JobEnd (JobSucceeded, or JobFailed with the exception) and
// ApplicationEnd. Members added in later Spark versions (push-based shuffle metrics,
// DeterministicLevel, TotalGCTime, ApplicationEnd's ExitCode, ...) appear only for those
// versions, and a few log lines change with the version too.
//
// # Invariants
//
//   - Output is a function of the App: the same App, Seed included, gives the same bytes.
//   - Every output is a []Line sorted by the time Spark would have written each line, so a
//     caller can emit them as time passes (Until) and write the rest at the end.
//   - The event log parses with internal/eventlog into a complete summary whose jobs,
//     stages, tasks, executors and metric totals are exactly the simulated ones, and every
//     task attempt in it appears, with the same IDs, in the driver's and its executor's log.
//   - The application ends (ApplicationEnd) at Start + Duration; the logs go on for well
//     under a second after that, while the JVMs stop (Simulation.Exit).
//
// # Not simulated
//
// Spark SQL (query executions and plans), speculation, stage retries after fetch failures,
// dynamic allocation's decisions, executor decommissioning, rolling event logs, compressed
// event logs, and the structured JSON logging of Spark 4 (the pattern layout is used for
// every version).
package sparksim
