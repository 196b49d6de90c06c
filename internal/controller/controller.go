package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// Extension keys the controller keeps in jobs.JobRun.Extensions.
const (
	extAttempt   = "attempt"   // the current driver attempt, from 1
	extSubmitted = "submitted" // "true" once the current attempt's objects exist
	extDriverPod = "driverPod" // namespace/name of the current attempt's driver pod
	extCleanedUp = "cleanedUp" // "true" once the finished driver pods were deleted
	// When the current attempt was submitted and its driver started running (RFC 3339).
	extSubmittedAt = "submittedAt"
	extRunningAt   = "runningAt"
)

// Store is what the controller needs of the domain; *jobs.Service implements it, so every
// update goes through the state machine.
type Store interface {
	GetJobRun(ctx context.Context, id string) (jobs.JobRun, error)
	DescribeVirtualCluster(ctx context.Context, id string) (jobs.VirtualCluster, error)
	ListActiveJobRuns(ctx context.Context, limit int) ([]jobs.JobRun, error)
	UpdateJobRun(ctx context.Context, id string, expectedVersion int64, mutate func(*jobs.JobRun) error) (jobs.JobRun, error)
	// SettleVirtualCluster ends a TERMINATING virtual cluster whose last run has ended.
	SettleVirtualCluster(ctx context.Context, id string) error
	ListVirtualClusters(ctx context.Context, f jobs.VirtualClusterFilter) ([]jobs.VirtualCluster, string, error)
}

// Planner turns a job run attempt into the Kubernetes objects that start its driver. A planning
// error that wraps *jobs.ValidationError fails the job run (VALIDATION_ERROR); any other error
// is retried with backoff.
type Planner interface {
	Plan(ctx context.Context, run jobs.JobRun, vc jobs.VirtualCluster, attempt int) (*Plan, error)
}

// Options configure a Controller. Store, Clusters and Planner are required.
type Options struct {
	Store Store
	// Clusters maps a container provider id (a virtual cluster's containerProvider.id) to a
	// client of that Kubernetes cluster.
	Clusters map[string]kubernetes.Interface
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
	// Workers is the number of concurrent reconciles (default 16).
	Workers int
	// Cost, when set, receives every job pod and node event of each cluster (keyed by
	// container provider id), so what each pod held on which node is recorded before
	// executors are deleted.
	Cost   map[string]*cost.Recorder
	Logger *slog.Logger
	Now    func() time.Time
}

// Controller reconciles job runs against their clusters.
type Controller struct {
	opts     Options
	log      *slog.Logger
	queue    workqueue.TypedRateLimitingInterface[string]
	clusters map[string]*cluster
	ready    chan struct{}
}

// cluster is one container provider: its client, its informer's lister, and the namespaces
// and service accounts already ensured there (so the hot path does not re-check them).
type cluster struct {
	id      string
	client  kubernetes.Interface
	pods    corelisters.PodLister
	synced  cache.InformerSynced
	ensured sync.Map // key string -> struct{}
}

// New returns a Controller; call Run to start it.
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
		opts.Workers = 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	limiter := workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 5*time.Minute),
	)
	c := &Controller{
		opts:     opts,
		log:      log.With("component", "controller"),
		queue:    workqueue.NewTypedRateLimitingQueueWithConfig(limiter, workqueue.TypedRateLimitingQueueConfig[string]{Name: "jobruns"}),
		clusters: map[string]*cluster{},
		ready:    make(chan struct{}),
	}
	for id, client := range opts.Clusters {
		c.clusters[id] = &cluster{id: id, client: client}
	}
	return c, nil
}

// Enqueue asks for a reconcile of one job run soon; the API calls it after StartJobRun and
// CancelJobRun so a job does not wait for the next resync.
func (c *Controller) Enqueue(jobRunID string) { c.queue.Add(jobRunID) }

// Ready is closed once every cluster's informer has synced and the workers run.
func (c *Controller) Ready() <-chan struct{} { return c.ready }

