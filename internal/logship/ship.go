package logship

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Bucket is what the shipper needs of the object store: S3's multipart upload, a plain put
// for a stream that never filled a part, and a size check. Keys are full object keys.
// internal/logship/s3bucket implements it with aws-sdk-go-v2; errors the store answers
// should have ErrorCode and ErrorMessage methods (as the SDK's smithy.APIError does) so that
// the shipper can tell NoSuchUpload and permanent refusals from the rest and report them.
type Bucket interface {
	// Name is the bucket's name, for messages.
	Name() string
	CreateMultipartUpload(ctx context.Context, key string) (uploadID string, err error)
	// UploadPart uploads part number (from 1) and returns its ETag.
	UploadPart(ctx context.Context, key, uploadID string, number int32, body io.ReadSeeker, size int64) (etag string, err error)
	// CompleteMultipartUpload completes the upload from parts 1..len(etags).
	CompleteMultipartUpload(ctx context.Context, key, uploadID string, etags []string) error
	PutObject(ctx context.Context, key string, body io.ReadSeeker, size int64) error
	// ObjectSize returns the size of key, or exists false.
	ObjectSize(ctx context.Context, key string) (size int64, exists bool, err error)
}

// Defaults of the shipper's timing.
const (
	// DefaultDrainTimeout is how long the shipper takes at most to finish once the command
	// has exited or SIGTERM has come: below Kubernetes' default grace period of 30 s.
	DefaultDrainTimeout = 25 * time.Second
	// DefaultPollInterval is how often the log directory is looked at.
	DefaultPollInterval = time.Second
	// MinPartSize is S3's smallest part but the last.
	MinPartSize = 5 << 20
)

// Backoff of the shipper's S3 calls: each call is tried again after retryMin, doubling up to
// retryMax, at most retryAttempts times (permanentAttempts for refusals that waiting rarely
// cures); while the command runs, a stream whose call still fails waits from the poll
// interval doubling up to streamBackoffMax and tries again, for as long as the pod lives.
const (
	retryMin          = 500 * time.Millisecond
	retryMax          = 8 * time.Second
	retryAttempts     = 6
	permanentAttempts = 3
	streamBackoffMax  = time.Minute
)

// Shipper ships a wrapped container's output from Dir to <Prefix>/stdout.gz and
// <Prefix>/stderr.gz in Bucket. See the package documentation for the protocol.
type Shipper struct {
	// Dir is the log directory the wrapper writes.
	Dir    string
	Bucket Bucket
	// Prefix is the key prefix, without a trailing slash (ContainerPrefix).
	Prefix string
	// DrainTimeout bounds the end (0: DefaultDrainTimeout).
	DrainTimeout time.Duration
	// PollInterval is how often Dir is looked at (0: DefaultPollInterval).
	PollInterval time.Duration
	// TerminationLog is the file the outcome is written to; empty writes none.
	TerminationLog string
	// Log receives the shipper's own lines (nil: discarded).
	Log *slog.Logger

	state *stateFile
	// drainCtx is set before drain is closed.
	drainCtx context.Context

	reportMu sync.Mutex
	failing  map[string]string // stream -> its current failure message

	// retryMin and retryMax bound the backoff of S3 calls (0: the package's); tests shorten it.
	retryMin, retryMax time.Duration
}

// Outcome is what a shipper did.
type Outcome struct {
	// Failed is set when a stream could not be shipped.
	Failed bool
	// Message is the termination message (SuccessPrefix or FailurePrefix, one line).
	Message string
	Streams []StreamOutcome
}

// StreamOutcome is what became of one stream.
type StreamOutcome struct {
	Stream string
	// URI is the object, s3://bucket/key.
	URI string
	// Bytes and Compressed are what the object holds, uncompressed and as stored.
	Bytes, Compressed int64
	// DroppedBytes were rotated away before the shipper could take them; UnwrittenBytes
	// never reached the file; LostBytes were in an upload S3 forgot (NoSuchUpload).
	DroppedBytes, UnwrittenBytes, LostBytes int64
	// Err is why the stream was not shipped; nil when it was.
	Err error
}

