package eventlog

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultMaxLineBytes bounds one line when Builder.MaxLineBytes is zero. Spark's longest
	// lines are SQL plans and the environment; 128 MiB is far beyond any seen in practice
	// while still capping what one line can cost.
	DefaultMaxLineBytes = 128 << 20

	readBufferBytes = 256 << 10 // lines up to this size are decoded in place, without a copy
	keepLineBytes   = 4 << 20   // a long-line buffer larger than this is dropped after use
	maxEventTypes   = 256       // distinct names EventCounts.ByType holds
	maxEndReasons   = 32        // distinct end reasons a stage counts; more go under "other"
	maxLineNotes    = 20        // notes about single lines; later ones are only counted
)

// Builder rebuilds a Summary from an event log fed to it in order, one file (or stream) at a
// time. Its zero value is ready to use. Memory stays proportional to the summary (jobs,
// stage attempts, executors, SQL executions) plus the longest line, never to the log: task
// events are folded into their stage attempt as they are read.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	// MaxLineBytes caps one line (without its line break); a longer line is skipped (and
	// noted) rather than held. Zero means DefaultMaxLineBytes.
	MaxLineBytes int

	st   *state
	dec  decoder
	long []byte // assembles lines longer than the read buffer
}

// ReadFrom reads one uncompressed event log stream to its end and folds its events into the
// summary. It implements io.ReaderFrom. Corrupt, cut and unknown lines are noted in the
// summary, never returned as errors: the error is only ever the reader's own.
func (b *Builder) ReadFrom(r io.Reader) (int64, error) {
	return b.read("", r)
}

// ReadLog is ReadFrom for one named file of a log (a single-file log, or one events_<n>_
// file of a rolling one): the name prefixes the notes about its lines, a name ending in
// ".inprogress" is noted as unfinished, and a name that says the file is compressed is
// refused with a *CodecError before anything is read, since this package decodes no codec.
func (b *Builder) ReadLog(name string, r io.Reader) error {
	inProgress, codec := parseLogName(name)
	if codec != "" {
		return &CodecError{File: name, Codec: codec}
	}
	st := b.state()
	if inProgress {
		st.note(fmt.Sprintf("%s: the file name ends in %s: Spark was still writing this log", name, inProgressSuffix))
	}
	_, err := b.read(name, r)
	return err
}

// Summary returns the summary of everything read so far. It may be called at any time, and
// reading may go on afterwards; each call returns a new Summary that shares nothing with the
// Builder.
func (b *Builder) Summary() *Summary {
	return b.state().summary()
}

func (b *Builder) state() *state {
	if b.st == nil {
		b.st = newState()
	}
	return b.st
}

// read splits r into lines and hands each to the state. Lines that fit the read buffer are
// decoded where they lie; longer ones are assembled in b.long up to MaxLineBytes.
func (b *Builder) read(src string, r io.Reader) (int64, error) {
	st := b.state()
	limit := b.MaxLineBytes
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	br := bufio.NewReaderSize(r, readBufferBytes)
	var total int64
	lineNo := 0
	for {
		chunk, err := br.ReadSlice('\n')
		total += int64(len(chunk))
		line := chunk
		if errors.Is(err, bufio.ErrBufferFull) {
			// Assemble the line, but stop holding it once it is over the limit: the rest is
			// only read past, so a runaway line costs no more than the limit.
			b.long = append(b.long[:0], chunk...)
			for errors.Is(err, bufio.ErrBufferFull) {
				chunk, err = br.ReadSlice('\n')
				total += int64(len(chunk))
				if len(b.long) <= limit+2 {
					b.long = append(b.long, chunk...)
				}
			}
			line = b.long
		}
		if len(line) > 0 {
			lineNo++
			terminated := line[len(line)-1] == '\n'
			content := bytes.TrimRight(line, "\r\n")
			if len(content) > limit {
				st.lostLine(src, lineNo, fmt.Sprintf("longer than the %d-byte line limit; skipped", limit))
			} else {
				st.line(&b.dec, src, lineNo, content, terminated)
			}
		}
		if cap(b.long) > keepLineBytes {
			b.long = nil
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			st.readFailed = true
			where := "event log"
			if src != "" {
				where = src
			}
			st.note(fmt.Sprintf("%s: reading stopped after line %d: %v", where, lineNo, err))
			return total, fmt.Errorf("read %s after line %d: %w", where, lineNo, err)
		}
	}
}

