package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// ControllerReady is closed once this replica leads (always, without leader election) and the
// controller of its first term has synced its informers; never when it runs no controller.
func (s *Server) ControllerReady() <-chan struct{} { return s.ready }

// jobRunChanged tells the controller that a job run was accepted or asked to cancel: this
// replica's, when it leads, else the leader's through the store. With neither (a replica
// between terms on SQLite) the controller's resync at the start of the next term finds it.
func (s *Server) jobRunChanged(id string) {
	if t := s.leading.Load(); t != nil {
		t.controller.Enqueue(id)
		return
	}
	if s.signals != nil {
		s.signals.send(id)
	}
	if s.election != nil {
		if cause := s.election.lease.unreachable(); cause != nil {
			go s.noteNoLeader(id, cause)
		}
	}
}

// noteNoLeader says on a job run accepted while this replica cannot reach the API server that
// holds the leader Lease (cause: the election's last error) that the run waits for
// Kubernetes: when that is the cluster's own API server, no replica can lead, and no
// controller would say so. Only a new run is noted (PENDING, never submitted, no
// stateDetails), in a write conditional on the version read: a controller that got to the run
// first is never overwritten, and the next term's controller replaces the note when it
// submits the run.
func (s *Server) noteNoLeader(id string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := s.Service.GetJobRun(ctx, id)
	if err != nil || run.State != jobs.StatePending || run.Attempt.Submitted() || run.StateDetails != "" {
		return
	}
	e := s.election
	details := fmt.Sprintf("waiting for Kubernetes: the API server of container provider %s, which holds the leader Lease %s/%s, does not answer (%v); the job run starts once a controller is elected there",
		e.provider, e.settings.Namespace, e.settings.Name, cause)
	if len(details) > 500 {
		details = details[:500] + "…"
	}
	_, err = s.Service.UpdateJobRun(ctx, id, run.Version, func(r *jobs.JobRun) error {
		r.StateDetails = details
		return nil
	})
	if err != nil && !errors.Is(err, jobs.ErrConflict) {
		s.log.Warn("record why a job run waits", "job", id, "err", err)
	}
}

// lead runs one term: the informers, the controller and the cost recorders of a new term,
// and, on a shared store, the listener for job runs other replicas changed, until ctx ends;
// it returns once all of them have stopped.
func (s *Server) lead(ctx context.Context) error {
	t, err := s.work.newTerm()
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	if s.signals != nil {
		// Listen before the controller's first resync, so that no run accepted elsewhere
		// falls between the two; a listener that cannot start in 5 s leaves it to the resync.
		listening := make(chan struct{})
		wg.Go(func() { s.signals.listen(ctx, func() { close(listening) }, t.controller.Enqueue) })
		select {
		case <-listening:
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
	}
	for _, f := range t.factories {
		f.Start(ctx.Done())
	}
	runnables := []func(context.Context) error{t.controller.Run}
	for _, r := range t.recorders {
		runnables = append(runnables, r.Run)
	}
	errs := make([]error, len(runnables))
	for i, run := range runnables {
		wg.Go(func() {
			// Each returns only when the term ends; one that stops early ends the term, so
			// that a leader never goes on without its controller (the election then lets
			// another replica, or this one again, start a new term).
			defer stop()
			if err := run(ctx); err != nil {
				s.log.Error("runnable stopped", "err", err)
				errs[i] = err
			}
		})
	}
	s.leading.Store(t)
	s.leader.leading.Set(1)
	s.leader.terms.Inc()
	go func() {
		select {
		case <-t.controller.Ready():
			s.readyOnce.Do(func() { close(s.ready) })
		case <-ctx.Done():
		}
	}()
	<-ctx.Done()
	// From here on, job runs changed on this replica go to the next leader through the store.
	s.leading.Store(nil)
	s.leader.leading.Set(0)
	wg.Wait()
	for _, f := range t.factories {
		f.Shutdown()
	}
	return errors.Join(errs...)
}

// leaderMetrics say whether this replica leads.
type leaderMetrics struct {
	leading prometheus.Gauge
	terms   prometheus.Counter
}

func newLeaderMetrics(reg prometheus.Registerer) (leaderMetrics, error) {
	m := leaderMetrics{
		leading: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sparkplane_leader",
			Help: "1 while this replica runs the lifecycle controller and the cost recorders (it holds the Lease, or runs without leader election), else 0."}),
		terms: prometheus.NewCounter(prometheus.CounterOpts{Name: "sparkplane_leader_terms_total",
			Help: "Terms of leadership this replica began."}),
	}
	for _, c := range []prometheus.Collector{m.leading, m.terms} {
		if err := reg.Register(c); err != nil {
			return m, err
		}
	}
	return m, nil
}