func (s *Shipper) defaults() {
	if s.DrainTimeout <= 0 {
		s.DrainTimeout = DefaultDrainTimeout
	}
	if s.PollInterval <= 0 {
		s.PollInterval = DefaultPollInterval
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.retryMin <= 0 {
		s.retryMin, s.retryMax = retryMin, retryMax
	}
	s.failing = map[string]string{}
}

func (s *Shipper) key(stream string) string {
	if s.Prefix == "" {
		return ObjectName(stream)
	}
	return s.Prefix + "/" + ObjectName(stream)
}

func (s *Shipper) uri(stream string) string {
	return objectURI(s.Bucket.Name(), s.Prefix, ObjectName(stream))
}

// Run ships until the wrapped command has exited (Dir/exit) or ctx ends (SIGTERM), then
// finishes within DrainTimeout: the rest of the files, the last part, the completion. It
// writes the outcome to TerminationLog and logs it, and returns it. It does not fail: a
// stream that could not be shipped is in the outcome.
func (s *Shipper) Run(ctx context.Context) Outcome {
	s.defaults()
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return s.finishWith(s.failAll(fmt.Errorf("log directory: %w", err)))
	}
	sf, resumed, err := loadState(s.Dir, s.Bucket.Name(), s.Prefix)
	if err != nil {
		return s.finishWith(s.failAll(err))
	}
	s.state = sf
	if resumed {
		s.Log.Info("resuming from the saved state", "dir", s.Dir, "dest", objectURI(s.Bucket.Name(), s.Prefix, ""))
	}
	streams := make([]*streamShipper, len(streamNames))
	for i, name := range streamNames {
		ss, err := s.newStream(name)
		if err != nil {
			return s.finishWith(s.failAll(err))
		}
		defer ss.close()
		streams[i] = ss
	}

	// runCtx ends when the end begins, so that a stream waiting on a call or a backoff turns
	// to finishing at once.
	runCtx, endRun := context.WithCancel(ctx)
	defer endRun()
	drain := make(chan struct{})
	results := make([]StreamOutcome, len(streams))
	var wg sync.WaitGroup
	for i, ss := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = ss.run(runCtx, drain)
		}()
	}
	reason := s.waitForEnd(ctx)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.DrainTimeout)
	defer cancel()
	s.drainCtx = dctx
	s.Log.Info("finishing", "reason", reason, "timeout", s.DrainTimeout)
	close(drain)
	endRun()
	wg.Wait()
	return s.finishWith(s.outcome(results))
}

// waitForEnd returns once the wrapped command has exited or ctx has ended, and says which.
func (s *Shipper) waitForEnd(ctx context.Context) string {
	t := time.NewTicker(s.PollInterval)
	defer t.Stop()
	for {
		if exists(filepath.Join(s.Dir, ExitFile)) {
			return "the command exited"
		}
		select {
		case <-ctx.Done():
			return "stop signal"
		case <-t.C:
		}
	}
}

// finishWith writes the outcome where Kubernetes and people read it.
func (s *Shipper) finishWith(o Outcome) Outcome {
	s.writeTermination(o.Message)
	attrs := []any{"dest", objectURI(s.Bucket.Name(), s.Prefix, "")}
	for _, so := range o.Streams {
		attrs = append(attrs, so.Stream+"Bytes", so.Bytes, so.Stream+"Compressed", so.Compressed)
		if so.DroppedBytes+so.UnwrittenBytes+so.LostBytes > 0 {
			attrs = append(attrs, so.Stream+"Dropped", so.DroppedBytes, so.Stream+"Unwritten", so.UnwrittenBytes, so.Stream+"Lost", so.LostBytes)
		}
	}
	if o.Failed {
		s.Log.Error(o.Message, attrs...)
	} else {
		s.Log.Info(o.Message, attrs...)
	}
	return o
}

func (s *Shipper) writeTermination(msg string) {
	if err := writeTermination(s.TerminationLog, msg); err != nil {
		s.Log.Warn("cannot write the termination message", "error", err.Error())
	}
}

// failAll is the outcome when nothing could be tried.
func (s *Shipper) failAll(err error) Outcome {
	o := Outcome{Failed: true}
	for _, name := range streamNames {
		o.Streams = append(o.Streams, StreamOutcome{Stream: name, URI: s.uri(name), Err: err})
	}
	o.Message = failureMessage(s.uri(streamNames[0]), err)
	return o
}

