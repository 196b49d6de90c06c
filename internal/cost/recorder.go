package cost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Store keeps what the Recorder observes. Saves merge with what is stored: a pod's node, start
// and end, once known, are never cleared or moved by a later save (a later observation may
// lack them), and a node's deletion time is kept.
type Store interface {
	// SavePodUsage upserts a pod by UID and returns the stored (merged) record, and whether
	// this save is the one that first recorded its end.
	SavePodUsage(ctx context.Context, p PodUsage) (stored PodUsage, ended bool, err error)
	// SaveNodeFacts upserts a node by cluster and name; a new UID under the same name
	// replaces the old node.
	SaveNodeFacts(ctx context.Context, n NodeFacts) error
	// PodUsageByJobRun returns every recorded pod of a job run.
	PodUsageByJobRun(ctx context.Context, jobRunID string) ([]PodUsage, error)
	// PodUsageByVirtualCluster returns the pods of the virtual cluster's job runs that held a
	// node at some time in [from, to) (or are still holding one that started before to).
	PodUsageByVirtualCluster(ctx context.Context, virtualClusterID string, from, to time.Time) ([]PodUsage, error)
	// PodUsageOnNodes returns every recorded pod that ran on one of the nodes within [from, to).
	PodUsageOnNodes(ctx context.Context, nodes []NodeKey, from, to time.Time) ([]PodUsage, error)
	// NodeFacts returns the recorded facts of the nodes that exist among keys.
	NodeFacts(ctx context.Context, keys []NodeKey) (map[NodeKey]NodeFacts, error)
	// OpenPodUsage returns the pods of a cluster recorded as not yet ended.
	OpenPodUsage(ctx context.Context, cluster string) ([]PodUsage, error)
	// OpenNodes returns the nodes of a cluster recorded as not yet deleted.
	OpenNodes(ctx context.Context, cluster string) ([]NodeFacts, error)
}

// RecorderOptions configure a Recorder. Store and Catalog are required.
type RecorderOptions struct {
	Store   Store
	Catalog *Catalog
	// Cluster is the container provider id of the cluster whose informers feed this Recorder
	// (one Recorder per cluster); it keys nodes, whose names are unique only within a cluster.
	Cluster string
	// Region is assumed for nodes with neither a region label nor an AWS-style zone.
	Region string
	// Metrics, when set, count each pod's charge when it ends.
	Metrics *Metrics
	Logger  *slog.Logger
	Now     func() time.Time
	// WriteTimeout bounds one store write made from an informer callback (default 10s).
	WriteTimeout time.Duration
	// Pods and Nodes are the cluster's informers of job pods (wellknown.LabelJobID) and of
	// nodes, shared with other consumers and started by the caller. When both are set,
	// NewRecorder subscribes to them and Run records from them; without them the Recorder is
	// fed through Handlers.
	Pods  coreinformers.PodInformer
	Nodes coreinformers.NodeInformer
	// FlushEvery is how often Run retries writes that failed (default 30s).
	FlushEvery time.Duration
}

// Recorder turns pod and node informer events into persisted usage records. Feed it from the
// informers' event handlers (see Handlers). It writes only when something that changes a
// charge changes (node, start, end, requests), keeps writes that failed and retries them on
// the next event or Flush, and never holds a pod in memory after it was deleted.
type Recorder struct {
	opts RecorderOptions
	log  *slog.Logger

	mu      sync.Mutex
	pods    map[string]PodUsage  // uid -> last saved
	nodes   map[string]NodeFacts // name -> last saved
	pending map[string]func(context.Context) error
}

// NewRecorder returns a Recorder.
func NewRecorder(opts RecorderOptions) (*Recorder, error) {
	if opts.Store == nil || opts.Catalog == nil {
		return nil, errors.New("cost.NewRecorder: Store and Catalog are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 30 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &Recorder{
		opts:    opts,
		log:     log.With("component", "cost", "cluster", opts.Cluster),
		pods:    map[string]PodUsage{},
		nodes:   map[string]NodeFacts{},
		pending: map[string]func(context.Context) error{},
	}
	if opts.Pods != nil && opts.Nodes != nil {
		podH, nodeH := r.Handlers()
		if _, err := opts.Pods.Informer().AddEventHandler(podH); err != nil {
			return nil, fmt.Errorf("record pod costs of cluster %s: %w", opts.Cluster, err)
		}
		if _, err := opts.Nodes.Informer().AddEventHandler(nodeH); err != nil {
			return nil, fmt.Errorf("record node prices of cluster %s: %w", opts.Cluster, err)
		}
	}
	return r, nil
}

// Run is the Recorder as a runnable of the server: once the informers have synced it closes
// the records of pods and nodes that vanished while nobody watched (Resync), then retries
// failed writes every FlushEvery, and flushes once more when ctx ends. It needs the Pods and
// Nodes informers.
func (r *Recorder) Run(ctx context.Context) error {
	if r.opts.Pods == nil || r.opts.Nodes == nil {
		return errors.New("cost.Recorder.Run: RecorderOptions.Pods and Nodes are required")
	}
	if cache.WaitForCacheSync(ctx.Done(), r.opts.Pods.Informer().HasSynced, r.opts.Nodes.Informer().HasSynced) {
		pods, _ := r.opts.Pods.Lister().List(labels.Everything())
		nodes, _ := r.opts.Nodes.Lister().List(labels.Everything())
		if err := r.Resync(ctx, pods, nodes); err != nil {
			r.log.Warn("cost resync", "err", err)
		}
	}
	ticker := time.NewTicker(r.opts.FlushEvery)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), r.opts.WriteTimeout)
			defer cancel()
			if err := r.Flush(fctx); err != nil {
				r.log.Warn("flush cost records at shutdown", "err", err)
			}
			return nil
		case <-ticker.C:
			if err := r.Flush(ctx); err != nil {
				r.log.Warn("flush cost records", "err", err)
			}
		}
	}
}

