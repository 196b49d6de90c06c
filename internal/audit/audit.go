// Package audit records every call sparkplane answers, durably, and reads the record back.
//
// An Event says who (principal ARN, access key id, source address) asked for what (action
// and resource ARN, request id) and what came of it (allowed, denied or failed, with the
// error code). A Log batches events into the store: whatever is queued when the writer is
// free goes out in one write, so the audit costs one transaction per batch rather than per
// call. Calls that change something, and refusals, wait until their event is stored before
// they are answered (Record with wait); reads are recorded without waiting. Events older than
// the retention are deleted by Prune, which the Log runs hourly.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Outcomes of a call.
const (
	Allowed = "allowed" // authorized and answered without error
	Denied  = "denied"  // refused: by a policy, or because the signature did not authenticate
	Failed  = "failed"  // authorized, then failed (ErrorCode says how)
)

// Event is one call.
type Event struct {
	Time        time.Time `json:"time"`
	RequestID   string    `json:"requestId"`
	Principal   string    `json:"principal,omitempty"`
	AccessKeyID string    `json:"accessKeyId,omitempty"`
	Source      string    `json:"sourceAddress"`
	Action      string    `json:"action"`
	Resource    string    `json:"resource"`
	Outcome     string    `json:"outcome"`
	ErrorCode   string    `json:"errorCode,omitempty"`
	Status      int       `json:"httpStatus"`
	// Seq orders events; it is the cursor of ListAudit.
	Seq int64 `json:"-"`
}

// Query selects events: from Since (inclusive; zero: the first) to Until (exclusive; zero: no
// bound), optionally of
// one principal and action, oldest first, at most Limit after the cursor Token.
type Query struct {
	Since, Until time.Time
	Principal    string
	Action       string
	Limit        int
	Token        string
}

// Store keeps events; SQLite and PostgreSQL implement it (internal/store).
type Store interface {
	AppendAudit(ctx context.Context, events []Event) error
	ListAudit(ctx context.Context, q Query) ([]Event, string, error)
	// PruneAudit deletes events older than before and returns how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// maxBatch bounds the events of one write.
const maxBatch = 512

// DefaultRetention is how long events are kept when the configuration says nothing.
const DefaultRetention = 90 * 24 * time.Hour

// Log is the asynchronous, batching writer of events. Create it with New and run Run.
type Log struct {
	store     Store
	retention time.Duration
	log       *slog.Logger
	queue     chan pending
	now       func() time.Time
	// mu orders Record's "is a writer running? then queue" against Run's stopping, so that an
	// event is either queued before the final drain or written by its caller.
	mu      sync.RWMutex
	running bool
}

type pending struct {
	e    Event
	done chan error // nil: nobody waits
}

// New returns a Log over store that keeps events for retention (DefaultRetention when 0).
func New(store Store, retention time.Duration, log *slog.Logger) *Log {
	if retention <= 0 {
		retention = DefaultRetention
	}
	if log == nil {
		log = slog.Default()
	}
	return &Log{store: store, retention: retention, log: log, queue: make(chan pending, 8192), now: time.Now}
}

// Record queues an event. With wait it returns once the event is stored (or ctx ends);
// without, at once. An event that cannot even be queued because the queue is full is
// written by the caller itself, so nothing is dropped.
func (l *Log) Record(ctx context.Context, e Event, wait bool) error {
	p := pending{e: e}
	if wait {
		p.done = make(chan error, 1)
	}
	l.mu.RLock()
	queued := false
	if l.running {
		select {
		case l.queue <- p:
			queued = true
		default: // the writer is behind
		}
	}
	l.mu.RUnlock()
	if !queued {
		// No writer runs (before Run, after it ended), or it is behind: write this one here
		// rather than drop it.
		return l.store.AppendAudit(context.WithoutCancel(ctx), []Event{e})
	}
	if !wait {
		return nil
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run writes queued events until ctx ends, then writes what is left, and deletes events
// older than the retention every hour.
func (l *Log) Run(ctx context.Context) error {
	l.setRunning(true)
	defer l.setRunning(false)
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	l.prune(ctx)
	batch := make([]pending, 0, maxBatch)
	for {
		select {
		case p := <-l.queue:
			batch = append(batch[:0], p)
		case <-prune.C:
			l.prune(ctx)
			continue
		case <-ctx.Done():
			l.setRunning(false) // from here on callers write their own events
			l.drain()
			return nil
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-l.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		l.write(context.WithoutCancel(ctx), batch)
	}
}

func (l *Log) setRunning(v bool) {
	l.mu.Lock()
	l.running = v
	l.mu.Unlock()
}

// write stores a batch, retrying a failing store a few times: audit events of calls that were
// answered must not be dropped on a database hiccup.
func (l *Log) write(ctx context.Context, batch []pending) {
	events := make([]Event, len(batch))
	for i, p := range batch {
		events[i] = p.e
	}
	var err error
	for attempt, wait := 0, 100*time.Millisecond; attempt < 5; attempt, wait = attempt+1, wait*2 {
		if err = l.store.AppendAudit(ctx, events); err == nil {
			break
		}
		l.log.Warn("audit: write failed; retrying", "events", len(events), "err", err)
		time.Sleep(wait)
	}
	if err != nil {
		l.log.Error("audit: events could not be stored", "events", len(events), "err", err)
		err = fmt.Errorf("audit record: %w", err)
	}
	for _, p := range batch {
		if p.done != nil {
			p.done <- err
		}
	}
}

func (l *Log) drain() {
	var batch []pending
	for {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
			if len(batch) == maxBatch {
				l.write(context.Background(), batch)
				batch = batch[:0]
			}
		default:
			if len(batch) > 0 {
				l.write(context.Background(), batch)
			}
			return
		}
	}
}

func (l *Log) prune(ctx context.Context) {
	n, err := l.store.PruneAudit(ctx, l.now().Add(-l.retention))
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("audit: pruning old events failed", "err", err)
		}
		return
	}
	if n > 0 {
		l.log.Info("audit: pruned events past retention", "events", n, "retention", l.retention)
	}
}

// Pending is the audit event of a call in progress, offered to the store so that a write the
// call makes and its event commit in one transaction: the call then needs no second commit
// for its record, and a job run exists exactly when its StartJobRun is in the log. The store
// writes the event with Allowed and status 200, since the transaction committing is the call
// succeeding; the API records the event itself when the store did not take it.
type Pending struct {
	event   Event
	written atomic.Bool
}

type pendingKey struct{}

// WithPending returns ctx carrying a call's event for the store to write.
func WithPending(ctx context.Context, e Event) (context.Context, *Pending) {
	p := &Pending{event: e}
	return context.WithValue(ctx, pendingKey{}, p), p
}

// PendingFrom returns the event a call offers, or nil.
func PendingFrom(ctx context.Context) *Pending {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	return p
}

// Event is the event as the store writes it: allowed, status 200, stamped now.
func (p *Pending) Event(now time.Time) Event {
	e := p.event
	e.Time, e.Outcome, e.Status, e.ErrorCode = now.UTC(), Allowed, 200, ""
	return e
}

// Committed tells the call that its event is stored (the store calls it once its
// transaction has committed).
func (p *Pending) Committed() { p.written.Store(true) }

// Written reports whether the store committed the event.
func (p *Pending) Written() bool { return p != nil && p.written.Load() }
