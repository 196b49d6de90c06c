package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// cacheGrace is how long after its creation a driver pod may be missing from the informer's
// cache before the controller asks the API server whether it is gone. The informer sees a
// create within milliseconds; reading the API server on every miss would add a request per
// job on the hot path.
const cacheGrace = 15 * time.Second

// Reconcile takes one step for the job run id and says when to look again (0: on the next
// event or resync). It never sleeps.
func (c *Controller) Reconcile(ctx context.Context, id string) (time.Duration, error) {
	run, err := c.opts.Store.GetJobRun(ctx, id)
	if errors.Is(err, jobs.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read job run %s: %w", id, err)
	}
	vc, err := c.virtualCluster(ctx, run)
	if err != nil {
		return 0, err
	}
	cl := c.clusters[vc.ContainerProvider.ID]
	if cl == nil {
		if run.State.Terminal() {
			return 0, nil
		}
		return 0, c.finish(ctx, run, jobs.StateFailed, jobs.FailureClusterUnavailable,
			fmt.Sprintf("container provider %q of virtual cluster %s is not configured on this server", vc.ContainerProvider.ID, vc.ID))
	}
	ns := vc.ContainerProvider.Namespace()
	switch {
	case run.State.Terminal():
		if vc.State == jobs.VirtualClusterTerminating {
			c.vcs.forget(vc.ID)
			if err := c.opts.Store.SettleVirtualCluster(ctx, vc.ID); err != nil {
				return 0, err
			}
		}
		if err := c.noteShippingFailure(ctx, run); err != nil {
			return 0, err
		}
		return c.cleanup(ctx, cl, run, ns)
	case vc.State != jobs.VirtualClusterRunning && run.State != jobs.StateCancelPending:
		// A run accepted while its virtual cluster was being deleted never starts.
		return 0, c.move(ctx, run, jobs.StateCancelPending, fmt.Sprintf("virtual cluster %s is %s", vc.ID, vc.State))
	case run.State == jobs.StateCancelPending:
		kctx, cancel := context.WithTimeout(ctx, c.opts.KubeTimeout)
		defer cancel()
		if err := c.stopDriver(kctx, cl, run, ns); err != nil {
			c.noteKubernetes(ctx, run, cl, "waiting to delete the driver", err)
			return 0, err
		}
		return 0, c.finish(ctx, run, jobs.StateCancelled, "", "cancelled on request; the driver pod was deleted and its executors with it")
	case !run.Attempt.Submitted():
		return 0, c.submit(ctx, cl, run, vc)
	}
	return c.observe(ctx, cl, run, ns)
}

// virtualCluster reads the run's virtual cluster, from the short-lived cache when it holds it.
// A PENDING run always reads the store: it is about to be submitted, and a run that raced
// DeleteVirtualCluster must see the cluster TERMINATING rather than a cached RUNNING.
func (c *Controller) virtualCluster(ctx context.Context, run jobs.JobRun) (jobs.VirtualCluster, error) {
	now := c.opts.Clock.Now()
	if run.State != jobs.StatePending {
		if vc, ok := c.vcs.get(run.VirtualClusterID, now); ok {
			return vc, nil
		}
	}
	vc, err := c.opts.Store.DescribeVirtualCluster(context.WithoutCancel(ctx), run.VirtualClusterID)
	if err != nil {
		return vc, fmt.Errorf("read virtual cluster %s of job run %s: %w", run.VirtualClusterID, run.ID, err)
	}
	c.vcs.put(vc, now)
	return vc, nil
}

