package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/jobs"
	relcat "github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// The Reconcile tests below drive one job run step by step against client-go's fake clientset
// and a fake clock, with the real domain service on a real SQLite store and the real planner:
// each rule of the state machine is pinned where it lives, without a cluster. The integration
// tests in controller_test.go prove the same against a real API server.

const unitProvider = "unit"

type anyRole struct{}

func (anyRole) Allowed(string, string) bool { return true }

type oneProvider struct{}

func (oneProvider) Known(id string) bool                   { return id == unitProvider }
func (oneProvider) NamespaceAllowed(string, string) string { return "" }

// rig is one controller over a fake cluster.
type rig struct {
	t       *testing.T
	ctx     context.Context
	svc     *jobs.Service
	client  *fake.Clientset
	clock   *testingclock.FakeClock
	ctl     *controller.Controller
	vc      jobs.VirtualCluster
	factory informers.SharedInformerFactory
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "unit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := testingclock.NewFakeClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	svc, err := jobs.NewService(st, jobs.Config{Region: "us-east-1", AccountID: "000000000000", Releases: relcat.Default(),
		Roles: anyRole{}, ContainerProviders: oneProvider{}, Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	// The fake's object tracker ignores DeleteCollection; do what the API server does: delete
	// every pod the selector matches.
	client.PrependReactor("delete-collection", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		dc := a.(k8stesting.DeleteCollectionAction)
		objs, err := client.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		for _, p := range objs.(*corev1.PodList).Items {
			if dc.GetListRestrictions().Labels.Matches(labels.Set(p.Labels)) {
				if err := client.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), p.Namespace, p.Name); err != nil {
					return true, nil, err
				}
			}
		}
		return true, nil, nil
	})
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(controller.TrimPod))
	pods := factory.Core().V1().Pods()
	ctl, err := controller.New(controller.Options{
		Store: svc, Clusters: map[string]controller.Cluster{unitProvider: {Client: client, Pods: pods}},
		Planner:        &submission.Planner{Releases: relcat.Default(), CreateNamespaces: map[string]bool{unitProvider: true}, Now: clock.Now},
		PendingTimeout: 10 * time.Minute, DriverTTL: time.Hour, KubeTimeout: time.Second, Clock: clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	vc, err := svc.CreateVirtualCluster(ctx, jobs.CreateVirtualClusterInput{Name: "unit", ClientToken: "vc", ContainerProvider: &jobs.ContainerProvider{
		Type: "EKS", ID: unitProvider, Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "team"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, ctx: ctx, svc: svc, client: client, clock: clock, ctl: ctl, vc: vc, factory: factory}
}

func (r *rig) start(maxAttempts int32) jobs.JobRun {
	r.t.Helper()
	in := jobs.StartJobRunInput{VirtualClusterID: r.vc.ID, Name: "pi", ClientToken: fmt.Sprintf("t%d", time.Now().UnixNano()), ExecutionRoleArn: "arn:aws:iam::000000000000:role/spark",
		ReleaseLabel: "emr-6.15.0-latest", JobDriver: &jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{
			EntryPoint: "local:///opt/spark/examples/jars/spark-examples.jar", SparkSubmitParameters: "--class org.apache.spark.examples.SparkPi"}}}
	if maxAttempts > 0 {
		in.RetryPolicyConfiguration = &jobs.RetryPolicyConfiguration{MaxAttempts: maxAttempts}
	}
	run, err := r.svc.StartJobRun(r.ctx, in, "arn:aws:iam::000000000000:user/unit")
	if err != nil {
		r.t.Fatal(err)
	}
	return run
}

// reconcile runs one Reconcile and returns the stored run afterwards.
func (r *rig) reconcile(id string) (jobs.JobRun, time.Duration, error) {
	r.t.Helper()
	after, err := r.ctl.Reconcile(r.ctx, id)
	run, gerr := r.svc.GetJobRun(r.ctx, id)
	if gerr != nil {
		r.t.Fatal(gerr)
	}
	return run, after, err
}

// setPod changes the driver pod's status through the fake API and waits until the informer's
// cache shows it, as the controller would see it.
func (r *rig) setPod(run jobs.JobRun, mutate func(*corev1.Pod)) {
	r.t.Helper()
	pods := r.client.CoreV1().Pods(run.Attempt.Namespace)
	pod, err := pods.Get(r.ctx, run.Attempt.DriverPod, metav1.GetOptions{})
	if err != nil {
		r.t.Fatal(err)
	}
	mutate(pod)
	if _, err := pods.UpdateStatus(r.ctx, pod, metav1.UpdateOptions{}); err != nil {
		r.t.Fatal(err)
	}
	lister := r.factory.Core().V1().Pods().Lister()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if p, err := lister.Pods(pod.Namespace).Get(pod.Name); err == nil && p.Status.Phase == pod.Status.Phase &&
			len(p.Status.Conditions) == len(pod.Status.Conditions) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatalf("the informer never showed pod %s in phase %s", pod.Name, pod.Status.Phase)
}

func (r *rig) waitCached(run jobs.JobRun) {
	r.setPod(run, func(*corev1.Pod) {})
}

func exited(code int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		phase := corev1.PodSucceeded
		if code != 0 {
			phase = corev1.PodFailed
		}
		p.Status.Phase = phase
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-driver",
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}}
	}
}