// state is what the Builder keeps between lines: the summary's entries, keyed for the
// events that update them, and a few indexes that are themselves part of the summary's size.
type state struct {
	app                  Application
	appStarted, appEnded bool
	lastEvent            int64

	jobs      map[int]*jobState
	active    map[int]*jobState // jobs started and not ended, for stage-to-job attribution
	stageJobs map[int][]int     // stage id -> jobs listing it (Stage IDs of JobStart)
	stages    map[stageKey]*stageState
	executors map[string]*Executor
	execOrder []string
	sql       map[int64]*SQLExecution

	counts        EventCounts
	types         map[string]*int64
	notes         []string
	lineNotes     int   // notes about single lines so far
	lineNotesLost int   // notes about single lines not kept
	lost          int64 // lines that were not usable events
	typeErrors    int64
	missingEvents bool // a rolling log's earlier files were compacted away or are missing
	readFailed    bool
}

type stageKey struct{ id, attempt int }

type jobState struct {
	Job
	ended  bool
	stages []stageInfoRef // every stage of the job with its task count
}

type stageState struct {
	Stage
	started   int64 // TaskStart events
	ended     int64 // TaskEnd events
	submitted bool  // StageSubmitted or StageCompleted seen
}

func newState() *state {
	return &state{
		jobs:      map[int]*jobState{},
		active:    map[int]*jobState{},
		stageJobs: map[int][]int{},
		stages:    map[stageKey]*stageState{},
		executors: map[string]*Executor{},
		sql:       map[int64]*SQLExecution{},
		types:     map[string]*int64{},
	}
}

// line decodes one line and folds it into the state.
func (st *state) line(d *decoder, src string, no int, line []byte, terminated bool) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	name, k, err := d.decode(line)
	if k == kindInvalid {
		if !terminated {
			st.lostLine(src, no, fmt.Sprintf("cut short: the log ends in the middle of an event (%v)", err))
		} else {
			st.lostLine(src, no, fmt.Sprintf("not a Spark event: %v", err))
		}
		return
	}
	st.counts.Lines++
	st.countType(name)
	if err != nil {
		st.typeErrors++
		st.lineNote(src, no, fmt.Sprintf("%s: a member has an unexpected type, left out: %v", name, err))
	}
	switch k {
	case kindOther:
		st.counts.Skipped++
	case kindLogStart:
		st.app.SparkVersion = d.logStart.SparkVersion
	case kindAppStart:
		e := &d.appStart
		st.appStarted = true
		st.app.ID, st.app.AttemptID, st.app.Name, st.app.User = e.AppID, e.AppAttemptID, e.AppName, e.User
		st.app.StartTime = st.at(e.Timestamp)
	case kindAppEnd:
		st.appEnded = true
		st.app.EndTime = st.at(d.appEnd.Timestamp)
		st.app.ExitCode = nil
		if code, ok, _ := d.appEnd.exitCode(); ok {
			st.app.ExitCode = &code
		}
	case kindJobStart:
		st.jobStart(&d.jobStart)
	case kindJobEnd:
		st.jobEnd(&d.jobEnd)
	case kindStageSubmitted:
		st.stageSubmitted(&d.stage.StageInfo)
	case kindStageCompleted:
		st.stageCompleted(&d.stage.StageInfo)
	case kindTaskStart:
		st.stage(d.taskStart.StageID, d.taskStart.StageAttemptID).started++
	case kindTaskEnd:
		st.taskEnd(&d.taskEnd)
	case kindExecutorAdded:
		e := &d.executorAdded
		ex := st.executor(e.ExecutorID)
		ex.Host, ex.TotalCores, ex.AddTime = e.ExecutorInfo.Host, e.ExecutorInfo.TotalCores, st.at(e.Timestamp)
	case kindExecutorRemoved:
		e := &d.executorRemoved
		ex := st.executor(e.ExecutorID)
		ex.RemoveTime, ex.RemovedReason = st.at(e.Timestamp), e.RemovedReason
	case kindSQLStart:
		e := &d.sqlStart
		q := st.sqlExecution(e.ExecutionID)
		q.Description, q.StartTime = e.Description, st.at(e.Time)
	case kindSQLEnd:
		e := &d.sqlEnd
		q := st.sqlExecution(e.ExecutionID)
		q.EndTime, q.ErrorMessage = st.at(e.Time), e.ErrorMessage
	}
}

