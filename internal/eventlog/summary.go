package eventlog

import "time"

// Summary is what a history server's UI shows about one Spark application, rebuilt from its
// event log. It is built to be served as JSON as it is: slices are never nil, times are UTC
// (RFC 3339 in JSON, left out when unknown) and durations are whole milliseconds.
type Summary struct {
	Application Application    `json:"application"`
	Jobs        []Job          `json:"jobs"`          // by job id
	Stages      []Stage        `json:"stages"`        // stage attempts that ran, by stage id then attempt
	Executors   []Executor     `json:"executors"`     // in the order they were added
	SQL         []SQLExecution `json:"sqlExecutions"` // by execution id
	Events      EventCounts    `json:"events"`

	// Complete is true when the log holds the whole application: it ends with
	// SparkListenerApplicationEnd, no line was lost (corrupt, cut or too long) and Spark did
	// not compact earlier events away. Notes say why a summary is not complete.
	Complete bool     `json:"complete"`
	Notes    []string `json:"notes,omitempty"`
}

// Application is the application as a whole (SparkListenerLogStart, ApplicationStart and
// ApplicationEnd).
type Application struct {
	ID           string    `json:"id"`
	AttemptID    string    `json:"attemptId,omitempty"`
	Name         string    `json:"name"`
	User         string    `json:"user,omitempty"`
	SparkVersion string    `json:"sparkVersion,omitempty"`
	StartTime    time.Time `json:"startTime,omitzero"`
	EndTime      time.Time `json:"endTime,omitzero"`
	// DurationMs is EndTime - StartTime; zero until the application has ended.
	DurationMs int64 `json:"durationMs"`
	// ExitCode is the driver's exit code, which Spark writes on ApplicationEnd from 4.0 on.
	ExitCode *int `json:"exitCode,omitempty"`
	// LastEventTime is the latest timestamp any decoded event carried, so a reader of an
	// unfinished log can tell how far it got.
	LastEventTime time.Time `json:"lastEventTime,omitzero"`
}

// Job statuses, spelled as Spark's REST API spells JobExecutionStatus.
const (
	JobRunning   = "RUNNING" // started, no SparkListenerJobEnd (yet)
	JobSucceeded = "SUCCEEDED"
	JobFailed    = "FAILED"
)

// Job is one Spark job (SparkListenerJobStart and JobEnd).
type Job struct {
	ID int `json:"jobId"`
	// Name is the name of the job's last stage, as Spark's UI names jobs.
	Name string `json:"name"`
	// Description, JobGroup and SQLExecutionID come from the job's properties
	// (spark.job.description, spark.jobGroup.id, spark.sql.execution.id).
	Description    string    `json:"description,omitempty"`
	JobGroup       string    `json:"jobGroup,omitempty"`
	SQLExecutionID *int64    `json:"sqlExecutionId,omitempty"`
	Status         string    `json:"status"`
	SubmissionTime time.Time `json:"submissionTime,omitzero"`
	CompletionTime time.Time `json:"completionTime,omitzero"`
	DurationMs     int64     `json:"durationMs"`
	// Result is Spark's JobResult as written (JobSucceeded, JobFailed); FailureReason is the
	// message of the exception a failed job carries.
	Result        string `json:"result,omitempty"`
	FailureReason string `json:"failureReason,omitempty"`
	// StageIDs are all stages the job was made of; SkippedStageIDs those of them that did not
	// run for this job because their output already existed (known once the job has ended).
	StageIDs        []int `json:"stageIds"`
	SkippedStageIDs []int `json:"skippedStageIds,omitempty"`

	// NumTasks is the sum of the task counts of all the job's stages, skipped ones included,
	// as Spark reports it; the other counts add up the stage attempts that ran for this job.
	NumTasks           int64 `json:"numTasks"`
	NumCompletedTasks  int64 `json:"numCompletedTasks"`
	NumFailedTasks     int64 `json:"numFailedTasks"`
	NumKilledTasks     int64 `json:"numKilledTasks"`
	NumSkippedTasks    int64 `json:"numSkippedTasks"`
	NumCompletedStages int   `json:"numCompletedStages"`
	NumFailedStages    int   `json:"numFailedStages"`
	NumSkippedStages   int   `json:"numSkippedStages"`
}

// Stage statuses, spelled as Spark's REST API spells StageStatus.
const (
	StageActive   = "ACTIVE" // submitted (or seen running tasks), no SparkListenerStageCompleted (yet)
	StageComplete = "COMPLETE"
	StageFailed   = "FAILED"
)

