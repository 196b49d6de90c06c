package server

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// jobRunSignals is what a store that several replicas share offers to tell the leader about
// job runs another replica accepted or was asked to cancel (store.Postgres: NOTIFY/LISTEN).
// Signals only hasten the controller; its resync finds whatever a lost signal named.
type jobRunSignals interface {
	NotifyJobRuns(ctx context.Context, ids []string) error
	ListenJobRuns(ctx context.Context, listening func(), fn func(id string)) error
}

// signaller sends the job runs this replica changed while it does not lead, batched and off
// the request path: a StartJobRun is answered once its run is stored, never later for the
// signal.
type signaller struct {
	store jobRunSignals
	ids   chan string
	log   *slog.Logger
}

// signalQueue bounds the ids waiting to be sent; beyond it they are dropped, for the
// leader's resync.
const signalQueue = 4096

func newSignaller(store jobRunSignals, log *slog.Logger) *signaller {
	return &signaller{store: store, ids: make(chan string, signalQueue), log: log.With("component", "signals")}
}

// send queues id for the leader, or drops it when the queue is full.
func (s *signaller) send(id string) {
	select {
	case s.ids <- id:
	default:
	}
}

// run sends the queued ids, as many per notification as are waiting, until ctx ends.
func (s *signaller) run(ctx context.Context) {
	batch := make([]string, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.ids:
			batch = append(batch[:0], id)
		}
	drain:
		for len(batch) < cap(batch) {
			select {
			case id := <-s.ids:
				batch = append(batch, id)
			default:
				break drain
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := s.store.NotifyJobRuns(sctx, batch); err != nil && ctx.Err() == nil {
			s.log.Warn("tell the leader about job runs; its resync will find them", "runs", len(batch), "err", err)
		}
		cancel()
	}
}

// listen passes the ids other replicas send to enqueue until ctx ends, listening again a
// second after a connection that failed. A failure is logged when listening stops, and again
// when it works again, not every second in between (a database that is down).
func (s *signaller) listen(ctx context.Context, listening func(), enqueue func(id string)) {
	listening = sync.OnceFunc(listening)
	failing := false
	listened := func() {
		listening()
		if failing {
			failing = false
			s.log.Info("listening for job runs of other replicas again")
		}
	}
	for ctx.Err() == nil {
		err := s.store.ListenJobRuns(ctx, listened, enqueue)
		if err != nil && ctx.Err() == nil && !failing {
			failing = true
			s.log.Warn("listen for job runs of other replicas; retrying every second (the resync finds what is missed meanwhile)", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