func (st *state) jobStart(e *jobStartEvent) {
	j := st.job(e.JobID)
	j.SubmissionTime = st.at(e.SubmissionTime)
	j.Description, j.JobGroup = e.Properties.Description, e.Properties.JobGroup
	j.stages = j.stages[:0]
	j.StageIDs = j.StageIDs[:0]
	j.NumTasks = 0
	infos := make(map[int]stageInfoRef, len(e.StageInfos))
	last := -1
	for _, si := range e.StageInfos {
		infos[si.StageID] = si
		if si.StageID > last { // the UI names a job after its last stage
			last, j.Name = si.StageID, si.Name
		}
	}
	ids := e.StageIDs
	if len(ids) == 0 { // Stage IDs and Stage Infos name the same stages; either will do
		for _, si := range e.StageInfos {
			ids = append(ids, si.StageID)
		}
	}
	for _, id := range ids {
		ref := infos[id]
		ref.StageID = id
		ref.Name = "" // the job keeps only ids and task counts
		j.stages = append(j.stages, ref)
		j.StageIDs = append(j.StageIDs, id)
		j.NumTasks += int64(ref.NumTasks)
		st.stageJobs[id] = append(st.stageJobs[id], j.ID)
	}
	if raw := e.Properties.SQLExecutionID; raw != "" {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
			j.SQLExecutionID = &id
			q := st.sqlExecution(id)
			q.JobIDs = append(q.JobIDs, j.ID)
		}
	}
	if !j.ended {
		st.active[j.ID] = j
	}
}

func (st *state) jobEnd(e *jobEndEvent) {
	j := st.job(e.JobID)
	j.ended = true
	delete(st.active, j.ID)
	j.CompletionTime = st.at(e.CompletionTime)
	j.Result = e.JobResult.Result
	j.FailureReason = e.JobResult.Exception.Message
}

func (st *state) stageSubmitted(si *stageInfo) {
	s := st.stage(si.StageID, si.AttemptID)
	s.fill(st, si)
}

func (st *state) stageCompleted(si *stageInfo) {
	s := st.stage(si.StageID, si.AttemptID)
	s.fill(st, si)
	s.CompletionTime = st.at(si.CompletionTime)
	s.FailureReason = si.FailureReason
	if si.FailureReason != "" {
		s.Status = StageFailed
	} else {
		s.Status = StageComplete
	}
}

func (s *stageState) fill(st *state, si *stageInfo) {
	s.submitted = true
	s.Name, s.NumTasks = si.Name, si.NumTasks
	if si.SubmissionTime > 0 {
		s.SubmissionTime = st.at(si.SubmissionTime)
	}
}

