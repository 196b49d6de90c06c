package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// kind is the type of an event as far as the summary cares.
type kind uint8

const (
	kindInvalid kind = iota // not a usable event; the line counts as corrupt
	kindOther               // a valid event the summary does not use
	kindLogStart
	kindAppStart
	kindAppEnd
	kindJobStart
	kindJobEnd
	kindStageSubmitted
	kindStageCompleted
	kindTaskStart
	kindTaskEnd
	kindExecutorAdded
	kindExecutorRemoved
	kindSQLStart
	kindSQLEnd
)

// kindOf maps an "Event" value to its kind. Spark writes its core events under their simple
// class name and the SQL module's events under their full class name.
func kindOf(name []byte) kind {
	switch string(name) { // a switch on string(b) does not allocate
	case "SparkListenerLogStart":
		return kindLogStart
	case "SparkListenerApplicationStart":
		return kindAppStart
	case "SparkListenerApplicationEnd":
		return kindAppEnd
	case "SparkListenerJobStart":
		return kindJobStart
	case "SparkListenerJobEnd":
		return kindJobEnd
	case "SparkListenerStageSubmitted":
		return kindStageSubmitted
	case "SparkListenerStageCompleted":
		return kindStageCompleted
	case "SparkListenerTaskStart":
		return kindTaskStart
	case "SparkListenerTaskEnd":
		return kindTaskEnd
	case "SparkListenerExecutorAdded":
		return kindExecutorAdded
	case "SparkListenerExecutorRemoved":
		return kindExecutorRemoved
	case "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart":
		return kindSQLStart
	case "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd":
		return kindSQLEnd
	}
	return kindOther
}

// missing marks an id field the line did not set: decode fills required ids with it before
// unmarshaling, since encoding/json leaves absent fields untouched and Spark's ids are never
// negative. This spares a pointer (and an allocation) per id per line.
const missing = -1

// The event structs below name only the members the summary uses; encoding/json skips the
// rest of a line (RDD infos, accumulables, plans, properties) without allocating for it.

type logStartEvent struct {
	SparkVersion string `json:"Spark Version"`
}

type appStartEvent struct {
	AppName      string `json:"App Name"`
	AppID        string `json:"App ID"`
	AppAttemptID string `json:"App Attempt ID"`
	Timestamp    int64  `json:"Timestamp"`
	User         string `json:"User"`
}

type appEndEvent struct {
	Timestamp int64 `json:"Timestamp"`
	// ExitCode stays raw until checked (exitCode): encoding/json would leave an *int
	// pointing at a made-up 0 when the value has the wrong type.
	ExitCode json.RawMessage `json:"ExitCode"`
}

type stageInfoRef struct {
	StageID  int    `json:"Stage ID"`
	Name     string `json:"Stage Name"`
	NumTasks int    `json:"Number of Tasks"`
}

type jobStartEvent struct {
	JobID          int            `json:"Job ID"`
	SubmissionTime int64          `json:"Submission Time"`
	StageInfos     []stageInfoRef `json:"Stage Infos"`
	StageIDs       []int          `json:"Stage IDs"`
	Properties     struct {
		Description    string `json:"spark.job.description"`
		JobGroup       string `json:"spark.jobGroup.id"`
		SQLExecutionID string `json:"spark.sql.execution.id"`
	} `json:"Properties"`
}

type jobEndEvent struct {
	JobID          int   `json:"Job ID"`
	CompletionTime int64 `json:"Completion Time"`
	JobResult      struct {
		Result    string `json:"Result"`
		Exception struct {
			Message string `json:"Message"`
		} `json:"Exception"`
	} `json:"Job Result"`
}

type stageInfo struct {
	StageID        int    `json:"Stage ID"`
	AttemptID      int    `json:"Stage Attempt ID"` // absent before Spark 1.2: attempt 0
	Name           string `json:"Stage Name"`
	NumTasks       int    `json:"Number of Tasks"`
	SubmissionTime int64  `json:"Submission Time"`
	CompletionTime int64  `json:"Completion Time"`
	FailureReason  string `json:"Failure Reason"`
}

type stageEvent struct {
	StageInfo stageInfo `json:"Stage Info"`
}

type taskStartEvent struct {
	StageID        int `json:"Stage ID"`
	StageAttemptID int `json:"Stage Attempt ID"`
}