// Handlers returns informer event handlers for pods and for nodes, ready for
// AddEventHandler.
func (r *Recorder) Handlers() (pods, nodes cache.ResourceEventHandlerFuncs) {
	pods = cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				r.ObservePod(p)
			}
		},
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				r.ObservePod(p)
			}
		},
		DeleteFunc: r.ObservePodDeleted,
	}
	nodes = cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if n, ok := obj.(*corev1.Node); ok {
				r.ObserveNode(n)
			}
		},
		UpdateFunc: func(_, obj any) {
			if n, ok := obj.(*corev1.Node); ok {
				r.ObserveNode(n)
			}
		},
		DeleteFunc: r.ObserveNodeDeleted,
	}
	return pods, nodes
}

// ObservePod records a pod's usage if it belongs to a job run (has the job id label) and
// something that changes its charge changed.
func (r *Recorder) ObservePod(pod *corev1.Pod) {
	u, ok := r.podUsage(pod, false)
	if !ok {
		return
	}
	r.savePod(u, false)
}

// ObservePodDeleted records that a pod is gone: its charge ends at its containers' last
// finish time, or now. obj is a *corev1.Pod or a cache.DeletedFinalStateUnknown holding one.
func (r *Recorder) ObservePodDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	u, ok := r.podUsage(pod, true)
	if !ok {
		return
	}
	r.savePod(u, true)
}

// ObserveNode records a node's pricing facts when they change.
func (r *Recorder) ObserveNode(node *corev1.Node) {
	r.saveNode(r.nodeFacts(node, false))
}

// ObserveNodeDeleted records that a node is gone (now). obj is a *corev1.Node or a
// cache.DeletedFinalStateUnknown holding one.
func (r *Recorder) ObserveNodeDeleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if node, ok := obj.(*corev1.Node); ok {
		r.saveNode(r.nodeFacts(node, true))
	}
}

// Resync closes the records of pods and nodes that vanished while nobody watched (the server
// was down): every pod or node of this cluster recorded as open but absent from the lists
// given (an informer's full list after it synced) is ended now. Their charge up to now is an
// upper bound. It also retries pending writes.
func (r *Recorder) Resync(ctx context.Context, pods []*corev1.Pod, nodes []*corev1.Node) error {
	live := map[string]bool{}
	for _, p := range pods {
		live[string(p.UID)] = true
	}
	open, err := r.opts.Store.OpenPodUsage(ctx, r.opts.Cluster)
	if err != nil {
		return fmt.Errorf("list open pod usage of cluster %s: %w", r.opts.Cluster, err)
	}
	now := micro(r.opts.Now())
	for _, u := range open {
		if !live[u.UID] {
			u.End = now
			r.savePod(u, true)
		}
	}
	liveNodes := map[string]bool{}
	for _, n := range nodes {
		liveNodes[n.Name] = true
	}
	openNodes, err := r.opts.Store.OpenNodes(ctx, r.opts.Cluster)
	if err != nil {
		return fmt.Errorf("list open nodes of cluster %s: %w", r.opts.Cluster, err)
	}
	for _, n := range openNodes {
		if !liveNodes[n.Name] {
			n.Deleted = now
			r.saveNode(n)
		}
	}
	return r.Flush(ctx)
}

