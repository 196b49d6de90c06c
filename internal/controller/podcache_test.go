package controller_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/cost"
)

// TestTrimPodKeepsWhatConsumersRead: the controller's classification of a driver and the
// cost recorder's requests are the same on a trimmed pod as on the full one, in every state,
// while what neither reads is gone.
func TestTrimPodKeepsWhatConsumersRead(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	always := corev1.ContainerRestartPolicyAlways
	full := func(mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", UID: "u1", Labels: map[string]string{"spark-role": "driver"},
				Annotations: map[string]string{"big": string(make([]byte, 4096))}, CreationTimestamp: metav1.NewTime(now.Add(-20 * time.Minute)),
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
			Spec: corev1.PodSpec{NodeName: "n1",
				Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
				InitContainers: []corev1.Container{{Name: "sidecar", RestartPolicy: &always, Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
				Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "apache/spark:3.5.1",
					Env: []corev1.EnvVar{{Name: "SPARK_CONF_DIR", Value: "/opt/spark/conf"}}, Args: []string{"driver"},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"),
						corev1.ResourceMemory: resource.MustParse("1408Mi")}}}},
				Volumes: []corev1.Volume{{Name: "spark-conf-volume-driver"}}},
		}
		mutate(p)
		return p
	}
	states := map[string]func(*corev1.Pod){
		"running": func(p *corev1.Pod) { p.Status.Phase = corev1.PodRunning },
		"oom": func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodFailed
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-driver", ImageID: "sha256:x",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}
		},
		"evicted": func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "low on ephemeral storage"
		},
		"image": func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "spark-kubernetes-driver",
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "InvalidImageName", Message: "bad"}}}}
		},
		"unschedulable": func(p *corev1.Pod) {
			p.Spec.NodeName = ""
			p.Status.Phase = corev1.PodPending
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
				Reason: corev1.PodReasonUnschedulable, Message: "no nodes", LastTransitionTime: metav1.NewTime(now.Add(-15 * time.Minute))}}
		},
	}
	for name, mutate := range states {
		t.Run(name, func(t *testing.T) {
			pod := full(mutate)
			obj, err := controller.TrimPod(pod)
			if err != nil {
				t.Fatal(err)
			}
			trimmed := obj.(*corev1.Pod)
			if a, b := controller.ObserveDriver(pod, 10*time.Minute, now), controller.ObserveDriver(trimmed, 10*time.Minute, now); a != b {
				t.Errorf("controller sees %+v on the full pod, %+v on the trimmed one", a, b)
			}
			c1, m1 := cost.PodRequests(&pod.Spec)
			c2, m2 := cost.PodRequests(&trimmed.Spec)
			if c1 != c2 || m1 != m2 {
				t.Errorf("requests %d/%d on the full pod, %d/%d trimmed", c1, m1, c2, m2)
			}
			if trimmed.Annotations != nil || trimmed.ManagedFields != nil || trimmed.Spec.Volumes != nil || trimmed.Spec.Containers[0].Env != nil {
				t.Errorf("trimmed pod keeps what no consumer reads: %+v", trimmed)
			}
		})
	}
}

// TestShippingFailureSurvivesTrim: what the log-shipping sidecar said when it could not ship
// is read from the trimmed pod, from its state or its last termination (a restarted sidecar),
// and a successful shipment or another init container's message is not taken for a failure.
func TestShippingFailureSurvivesTrim(t *testing.T) {
	failed := "logs could not be shipped to s3://team-logs/emr/vc/jobs/j/containers/spark-1/d/stderr.gz: AccessDenied: Access Denied"
	terminated := func(msg string) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Message: msg}}
	}
	for _, tc := range []struct {
		name     string
		statuses []corev1.ContainerStatus
		want     string
	}{
		{"failed", []corev1.ContainerStatus{{Name: "sparkplane-log-shipper", State: terminated(failed + "\n")}}, failed},
		{"failed before a restart", []corev1.ContainerStatus{{Name: "sparkplane-log-shipper",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, LastTerminationState: terminated(failed)}}, failed},
		{"shipped", []corev1.ContainerStatus{{Name: "sparkplane-log-shipper", State: terminated("logs shipped: stdout 10 bytes, stderr 20 bytes")}}, ""},
		{"another container", []corev1.ContainerStatus{{Name: "warm-cache", State: terminated(failed)}}, ""},
		{"running", []corev1.ContainerStatus{{Name: "sparkplane-log-shipper", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "d"}, Status: corev1.PodStatus{InitContainerStatuses: tc.statuses}}
			trimmed, err := controller.TrimPod(pod)
			if err != nil {
				t.Fatal(err)
			}
			if got := controller.ShippingFailure(trimmed.(*corev1.Pod)); got != tc.want {
				t.Errorf("ShippingFailure = %q, want %q", got, tc.want)
			}
		})
	}
}