type taskEndEvent struct {
	StageID        int `json:"Stage ID"`
	StageAttemptID int `json:"Stage Attempt ID"`
	EndReason      struct {
		Reason string `json:"Reason"`
	} `json:"Task End Reason"`
	TaskInfo struct {
		ExecutorID  string `json:"Executor ID"`
		Speculative bool   `json:"Speculative"`
		Failed      bool   `json:"Failed"`
		Killed      bool   `json:"Killed"`
		FinishTime  int64  `json:"Finish Time"`
	} `json:"Task Info"`
	Metrics taskMetrics `json:"Task Metrics"`
}

type taskMetrics struct {
	ExecutorRunTime    int64 `json:"Executor Run Time"`
	ExecutorCPUTime    int64 `json:"Executor CPU Time"`
	JVMGCTime          int64 `json:"JVM GC Time"`
	MemoryBytesSpilled int64 `json:"Memory Bytes Spilled"`
	DiskBytesSpilled   int64 `json:"Disk Bytes Spilled"`
	ShuffleRead        struct {
		RemoteBytesRead  int64 `json:"Remote Bytes Read"`
		LocalBytesRead   int64 `json:"Local Bytes Read"`
		TotalRecordsRead int64 `json:"Total Records Read"`
	} `json:"Shuffle Read Metrics"`
	ShuffleWrite struct {
		BytesWritten   int64 `json:"Shuffle Bytes Written"`
		RecordsWritten int64 `json:"Shuffle Records Written"`
	} `json:"Shuffle Write Metrics"`
	Input struct {
		BytesRead   int64 `json:"Bytes Read"`
		RecordsRead int64 `json:"Records Read"`
	} `json:"Input Metrics"`
	Output struct {
		BytesWritten   int64 `json:"Bytes Written"`
		RecordsWritten int64 `json:"Records Written"`
	} `json:"Output Metrics"`
}

type executorAddedEvent struct {
	Timestamp    int64  `json:"Timestamp"`
	ExecutorID   string `json:"Executor ID"`
	ExecutorInfo struct {
		Host       string `json:"Host"`
		TotalCores int    `json:"Total Cores"`
	} `json:"Executor Info"`
}

type executorRemovedEvent struct {
	Timestamp     int64  `json:"Timestamp"`
	ExecutorID    string `json:"Executor ID"`
	RemovedReason string `json:"Removed Reason"`
}

type sqlStartEvent struct {
	ExecutionID int64  `json:"executionId"`
	Description string `json:"description"`
	Time        int64  `json:"time"`
}

type sqlEndEvent struct {
	ExecutionID  int64  `json:"executionId"`
	Time         int64  `json:"time"`
	ErrorMessage string `json:"errorMessage"` // Spark 3.4 and later, when the query failed
}

// decoder turns one line into one event. It keeps one struct per kind and reuses it, so
// decoding a line allocates only the strings the summary may keep.
type decoder struct {
	logStart        logStartEvent
	appStart        appStartEvent
	appEnd          appEndEvent
	jobStart        jobStartEvent
	jobEnd          jobEndEvent
	stage           stageEvent
	taskStart       taskStartEvent
	taskEnd         taskEndEvent
	executorAdded   executorAddedEvent
	executorRemoved executorRemovedEvent
	sqlStart        sqlStartEvent
	sqlEnd          sqlEndEvent
}

// envelope is the slow path for lines whose "Event" is not their first member.
type envelope struct {
	Event string `json:"Event"`
}