// Flush retries the writes that failed; it returns the first error still left.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	work := r.pending
	r.pending = map[string]func(context.Context) error{}
	r.mu.Unlock()
	var errs []error
	for k, fn := range work {
		if err := fn(ctx); err != nil {
			errs = append(errs, err)
			r.mu.Lock()
			if _, newer := r.pending[k]; !newer {
				r.pending[k] = fn
			}
			r.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// Pending is the number of writes waiting for a retry.
func (r *Recorder) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

func (r *Recorder) savePod(u PodUsage, deleted bool) {
	r.mu.Lock()
	last, seen := r.pods[u.UID]
	if seen {
		u = MergePodUsage(last, u)
		if u == last && !deleted {
			r.mu.Unlock()
			return
		}
	}
	r.mu.Unlock()
	write := func(ctx context.Context) error {
		stored, ended, err := r.opts.Store.SavePodUsage(ctx, u)
		if err != nil {
			return fmt.Errorf("save usage of pod %s/%s: %w", u.Namespace, u.Name, err)
		}
		r.mu.Lock()
		if deleted {
			delete(r.pods, u.UID)
		} else {
			r.pods[u.UID] = stored
		}
		r.mu.Unlock()
		if ended {
			r.countEnded(ctx, stored)
		}
		return nil
	}
	r.run("pod/"+u.UID, write)
}

func (r *Recorder) saveNode(n NodeFacts) {
	r.mu.Lock()
	last, seen := r.nodes[n.Name]
	if seen && last.UID == n.UID {
		if n.Deleted.IsZero() {
			n.Deleted = last.Deleted
		}
		if n == last {
			r.mu.Unlock()
			return
		}
	}
	r.mu.Unlock()
	write := func(ctx context.Context) error {
		if err := r.opts.Store.SaveNodeFacts(ctx, n); err != nil {
			return fmt.Errorf("save node %s: %w", n.Name, err)
		}
		r.mu.Lock()
		if n.Deleted.IsZero() {
			r.nodes[n.Name] = n
		} else {
			delete(r.nodes, n.Name)
		}
		r.mu.Unlock()
		return nil
	}
	r.run("node/"+n.Name, write)
}

// run performs a write now, with earlier failed writes first; a failure is kept for retry
// (a later write for the same object replaces it).
func (r *Recorder) run(key string, write func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.WriteTimeout)
	defer cancel()
	r.mu.Lock()
	delete(r.pending, key)
	retry := len(r.pending) > 0
	r.mu.Unlock()
	if retry {
		if err := r.Flush(ctx); err != nil {
			r.log.Warn("retrying cost writes failed", "err", err)
		}
	}
	if err := write(ctx); err != nil {
		r.log.Error("cost record not saved; will retry", "key", key, "err", err)
		r.mu.Lock()
		if _, newer := r.pending[key]; !newer {
			r.pending[key] = write
		}
		r.mu.Unlock()
	}
}

// countEnded adds a finished pod's charge to the metrics.
func (r *Recorder) countEnded(ctx context.Context, p PodUsage) {
	if r.opts.Metrics == nil {
		return
	}
	key := p.NodeKey()
	nodes, err := r.opts.Store.NodeFacts(ctx, []NodeKey{key})
	if err != nil {
		r.log.Warn("read node for cost metrics", "pod", p.Namespace+"/"+p.Name, "err", err)
	}
	c := charge(p, nodes[key], r.opts.Catalog, Window{}, r.opts.Now())
	r.opts.Metrics.observe(p.VirtualClusterID, p.Role, c)
}

// podUsage builds the usage record of a job run's pod; ok is false for other pods.
func (r *Recorder) podUsage(pod *corev1.Pod, deleted bool) (PodUsage, bool) {
	job := pod.Labels[wellknown.LabelJobID]
	if job == "" {
		return PodUsage{}, false
	}
	u := PodUsage{
		UID: string(pod.UID), Cluster: r.opts.Cluster, Namespace: pod.Namespace, Name: pod.Name,
		JobRunID: job, VirtualClusterID: pod.Labels[wellknown.LabelVirtualClusterID], NodeName: pod.Spec.NodeName,
	}
	switch Role(pod.Labels[wellknown.LabelSparkRole]) {
	case RoleDriver:
		u.Role = RoleDriver
	case RoleExecutor:
		u.Role = RoleExecutor
	default:
		u.Role = RoleOther
	}
	u.CPUMillis, u.MemoryBytes = PodRequests(&pod.Spec)
	u.Start = micro(scheduledAt(pod))
	if u.Start.IsZero() {
		// Never scheduled: no node held, nothing to charge or to record.
		if deleted {
			r.mu.Lock()
			delete(r.pods, u.UID)
			r.mu.Unlock()
		}
		return PodUsage{}, false
	}
	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if terminal || deleted {
		finished, all := finishedAt(pod)
		if !finished.IsZero() && (terminal || all) {
			u.End = micro(finished)
		} else {
			// Deleted while its containers ran (or their end is not reported): the node was
			// held until now.
			u.End = micro(r.opts.Now())
		}
		if u.End.Before(u.Start) {
			u.End = u.Start
		}
	}
	return u, true
}

func (r *Recorder) nodeFacts(node *corev1.Node, deleted bool) NodeFacts {
	l := node.Labels
	n := NodeFacts{
		Cluster: r.opts.Cluster, Name: node.Name, UID: string(node.UID),
		InstanceType: l[wellknown.LabelInstanceType], Zone: l[wellknown.LabelZone], Region: l[wellknown.LabelRegion],
		PriceLabel: l[PriceLabel], Created: micro(node.CreationTimestamp.Time),
	}
	if n.InstanceType == "" {
		n.InstanceType = l[wellknown.LabelInstanceTypeBeta]
	}
	switch ct := l[wellknown.LabelCapacityType]; {
	case ct != "":
		n.CapacityType = CapacityType(ct)
	case l[wellknown.LabelEKSCapacityType] == "SPOT":
		n.CapacityType = Spot
	case l[wellknown.LabelEKSCapacityType] == "ON_DEMAND":
		n.CapacityType = OnDemand
	}
	if n.Region == "" {
		n.Region = RegionOfZone(n.Zone)
	}
	if n.Region == "" {
		n.Region = r.opts.Region
	}
	if q, ok := node.Status.Allocatable[corev1.ResourceCPU]; ok {
		n.CPUMillis = q.MilliValue()
	}
	if q, ok := node.Status.Allocatable[corev1.ResourceMemory]; ok {
		n.MemoryBytes = q.Value()
	}
	if deleted {
		n.Deleted = micro(r.opts.Now())
	}
	return n
}

// MergePodUsage is the one rule for two observations of one pod, old recorded before cur: its
// node, start and end, once known, are kept (a later observation may lack them, e.g. the
// final state of a pod deleted while the watch was down), and so is its virtual cluster. The
// Recorder applies it to what it last saved and a Store to what it holds.
func MergePodUsage(old, cur PodUsage) PodUsage {
	if old.NodeName != "" {
		cur.NodeName = old.NodeName
	}
	if !old.Start.IsZero() {
		cur.Start = old.Start
	}
	if !old.End.IsZero() {
		cur.End = old.End
	}
	if cur.VirtualClusterID == "" {
		cur.VirtualClusterID = old.VirtualClusterID
	}
	return cur
}

// PodRequests is what a pod reserves on its node, as the scheduler counts it: the larger of
// the sum of its app containers (plus restartable init containers, i.e. sidecars) and each
// ordinary init container (plus the sidecars started before it), plus the pod overhead.
func PodRequests(spec *corev1.PodSpec) (cpuMillis, memoryBytes int64) {
	var cpu, mem, sideCPU, sideMem, initCPU, initMem int64
	req := func(c corev1.Container) (int64, int64) {
		return quantity(c.Resources.Requests, corev1.ResourceCPU, true), quantity(c.Resources.Requests, corev1.ResourceMemory, false)
	}
	for _, c := range spec.InitContainers {
		ic, im := req(c)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sideCPU += ic
			sideMem += im
			initCPU, initMem = max(initCPU, sideCPU), max(initMem, sideMem)
			continue
		}
		initCPU, initMem = max(initCPU, sideCPU+ic), max(initMem, sideMem+im)
	}
	for _, c := range spec.Containers {
		ac, am := req(c)
		cpu += ac
		mem += am
	}
	cpu, mem = max(cpu+sideCPU, initCPU), max(mem+sideMem, initMem)
	cpu += quantity(spec.Overhead, corev1.ResourceCPU, true)
	mem += quantity(spec.Overhead, corev1.ResourceMemory, false)
	return cpu, mem
}