// submit plans and creates the current attempt's objects, then records SUBMITTED.
func (c *Controller) submit(ctx context.Context, cl *cluster, run jobs.JobRun, vc jobs.VirtualCluster) error {
	start := c.opts.Clock.Now()
	// A PENDING run's virtual cluster, settings included, was read from the store just now.
	settings := c.opts.Store.SettingsOf(vc)
	if limit := settings.MaxConcurrentJobRuns; limit > 0 && run.State == jobs.StatePending && !run.HoldsSlot() {
		admitted, adm, err := c.opts.Store.AdmitJobRun(ctx, run.ID, limit)
		if err != nil {
			return fmt.Errorf("admit job run %s: %w", run.ID, err)
		}
		if !adm.Admitted {
			return c.noteQueued(ctx, admitted, adm, limit)
		}
		if admitted.State != jobs.StatePending {
			c.queue.Add(run.ID) // it moved on (cancelled) meanwhile: look again
			return nil
		}
		run = admitted
	}
	attempt := run.Attempt.Current()
	plan, err := c.opts.Planner.Plan(ctx, run, vc, settings, attempt)
	var verr *jobs.ValidationError
	if errors.As(err, &verr) {
		return c.finish(ctx, run, jobs.StateFailed, jobs.FailureValidationError, verr.Error())
	}
	var uerr *UserError
	if errors.As(err, &uerr) {
		return c.finish(ctx, run, jobs.StateFailed, jobs.FailureUserError, uerr.Message)
	}
	if err != nil {
		c.noteWaiting(ctx, run, "waiting to prepare the driver: "+err.Error())
		return fmt.Errorf("plan attempt %d of job run %s: %w", attempt, run.ID, err)
	}
	kctx, cancel := context.WithTimeout(ctx, c.opts.KubeTimeout)
	err = cl.submit(kctx, plan)
	cancel()
	if err != nil {
		if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) && !retryableForbidden(err) {
			// The API server refused the objects themselves (a bad pod template field, a
			// quota): retrying cannot help.
			return c.finish(ctx, run, jobs.StateFailed, jobs.FailureValidationError, "Kubernetes refused the driver objects: "+err.Error())
		}
		c.noteKubernetes(ctx, run, cl, "waiting to submit the driver", err)
		return err
	}
	now := c.opts.Clock.Now().UTC()
	_, err = c.update(ctx, run, func(r *jobs.JobRun) error {
		r.Attempt = jobs.Attempt{Number: attempt, Namespace: plan.Namespace, DriverPod: plan.Objects.DriverPod.Name, SubmittedAt: now,
			SparkVersion: plan.Objects.SparkVersion, AdmittedAt: r.Attempt.AdmittedAt, LogsNote: plan.LogsNote}
		r.RetryPolicyExecution = &jobs.RetryPolicyExecution{CurrentAttemptCount: int32(attempt)}
		r.State = jobs.StateSubmitted
		r.StateDetails = fmt.Sprintf("driver pod %s/%s created (attempt %d of %d)", plan.Namespace, plan.Objects.DriverPod.Name, attempt, maxAttempts(run)) +
			r.MonitoringNote()
		return nil
	})
	if err == nil {
		c.metrics.submitSeconds.Observe(c.opts.Clock.Since(start).Seconds())
		c.metrics.driverSubmissions.WithLabelValues(run.VirtualClusterID).Inc()
		c.log.Info("job run submitted", "job", run.ID, "virtualCluster", run.VirtualClusterID, "pod", plan.Objects.DriverPod.Name, "attempt", attempt)
	}
	return err
}