// decode parses one line (without its line break) into the decoder's struct for its kind and
// returns the event's name (valid until the next call) and kind.
//
// kindInvalid with an error means the line is not a usable event: not a JSON object, no
// string "Event", or an event the summary uses without the id it is keyed by. A valid kind
// with an error means a member had an unexpected JSON type: the event is usable, that member
// is left zero, and the caller should say so.
func (d *decoder) decode(line []byte) ([]byte, kind, error) {
	name, ok := peekEvent(line)
	if !ok {
		var env envelope
		if err := json.Unmarshal(line, &env); err != nil {
			return nil, kindInvalid, err
		}
		if env.Event == "" {
			return nil, kindInvalid, errors.New(`no "Event" member`)
		}
		name = []byte(env.Event)
	}
	k := kindOf(name)
	var target any
	switch k {
	case kindOther:
		// Validate without decoding: a skipped line still has to be a whole JSON value, or a
		// log cut in the middle of one would pass unnoticed.
		if !json.Valid(line) {
			return nil, kindInvalid, syntaxError(line)
		}
		return name, k, nil
	case kindLogStart:
		d.logStart = logStartEvent{}
		target = &d.logStart
	case kindAppStart:
		d.appStart = appStartEvent{}
		target = &d.appStart
	case kindAppEnd:
		d.appEnd = appEndEvent{}
		target = &d.appEnd
	case kindJobStart:
		d.jobStart = jobStartEvent{JobID: missing, StageInfos: d.jobStart.StageInfos[:0], StageIDs: d.jobStart.StageIDs[:0]}
		target = &d.jobStart
	case kindJobEnd:
		d.jobEnd = jobEndEvent{JobID: missing}
		target = &d.jobEnd
	case kindStageSubmitted, kindStageCompleted:
		d.stage = stageEvent{StageInfo: stageInfo{StageID: missing}}
		target = &d.stage
	case kindTaskStart:
		d.taskStart = taskStartEvent{StageID: missing}
		target = &d.taskStart
	case kindTaskEnd:
		d.taskEnd = taskEndEvent{StageID: missing}
		target = &d.taskEnd
	case kindExecutorAdded:
		d.executorAdded = executorAddedEvent{}
		target = &d.executorAdded
	case kindExecutorRemoved:
		d.executorRemoved = executorRemovedEvent{}
		target = &d.executorRemoved
	case kindSQLStart:
		d.sqlStart = sqlStartEvent{ExecutionID: missing}
		target = &d.sqlStart
	case kindSQLEnd:
		d.sqlEnd = sqlEndEvent{ExecutionID: missing}
		target = &d.sqlEnd
	}
	var typeErr error
	if err := json.Unmarshal(line, target); err != nil {
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) {
			return nil, kindInvalid, err
		}
		typeErr = err
	}
	if err := d.checkIDs(k); err != nil {
		return nil, kindInvalid, fmt.Errorf("%s: %w", name, err)
	}
	if k == kindAppEnd && typeErr == nil {
		if _, ok, err := d.appEnd.exitCode(); !ok && err != nil {
			typeErr = err
		}
	}
	return name, k, typeErr
}

// exitCode returns the ApplicationEnd's exit code, if it has one that is an integer.
func (e *appEndEvent) exitCode() (int, bool, error) {
	raw := string(bytes.TrimSpace(e.ExitCode))
	if raw == "" || raw == "null" {
		return 0, false, nil
	}
	code, err := strconv.Atoi(raw)
	if err != nil {
		return 0, false, fmt.Errorf("ExitCode %.40s is not an integer", raw)
	}
	return code, true, nil
}

// checkIDs refuses events that lack the id the summary files them under: attributing them
// to id 0 would corrupt a real entry.
func (d *decoder) checkIDs(k kind) error {
	switch {
	case k == kindJobStart && d.jobStart.JobID < 0,
		k == kindJobEnd && d.jobEnd.JobID < 0:
		return errors.New("no Job ID")
	case (k == kindStageSubmitted || k == kindStageCompleted) && d.stage.StageInfo.StageID < 0:
		return errors.New("no Stage Info.Stage ID")
	case k == kindTaskStart && d.taskStart.StageID < 0,
		k == kindTaskEnd && d.taskEnd.StageID < 0:
		return errors.New("no Stage ID")
	case k == kindExecutorAdded && d.executorAdded.ExecutorID == "",
		k == kindExecutorRemoved && d.executorRemoved.ExecutorID == "":
		return errors.New("no Executor ID")
	case k == kindSQLStart && d.sqlStart.ExecutionID < 0,
		k == kindSQLEnd && d.sqlEnd.ExecutionID < 0:
		return errors.New("no executionId")
	}
	return nil
}

// peekEvent reads the "Event" value when it is the line's first member, which is how Spark
// writes every event. It lets decode pick the event's struct (or skip decoding) without a
// second pass over the line; the full parse that follows still validates the whole line.
// It declines (false) anything unusual, such as escapes in the name, and decode falls back
// to a generic parse.
func peekEvent(line []byte) ([]byte, bool) {
	rest := skipSpace(line)
	if len(rest) == 0 || rest[0] != '{' {
		return nil, false
	}
	rest = skipSpace(rest[1:])
	const key = `"Event"`
	if !bytes.HasPrefix(rest, []byte(key)) {
		return nil, false
	}
	rest = skipSpace(rest[len(key):])
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = skipSpace(rest[1:])
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	rest = rest[1:]
	end := bytes.IndexByte(rest, '"')
	if end <= 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return nil, false
	}
	return rest[:end], true
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// syntaxError recovers the parser's own message for a line json.Valid refused.
func syntaxError(line []byte) error {
	var v any
	if err := json.Unmarshal(line, &v); err != nil {
		return err
	}
	return errors.New("invalid JSON")
}