func quantity(l corev1.ResourceList, name corev1.ResourceName, milli bool) int64 {
	q, ok := l[name]
	if !ok {
		return 0
	}
	if milli {
		return q.MilliValue()
	}
	return q.Value()
}

// scheduledAt is when the pod was bound to its node (PodScheduled=True), else when the kubelet
// started it; zero when it has no node.
func scheduledAt(pod *corev1.Pod) time.Time {
	if pod.Spec.NodeName == "" {
		return time.Time{}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if pod.Status.StartTime != nil {
		return pod.Status.StartTime.Time
	}
	return pod.CreationTimestamp.Time
}

// finishedAt is the last finish time of the pod's app containers, zero if none has finished,
// and whether every app container has terminated.
func finishedAt(pod *corev1.Pod) (last time.Time, all bool) {
	all = len(pod.Status.ContainerStatuses) > 0
	for _, s := range pod.Status.ContainerStatuses {
		if s.State.Terminated == nil {
			all = false
			continue
		}
		if s.State.Terminated.FinishedAt.Time.After(last) {
			last = s.State.Terminated.FinishedAt.Time
		}
	}
	return last, all
}

// micro normalizes a time to what the store keeps: UTC, whole microseconds, no monotonic
// reading, so that records compare equal after a round trip.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}
