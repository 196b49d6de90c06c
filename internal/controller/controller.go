package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// Store is what the controller needs of the domain; *jobs.Service implements it, so every
// update goes through the state machine.
type Store interface {
	GetJobRun(ctx context.Context, id string) (jobs.JobRun, error)
	DescribeVirtualCluster(ctx context.Context, id string) (jobs.VirtualCluster, error)
	ListActiveJobRunIDs(ctx context.Context, limit int) ([]string, error)
	UpdateJobRun(ctx context.Context, id string, expectedVersion int64, mutate func(*jobs.JobRun) error) (jobs.JobRun, error)
	// SettleVirtualCluster ends a TERMINATING virtual cluster whose last run has ended.
	SettleVirtualCluster(ctx context.Context, id string) error
	ListVirtualClusters(ctx context.Context, f jobs.VirtualClusterFilter) ([]jobs.VirtualCluster, string, error)
	// SettingsOf returns the settings in force on a virtual cluster read by
	// DescribeVirtualCluster: its own, or the server's defaults.
	SettingsOf(vc jobs.VirtualCluster) jobs.VirtualClusterSettings
	// AdmitJobRun lets a PENDING run take one of its virtual cluster's limit slots, or says
	// how many are ahead of it (jobs.Store.AdmitJobRun).
	AdmitJobRun(ctx context.Context, id string, limit int) (jobs.JobRun, jobs.Admission, error)
	// QueuedJobRunIDs lists a virtual cluster's queued runs, oldest first.
	QueuedJobRunIDs(ctx context.Context, virtualClusterID string, limit int) ([]string, error)
}

// Planner turns a job run attempt into the Kubernetes objects that start its driver, under
// the settings in force on its virtual cluster. A planning error that wraps
// *jobs.ValidationError fails the job run (VALIDATION_ERROR), one that wraps *UserError fails
// it with USER_ERROR; any other error is retried with backoff.
type Planner interface {
	Plan(ctx context.Context, run jobs.JobRun, vc jobs.VirtualCluster, settings jobs.VirtualClusterSettings, attempt int) (*Plan, error)
}

// UserError is a job run's input that cannot run as given, found only once the planner saw
// what the request pointed at (a pod template the virtual cluster's pod policy refuses). The
// message becomes the run's stateDetails.
type UserError struct{ Message string }

func (e *UserError) Error() string { return e.Message }

// Cluster is one container provider as the controller uses it: a client, and the informer of
// its job pods (label wellknown.LabelJobID, drivers and executors), which the caller owns and
// starts, shared with the cost recorder and trimmed with TrimPod.
type Cluster struct {
	Client kubernetes.Interface
	Pods   coreinformers.PodInformer
}

// Options configure a Controller. Store, Clusters and Planner are required.
type Options struct {
	Store Store
	// Clusters maps a container provider id (a virtual cluster's containerProvider.id) to that
	// Kubernetes cluster.
	Clusters map[string]Cluster
	Planner  Planner
	// PendingTimeout is how long a driver pod may stay unschedulable before its attempt fails
	// (default 10 minutes).
	PendingTimeout time.Duration
	// DriverTTL is how long finished driver pods are kept for their logs before they are
	// deleted (default 1 hour); the job run's record stays in the store.
	DriverTTL time.Duration
	// Resync is how often every non-terminal job run is reconciled even without events
	// (default 30 seconds).
	Resync time.Duration
	// Workers is the number of concurrent reconciles (default 32): reconciles wait on the API
	// server and the store far more than they compute.
	Workers int
	// KubeTimeout bounds the Kubernetes calls of one reconcile (default 10 seconds): an API
	// server that hangs instead of refusing makes the run wait with a stateDetails that says
	// so, instead of blocking a worker.
	KubeTimeout time.Duration
	// Metrics, when set, are updated; see NewMetrics.
	Metrics *Metrics
	Logger  *slog.Logger
	// Clock is the time source (default the real clock); tests pass a fake one.
	Clock clock.WithTicker
}

// Controller reconciles job runs against their clusters.
type Controller struct {
	opts     Options
	log      *slog.Logger
	metrics  *Metrics
	queue    workqueue.TypedRateLimitingInterface[string]
	clusters map[string]*cluster
	vcs      vcCache
	ready    chan struct{}
	// shipFailures holds, by job run id, the first pod whose log-shipping sidecar said it
	// could not ship (pod name and message), until the run's stateDetails says so. Executors
	// Spark deletes are gone by the time the run ends, so their word is kept from the event.
	shipFailures sync.Map
	// started is when Run began (unix nanoseconds of the controller's clock), so a reconcile
	// can tell a cache that is still filling after a start from one that cannot fill.
	started atomic.Int64
	// pause holds the workers while the store is unavailable (storewait.go).
	pause storePause
}

