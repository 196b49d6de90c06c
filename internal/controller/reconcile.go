package controller

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// errNotSynced delays a reconcile until the cluster's informer has its first full list.
var errNotSynced = errors.New("driver pod cache of the cluster has not synced yet")

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
	vc, err := c.opts.Store.DescribeVirtualCluster(ctx, run.VirtualClusterID)
	if err != nil {
		return 0, fmt.Errorf("read virtual cluster %s of job run %s: %w", run.VirtualClusterID, id, err)
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
			if err := c.opts.Store.SettleVirtualCluster(ctx, vc.ID); err != nil {
				return 0, err
			}
		}
		return c.cleanup(ctx, cl, run, ns)
	case vc.State != jobs.VirtualClusterRunning && run.State != jobs.StateCancelPending:
		// A run accepted while its virtual cluster was being deleted never starts.
		return 0, c.move(ctx, run, jobs.StateCancelPending, fmt.Sprintf("virtual cluster %s is %s", vc.ID, vc.State))
	case run.State == jobs.StateCancelPending:
		if err := deleteDrivers(ctx, cl.client, ns, run.ID); err != nil {
			return 0, err
		}
		return 0, c.finish(ctx, run, jobs.StateCancelled, "", "cancelled on request; the driver pod was deleted and its executors with it")
	case run.Extensions[extSubmitted] != "true":
		return 0, c.submit(ctx, cl, run, vc)
	}
	return c.observe(ctx, cl, run, ns)
}

// submit plans and creates the current attempt's objects, then records SUBMITTED.
func (c *Controller) submit(ctx context.Context, cl *cluster, run jobs.JobRun, vc jobs.VirtualCluster) error {
	start := time.Now()
	attempt := attemptOf(run)
	plan, err := c.opts.Planner.Plan(ctx, run, vc, attempt)
	var verr *jobs.ValidationError
	if errors.As(err, &verr) {
		return c.finish(ctx, run, jobs.StateFailed, jobs.FailureValidationError, verr.Error())
	}
	if err != nil {
		c.noteWaiting(ctx, run, "waiting to prepare the driver: "+err.Error())
		return fmt.Errorf("plan attempt %d of job run %s: %w", attempt, run.ID, err)
	}
	if err := cl.submit(ctx, plan); err != nil {
		if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) && !retryableForbidden(err) {
			// The API server refused the objects themselves (a bad pod template field, a
			// quota): retrying cannot help.
			return c.finish(ctx, run, jobs.StateFailed, jobs.FailureValidationError, "Kubernetes refused the driver objects: "+err.Error())
		}
		c.noteWaiting(ctx, run, "waiting to submit the driver: "+err.Error())
		return err
	}
	_, err = c.opts.Store.UpdateJobRun(ctx, run.ID, run.Version, func(r *jobs.JobRun) error {
		setExt(r, extSubmitted, "true")
		setExt(r, extAttempt, strconv.Itoa(attempt))
		setExt(r, extDriverPod, plan.Namespace+"/"+plan.Objects.DriverPod.Name)
		setExt(r, extSubmittedAt, c.opts.Now().UTC().Format(time.RFC3339))
		r.RetryPolicyExecution = &jobs.RetryPolicyExecution{CurrentAttemptCount: int32(attempt)}
		r.State = jobs.StateSubmitted
		r.StateDetails = fmt.Sprintf("driver pod %s/%s created (attempt %d of %d)", plan.Namespace, plan.Objects.DriverPod.Name, attempt, maxAttempts(run))
		return nil
	})
	if err == nil {
		submitSeconds.Observe(time.Since(start).Seconds())
		driverSubmissionsTotal.WithLabelValues(run.VirtualClusterID).Inc()
		c.log.Info("job run submitted", "job", run.ID, "virtualCluster", run.VirtualClusterID, "pod", plan.Objects.DriverPod.Name, "attempt", attempt)
	}
	return err
}

// observe records what the current attempt's driver pod shows, and starts the next attempt when
// a failed one has attempts left.
func (c *Controller) observe(ctx context.Context, cl *cluster, run jobs.JobRun, ns string) (time.Duration, error) {
	if !cl.synced() {
		return 0, errNotSynced
	}
	name := driverPodName(run, ns)
	pod, err := cl.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The cache may lag a create by a few milliseconds: ask the API server before
		// concluding that the pod is gone.
		pod, err = cl.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			pod, err = nil, nil
		}
	}
	if err != nil {
		return 0, fmt.Errorf("read driver pod %s/%s: %w", ns, name, err)
	}
	if pod != nil && pod.DeletionTimestamp != nil && !finished(pod) {
		pod = nil // deleted from outside while running: the attempt is lost
	}
	obs := ObserveDriver(pod, c.opts.PendingTimeout, c.opts.Now())
	switch obs.State {
	case jobs.StateFailed:
		// An attempt that failed without its pod finishing (unschedulable, image or config
		// errors) must not start later beside the next attempt: stop its driver first.
		if pod != nil && !finished(pod) {
			if err := cl.client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return 0, fmt.Errorf("stop failed driver pod %s/%s: %w", ns, pod.Name, err)
			}
		}
		attempt := attemptOf(run)
		if attempt < maxAttempts(run) {
			return 0, c.retry(ctx, run, attempt, obs)
		}
		return 0, c.finish(ctx, run, jobs.StateFailed, obs.FailureReason, obs.Details)
	case jobs.StateCompleted:
		return 0, c.finish(ctx, run, jobs.StateCompleted, "", obs.Details)
	case jobs.StateRunning:
		if run.State != jobs.StateRunning {
			return 0, c.move(ctx, run, jobs.StateRunning, fmt.Sprintf("driver pod %s/%s is running on node %s", ns, name, pod.Spec.NodeName))
		}
	case jobs.StateSubmitted:
		// Still pending: look again when the unschedulable deadline could pass.
		return c.opts.PendingTimeout / 4, nil
	}
	return 0, nil
}