func (st *state) taskEnd(e *taskEndEvent) {
	s := st.stage(e.StageID, e.StageAttemptID)
	s.ended++
	reason := e.EndReason.Reason
	if reason == "" { // logs without a TaskEndReason: fall back on the task's own flags
		switch {
		case e.TaskInfo.Killed:
			reason = "TaskKilled"
		case e.TaskInfo.Failed:
			reason = "UnknownReason"
		default:
			reason = "Success"
		}
	}
	if _, ok := s.EndReasons[reason]; !ok && len(s.EndReasons) >= maxEndReasons {
		reason = "other"
	}
	s.EndReasons[reason]++
	s.Tasks.count(reason, e.TaskInfo.Speculative)
	if ex, ok := st.executors[e.TaskInfo.ExecutorID]; ok {
		ex.Tasks.count(reason, e.TaskInfo.Speculative)
	}
	st.seen(e.TaskInfo.FinishTime)

	m, t := &s.Metrics, &e.Metrics
	m.ExecutorRunTimeMs += t.ExecutorRunTime
	m.ExecutorCPUTimeNs += t.ExecutorCPUTime
	m.JVMGCTimeMs += t.JVMGCTime
	m.InputBytes += t.Input.BytesRead
	m.InputRecords += t.Input.RecordsRead
	m.OutputBytes += t.Output.BytesWritten
	m.OutputRecords += t.Output.RecordsWritten
	m.ShuffleRemoteBytesRead += t.ShuffleRead.RemoteBytesRead
	m.ShuffleLocalBytesRead += t.ShuffleRead.LocalBytesRead
	m.ShuffleReadBytes += t.ShuffleRead.RemoteBytesRead + t.ShuffleRead.LocalBytesRead
	m.ShuffleReadRecords += t.ShuffleRead.TotalRecordsRead
	m.ShuffleWriteBytes += t.ShuffleWrite.BytesWritten
	m.ShuffleWriteRecords += t.ShuffleWrite.RecordsWritten
	m.MemoryBytesSpilled += t.MemoryBytesSpilled
	m.DiskBytesSpilled += t.DiskBytesSpilled
}

// count files one ended task the way Spark's UI does (AppStatusListener.onTaskEnd).
func (c *TaskCounts) count(reason string, speculative bool) {
	switch reason {
	case "Success":
		c.Completed++
	case "TaskKilled", "TaskCommitDenied":
		c.Killed++
	default:
		c.Failed++
	}
	if speculative {
		c.Speculative++
	}
}

func (st *state) job(id int) *jobState {
	j, ok := st.jobs[id]
	if !ok {
		j = &jobState{Job: Job{ID: id}}
		st.jobs[id] = j
	}
	return j
}

// stage returns the state of one stage attempt, creating it on first sight. A new attempt
// belongs to the running jobs that list its stage, as Spark attributes it.
func (st *state) stage(id, attempt int) *stageState {
	key := stageKey{id, attempt}
	s, ok := st.stages[key]
	if !ok {
		s = &stageState{Stage: Stage{StageID: id, AttemptID: attempt, Status: StageActive, EndReasons: map[string]int64{}}}
		for _, jid := range st.stageJobs[id] {
			if _, running := st.active[jid]; running && !slices.Contains(s.JobIDs, jid) {
				s.JobIDs = append(s.JobIDs, jid)
			}
		}
		st.stages[key] = s
	}
	return s
}

func (st *state) executor(id string) *Executor {
	ex, ok := st.executors[id]
	if !ok {
		ex = &Executor{ID: id}
		st.executors[id] = ex
		st.execOrder = append(st.execOrder, id)
	}
	return ex
}

func (st *state) sqlExecution(id int64) *SQLExecution {
	q, ok := st.sql[id]
	if !ok {
		q = &SQLExecution{ExecutionID: id}
		st.sql[id] = q
	}
	return q
}

// at converts one of Spark's epoch-millisecond timestamps and remembers the latest one.
// Spark writes 0 or -1 for times it does not know; those become the zero time.
func (st *state) at(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	st.seen(ms)
	return time.UnixMilli(ms).UTC()
}

func (st *state) seen(ms int64) {
	if ms > st.lastEvent {
		st.lastEvent = ms
	}
}

func (st *state) countType(name []byte) {
	if p, ok := st.types[string(name)]; ok { // a lookup with string(b) does not allocate
		*p++
		return
	}
	if len(st.types) >= maxEventTypes {
		st.counts.Untyped++
		return
	}
	n := int64(1)
	st.types[string(name)] = &n
}