func running(p *corev1.Pod) {
	p.Spec.NodeName = "node-1"
	p.Status.Phase = corev1.PodRunning
}

// TestReconcileLifecycle follows one run from PENDING to COMPLETED and its driver's cleanup
// after the TTL.
func TestReconcileLifecycle(t *testing.T) {
	r := newRig(t)
	id := r.start(0).ID

	run, _, err := r.reconcile(id)
	if err != nil || run.State != jobs.StateSubmitted || run.Attempt.Number != 1 || run.Attempt.DriverPod == "" || run.Attempt.Namespace != "team" {
		t.Fatalf("after the first reconcile: state %s attempt %+v err %v", run.State, run.Attempt, err)
	}
	if !run.Attempt.SubmittedAt.Equal(r.clock.Now()) {
		t.Errorf("submittedAt %v, want the fake clock's %v", run.Attempt.SubmittedAt, r.clock.Now())
	}
	r.waitCached(run)
	r.setPod(run, running)
	if run, _, err = r.reconcile(id); err != nil || run.State != jobs.StateRunning || !strings.Contains(run.StateDetails, "node-1") {
		t.Fatalf("after the driver runs: %s %q %v", run.State, run.StateDetails, err)
	}
	r.clock.Step(40 * time.Second)
	r.setPod(run, exited(0))
	if run, _, err = r.reconcile(id); err != nil || run.State != jobs.StateCompleted {
		t.Fatalf("after the driver exited 0: %s %v", run.State, err)
	}
	if !strings.Contains(run.StateDetails, "[created 12:00:00, submitted 12:00:00, running 12:00:00, completed 12:00:40 UTC]") {
		t.Errorf("timeline missing from %q", run.StateDetails)
	}

	// The finished driver stays for its logs until the TTL has passed, then goes.
	_, after, err := r.reconcile(id)
	if err != nil || after != time.Hour {
		t.Fatalf("before the TTL: look again after %s (%v), want 1h", after, err)
	}
	r.clock.Step(time.Hour + time.Second)
	if run, _, err = r.reconcile(id); err != nil || !run.Attempt.CleanedUp {
		t.Fatalf("after the TTL: cleanedUp %v (%v)", run.Attempt.CleanedUp, err)
	}
	if pods, _ := r.client.CoreV1().Pods("team").List(r.ctx, metav1.ListOptions{}); len(pods.Items) != 0 {
		t.Errorf("%d driver pods left after the TTL", len(pods.Items))
	}
}