// Run starts the informers, the workers and the periodic resync, and blocks until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	defer c.queue.ShutDown()
	for _, cl := range c.clusters {
		// One watch on every job pod (drivers and executors): the controller reacts to
		// drivers, the cost recorder to all of them.
		factory := informers.NewSharedInformerFactoryWithOptions(cl.client, 0,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.LabelSelector = wellknown.LabelJobID
			}))
		inf := factory.Core().V1().Pods()
		cl.pods = inf.Lister()
		cl.synced = inf.Informer().HasSynced
		if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueuePod,
			UpdateFunc: func(_, obj any) { c.enqueuePod(obj) },
			DeleteFunc: c.enqueuePod,
		}); err != nil {
			return fmt.Errorf("watch job pods of cluster %s: %w", cl.id, err)
		}
		if rec := c.opts.Cost[cl.id]; rec != nil {
			if err := c.recordCost(ctx, cl, rec, inf); err != nil {
				return err
			}
		}
		factory.Start(ctx.Done())
	}
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
	ticker := time.NewTicker(c.opts.Resync)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			c.queue.ShutDown()
			wg.Wait()
			c.flushCost()
			return nil
		case <-ticker.C:
			c.resync(ctx)
			c.flushCost()
		}
	}
}

func (c *Controller) waitSynced(ctx context.Context) {
	for _, cl := range c.clusters {
		if !cache.WaitForCacheSync(ctx.Done(), cl.synced) {
			return
		}
	}
	close(c.ready)
}

func (c *Controller) enqueuePod(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if pod, ok := obj.(*corev1.Pod); ok && pod.Labels[wellknown.LabelSparkRole] == wellknown.SparkRoleDriver {
		if id := pod.Labels[wellknown.LabelJobID]; id != "" {
			c.queue.Add(id)
		}
	}
}

// resync enqueues every non-terminal job run, and every job run whose finished driver pods are
// due for deletion. It is what makes a restarted controller resume its work.
func (c *Controller) resync(ctx context.Context) {
	active, err := c.opts.Store.ListActiveJobRuns(ctx, 0)
	if err != nil {
		c.log.Error("list active job runs", "err", err)
		return
	}
	for _, r := range active {
		c.queue.Add(r.ID)
	}
	c.settleVirtualClusters(ctx)
	for _, cl := range c.clusters {
		if cl.synced == nil || !cl.synced() {
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
	id, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(id)
	after, err := c.Reconcile(ctx, id)
	switch {
	case err != nil:
		reconcileErrorsTotal.Inc()
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

// attemptOf returns the job run's current attempt number (from 1).
func attemptOf(run jobs.JobRun) int {
	if n, err := strconv.Atoi(run.Extensions[extAttempt]); err == nil && n > 0 {
		return n
	}
	return 1
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

// recordCost feeds a cluster's cost recorder from the job pod informer and a node informer,
// and once both have synced, closes the records of pods and nodes that vanished while the
// server was down.
func (c *Controller) recordCost(ctx context.Context, cl *cluster, rec *cost.Recorder, pods coreinformers.PodInformer) error {
	podH, nodeH := rec.Handlers()
	if _, err := pods.Informer().AddEventHandler(podH); err != nil {
		return fmt.Errorf("record pod costs of cluster %s: %w", cl.id, err)
	}
	nodeFactory := informers.NewSharedInformerFactory(cl.client, 0)
	nodes := nodeFactory.Core().V1().Nodes()
	if _, err := nodes.Informer().AddEventHandler(nodeH); err != nil {
		return fmt.Errorf("record node prices of cluster %s: %w", cl.id, err)
	}
	nodeFactory.Start(ctx.Done())
	go func() {
		if !cache.WaitForCacheSync(ctx.Done(), pods.Informer().HasSynced, nodes.Informer().HasSynced) {
			return
		}
		podList, _ := cl.pods.List(labels.Everything())
		nodeList, _ := nodes.Lister().List(labels.Everything())
		if err := rec.Resync(ctx, podList, nodeList); err != nil {
			c.log.Warn("cost resync", "cluster", cl.id, "err", err)
		}
	}()
	return nil
}

// flushCost retries cost records whose writes failed.
func (c *Controller) flushCost() {
	for id, rec := range c.opts.Cost {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := rec.Flush(ctx); err != nil {
			c.log.Warn("flush cost records", "cluster", id, "err", err)
		}
		cancel()
	}
}

// settleVirtualClusters ends every TERMINATING virtual cluster whose runs have all ended. A
// run's own reconcile does this too, but it can finish before DeleteVirtualCluster has marked
// its cluster TERMINATING; the resync makes sure no cluster is left terminating.
func (c *Controller) settleVirtualClusters(ctx context.Context) {
	f := jobs.VirtualClusterFilter{States: []jobs.VirtualClusterState{jobs.VirtualClusterTerminating}}
	for {
		vcs, next, err := c.opts.Store.ListVirtualClusters(ctx, f)
		if err != nil {
			c.log.Error("list terminating virtual clusters", "err", err)
			return
		}
		for _, vc := range vcs {
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
