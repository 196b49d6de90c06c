package controller

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// driverContainer is the name Spark gives the driver's main container.
const driverContainer = "spark-kubernetes-driver"

// Observation is what the driver pod of the current attempt says about a job run.
type Observation struct {
	// State is SUBMITTED (pod exists, not running yet), RUNNING, COMPLETED or FAILED.
	State jobs.JobRunState
	// FailureReason and Details are set for FAILED; Details is a sentence a person can act on.
	FailureReason jobs.FailureReason
	Details       string
}

// imagePullReasons are the container waiting reasons that mean the image cannot be had; the
// kubelet keeps retrying them, but a typo in an image name never heals.
// InvalidImageName and ErrImageNeverPull fail at once; ErrImagePull and ImagePullBackOff may be
// a registry's rate limit that passes, so they fail only after the pending timeout.
var imagePullReasons = map[string]bool{
	"ErrImagePull":      false,
	"ImagePullBackOff":  false,
	"InvalidImageName":  true,
	"ErrImageNeverPull": true,
}

// ObserveDriver classifies a driver pod. pod is nil when it does not exist. pendingFor is how
// long the pod may stay unschedulable (or unable to start its container) before the attempt
// fails. now is the current time.
func ObserveDriver(pod *corev1.Pod, pendingFor time.Duration, now time.Time) Observation {
	if pod == nil {
		return failed(jobs.FailureUserError, "the driver pod was deleted outside sparkplane before it finished")
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return Observation{State: jobs.StateCompleted, Details: "the driver exited with code 0"}
	case corev1.PodFailed:
		return observeFailedPod(pod)
	case corev1.PodRunning:
		if cs := driverStatus(pod); cs != nil && cs.State.Terminated != nil {
			return observeTerminated(pod, cs.State.Terminated)
		}
		return Observation{State: jobs.StateRunning}
	}
	return observePendingPod(pod, pendingFor, now)
}

func failed(reason jobs.FailureReason, format string, args ...any) Observation {
	return Observation{State: jobs.StateFailed, FailureReason: reason, Details: fmt.Sprintf(format, args...)}
}

func driverStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == driverContainer {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	if len(pod.Status.ContainerStatuses) == 1 {
		return &pod.Status.ContainerStatuses[0]
	}
	return nil
}

func observePendingPod(pod *corev1.Pod, pendingFor time.Duration, now time.Time) Observation {
	if cs := driverStatus(pod); cs != nil && cs.State.Waiting != nil {
		w := cs.State.Waiting
		if permanent, ok := imagePullReasons[w.Reason]; ok && (permanent || now.Sub(pod.CreationTimestamp.Time) > pendingFor) {
			return failed(jobs.FailureUserError, "the driver image %q cannot be pulled (%s: %s); check spark.kubernetes.container.image and the release label",
				imageOf(pod), w.Reason, strings.TrimSpace(w.Message))
		}
		if w.Reason == "CreateContainerConfigError" && now.Sub(pod.CreationTimestamp.Time) > pendingFor {
			return failed(jobs.FailureUserError, "the driver container could not be configured for %s: %s; check the secrets and config maps the pod template and conf refer to",
				pendingFor, strings.TrimSpace(w.Message))
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			since := c.LastTransitionTime.Time
			if since.IsZero() || since.Before(pod.CreationTimestamp.Time) {
				since = pod.CreationTimestamp.Time
			}
			if now.Sub(since) > pendingFor {
				return failed(jobs.FailureClusterUnavailable, "the driver pod could not be scheduled for %s: %s; check node selectors, pod templates and cluster capacity",
					pendingFor, strings.TrimSpace(c.Message))
			}
		}
	}
	return Observation{State: jobs.StateSubmitted}
}

func observeFailedPod(pod *corev1.Pod) Observation {
	switch pod.Status.Reason {
	case "Evicted":
		return failed(jobs.FailureClusterUnavailable, "the driver pod was evicted from node %s: %s", pod.Spec.NodeName, strings.TrimSpace(pod.Status.Message))
	case "NodeLost", "Terminated", "Shutdown", "NodeShutdown":
		return failed(jobs.FailureClusterUnavailable, "the driver's node %s was lost (%s); the attempt cannot continue", pod.Spec.NodeName, pod.Status.Reason)
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return failed(jobs.FailureClusterUnavailable, "the driver pod was disrupted on node %s (%s: %s)", pod.Spec.NodeName, c.Reason, strings.TrimSpace(c.Message))
		}
	}
	if cs := driverStatus(pod); cs != nil && cs.State.Terminated != nil {
		return observeTerminated(pod, cs.State.Terminated)
	}
	msg := strings.TrimSpace(pod.Status.Message)
	if msg == "" {
		msg = "no container status was reported"
	}
	return failed(jobs.FailureUserError, "the driver pod failed: %s", msg)
}

func observeTerminated(pod *corev1.Pod, t *corev1.ContainerStateTerminated) Observation {
	if t.ExitCode == 0 {
		return Observation{State: jobs.StateCompleted, Details: "the driver exited with code 0"}
	}
	if t.Reason == "OOMKilled" {
		return failed(jobs.FailureUserError, "the driver container was killed for using more memory than its limit (OOMKilled, exit code %d); raise spark.driver.memory or spark.driver.memoryOverhead",
			t.ExitCode)
	}
	detail := ""
	if m := strings.TrimSpace(t.Message); m != "" {
		detail = ": " + firstLine(m)
	}
	return failed(jobs.FailureUserError, "the driver exited with code %d%s; see the driver log (kubectl logs -n %s %s)",
		t.ExitCode, detail, pod.Namespace, pod.Name)
}

func imageOf(pod *corev1.Pod) string {
	for _, c := range pod.Spec.Containers {
		if c.Name == driverContainer {
			return c.Image
		}
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Image
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