// observe records what the current attempt's driver pod shows, and starts the next attempt when
// a failed one has attempts left.
func (c *Controller) observe(ctx context.Context, cl *cluster, run jobs.JobRun, ns string) (time.Duration, error) {
	if !cl.informer.HasSynced() {
		// Right after a start every run lands here before the first list arrives: say so
		// only when the cache has stayed unsynced for longer than an API server may take to
		// answer, and look again without the error backoff until then.
		if c.opts.Clock.Since(c.startedAt()) < c.opts.KubeTimeout {
			return time.Second, nil
		}
		c.noteWaiting(ctx, run, fmt.Sprintf("waiting for Kubernetes: the pod cache of container provider %s has not synced (is its API server reachable?)", cl.id))
		return 0, fmt.Errorf("driver pod cache of cluster %s has not synced yet", cl.id)
	}
	name := run.Attempt.DriverPod
	pod, err := cl.driverPod(ns, name)
	if err != nil {
		return 0, err
	}
	if pod == nil {
		// The informer sees a new pod within milliseconds; only a pod missing for longer is
		// checked against the API server before the attempt is declared lost.
		if wait := run.Attempt.SubmittedAt.Add(cacheGrace).Sub(c.opts.Clock.Now()); wait > 0 {
			return wait, nil
		}
		kctx, cancel := context.WithTimeout(ctx, c.opts.KubeTimeout)
		pod, err = cl.client.CoreV1().Pods(ns).Get(kctx, name, metav1.GetOptions{})
		cancel()
		if apierrors.IsNotFound(err) {
			pod, err = nil, nil
		}
		if err != nil {
			c.noteKubernetes(ctx, run, cl, "waiting to read the driver pod", err)
			return 0, fmt.Errorf("read driver pod %s/%s: %w", ns, name, err)
		}
	}
	if pod != nil && pod.DeletionTimestamp != nil && !finished(pod) {
		pod = nil // deleted from outside while running: the attempt is lost
	}
	obs := ObserveDriver(pod, c.opts.PendingTimeout, c.opts.Clock.Now())
	switch obs.State {
	case jobs.StateFailed:
		// An attempt that failed without its pod finishing (unschedulable, image or config
		// errors) must not start later beside the next attempt: stop its driver first.
		if pod != nil && !finished(pod) {
			kctx, cancel := context.WithTimeout(ctx, c.opts.KubeTimeout)
			err := cl.client.CoreV1().Pods(ns).Delete(kctx, pod.Name, metav1.DeleteOptions{})
			cancel()
			if err != nil && !apierrors.IsNotFound(err) {
				c.noteKubernetes(ctx, run, cl, "waiting to stop the failed driver", err)
				return 0, fmt.Errorf("stop failed driver pod %s/%s: %w", ns, pod.Name, err)
			}
		}
		if attempt := run.Attempt.Current(); attempt < maxAttempts(run) {
			return 0, c.retry(ctx, run, attempt, obs)
		}
		return 0, c.finish(ctx, run, jobs.StateFailed, obs.FailureReason, obs.Details)
	case jobs.StateCompleted:
		return 0, c.finish(ctx, run, jobs.StateCompleted, "", obs.Details)
	case jobs.StateRunning:
		details := fmt.Sprintf("driver pod %s/%s is running on node %s", ns, name, pod.Spec.NodeName)
		if run.State != jobs.StateRunning {
			return 0, c.move(ctx, run, jobs.StateRunning, details)
		}
		c.clearWaiting(ctx, run, details)
	case jobs.StateSubmitted:
		c.clearWaiting(ctx, run, fmt.Sprintf("driver pod %s/%s created (attempt %d of %d)", ns, name, run.Attempt.Current(), maxAttempts(run)))
		// Still pending: look again when the unschedulable deadline could pass.
		return c.opts.PendingTimeout / 4, nil
	}
	return 0, nil
}

// stopDriver deletes the current attempt's driver pod (the garbage collector removes what it
// owns). It deletes by name, not by selector: cancelling many runs at once (a deleted virtual
// cluster) must not make the API server list the namespace once per run. Earlier attempts'
// drivers have finished or were stopped when they failed; cleanup removes them after the TTL.
// A run whose attempt was never recorded (a crash between creating its pod and recording
// it) falls back to the selector.
func (c *Controller) stopDriver(ctx context.Context, cl *cluster, run jobs.JobRun, ns string) error {
	if !run.Attempt.Submitted() {
		return deleteDrivers(ctx, cl.client, ns, run.ID)
	}
	policy := metav1.DeletePropagationBackground
	err := cl.client.CoreV1().Pods(ns).Delete(ctx, run.Attempt.DriverPod, metav1.DeleteOptions{PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete driver pod %s/%s of job run %s: %w", ns, run.Attempt.DriverPod, run.ID, err)
	}
	return nil
}

// driverPod reads a driver pod from the informer's cache; nil when the cache does not hold it.
func (cl *cluster) driverPod(ns, name string) (*corev1.Pod, error) {
	obj, ok, err := cl.informer.GetStore().GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil, err
	}
	pod, _ := obj.(*corev1.Pod)
	return pod, nil
}