// retry starts the next attempt: the failed driver stays for its logs (until DriverTTL).
func (c *Controller) retry(ctx context.Context, run jobs.JobRun, attempt int, obs Observation) error {
	_, err := c.opts.Store.UpdateJobRun(ctx, run.ID, run.Version, func(r *jobs.JobRun) error {
		setExt(r, extAttempt, strconv.Itoa(attempt+1))
		setExt(r, extSubmitted, "")
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
	_, err := c.opts.Store.UpdateJobRun(ctx, run.ID, run.Version, func(r *jobs.JobRun) error {
		if to == jobs.StateRunning {
			setExt(r, extRunningAt, c.opts.Now().UTC().Format(time.RFC3339))
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
	now := c.opts.Now().UTC()
	_, err := c.opts.Store.UpdateJobRun(ctx, run.ID, run.Version, func(r *jobs.JobRun) error {
		r.State = to
		r.FailureReason = reason
		r.StateDetails = details + timeline(r, to, now)
		r.FinishedAt = &now
		if r.RetryPolicyExecution == nil {
			r.RetryPolicyExecution = &jobs.RetryPolicyExecution{CurrentAttemptCount: int32(attemptOf(run))}
		}
		return nil
	})
	if err == nil {
		jobRunsFinishedTotal.WithLabelValues(run.VirtualClusterID, string(to), string(reason)).Inc()
		c.log.Info("job run finished", "job", run.ID, "virtualCluster", run.VirtualClusterID, "state", to, "failureReason", reason, "details", details)
		// Look again at once (a TERMINATING virtual cluster may settle), and when the
		// finished driver is due for deletion.
		c.queue.Add(run.ID)
		c.queue.AddAfter(run.ID, c.opts.DriverTTL)
	}
	return err
}

// noteWaiting records why a job run is waiting, once per distinct reason, without moving it.
func (c *Controller) noteWaiting(ctx context.Context, run jobs.JobRun, details string) {
	if len(details) > 500 {
		details = details[:500] + "…"
	}
	if run.StateDetails == details {
		return
	}
	if _, err := c.opts.Store.UpdateJobRun(ctx, run.ID, run.Version, func(r *jobs.JobRun) error {
		r.StateDetails = details
		return nil
	}); err != nil {
		c.log.Warn("record waiting reason", "job", run.ID, "err", err)
	}
}

// cleanup deletes a finished job run's driver pods once DriverTTL has passed since it ended.
func (c *Controller) cleanup(ctx context.Context, cl *cluster, run jobs.JobRun, ns string) (time.Duration, error) {
	if run.Extensions[extCleanedUp] == "true" || run.FinishedAt == nil {
		return 0, nil
	}
	if wait := run.FinishedAt.Add(c.opts.DriverTTL).Sub(c.opts.Now()); wait > 0 {
		return wait, nil
	}
	if err := deleteDrivers(ctx, cl.client, ns, run.ID); err != nil {
		return 0, err
	}
	_, err := c.opts.Store.UpdateJobRun(ctx, run.ID, run.Version, func(r *jobs.JobRun) error {
		setExt(r, extCleanedUp, "true")
		return nil
	})
	return 0, err
}

// driverPodName is the current attempt's driver pod, as recorded at submission.
func driverPodName(run jobs.JobRun, ns string) string {
	v := run.Extensions[extDriverPod]
	if len(v) > len(ns)+1 && v[:len(ns)+1] == ns+"/" {
		return v[len(ns)+1:]
	}
	return v
}

func setExt(r *jobs.JobRun, k, v string) {
	if r.Extensions == nil {
		r.Extensions = map[string]string{}
	}
	if v == "" {
		delete(r.Extensions, k)
		return
	}
	r.Extensions[k] = v
}

// timeline says when the run went through its states, so DescribeJobRun of a finished run
// (whose state field shows only the end) tells the whole story, e.g.
// " [created 12:00:00, submitted 12:00:00, running 12:00:02, completed 12:00:35 UTC]".
func timeline(r *jobs.JobRun, end jobs.JobRunState, at time.Time) string {
	parts := []string{"created " + r.CreatedAt.UTC().Format("15:04:05")}
	for _, step := range []struct{ name, key string }{{"submitted", extSubmittedAt}, {"running", extRunningAt}} {
		if t, err := time.Parse(time.RFC3339, r.Extensions[step.key]); err == nil {
			parts = append(parts, step.name+" "+t.UTC().Format("15:04:05"))
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