func (c *Controller) startedAt() time.Time { return time.Unix(0, c.started.Load()) }

// cluster is one container provider: its client, its job pod lister, and the namespaces and
// service accounts already ensured there (so the hot path does not re-check them).
type cluster struct {
	id       string
	client   kubernetes.Interface
	informer cache.SharedIndexInformer
	pods     podLister
	ensured  sync.Map // key string -> struct{}
	ensuring sync.Map // key string -> chan struct{}, closed when the set-up in flight ends
}

// podLister is the part of the pod lister the controller reads.
type podLister interface {
	List(selector labels.Selector) ([]*corev1.Pod, error)
}

// New returns a Controller; call Run to start it. It adds its event handler to every
// cluster's pod informer, which the caller starts.
func New(opts Options) (*Controller, error) {
	if opts.Store == nil || opts.Planner == nil || len(opts.Clusters) == 0 {
		return nil, errors.New("controller.New: Store, Planner and at least one cluster are required")
	}
	if opts.PendingTimeout <= 0 {
		opts.PendingTimeout = 10 * time.Minute
	}
	if opts.DriverTTL <= 0 {
		opts.DriverTTL = time.Hour
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	if opts.Workers <= 0 {
		opts.Workers = 32
	}
	if opts.KubeTimeout <= 0 {
		opts.KubeTimeout = 10 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	m := opts.Metrics
	if m == nil {
		m, _ = NewMetrics(nil)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	limiter := workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 5*time.Minute)
	c := &Controller{
		opts:    opts,
		log:     log.With("component", "controller"),
		metrics: m,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[string]{
			Name: "jobruns", Clock: opts.Clock}),
		clusters: map[string]*cluster{},
		vcs:      vcCache{ttl: 10 * time.Second, entries: map[string]vcEntry{}},
		ready:    make(chan struct{}),
	}
	for id, cl := range opts.Clusters {
		if cl.Client == nil || cl.Pods == nil {
			return nil, fmt.Errorf("controller.New: cluster %s needs a client and a pod informer", id)
		}
		inf := cl.Pods.Informer()
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueuePod,
			UpdateFunc: func(_, obj any) { c.enqueuePod(obj) },
			DeleteFunc: c.enqueuePod,
		}); err != nil {
			return nil, fmt.Errorf("watch job pods of cluster %s: %w", id, err)
		}
		c.clusters[id] = &cluster{id: id, client: cl.Client, informer: inf, pods: cl.Pods.Lister()}
	}
	return c, nil
}

// Enqueue asks for a reconcile of one job run soon; the API calls it after StartJobRun and
// CancelJobRun so a job does not wait for the next resync.
func (c *Controller) Enqueue(jobRunID string) { c.queue.Add(jobRunID) }

// Ready is closed once every cluster's informer has synced and the workers run.
func (c *Controller) Ready() <-chan struct{} { return c.ready }

// Run starts the workers and the periodic resync, and blocks until ctx ends. The informers
// are started by the caller.
func (c *Controller) Run(ctx context.Context) error {
	c.started.Store(c.opts.Clock.Now().UnixNano())
	defer c.queue.ShutDown()
	// Informers of an unreachable cluster never sync; the workers start anyway, and reconciles
	// of that cluster's jobs wait (with backoff) until it has.
	var wg sync.WaitGroup
	for i := 0; i < c.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx) {
			}
		}()
	}
	go c.waitSynced(ctx)
	c.resync(ctx)
	ticker := c.opts.Clock.NewTicker(c.opts.Resync)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			c.queue.ShutDown()
			wg.Wait()
			return nil
		case <-ticker.C():
			c.resync(ctx)
		}
	}
}

func (c *Controller) waitSynced(ctx context.Context) {
	for _, cl := range c.clusters {
		if !cache.WaitForCacheSync(ctx.Done(), cl.informer.HasSynced) {
			return
		}
	}
	close(c.ready)
}

func (c *Controller) enqueuePod(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	id := pod.Labels[wellknown.LabelJobID]
	if id == "" {
		return
	}
	if msg := ShippingFailure(pod); msg != "" {
		if _, seen := c.shipFailures.LoadOrStore(id, "pod "+pod.Name+": "+msg); !seen {
			c.queue.Add(id)
		}
	}
	if pod.Labels[wellknown.LabelSparkRole] == wellknown.SparkRoleDriver {
		c.queue.Add(id)
	}
}