// retry starts the next attempt: the failed driver stays for its logs (until DriverTTL).
func (c *Controller) retry(ctx context.Context, run jobs.JobRun, attempt int, obs Observation) error {
	_, err := c.update(ctx, run, func(r *jobs.JobRun) error {
		r.Attempt = r.Attempt.Next()
		r.State = jobs.StateSubmitted
		r.StateDetails = fmt.Sprintf("attempt %d failed (%s); starting attempt %d of %d", attempt, obs.Details, attempt+1, maxAttempts(run))
		return nil
	})
	if err == nil {
		c.log.Info("job run attempt failed; retrying", "job", run.ID, "attempt", attempt, "reason", obs.Details)
		c.queue.Add(run.ID)
	}
	return err
}

// move records a non-terminal state change.
func (c *Controller) move(ctx context.Context, run jobs.JobRun, to jobs.JobRunState, details string) error {
	now := c.opts.Clock.Now().UTC()
	_, err := c.update(ctx, run, func(r *jobs.JobRun) error {
		if to == jobs.StateRunning {
			r.Attempt.RunningAt = now
		}
		r.State = to
		r.StateDetails = details
		return nil
	})
	if err == nil {
		c.log.Info("job run state changed", "job", run.ID, "from", run.State, "to", to)
	}
	return err
}

// finish records a terminal state.
func (c *Controller) finish(ctx context.Context, run jobs.JobRun, to jobs.JobRunState, reason jobs.FailureReason, details string) error {
	now := c.opts.Clock.Now().UTC()
	_, err := c.update(ctx, run, func(r *jobs.JobRun) error {
		r.State = to
		r.FailureReason = reason
		r.StateDetails = details + r.MonitoringNote() + c.shippingNote(run.ID) + timeline(r, to, now)
		r.FinishedAt = &now
		if r.RetryPolicyExecution == nil {
			r.RetryPolicyExecution = &jobs.RetryPolicyExecution{CurrentAttemptCount: int32(run.Attempt.Current())}
		}
		return nil
	})
	if err == nil {
		if run.HoldsSlot() && c.mayQueue(run.VirtualClusterID) {
			c.admitNext(ctx, run.VirtualClusterID)
		}
		c.metrics.jobRunsFinished.WithLabelValues(run.VirtualClusterID, string(to), string(reason)).Inc()
		c.log.Info("job run finished", "job", run.ID, "virtualCluster", run.VirtualClusterID, "state", to, "failureReason", reason, "details", details)
		// Look again at once (a TERMINATING virtual cluster may settle), and when the
		// finished driver is due for deletion.
		c.queue.Add(run.ID)
		c.queue.AddAfter(run.ID, c.opts.DriverTTL)
	}
	return err
}

// queueWake bounds how many queued runs a freed slot wakes: enough to admit the next ones and
// refresh the positions the first of them report; the resync reaches the rest.
const queueWake = 1000

// mayQueue reports whether a virtual cluster can have queued runs: not when it is known (from
// the cache) to have no limit, which spares every finished run a store read. A limit removed
// since leaves no run queued for long: removing settings wakes the queued runs.
func (c *Controller) mayQueue(virtualClusterID string) bool {
	vc, ok := c.vcs.get(virtualClusterID, c.opts.Clock.Now())
	return !ok || c.opts.Store.SettingsOf(vc).MaxConcurrentJobRuns > 0
}

