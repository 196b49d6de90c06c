package controller

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

func TestObserveDriver(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pod := func(mut func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "job-driver", Namespace: "spark", CreationTimestamp: metav1.NewTime(created)},
			Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{
				{Name: driverContainer, Image: "apache/spark:3.5.3"},
			}},
			Status: corev1.PodStatus{Phase: corev1.PodPending},
		}
		mut(p)
		return p
	}
	terminated := func(code int32, reason string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			if code == 0 {
				p.Status.Phase = corev1.PodSucceeded
			}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: driverContainer,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}}
		}
	}
	unschedulable := func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available", LastTransitionTime: metav1.NewTime(created)}}
	}
	waiting := func(reason string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: driverContainer,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "it went wrong"}}}}
		}
	}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		after   time.Duration
		state   jobs.JobRunState
		reason  jobs.FailureReason
		details string
	}{
		{"gone", nil, 0, jobs.StateFailed, jobs.FailureUserError, "deleted outside sparkplane"},
		{"pending", pod(func(*corev1.Pod) {}), time.Minute, jobs.StateSubmitted, "", ""},
		{"unschedulable briefly", pod(unschedulable), time.Minute, jobs.StateSubmitted, "", ""},
		{"unschedulable too long", pod(unschedulable), 11 * time.Minute, jobs.StateFailed, jobs.FailureClusterUnavailable, "could not be scheduled for 10m0s: 0/3 nodes are available"},
		{"image pull early", pod(waiting("ImagePullBackOff")), time.Second, jobs.StateSubmitted, "", ""},
		{"image pull late", pod(waiting("ImagePullBackOff")), 11 * time.Minute, jobs.StateFailed, jobs.FailureUserError, `image "apache/spark:3.5.3" cannot be pulled`},
		{"invalid image", pod(waiting("InvalidImageName")), time.Second, jobs.StateFailed, jobs.FailureUserError, "cannot be pulled"},
		{"config error early", pod(waiting("CreateContainerConfigError")), time.Minute, jobs.StateSubmitted, "", ""},
		{"config error late", pod(waiting("CreateContainerConfigError")), time.Hour, jobs.StateFailed, jobs.FailureUserError, "could not be configured"},
		{"running", pod(func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning }), 0, jobs.StateRunning, "", ""},
		{"succeeded", pod(terminated(0, "Completed")), 0, jobs.StateCompleted, "", "code 0"},
		{"exit code", pod(terminated(3, "Error")), 0, jobs.StateFailed, jobs.FailureUserError, "exited with code 3; see the driver log (kubectl logs -n spark job-driver)"},
		{"oom", pod(terminated(137, "OOMKilled")), 0, jobs.StateFailed, jobs.FailureUserError, "OOMKilled"},
		{"evicted", pod(func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "low on ephemeral-storage"
		}), 0, jobs.StateFailed, jobs.FailureClusterUnavailable, "evicted from node node-a: low on ephemeral-storage"},
		{"node lost", pod(func(p *corev1.Pod) { p.Status.Phase, p.Status.Reason = corev1.PodFailed, "NodeLost" }), 0,
			jobs.StateFailed, jobs.FailureClusterUnavailable, "node node-a was lost"},
		{"disrupted", pod(func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionByTaintManager"}}
		}), 0, jobs.StateFailed, jobs.FailureClusterUnavailable, "disrupted on node node-a (DeletionByTaintManager"},
		{"failed without status", pod(func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }), 0,
			jobs.StateFailed, jobs.FailureUserError, "no container status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ObserveDriver(tt.pod, 10*time.Minute, created.Add(tt.after))
			if got.State != tt.state || got.FailureReason != tt.reason {
				t.Fatalf("ObserveDriver = %s/%s (%q), want %s/%s", got.State, got.FailureReason, got.Details, tt.state, tt.reason)
			}
			if !strings.Contains(got.Details, tt.details) {
				t.Errorf("details %q do not contain %q", got.Details, tt.details)
			}
		})
	}
}