// election is this replica's part in the leader election of a Kubernetes Lease (client-go's
// leaderelection): it runs the work while it holds the Lease, stops it when it loses the
// Lease and tries again, and releases the Lease at shutdown once the work has stopped.
type election struct {
	lock *resourcelock.LeaseLock
	// lease is lock as the elector uses it, watched for an API server that does not answer.
	lease    *leaseWatch
	provider string
	settings config.LeaderElection
	identity string
	log      *slog.Logger
}

// leaseWatch is the election's Lease lock, which also remembers whether the API server that
// holds the Lease answered the election's last call, so that a replica that leads nothing can
// tell why.
type leaseWatch struct {
	resourcelock.Interface
	mu sync.Mutex
	// failing is the error of the last call when it did not reach the API server, else nil.
	failing error
}

func (w *leaseWatch) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := w.Interface.Get(ctx)
	w.note(err)
	return rec, raw, err
}

func (w *leaseWatch) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	err := w.Interface.Create(ctx, ler)
	w.note(err)
	return err
}

func (w *leaseWatch) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	err := w.Interface.Update(ctx, ler)
	w.note(err)
	return err
}

// note records the outcome of a call: an answer of the API server, even a refusal (the
// Lease not found, or taken meanwhile), clears the failure.
func (w *leaseWatch) note(err error) {
	var status apierrors.APIStatus
	unreachable := err != nil && (!errors.As(err, &status) || apierrors.IsServiceUnavailable(err) ||
		apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err))
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failing = nil
	if unreachable {
		w.failing = err
	}
}

// unreachable is the error of the election's last call to the Lease when it did not reach the
// API server, else nil.
func (w *leaseWatch) unreachable() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failing
}

// newElection prepares the election on the Lease of cfg.LeaderElection, on the cluster of
// the first container provider. A server that may not read that Lease fails here, naming the
// permission and the setting, rather than serving without ever running a job; an API server
// that does not answer is left to the election, which retries.
func newElection(ctx context.Context, cfg config.Config, p provider, log *slog.Logger) (*election, error) {
	settings := cfg.LeaderElection.WithDefaults()
	settings.Namespace = cmp.Or(settings.Namespace, os.Getenv("POD_NAMESPACE"), "default")
	rc := *p.lease
	// No request of the election may outlast the time the leader has to renew.
	rc.Timeout = settings.RenewDeadline.Duration
	client, err := kubernetes.NewForConfig(&rc)
	if err != nil {
		return nil, fmt.Errorf("leader election: container provider %s: %w", p.id, err)
	}
	identity, err := newIdentity()
	if err != nil {
		return nil, err
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: settings.Namespace, Name: settings.Name},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	e := &election{
		lock:     lock,
		lease:    &leaseWatch{Interface: lock},
		provider: p.id,
		settings: settings,
		identity: identity,
		log:      log.With("component", "leader-election", "lease", settings.Namespace+"/"+settings.Name, "identity", identity),
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = client.CoordinationV1().Leases(settings.Namespace).Get(cctx, settings.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		return nil, fmt.Errorf("config leaderElection: the server may not read Lease %s/%s on container provider %s (%v): grant get, create and update on coordination.k8s.io leases in namespace %s, or set leaderElection.enabled: false to run one replica without it",
			settings.Namespace, settings.Name, p.id, err, settings.Namespace)
	case err != nil && !apierrors.IsNotFound(err):
		e.log.Warn("cannot read the Lease yet; the election keeps trying", "err", err)
	}
	return e, nil
}

// newIdentity names this replica in the Lease: host name, pid and a random part, so that a
// restarted process (same host, maybe the same pid in a new container) is a new holder.
func newIdentity() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("leader election identity: %w", err)
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("leader election identity: %w", err)
	}
	return fmt.Sprintf("%s_%d_%s", host, os.Getpid(), hex.EncodeToString(b)), nil
}