// Stage is one attempt of one stage (SparkListenerStageSubmitted and StageCompleted) with the
// tasks that ran in it (SparkListenerTaskStart and TaskEnd) aggregated as they streamed by.
type Stage struct {
	StageID   int    `json:"stageId"`
	AttemptID int    `json:"attemptId"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	// JobIDs are the jobs that were running and listed this stage when it was submitted.
	JobIDs         []int     `json:"jobIds"`
	NumTasks       int       `json:"numTasks"`
	SubmissionTime time.Time `json:"submissionTime,omitzero"`
	CompletionTime time.Time `json:"completionTime,omitzero"`
	// DurationMs is CompletionTime - SubmissionTime.
	DurationMs    int64  `json:"durationMs"`
	FailureReason string `json:"failureReason,omitempty"`

	Tasks TaskCounts `json:"tasks"`
	// EndReasons counts ended tasks by the Reason of their TaskEndReason (Success,
	// TaskKilled, ExceptionFailure, FetchFailed, ExecutorLostFailure, ...).
	EndReasons map[string]int64 `json:"endReasons,omitempty"`
	Metrics    StageMetrics     `json:"metrics"`
}

// TaskCounts classifies ended tasks the way Spark's UI does: Success is completed, TaskKilled
// and TaskCommitDenied are killed, every other end reason is failed.
type TaskCounts struct {
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	Killed    int64 `json:"killed"`
	// Speculative counts ended tasks that were speculative copies, whatever their end.
	Speculative int64 `json:"speculative"`
	// Active counts tasks that started and have not ended (in an unfinished or cut log).
	Active int64 `json:"active,omitempty"`
}

// StageMetrics sums the Task Metrics of every task of a stage attempt that reported them,
// failed and killed tasks included, as Spark's stage totals do.
type StageMetrics struct {
	ExecutorRunTimeMs int64 `json:"executorRunTimeMs"`
	ExecutorCPUTimeNs int64 `json:"executorCpuTimeNs"`
	JVMGCTimeMs       int64 `json:"jvmGcTimeMs"`
	InputBytes        int64 `json:"inputBytes"`
	InputRecords      int64 `json:"inputRecords"`
	OutputBytes       int64 `json:"outputBytes"`
	OutputRecords     int64 `json:"outputRecords"`
	// ShuffleReadBytes is remote plus local bytes read, as the UI's "Shuffle Read" column.
	ShuffleReadBytes       int64 `json:"shuffleReadBytes"`
	ShuffleRemoteBytesRead int64 `json:"shuffleRemoteBytesRead"`
	ShuffleLocalBytesRead  int64 `json:"shuffleLocalBytesRead"`
	ShuffleReadRecords     int64 `json:"shuffleReadRecords"`
	ShuffleWriteBytes      int64 `json:"shuffleWriteBytes"`
	ShuffleWriteRecords    int64 `json:"shuffleWriteRecords"`
	MemoryBytesSpilled     int64 `json:"memoryBytesSpilled"`
	DiskBytesSpilled       int64 `json:"diskBytesSpilled"`
}

// Executor is one executor (SparkListenerExecutorAdded and ExecutorRemoved). In local mode
// the driver is the one executor, with ID "driver".
type Executor struct {
	ID            string    `json:"id"`
	Host          string    `json:"host,omitempty"`
	TotalCores    int       `json:"totalCores"`
	AddTime       time.Time `json:"addTime,omitzero"`
	RemoveTime    time.Time `json:"removeTime,omitzero"`
	RemovedReason string    `json:"removedReason,omitempty"`
	// Tasks counts the tasks that ended on this executor.
	Tasks TaskCounts `json:"tasks"`
}

// SQL execution statuses.
const (
	SQLRunning   = "RUNNING"
	SQLCompleted = "COMPLETED"
	SQLFailed    = "FAILED" // SQLExecutionEnd carried an error, or one of its jobs failed
)

// SQLExecution is one Spark SQL query (SparkListenerSQLExecutionStart and End); its jobs are
// those whose properties carry its spark.sql.execution.id.
type SQLExecution struct {
	ExecutionID  int64     `json:"executionId"`
	Description  string    `json:"description"`
	Status       string    `json:"status"`
	StartTime    time.Time `json:"startTime,omitzero"`
	EndTime      time.Time `json:"endTime,omitzero"`
	DurationMs   int64     `json:"durationMs"`
	ErrorMessage string    `json:"errorMessage,omitempty"`
	JobIDs       []int     `json:"jobIds"`
}

// EventCounts says what the log was made of, so a reader can judge the summary.
type EventCounts struct {
	// Lines counts non-blank lines, Corrupt those that were not a usable event (not JSON,
	// cut short, too long, or missing the ids the event needs), and Skipped the valid events
	// of types the summary does not use (block managers, environment, accumulator updates,
	// plan updates, unknown types, ...).
	Lines   int64 `json:"lines"`
	Corrupt int64 `json:"corrupt"`
	Skipped int64 `json:"skipped"`
	// ByType counts valid events by their "Event" value. It holds at most maxEventTypes
	// names; events of further types are counted in Untyped only.
	ByType  map[string]int64 `json:"byType"`
	Untyped int64            `json:"untyped,omitempty"`
}
