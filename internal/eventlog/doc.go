// Package eventlog reads a Spark application's event log and rebuilds the summary a history
// server's UI shows for it (application, jobs, stage attempts, executors, SQL executions),
// in Go, so sparkplane can serve a finished or running job's Spark UI facts without a JVM.
//
// # Input
//
// An event log is JSON Lines: one SparkListener event per line, each an object naming its
// type in "Event" (core events by simple class name, SQL events by full class name).
// Read takes one stream; ReadFS takes a name in an fs.FS that is either a single-file log
// (possibly ending in ".inprogress") or a rolling log directory (format v2,
// "eventlog_v2_<app>/" with "events_<n>_<app>" files, read in the order of n, and an
// "appstatus_<app>[.inprogress]" marker). A Builder folds in one stream or file at a time,
// for sources that are not file systems (objects in S3) and for summaries of a log that is
// still growing; Summary may be called between reads.
//
// # Codecs
//
// Only uncompressed logs are read; that is Spark's default (spark.eventLog.compress=false).
// Spark names a compressed log after its codec (lz4, lzf, snappy, zstd), and such a file is
// refused with a *CodecError before anything is read. Go's standard library decodes none of
// these codecs, and this package adds no module for them.
//
// # Invariants
//
//   - Memory is bounded by the summary, not the log: task events are folded into their stage
//     attempt's counts and metric totals as they stream by, and no line is kept after it is
//     decoded. The one other cost is the longest line (SQL plans and the environment run to
//     megabytes), capped by Builder.MaxLineBytes; a longer line is skipped and noted.
//   - Each line is parsed once, into a struct that names only the members the summary uses;
//     the event's type is read from its first member, where Spark writes it, so events the
//     summary does not use are only validated, not decoded.
//   - The content of a log never makes reading fail. A cut last line, a garbage line, an
//     event without the id it is filed under, a missing ApplicationEnd or a compacted or
//     gapped rolling log yield a partial summary with Complete false and a Note saying what
//     is missing. Errors are only for the files and streams themselves (not found,
//     unreadable, compressed); after a read error the summary of what came before is
//     returned as well.
//   - Events of types the summary does not use, known or unknown, are skipped and counted
//     (EventCounts.Skipped and ByType).
//   - The Summary is ready to serve as JSON: slices are never nil, times are UTC and absent
//     when unknown, durations are milliseconds, and nothing in it aliases the Builder.
//
// # Spark's rules
//
// Where Spark's UI derives a value, the summary derives it the same way (AppStatusListener
// and SQLAppStatusListener): a task that ended with Success is completed, TaskKilled and
// TaskCommitDenied are killed, every other end reason failed; stage metric totals include
// failed and killed tasks; a job is named after its last stage; a stage attempt belongs to
// the running jobs that list its stage when it is submitted, and a stage a job lists but
// never ran for it is skipped once the job has ended; a job belongs to the SQL execution
// named by its spark.sql.execution.id property, and an execution failed if it ended with an
// error or one of its jobs failed. Durations are completion minus submission time.
package eventlog