// lostLine counts a line that could not be used and says why.
func (st *state) lostLine(src string, no int, why string) {
	st.counts.Lines++
	st.counts.Corrupt++
	st.lost++
	st.lineNote(src, no, why)
}

func (st *state) lineNote(src string, no int, msg string) {
	if st.lineNotes >= maxLineNotes {
		st.lineNotesLost++
		return
	}
	st.lineNotes++
	where := fmt.Sprintf("line %d", no)
	if src != "" {
		where = src + ": " + where
	}
	st.note(where + ": " + msg)
}

func (st *state) note(msg string) {
	st.notes = append(st.notes, msg)
}

// summary assembles a Summary from the state without changing it, so reading can go on.
func (st *state) summary() *Summary {
	s := &Summary{
		Application: st.app,
		Jobs:        make([]Job, 0, len(st.jobs)),
		Stages:      make([]Stage, 0, len(st.stages)),
		Executors:   make([]Executor, 0, len(st.executors)),
		SQL:         make([]SQLExecution, 0, len(st.sql)),
		Events:      st.counts,
		Notes:       slices.Clone(st.notes),
	}
	s.Events.ByType = make(map[string]int64, len(st.types))
	for name, n := range st.types {
		s.Events.ByType[name] = *n
	}
	if st.lastEvent > 0 {
		s.Application.LastEventTime = time.UnixMilli(st.lastEvent).UTC()
	}
	if st.app.ExitCode != nil {
		code := *st.app.ExitCode
		s.Application.ExitCode = &code
	}
	s.Application.DurationMs = durationMs(st.app.StartTime, st.app.EndTime)

	// Jobs first, so that each stage attempt can add what it ran to the jobs it belongs to.
	for _, j := range st.jobs {
		job := j.Job
		job.StageIDs = slices.Clone(j.StageIDs)
		if job.StageIDs == nil {
			job.StageIDs = []int{}
		}
		if j.SQLExecutionID != nil {
			id := *j.SQLExecutionID
			job.SQLExecutionID = &id
		}
		job.DurationMs = durationMs(job.SubmissionTime, job.CompletionTime)
		switch {
		case !j.ended:
			job.Status = JobRunning
		case j.Result == "JobSucceeded":
			job.Status = JobSucceeded
		default:
			job.Status = JobFailed
		}
		s.Jobs = append(s.Jobs, job)
	}
	slices.SortFunc(s.Jobs, func(a, b Job) int { return cmp.Compare(a.ID, b.ID) })
	byJob := make(map[int]*Job, len(s.Jobs))
	for i := range s.Jobs {
		byJob[s.Jobs[i].ID] = &s.Jobs[i]
	}
	ranFor := map[int]map[int]bool{}    // job id -> stage ids that ran for it
	completed := map[int]map[int]bool{} // job id -> stage ids with a COMPLETE attempt for it
	activeStages, orphans := 0, 0
	for _, ss := range st.stages {
		stage := ss.Stage
		stage.JobIDs = slices.Clone(ss.JobIDs)
		if stage.JobIDs == nil {
			stage.JobIDs = []int{}
		}
		stage.EndReasons = maps.Clone(ss.EndReasons)
		stage.DurationMs = durationMs(stage.SubmissionTime, stage.CompletionTime)
		if active := ss.started - ss.ended; active > 0 {
			stage.Tasks.Active = active
		}
		if stage.Status == StageActive {
			activeStages++
		}
		if !ss.submitted {
			orphans++
		}
		for _, jid := range stage.JobIDs {
			job, ok := byJob[jid]
			if !ok {
				continue
			}
			if ranFor[jid] == nil {
				ranFor[jid] = map[int]bool{}
				completed[jid] = map[int]bool{}
			}
			ranFor[jid][stage.StageID] = true
			job.NumCompletedTasks += stage.Tasks.Completed
			job.NumFailedTasks += stage.Tasks.Failed
			job.NumKilledTasks += stage.Tasks.Killed
			switch stage.Status {
			case StageComplete:
				completed[jid][stage.StageID] = true
			case StageFailed:
				job.NumFailedStages++
			}
		}
		s.Stages = append(s.Stages, stage)
	}
	slices.SortFunc(s.Stages, func(a, b Stage) int {
		return cmp.Or(cmp.Compare(a.StageID, b.StageID), cmp.Compare(a.AttemptID, b.AttemptID))
	})
	runningJobs := 0
	for i := range s.Jobs {
		job := &s.Jobs[i]
		j := st.jobs[job.ID]
		job.NumCompletedStages = len(completed[job.ID])
		if !j.ended {
			runningJobs++
			continue // a stage that has not run yet may still run: nothing is skipped
		}
		for _, ref := range j.stages {
			if !ranFor[job.ID][ref.StageID] {
				job.SkippedStageIDs = append(job.SkippedStageIDs, ref.StageID)
				job.NumSkippedTasks += int64(ref.NumTasks)
			}
		}
		job.NumSkippedStages = len(job.SkippedStageIDs)
	}

	for _, id := range st.execOrder {
		s.Executors = append(s.Executors, *st.executors[id])
	}

	for _, q := range st.sql {
		sq := *q
		sq.JobIDs = slices.Clone(q.JobIDs)
		if sq.JobIDs == nil {
			sq.JobIDs = []int{}
		}
		sq.DurationMs = durationMs(sq.StartTime, sq.EndTime)
		failedJob := false
		for _, jid := range sq.JobIDs {
			if job, ok := byJob[jid]; ok && job.Status == JobFailed {
				failedJob = true
			}
		}
		switch {
		case sq.ErrorMessage != "" || failedJob:
			sq.Status = SQLFailed
		case !sq.EndTime.IsZero():
			sq.Status = SQLCompleted
		default:
			sq.Status = SQLRunning
		}
		s.SQL = append(s.SQL, sq)
	}
	slices.SortFunc(s.SQL, func(a, b SQLExecution) int { return cmp.Compare(a.ExecutionID, b.ExecutionID) })

	s.Notes = append(s.Notes, st.closingNotes(runningJobs, activeStages, orphans)...)
	s.Complete = st.appEnded && st.lost == 0 && !st.missingEvents && !st.readFailed
	return s
}

