package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Logs streams the logs of a job run's pods as the Kubernetes API server serves them
// (pods/log). It lives outside this package because it needs the per-cluster clients.
type Logs interface {
	// Stream writes the log lines q asks for to w, calling flush after each line, until the
	// log ends or ctx does (a follow ends only with ctx). An error before anything was
	// written is the answer; a pod that no longer exists wraps jobs.ErrNotFound.
	Stream(ctx context.Context, run jobs.JobRun, q LogQuery, w io.Writer, flush func()) error
}

// LogQuery is what a logs request asks for.
type LogQuery struct {
	// Executor is "" for the driver, AllExecutors for every executor, else an executor id.
	Executor string
	// Follow keeps the stream open for new lines.
	Follow bool
	// Since, when not zero, starts the log that long ago; SinceTime, when not zero, at that
	// time. At most one is set.
	Since     time.Duration
	SinceTime time.Time
	// Tail, when not nil, is how many of the last lines to start with.
	Tail *int64
}

// AllExecutors is LogQuery.Executor for the logs of every executor, each line prefixed
// with "[exec-<id>] ".
const AllExecutors = "all"

// logsPollInterval is how often a follow reads the run to see whether it has ended.
const logsPollInterval = time.Second

// logsGrace is how long a follow keeps reading after the run ended, for the last lines the
// API server has not passed on yet.
const logsGrace = time.Second

// stream is a handler's answer that writes itself: operation() runs it instead of encoding
// JSON. An error it returns before writing anything is answered as any handler error.
type stream func(w http.ResponseWriter) error

// parseLogQuery reads executor, follow, since and tail; a bad value is a ValidationError
// naming the parameter.
func parseLogQuery(r *http.Request) (LogQuery, error) {
	v := r.URL.Query()
	var q LogQuery
	switch e := v.Get("executor"); {
	case e == "" || e == AllExecutors:
		q.Executor = e
	default:
		if n, err := strconv.Atoi(e); err != nil || n < 1 {
			return q, &jobs.ValidationError{Field: "executor", Rule: "must be an executor id such as 1, or all"}
		}
		q.Executor = e
	}
	if f := v.Get("follow"); f != "" {
		b, err := strconv.ParseBool(f)
		if err != nil {
			return q, &jobs.ValidationError{Field: "follow", Rule: "must be true or false"}
		}
		q.Follow = b
	}
	if s := v.Get("since"); s != "" {
		if d, err := time.ParseDuration(s); err == nil {
			if d <= 0 {
				return q, &jobs.ValidationError{Field: "since", Rule: "must be a positive duration such as 10m, or an RFC 3339 time"}
			}
			q.Since = d
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			q.SinceTime = t
		} else {
			return q, &jobs.ValidationError{Field: "since", Rule: "must be a duration such as 10m, or an RFC 3339 time such as 2024-01-31T12:00:00Z"}
		}
	}
	if t := v.Get("tail"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 0 {
			return q, &jobs.ValidationError{Field: "tail", Rule: "must be a number of lines, 0 or more"}
		}
		q.Tail = &n
	}
	return q, nil
}

// jobRunLogs streams a job run's driver or executor logs as text. A follow ends when the run
// reaches a terminal state, with a last line saying how it ended: kwok, and a kubelet that
// lost its container, never end a follow by themselves.
func (s *Server) jobRunLogs(r *http.Request, _ []byte) (any, error) {
	q, err := parseLogQuery(r)
	if err != nil {
		return nil, err
	}
	run, err := s.svc.DescribeJobRun(r.Context(), r.PathValue("virtualClusterId"), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if run.Attempt.CleanedUp && run.LogURI() == "" {
		return nil, fmt.Errorf("the pods of job run %s are gone (deleted after the run ended), and their logs with them: "+
			"the run had no s3MonitoringConfiguration.logUri, so its container logs were not shipped to S3 (docs/design/logs.md): %w", run.ID, jobs.ErrNotFound)
	}
	if run.Attempt.DriverPod == "" || run.Attempt.Namespace == "" {
		return nil, fmt.Errorf("job run %s (%s) has not started a driver yet, so it has no logs: %w", run.ID, run.State, jobs.ErrNotFound)
	}
	// A run that has ended writes no more lines: its log is read once, not followed.
	q.Follow = q.Follow && !run.State.Terminal()
	return stream(func(w http.ResponseWriter) error {
		rc := http.NewResponseController(w)
		flush := func() { _ = rc.Flush() }
		if !q.Follow {
			return s.logs.Stream(r.Context(), run, q, w, flush)
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		ended := make(chan jobs.JobRun, 1)
		go func() {
			if final, ok := s.waitEnded(ctx, run); ok {
				ended <- final
				// The API server may hold the last lines a moment longer than the run's
				// state took to change.
				select {
				case <-time.After(logsGrace):
				case <-ctx.Done():
				}
			}
			cancel()
		}()
		err := s.logs.Stream(ctx, run, q, w, flush)
		if r.Context().Err() != nil {
			return nil // the client went away
		}
		if err != nil && ctx.Err() == nil {
			return err
		}
		// The stream may end by itself (a kubelet closes it when the container exits)
		// before the run's state changes: wait for that.
		select {
		case final := <-ended:
			msg := fmt.Sprintf("--- job run %s ended %s", final.ID, final.State)
			if final.StateDetails != "" {
				msg += ": " + final.StateDetails
			}
			_, werr := io.WriteString(w, msg+"\n")
			flush()
			return werr
		case <-r.Context().Done():
			return nil
		}
	}), nil
}

// waitEnded reads the run every logsPollInterval until it is terminal (true) or ctx ends.
// Reads that fail are retried: a follow outlives a database hiccup.
func (s *Server) waitEnded(ctx context.Context, run jobs.JobRun) (jobs.JobRun, bool) {
	t := time.NewTicker(logsPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return run, false
		case <-t.C:
		}
		cur, err := s.svc.DescribeJobRun(ctx, run.VirtualClusterID, run.ID)
		if err != nil {
			s.log.Debug("job run logs: read run", "job", run.ID, "err", err)
			continue
		}
		if cur.State.Terminal() {
			return cur, true
		}
	}
}
