package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// ProbeNamespace holds the probe pods `status` and `up` create to check that Karpenter still
// provisions.
const ProbeNamespace = "sparkplane-sandbox-probe"

// probeTimeout is how long a probe pod may wait for a node: Karpenter launches a kwok node in
// a few seconds when it works.
const probeTimeout = 45 * time.Second

// probeTypes are instance types of NodePool demo (the seed's families, smallest sizes first):
// the probe asks for one that no node has yet, so only a node Karpenter launches can hold it.
var probeTypes = []string{"c5.2xlarge", "c5a.2xlarge", "c5d.2xlarge", "c6a.2xlarge", "m5.2xlarge", "c5ad.2xlarge",
	"c5.4xlarge", "c5a.4xlarge", "c5d.4xlarge", "c6a.4xlarge", "m5.4xlarge", "c5ad.4xlarge"}

// ProvisionProbe checks that Karpenter does its job, not only that its process answers: it
// creates a small pod that only a new node of the seed's NodePool can hold (spot, label
// app=demo, an instance type no node has yet) and waits until Karpenter has launched that node
// and the pod is bound to it. A Karpenter that stopped provisioning (it happened after 10,000
// unschedulable drivers were cancelled: /healthz answered, nothing was provisioned and nothing
// logged) fails it. The probe pod is deleted either way; its node is consolidated away 30 s
// after, like any empty node of the pool.
func ProvisionProbe(ctx context.Context, k kubernetes.Interface) (time.Duration, error) {
	start := time.Now()
	nodes, err := k.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("list nodes: %w", err)
	}
	taken := map[string]bool{}
	for _, n := range nodes.Items {
		taken[n.Labels[wellknown.LabelInstanceType]] = true
	}
	selector := map[string]string{"app": "demo", wellknown.LabelCapacityType: "spot"}
	for _, it := range probeTypes {
		if !taken[it] {
			selector[wellknown.LabelInstanceType] = it
			break
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ProbeNamespace}}
	if _, err := k.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return 0, fmt.Errorf("create namespace %s: %w", ProbeNamespace, err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "karpenter-probe-" + hex.EncodeToString(suffix)},
		Spec: corev1.PodSpec{
			NodeSelector: selector,
			Tolerations:  []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{Name: "probe", Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi")}}}},
		},
	}
	pods := k.CoreV1().Pods(ProbeNamespace)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return 0, fmt.Errorf("create probe pod: %w", err)
	}
	defer func() {
		zero := int64(0)
		_ = pods.Delete(context.WithoutCancel(ctx), pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}()
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	for {
		p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err == nil && p.Spec.NodeName != "" {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("a pod that needs a new %s spot node of NodePool demo got none within %s", selector[wellknown.LabelInstanceType], probeTimeout)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