// TestReconcileRetriesThenFails starts a second attempt after a failed first one, and fails
// the run with the exit code when the last attempt fails.
func TestReconcileRetriesThenFails(t *testing.T) {
	r := newRig(t)
	id := r.start(2).ID
	run, _, _ := r.reconcile(id)
	first := run.Attempt.DriverPod
	r.waitCached(run)
	r.setPod(run, exited(3))
	run, _, err := r.reconcile(id)
	if err != nil || run.State != jobs.StateSubmitted || run.Attempt.Number != 2 || run.Attempt.Submitted() {
		t.Fatalf("after attempt 1 failed: %s %+v %v", run.State, run.Attempt, err)
	}
	if run, _, err = r.reconcile(id); err != nil || run.Attempt.DriverPod == first || run.Attempt.DriverPod == "" {
		t.Fatalf("attempt 2 reused %q or has no pod: %+v %v", first, run.Attempt, err)
	}
	if run.RetryPolicyExecution == nil || run.RetryPolicyExecution.CurrentAttemptCount != 2 {
		t.Errorf("retryPolicyExecution = %+v, want attempt 2", run.RetryPolicyExecution)
	}
	r.waitCached(run)
	r.setPod(run, exited(3))
	if run, _, err = r.reconcile(id); err != nil || run.State != jobs.StateFailed || run.FailureReason != jobs.FailureUserError ||
		!strings.Contains(run.StateDetails, "exited with code 3") {
		t.Fatalf("after the last attempt failed: %s %s %q %v", run.State, run.FailureReason, run.StateDetails, err)
	}
}

// TestReconcileUnschedulableFailsAfterTimeout fails an attempt whose driver stays
// unschedulable past PendingTimeout on the fake clock, and stops its pod.
func TestReconcileUnschedulableFailsAfterTimeout(t *testing.T) {
	r := newRig(t)
	id := r.start(0).ID
	run, _, _ := r.reconcile(id)
	r.waitCached(run)
	unschedulable := func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available", LastTransitionTime: metav1.NewTime(r.clock.Now())}}
	}
	r.setPod(run, unschedulable)
	run, after, err := r.reconcile(id)
	if err != nil || run.State != jobs.StateSubmitted || after != 10*time.Minute/4 {
		t.Fatalf("while pending: %s, look again after %s, %v", run.State, after, err)
	}
	r.clock.Step(11 * time.Minute)
	if run, _, err = r.reconcile(id); err != nil || run.State != jobs.StateFailed || run.FailureReason != jobs.FailureClusterUnavailable {
		t.Fatalf("past the pending timeout: %s %s %v", run.State, run.FailureReason, err)
	}
	if _, err := r.client.CoreV1().Pods("team").Get(r.ctx, run.Attempt.DriverPod, metav1.GetOptions{}); err == nil {
		t.Error("the unschedulable driver pod was not stopped")
	}
}

// TestReconcileFreshPodNotInCacheAsksNothing: right after a submission the informer may not
// hold the new pod yet; the controller looks again later instead of reading the API server,
// and only a pod missing past the grace period is looked up (and then found lost).
func TestReconcileFreshPodNotInCacheAsksNothing(t *testing.T) {
	r := newRig(t)
	id := r.start(0).ID
	run, _, _ := r.reconcile(id)
	r.waitCached(run)
	// Remove the pod behind the informer's back: delete it, and wait until the cache agrees.
	if err := r.client.CoreV1().Pods("team").Delete(r.ctx, run.Attempt.DriverPod, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if _, err := r.factory.Core().V1().Pods().Lister().Pods("team").Get(run.Attempt.DriverPod); err != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.client.ClearActions()
	run, after, err := r.reconcile(id)
	if err != nil || run.State != jobs.StateSubmitted || after <= 0 {
		t.Fatalf("fresh pod missing from the cache: %s after %s %v", run.State, after, err)
	}
	for _, a := range r.client.Actions() {
		if a.GetVerb() == "get" {
			t.Errorf("read the API server for a fresh pod: %v", a)
		}
	}
	r.clock.Step(time.Minute)
	if run, _, err = r.reconcile(id); err != nil || run.State != jobs.StateFailed || !strings.Contains(run.StateDetails, "deleted outside sparkplane") {
		t.Fatalf("a pod missing past the grace period: %s %q %v", run.State, run.StateDetails, err)
	}
}

// TestReconcileWaitsForKubernetes: an API server that does not answer in time leaves the run
// PENDING with a stateDetails that says it waits for Kubernetes; once it answers, the run is
// submitted.
func TestReconcileWaitsForKubernetes(t *testing.T) {
	r := newRig(t)
	hung := true
	r.client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if hung {
			return true, nil, fmt.Errorf("create pod: %w", context.DeadlineExceeded)
		}
		return false, nil, nil
	})
	id := r.start(0).ID
	run, _, err := r.reconcile(id)
	if !errors.Is(err, context.DeadlineExceeded) || run.State != jobs.StatePending ||
		!strings.HasPrefix(run.StateDetails, "waiting for Kubernetes: the API server of container provider unit did not answer within 1s") {
		t.Fatalf("while the API server hangs: %s %q %v", run.State, run.StateDetails, err)
	}
	hung = false
	if run, _, err = r.reconcile(id); err != nil || run.State != jobs.StateSubmitted {
		t.Fatalf("once it answers: %s %q %v", run.State, run.StateDetails, err)
	}
}

