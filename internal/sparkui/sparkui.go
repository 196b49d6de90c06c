// Package sparkui serves what a Spark history server would show of a job run, without a
// JVM: it finds the run's event log in S3 (where its driver wrote it, see
// submission.EventLogDir), streams it through internal/eventlog, and returns the application
// summary. A log is read whole on every request, with memory bounded by the summary rather
// than the log; a log Spark is still writing (".inprogress") gives the summary so far.
package sparkui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sparkplane/sparkplane/internal/eventlog"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/logship/s3bucket"
	"github.com/sparkplane/sparkplane/internal/spark"
	"github.com/sparkplane/sparkplane/internal/submission"
)

// Reader finds and reads job runs' event logs.
type Reader struct {
	S3 *s3.Client
	// EventLogURI is the server's default event log location (submission.Planner.EventLogURI).
	EventLogURI string
}

// UI is a job run attempt's application summary and where it was read from.
type UI struct {
	JobRunID string `json:"jobRunId"`
	Attempt  int    `json:"attempt"`
	// AppID is the attempt's spark.app.id.
	AppID string `json:"sparkApplicationId"`
	// EventLog is the S3 URI the summary was read from.
	EventLog string `json:"eventLog"`
	// Summary is what the log says: the application, jobs, stages, executors and SQL
	// executions, with complete false and notes when the log was partial. Its members are
	// the UI's own in JSON.
	*eventlog.Summary
}

// Read returns the summary of a run's attempt (0: its current one). The run's virtual
// cluster must have been checked by the caller. A run whose event logs go nowhere, and a log
// not (yet) in S3, are errors wrapping jobs.ErrNotFound that say why.
func (r *Reader) Read(ctx context.Context, run jobs.JobRun, attempt int) (*UI, error) {
	if attempt == 0 {
		attempt = run.Attempt.Current()
	}
	if attempt < 1 || attempt > run.Attempt.Current() {
		return nil, &jobs.ValidationError{Field: "attempt", Rule: fmt.Sprintf("must be between 1 and %d, the run's attempts so far", run.Attempt.Current())}
	}
	dir := submission.EventLogDir(run, r.EventLogURI)
	if dir == "" {
		return nil, fmt.Errorf("job run %s keeps no Spark event log: its monitoringConfiguration has persistentAppUI DISABLED "+
			"or no s3MonitoringConfiguration.logUri, and the server configures no eventLogUri: %w", run.ID, jobs.ErrNotFound)
	}
	if r.S3 == nil {
		return nil, errors.New("this server has no S3 client to read event logs with")
	}
	u, err := url.Parse(dir)
	if err != nil {
		return nil, fmt.Errorf("event log location %s: %w", dir, err)
	}
	bucket, prefix := u.Host, strings.TrimPrefix(u.Path, "/")+"/"
	app := spark.AppID(run.ID, attempt)
	ui := &UI{JobRunID: run.ID, Attempt: attempt, AppID: app}
	// The file names Spark gives an application's log: one file, finished or not, or a
	// rolling log's directory.
	b := &eventlog.Builder{}
	for _, name := range []string{app, app + ".inprogress"} {
		found, err := r.readObject(ctx, b, bucket, prefix+name, name)
		if err != nil {
			return nil, err
		}
		if found {
			ui.EventLog = "s3://" + bucket + "/" + prefix + name
			ui.Summary = b.Summary()
			return ui, nil
		}
	}
	files, err := r.rollingFiles(ctx, bucket, prefix+"eventlog_v2_"+app+"/")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Spark event log of job run %s attempt %d at %s/%s yet (the driver writes it as it runs, if spark.eventLog.enabled is true): %w",
			run.ID, attempt, dir, app, jobs.ErrNotFound)
	}
	for _, key := range files {
		name := key[strings.LastIndex(key, "/")+1:]
		if _, err := r.readObject(ctx, b, bucket, key, name); err != nil {
			return nil, err
		}
	}
	ui.EventLog = "s3://" + bucket + "/" + prefix + "eventlog_v2_" + app + "/"
	ui.Summary = b.Summary()
	return ui, nil
}

// readObject streams one object into the builder; found is false when it does not exist.
func (r *Reader) readObject(ctx context.Context, b *eventlog.Builder, bucket, key, name string) (bool, error) {
	out, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read event log s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	if err := b.ReadLog(name, out.Body); err != nil {
		return true, fmt.Errorf("read event log s3://%s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// rollingFiles lists a rolling (v2) event log's events_<n>_ files in the order of n.
func (r *Reader) rollingFiles(ctx context.Context, bucket, prefix string) ([]string, error) {
	var keys []string
	err := s3bucket.List(ctx, r.S3, bucket, prefix, "", func(page *s3.ListObjectsV2Output) {
		for _, o := range page.Contents {
			if name := strings.TrimPrefix(aws.ToString(o.Key), prefix); strings.HasPrefix(name, "events_") {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list event log s3://%s/%s: %w", bucket, prefix, err)
	}
	index := func(key string) int {
		name := strings.TrimPrefix(key, prefix)
		n, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(name, "events_"), "_", 2)[0])
		return n
	}
	sort.Slice(keys, func(i, j int) bool { return index(keys[i]) < index(keys[j]) })
	return keys, nil
}