// admitNext looks at a virtual cluster's queued runs again after one of its runs gave up its
// slot, first in first out.
func (c *Controller) admitNext(ctx context.Context, virtualClusterID string) {
	ids, err := c.opts.Store.QueuedJobRunIDs(ctx, virtualClusterID, queueWake)
	if err != nil {
		c.log.Warn("list queued job runs", "virtualCluster", virtualClusterID, "err", err)
		return
	}
	for _, id := range ids {
		c.queue.Add(id)
	}
}

// noteQueued records, when it changed, why a run waits in its virtual cluster's queue.
func (c *Controller) noteQueued(ctx context.Context, run jobs.JobRun, adm jobs.Admission, limit int) error {
	runs := "job runs"
	if adm.Ahead == 1 {
		runs = "job run"
	}
	details := fmt.Sprintf("queued: %d %s ahead; virtual cluster allows %d at once", adm.Ahead, runs, limit)
	if adm.Ahead == 0 {
		details = fmt.Sprintf("queued: next to start; virtual cluster allows %d at once and %d are running", limit, adm.Holding)
	}
	if run.StateDetails == details {
		return nil
	}
	_, err := c.update(ctx, run, func(r *jobs.JobRun) error {
		if r.State != jobs.StatePending || r.HoldsSlot() {
			return nil
		}
		r.StateDetails = details
		return nil
	})
	return err
}

// noteKubernetes records why a run waits after a Kubernetes call failed: an API server that
// did not answer in time, or could not be reached, is named as such, so a person reading
// DescribeJobRun knows the job waits for the cluster and not for itself; the error itself is
// kept, since a refused connection and a bad certificate call for different fixes. Nothing is
// noted when the reconcile itself was cancelled (the server is stopping).
func (c *Controller) noteKubernetes(ctx context.Context, run jobs.JobRun, cl *cluster, doing string, err error) {
	if ctx.Err() != nil {
		return
	}
	if unreachable(err) {
		c.metrics.waitingKubernetes.Inc()
		c.noteWaiting(ctx, run, fmt.Sprintf("waiting for Kubernetes: the API server of container provider %s did not answer within %s (%s: %v)", cl.id, c.opts.KubeTimeout, doing, err))
		return
	}
	c.noteWaiting(ctx, run, doing+": "+err.Error())
}

// unreachable reports whether err means the API server did not answer: a deadline or another
// timeout, a refused or reset connection, a timeout or unavailability the server reported. A
// certificate, name resolution or credential failure is not one: it will not pass by waiting.
func unreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	return apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || apierrors.IsServiceUnavailable(err)
}

// clearWaiting replaces a "waiting ..." note left by an earlier reconcile (a slow API server,
// a restart) with what the run shows now, once the run got past it.
func (c *Controller) clearWaiting(ctx context.Context, run jobs.JobRun, details string) {
	if strings.HasPrefix(run.StateDetails, "waiting ") {
		c.noteWaiting(ctx, run, details)
	}
}

// noteWaiting records why a job run is waiting, once per distinct reason, without moving it.
// The write does not depend on the reconcile's context: the reason must be recorded even when
// the Kubernetes call before it used up its time.
func (c *Controller) noteWaiting(ctx context.Context, run jobs.JobRun, details string) {
	if len(details) > 500 {
		details = details[:500] + "…"
	}
	if run.StateDetails == details {
		return
	}
	_, err := c.update(context.WithoutCancel(ctx), run, func(r *jobs.JobRun) error {
		r.StateDetails = details
		return nil
	})
	switch {
	case errors.Is(err, jobs.ErrUnavailable):
		c.storeUnavailable(ctx, err)
	case err != nil:
		c.log.Warn("record waiting reason", "job", run.ID, "err", err)
	}
}

