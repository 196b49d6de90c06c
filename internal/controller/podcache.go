package controller

import (
	"strings"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// TrimPod is the transform of the job pod informer (cache.TransformFunc): it keeps of each pod
// only what the lifecycle controller (ObserveDriver, cleanup) and the cost recorder
// (cost.Recorder: requests, node, scheduling and finish times) read, so that memory per live
// job run stays small however large the pod specs are. It drops managed fields, annotations,
// owner references, volumes, environment, probes, affinity and the like. The informer shares
// the trimmed pods with every handler; a consumer that needs more must add it here (the test
// beside this file checks both consumers see the same on trimmed and full pods).
func TrimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil // cache.DeletedFinalStateUnknown and anything else pass unchanged
	}
	out := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
			Labels: pod.Labels, CreationTimestamp: pod.CreationTimestamp, DeletionTimestamp: pod.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: pod.Spec.NodeName, Overhead: pod.Spec.Overhead},
		Status: corev1.PodStatus{
			Phase: pod.Status.Phase, Reason: pod.Status.Reason, Message: pod.Status.Message,
			Conditions: pod.Status.Conditions, StartTime: pod.Status.StartTime,
		},
	}
	trim := func(cs []corev1.Container) []corev1.Container {
		if len(cs) == 0 {
			return nil
		}
		out := make([]corev1.Container, len(cs))
		for i, c := range cs {
			out[i] = corev1.Container{Name: c.Name, Image: c.Image, RestartPolicy: c.RestartPolicy,
				Resources: corev1.ResourceRequirements{Requests: c.Resources.Requests}}
		}
		return out
	}
	out.Spec.Containers = trim(pod.Spec.Containers)
	out.Spec.InitContainers = trim(pod.Spec.InitContainers)
	if n := len(pod.Status.ContainerStatuses); n > 0 {
		out.Status.ContainerStatuses = make([]corev1.ContainerStatus, n)
		for i, s := range pod.Status.ContainerStatuses {
			out.Status.ContainerStatuses[i] = corev1.ContainerStatus{Name: s.Name, State: s.State, Ready: s.Ready, RestartCount: s.RestartCount}
		}
	}
	// Of the init containers, only the log shipper's end is read (ShippingFailure).
	for _, s := range pod.Status.InitContainerStatuses {
		if s.Name == wellknown.LogShipperContainer {
			out.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: s.Name, State: s.State, LastTerminationState: s.LastTerminationState}}
		}
	}
	return out, nil
}

// ShippingFailure is what a pod's log-shipping sidecar said when it ended without shipping its
// logs (its termination message), or "".
func ShippingFailure(pod *corev1.Pod) string {
	for _, s := range pod.Status.InitContainerStatuses {
		if s.Name != wellknown.LogShipperContainer {
			continue
		}
		for _, st := range []corev1.ContainerState{s.State, s.LastTerminationState} {
			if t := st.Terminated; t != nil && strings.HasPrefix(t.Message, wellknown.LogShippingFailurePrefix) {
				return strings.TrimSpace(t.Message)
			}
		}
	}
	return ""
}

var _ cache.TransformFunc = TrimPod