// closingNotes says what is missing from the log as a whole.
func (st *state) closingNotes(runningJobs, activeStages, orphans int) []string {
	var notes []string
	if st.lineNotesLost > 0 {
		notes = append(notes, fmt.Sprintf("%d more lines had problems; only the first %d are described", st.lineNotesLost, maxLineNotes))
	}
	if st.counts.Lines == 0 {
		notes = append(notes, "the log holds no events")
		return notes
	}
	if !st.appStarted {
		notes = append(notes, "no SparkListenerApplicationStart: the log does not begin at the application's start, so its id, name and start time are unknown")
	}
	if !st.appEnded {
		notes = append(notes, "no SparkListenerApplicationEnd: the application was still running, or its driver died or its log was cut before the end")
	}
	var open []string
	if runningJobs > 0 {
		open = append(open, fmt.Sprintf("%d jobs without SparkListenerJobEnd", runningJobs))
	}
	if activeStages > 0 {
		open = append(open, fmt.Sprintf("%d stage attempts without SparkListenerStageCompleted", activeStages))
	}
	if len(open) > 0 {
		notes = append(notes, strings.Join(open, ", ")+": shown as "+JobRunning+" and "+StageActive)
	}
	if orphans > 0 {
		notes = append(notes, fmt.Sprintf("%d stage attempts have task events but no SparkListenerStageSubmitted or StageCompleted: their name and times are unknown", orphans))
	}
	if st.typeErrors > 0 {
		notes = append(notes, fmt.Sprintf("%d events had a member of an unexpected type, which was left out", st.typeErrors))
	}
	if st.counts.Untyped > 0 {
		notes = append(notes, fmt.Sprintf("more than %d event types: %d events of further types are not listed by type", maxEventTypes, st.counts.Untyped))
	}
	return notes
}

func durationMs(from, to time.Time) int64 {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return 0
	}
	return to.Sub(from).Milliseconds()
}