// resync enqueues every non-terminal job run, and every job run whose finished driver pods are
// due for deletion. It is what makes a restarted controller resume its work.
func (c *Controller) resync(ctx context.Context) {
	if c.paused() {
		return // the probe resyncs when the store is back
	}
	active, err := c.opts.Store.ListActiveJobRunIDs(ctx, 0)
	if errors.Is(err, jobs.ErrUnavailable) {
		c.storeUnavailable(ctx, err)
		return
	}
	if err != nil {
		c.log.Error("list active job runs", "err", err)
		return
	}
	c.metrics.queueDepthObserved.Set(float64(len(active)))
	for _, id := range active {
		c.queue.Add(id)
	}
	c.settleVirtualClusters(ctx)
	for _, cl := range c.clusters {
		if !cl.informer.HasSynced() {
			continue
		}
		pods, err := cl.pods.List(labels.Everything())
		if err != nil {
			continue
		}
		for _, p := range pods {
			if p.Labels[wellknown.LabelSparkRole] == wellknown.SparkRoleDriver && finished(p) {
				c.queue.Add(p.Labels[wellknown.LabelJobID])
			}
		}
	}
}

func (c *Controller) processNext(ctx context.Context) bool {
	if !c.waitForStore(ctx) {
		return false
	}
	id, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(id)
	start := c.opts.Clock.Now()
	after, err := c.Reconcile(ctx, id)
	c.metrics.reconcileSeconds.Observe(c.opts.Clock.Since(start).Seconds())
	switch {
	case errors.Is(err, jobs.ErrUnavailable) && ctx.Err() == nil:
		// Not this run's failure: it is looked at again, without backoff, once the store
		// answers; until then no worker takes work.
		c.storeUnavailable(ctx, err)
		c.queue.Forget(id)
		c.queue.Add(id)
	case err != nil:
		c.metrics.reconcileErrors.Inc()
		if ctx.Err() == nil {
			c.log.Warn("reconcile failed; will retry", "job", id, "err", err)
		}
		c.queue.AddRateLimited(id)
	case after > 0:
		c.queue.Forget(id)
		c.queue.AddAfter(id, after)
	default:
		c.queue.Forget(id)
	}
	return true
}

func maxAttempts(run jobs.JobRun) int {
	if run.RetryPolicyConfiguration != nil && run.RetryPolicyConfiguration.MaxAttempts > 0 {
		return int(run.RetryPolicyConfiguration.MaxAttempts)
	}
	return 1
}

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// settleVirtualClusters ends every TERMINATING virtual cluster whose runs have all ended. A
// run's own reconcile does this too, but it can finish before DeleteVirtualCluster has marked
// its cluster TERMINATING; the resync makes sure no cluster is left terminating.
func (c *Controller) settleVirtualClusters(ctx context.Context) {
	f := jobs.VirtualClusterFilter{States: []jobs.VirtualClusterState{jobs.VirtualClusterTerminating}}
	for {
		vcs, next, err := c.opts.Store.ListVirtualClusters(ctx, f)
		if errors.Is(err, jobs.ErrUnavailable) {
			c.storeUnavailable(ctx, err)
			return
		}
		if err != nil {
			c.log.Error("list terminating virtual clusters", "err", err)
			return
		}
		for _, vc := range vcs {
			c.vcs.forget(vc.ID)
			if err := c.opts.Store.SettleVirtualCluster(ctx, vc.ID); err != nil {
				c.log.Warn("settle virtual cluster", "virtualCluster", vc.ID, "err", err)
			}
		}
		if next == "" {
			return
		}
		f.Token = next
	}
}

// vcCache keeps RUNNING virtual clusters for a few seconds: every reconcile of a job reads its
// virtual cluster, which changes only when it is deleted. A stale RUNNING entry is harmless for
// a run already submitted (deleting a virtual cluster moves its runs to CANCEL_PENDING, which
// the run itself shows); PENDING runs bypass the cache.
type vcCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]vcEntry
}

type vcEntry struct {
	vc jobs.VirtualCluster
	at time.Time
}

func (v *vcCache) get(id string, now time.Time) (jobs.VirtualCluster, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.entries[id]
	if !ok || now.Sub(e.at) > v.ttl {
		return jobs.VirtualCluster{}, false
	}
	return e.vc, true
}

func (v *vcCache) put(vc jobs.VirtualCluster, now time.Time) {
	if vc.State != jobs.VirtualClusterRunning {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) > 10000 {
		clear(v.entries)
	}
	v.entries[vc.ID] = vcEntry{vc: vc, at: now}
}

func (v *vcCache) forget(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.entries, id)
}
