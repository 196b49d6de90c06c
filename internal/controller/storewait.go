package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// While the store is unavailable (an error wrapping jobs.ErrUnavailable: the database was
// restarted, or cannot be reached), every reconcile would fail at its first read and back off
// on its own, each job run a little longer, up to minutes after the database is back. Instead
// the controller pauses: the workers take nothing from the queue, the job runs stay in it, one
// probe asks the store again with a short backoff, and the first answer resumes the workers
// and resyncs. The pause is logged once when it begins and once when it ends, and shown by
// sparkplane_controller_paused.

const (
	// probeFirst and probeMax bound the backoff between the paused controller's questions to
	// the store: the first comes soon, since most outages are a restart, and none waits
	// longer than probeMax, which bounds how long a resumed database waits for the
	// controller.
	probeFirst = 250 * time.Millisecond
	probeMax   = 5 * time.Second
)

// storePause is the controller's pause while its store is unavailable.
type storePause struct {
	mu sync.Mutex
	// resumed is non-nil while paused, and closed when the store answers again.
	resumed chan struct{}
	since   time.Time
}

// waitForStore returns at once unless the controller is paused, then when the store answers
// again (true) or ctx ends (false).
func (c *Controller) waitForStore(ctx context.Context) bool {
	c.pause.mu.Lock()
	resumed := c.pause.resumed
	c.pause.mu.Unlock()
	if resumed == nil {
		return true
	}
	select {
	case <-resumed:
		return true
	case <-ctx.Done():
		return false
	}
}

// paused reports whether the controller waits for its store.
func (c *Controller) paused() bool {
	c.pause.mu.Lock()
	defer c.pause.mu.Unlock()
	return c.pause.resumed != nil
}

// storeUnavailable pauses the controller after err, which wraps jobs.ErrUnavailable, unless
// it is paused already, and starts the probe that resumes it.
func (c *Controller) storeUnavailable(ctx context.Context, err error) {
	c.pause.mu.Lock()
	if c.pause.resumed != nil || ctx.Err() != nil {
		c.pause.mu.Unlock()
		return
	}
	c.pause.resumed = make(chan struct{})
	c.pause.since = c.opts.Clock.Now()
	c.pause.mu.Unlock()
	c.metrics.paused.Set(1)
	c.log.Warn("the database is unavailable: the controller pauses until it answers again", "err", err)
	go c.probeStore(ctx)
}

// probeStore asks the store for one active job run, with backoff, until it answers (with
// anything but unavailability), then resumes the workers and resyncs, so that every run that
// waited is looked at again.
func (c *Controller) probeStore(ctx context.Context) {
	wait := probeFirst
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.opts.Clock.After(wait):
		}
		_, err := c.opts.Store.ListActiveJobRunIDs(ctx, 1)
		if !errors.Is(err, jobs.ErrUnavailable) {
			break
		}
		wait = min(wait*2, probeMax)
	}
	c.pause.mu.Lock()
	close(c.pause.resumed)
	c.pause.resumed = nil
	pausedFor := c.opts.Clock.Since(c.pause.since)
	c.pause.mu.Unlock()
	c.metrics.paused.Set(0)
	c.log.Info("the database answers again: the controller resumes", "paused", pausedFor.Round(time.Millisecond))
	c.resync(ctx)
}