// TestReconcileCancel deletes the driver of a cancelled run and records CANCELLED.
func TestReconcileCancel(t *testing.T) {
	r := newRig(t)
	id := r.start(0).ID
	run, _, _ := r.reconcile(id)
	r.waitCached(run)
	if _, err := r.svc.CancelJobRun(r.ctx, r.vc.ID, id); err != nil {
		t.Fatal(err)
	}
	if run, _, err := r.reconcile(id); err != nil || run.State != jobs.StateCancelled {
		t.Fatalf("after cancel: %s %v", run.State, err)
	}
	pods, _ := r.client.CoreV1().Pods("team").List(r.ctx, metav1.ListOptions{LabelSelector: wellknown.DriverSelector})
	if len(pods.Items) != 0 {
		t.Errorf("%d driver pods left after cancel", len(pods.Items))
	}
}

// TestReconcileSetsUpANamespaceOnce: the first jobs of a new namespace, reconciled at once,
// create its namespace, Role, service account and RoleBinding once between them.
func TestReconcileSetsUpANamespaceOnce(t *testing.T) {
	r := newRig(t)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = r.start(0).ID
	}
	r.client.ClearActions()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := r.ctl.Reconcile(r.ctx, id); err != nil {
				t.Errorf("reconcile %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	creates := map[string]int{}
	for _, a := range r.client.Actions() {
		if a.GetVerb() == "create" {
			creates[a.GetResource().Resource]++
		}
	}
	for _, res := range []string{"namespaces", "roles", "serviceaccounts", "rolebindings"} {
		if creates[res] != 1 {
			t.Errorf("%d creates of %s for 20 concurrent first jobs, want 1", creates[res], res)
		}
	}
	if creates["pods"] != 20 {
		t.Errorf("%d driver pods created, want 20", creates["pods"])
	}
}

// TestReconcileDecisionSurvivesAConflict: a TagResource between stopping an unschedulable
// driver and recording FAILED bumps the run's version; the decision (CLUSTER_UNAVAILABLE)
// still lands, instead of the next reconcile finding the pod gone and blaming the user.
func TestReconcileDecisionSurvivesAConflict(t *testing.T) {
	r := newRig(t)
	run := r.start(0)
	run, _, _ = r.reconcile(run.ID)
	r.waitCached(run)
	r.setPod(run, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, LastTransitionTime: metav1.NewTime(r.clock.Now())}}
	})
	r.client.PrependReactor("delete", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if err := r.svc.TagResource(r.ctx, run.ARN, map[string]string{"touched": "while deleting"}); err != nil {
			t.Errorf("tag: %v", err)
		}
		return false, nil, nil
	})
	r.clock.Step(11 * time.Minute)
	got, _, err := r.reconcile(run.ID)
	if err != nil || got.State != jobs.StateFailed || got.FailureReason != jobs.FailureClusterUnavailable || got.Tags["touched"] == "" {
		t.Fatalf("after a conflicting tag: %s %s %q tags %v (%v)", got.State, got.FailureReason, got.StateDetails, got.Tags, err)
	}
}