// run takes part in the election until ctx ends, running work (with a context that ends when
// the term does) whenever this replica holds the Lease.
func (e *election) run(ctx context.Context, work func(context.Context) error) error {
	var errs []error
	for ctx.Err() == nil {
		if err := e.term(ctx, work); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// term runs one elector: it waits to acquire the Lease, runs work while it renews it, and
// returns once work has returned, after the Lease was lost or ctx ended. At shutdown the work
// is stopped first and the Lease released after, so the next leader starts at once and never
// beside this one; after a lost Lease the work is stopped as soon as renewing fails, which is
// RenewDeadline after the last renewal, before the others may take it (LeaseDuration).
func (e *election) term(ctx context.Context, work func(context.Context) error) error {
	// The elector's context outlives ctx while work runs: cancelling it is what ends the
	// renewals, once the work has stopped.
	electorCtx, stopElector := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElector()
	var working atomic.Bool
	stopWaiting := context.AfterFunc(ctx, func() {
		if !working.Load() {
			stopElector() // still waiting for the Lease: stop waiting
		}
	})
	defer stopWaiting()
	acquired := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:          e.lease,
		Name:          e.settings.Namespace + "/" + e.settings.Name,
		LeaseDuration: e.settings.LeaseDuration.Duration,
		RenewDeadline: e.settings.RenewDeadline.Duration,
		RetryPeriod:   e.settings.RetryPeriod.Duration,
		// Released by release below, once the work has stopped: client-go's would release
		// while the work may still run.
		ReleaseOnCancel: false,
		Callbacks: leaderelection.LeaderCallbacks{
			// The work runs in term, not in client-go's goroutine, so that term knows when
			// it has stopped.
			OnStartedLeading: func(termCtx context.Context) { acquired <- termCtx },
			OnStoppedLeading: func() {},
			OnNewLeader: func(identity string) {
				if identity != e.identity {
					e.log.Info("another replica leads", "leader", identity)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	electorDone := make(chan struct{})
	go func() {
		defer close(electorDone)
		le.Run(electorCtx)
	}()
	var termCtx context.Context
	select {
	case termCtx = <-acquired:
	case <-electorDone:
		if ctx.Err() != nil {
			// Stopped waiting at shutdown; the Lease may have been taken just then.
			if le.IsLeader() {
				e.release()
			}
			return nil
		}
		// The elector ends uncancelled only after it acquired the Lease and lost it at once;
		// its callback is on its way.
		termCtx = <-acquired
	}
	working.Store(true)
	workErr := e.work(ctx, termCtx, work)
	stopElector()
	<-electorDone
	// Whether shutting down, failed or deposed, the work has stopped: a Lease this replica
	// still holds goes to the next at once.
	e.release()
	if workErr != nil && ctx.Err() == nil {
		// Do not take the Lease again at once with work that fails on start.
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	return workErr
}

// work runs one term's work until the term (termCtx) or the server (ctx) ends, and logs how
// long it led and how long it took to stop.
func (e *election) work(ctx, termCtx context.Context, work func(context.Context) error) error {
	if ctx.Err() != nil {
		return nil
	}
	start := time.Now()
	e.log.Info("leading: starting the controller and the cost recorders")
	workCtx, cancel := context.WithCancel(termCtx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	ended := make(chan time.Time, 1)
	context.AfterFunc(workCtx, func() { ended <- time.Now() })
	err := work(workCtx)
	cancel()
	reason := "the Lease was lost"
	switch {
	case ctx.Err() != nil:
		reason = "shutting down"
	case err != nil:
		reason = "the controller failed"
	}
	// After a lost Lease, stoppedIn must stay below LeaseDuration - RenewDeadline -
	// RetryPeriod: the time the next leader waits beyond this one's last try to renew.
	e.log.Info("stopped leading: the controller and the cost recorders have stopped", "reason", reason,
		"led", time.Since(start).Round(time.Millisecond), "stoppedIn", time.Since(<-ended).Round(time.Millisecond))
	return err
}

// release gives the Lease up if this replica still holds it, so that another takes it on its
// next try instead of after LeaseDuration (a rolling update fails over at once). The update is
// conditional on the Lease read just before: a Lease another replica took meanwhile is left.
func (e *election) release() {
	ctx, cancel := context.WithTimeout(context.Background(), e.settings.RenewDeadline.Duration)
	defer cancel()
	rec, _, err := e.lock.Get(ctx)
	if err != nil {
		e.log.Warn("release the Lease", "err", err)
		return
	}
	if rec.HolderIdentity != e.identity {
		return
	}
	now := metav1.NewTime(time.Now())
	if err := e.lock.Update(ctx, resourcelock.LeaderElectionRecord{
		LeaderTransitions: rec.LeaderTransitions, LeaseDurationSeconds: 1, RenewTime: now, AcquireTime: now,
	}); err != nil {
		e.log.Warn("release the Lease", "err", err)
		return
	}
	e.log.Info("released the Lease")
}