// cleanup deletes a finished job run's driver pods once DriverTTL has passed since it ended.
func (c *Controller) cleanup(ctx context.Context, cl *cluster, run jobs.JobRun, ns string) (time.Duration, error) {
	if run.Attempt.CleanedUp || run.FinishedAt == nil {
		return 0, nil
	}
	if wait := run.FinishedAt.Add(c.opts.DriverTTL).Sub(c.opts.Clock.Now()); wait > 0 {
		return wait, nil
	}
	kctx, cancel := context.WithTimeout(ctx, c.opts.KubeTimeout)
	defer cancel()
	if err := deleteDrivers(kctx, cl.client, ns, run.ID); err != nil {
		return 0, err
	}
	_, err := c.update(ctx, run, func(r *jobs.JobRun) error {
		r.Attempt.CleanedUp = true
		return nil
	})
	return 0, err
}

// update records a change the reconcile decided for run. A conflict that left the run's state
// and attempt as they were (a TagResource, a note) does not change the decision: it is
// applied once more on the fresh version, so that, say, an unschedulable driver already
// stopped is not later mistaken for one deleted from outside. A conflict that changed them (a
// cancel, another replica's step) is returned, and the next reconcile decides again.
func (c *Controller) update(ctx context.Context, run jobs.JobRun, mutate func(*jobs.JobRun) error) (jobs.JobRun, error) {
	out, err := c.opts.Store.UpdateJobRun(ctx, run.ID, run.Version, mutate)
	if !errors.Is(err, jobs.ErrConflict) {
		return out, err
	}
	fresh, gerr := c.opts.Store.GetJobRun(ctx, run.ID)
	if gerr != nil || fresh.State != run.State || fresh.Attempt != run.Attempt {
		return out, err
	}
	return c.opts.Store.UpdateJobRun(ctx, run.ID, fresh.Version, mutate)
}

// timeline says when the run went through its states, so DescribeJobRun of a finished run
// (whose state field shows only the end) tells the whole story, e.g.
// " [created 12:00:00, submitted 12:00:00, running 12:00:02, completed 12:00:35 UTC]".
func timeline(r *jobs.JobRun, end jobs.JobRunState, at time.Time) string {
	parts := []string{"created " + r.CreatedAt.UTC().Format("15:04:05")}
	for _, step := range []struct {
		name string
		at   time.Time
	}{{"submitted", r.Attempt.SubmittedAt}, {"running", r.Attempt.RunningAt}} {
		if !step.at.IsZero() {
			parts = append(parts, step.name+" "+step.at.UTC().Format("15:04:05"))
		}
	}
	parts = append(parts, strings.ToLower(string(end))+" "+at.UTC().Format("15:04:05"))
	return " [" + strings.Join(parts, ", ") + " UTC]"
}

// retryableForbidden tells a refusal that passes (a ResourceQuota that is full until other jobs
// end, a namespace being deleted and recreated) from one that will not (missing permissions).
func retryableForbidden(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "exceeded quota") || strings.Contains(msg, "is being terminated")
}

// shippingNote is the stateDetails' word on a pod whose logs could not be shipped, or "".
func (c *Controller) shippingNote(id string) string {
	v, ok := c.shipFailures.Load(id)
	if !ok {
		return ""
	}
	return " (" + v.(string) + "; the job itself was not affected)"
}

// noteShippingFailure adds to a finished run's stateDetails that some pod's logs could not be
// shipped, when the sidecar said so only after the run ended (a native sidecar ends after the
// Spark container, so the driver's is seen last).
func (c *Controller) noteShippingFailure(ctx context.Context, run jobs.JobRun) error {
	note := c.shippingNote(run.ID)
	if note == "" {
		return nil
	}
	if !strings.Contains(run.StateDetails, wellknown.LogShippingFailurePrefix) {
		if _, err := c.update(ctx, run, func(r *jobs.JobRun) error {
			r.StateDetails = strings.TrimSpace(r.StateDetails) + note
			return nil
		}); err != nil {
			return err
		}
	}
	c.shipFailures.Delete(run.ID)
	return nil
}