// outcome sums the streams' results into one message.
func (s *Shipper) outcome(results []StreamOutcome) Outcome {
	o := Outcome{Streams: results}
	var shipped, notes []string
	for i := range results {
		r := &results[i]
		if ws, err := readWrapState(s.Dir, r.Stream); err == nil {
			r.DroppedBytes, r.UnwrittenBytes = ws.DroppedBytes, ws.UnwrittenBytes
		}
		if r.Err != nil {
			if !o.Failed {
				o.Failed, o.Message = true, failureMessage(r.URI, r.Err)
			}
			continue
		}
		shipped = append(shipped, fmt.Sprintf("%s %d bytes to %s", r.Stream, r.Bytes, r.URI))
		if r.DroppedBytes > 0 {
			notes = append(notes, fmt.Sprintf("%d bytes of %s were rotated away before they could be shipped", r.DroppedBytes, r.Stream))
		}
		if r.UnwrittenBytes > 0 {
			notes = append(notes, fmt.Sprintf("%d bytes of %s could not be written to the log volume", r.UnwrittenBytes, r.Stream))
		}
		if r.LostBytes > 0 {
			notes = append(notes, fmt.Sprintf("%d bytes of %s were lost when S3 forgot its multipart upload (NoSuchUpload)", r.LostBytes, r.Stream))
		}
	}
	if !o.Failed {
		o.Message = clip(SuccessPrefix + " " + strings.Join(append([]string{strings.Join(shipped, ", ")}, notes...), "; "))
	}
	return o
}

// reportFailing records that stream is failing, so that a shipper killed while it retries
// leaves the truth in its termination message.
func (s *Shipper) reportFailing(stream, msg string) {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	if s.failing[stream] == msg {
		return
	}
	s.failing[stream] = msg
	s.writeTermination(msg)
}

// reportRecovered clears stream's failure.
func (s *Shipper) reportRecovered(stream string) {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	if _, ok := s.failing[stream]; !ok {
		return
	}
	delete(s.failing, stream)
	msg := ""
	for _, m := range s.failing {
		msg = m
	}
	s.writeTermination(msg)
}

// retry runs op with exponential backoff. NoSuchUpload is returned at once (the caller starts
// over); a refusal that waiting rarely cures is tried permanentAttempts times; anything else
// retryAttempts times, or, when unbounded, until ctx ends.
func (s *Shipper) retry(ctx context.Context, stream, what string, unbounded bool, op func(context.Context) error) error {
	delay := s.retryMin
	var last error // the last failure that was not the deadline cutting a call short
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			if last != nil {
				return fmt.Errorf("%w (and then the time to finish ran out)", last)
			}
			return err
		}
		last = err
		code := errorCode(err)
		if code == "NoSuchUpload" {
			return err
		}
		limit := retryAttempts
		if permanentCodes[code] {
			limit = permanentAttempts
		} else if unbounded {
			limit = int(^uint(0) >> 1)
		}
		if attempt >= limit {
			return err
		}
		s.Log.Warn("retrying", "stream", stream, "call", what, "attempt", attempt, "in", delay, "error", errorText(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (and then the time to finish ran out)", err)
		case <-time.After(delay):
		}
		delay = min(2*delay, s.retryMax)
	}
}

// permanentCodes are S3's answers that waiting a few seconds rarely changes.
var permanentCodes = map[string]bool{
	"AccessDenied": true, "AllAccessDisabled": true, "AccountProblem": true,
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "AuthorizationHeaderMalformed": true,
	"NoSuchBucket": true, "InvalidBucketName": true, "PermanentRedirect": true,
	"InvalidArgument": true, "InvalidRequest": true, "MalformedXML": true,
	"InvalidPart": true, "InvalidPartOrder": true, "EntityTooSmall": true,
}

// ReportUnshippable is for a shipper that cannot even start (a bad --dest, no S3 client): it
// writes the failure to terminationLog and log, then waits until ctx ends or the wrapped
// command has exited, so that a sidecar restarted by the kubelet does not loop and the job
// runs on. It returns the message.
func ReportUnshippable(ctx context.Context, dir, terminationLog, dest string, err error, log *slog.Logger) string {
	msg := failureMessage(dest, err)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if werr := writeTermination(terminationLog, msg); werr != nil {
		log.Warn("cannot write the termination message", "error", werr.Error())
	}
	log.Error(msg, "dest", dest)
	t := time.NewTicker(DefaultPollInterval)
	defer t.Stop()
	for !exists(filepath.Join(dir, ExitFile)) {
		select {
		case <-ctx.Done():
			return msg
		case <-t.C:
		}
	}
	return msg
}
