package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// ProbeNamespace holds the probe pods `status` and `up` create to check that Karpenter still
// provisions.
const ProbeNamespace = "sparkplane-sandbox-probe"

// probeTimeout is how long a probe may wait for Karpenter: it launches a kwok node in a few
// seconds when it works, and creates the NodeClaim before that.
const probeTimeout = 45 * time.Second

// probePool is the NodePool the probe asks a node of.
const probePool = "demo"

// probeTypes are instance types of NodePool demo (the seed's families, smallest sizes first):
// the probe asks for one that no node has yet, so only a node Karpenter launches can hold it.
var probeTypes = []string{"c5.2xlarge", "c5a.2xlarge", "c5d.2xlarge", "c6a.2xlarge", "m5.2xlarge", "c5ad.2xlarge",
	"c5.4xlarge", "c5a.4xlarge", "c5d.4xlarge", "c6a.4xlarge", "m5.4xlarge", "c5ad.4xlarge"}

var nodePoolsGVR = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodepools"}

// ErrProbeInconclusive says the probe could not tell: every probe instance type already has a
// node, or NodePool demo is at its limits (Karpenter then rightly launches nothing). Neither is
// a fault of Karpenter's, so neither restarts it.
var ErrProbeInconclusive = errors.New("inconclusive")

// ProvisionProbe checks that Karpenter does its job, not only that its process answers: it
// creates a small pod that only a new node of the seed's NodePool can hold (spot, label
// app=demo, an instance type no node has yet) and waits until Karpenter has created a NodeClaim
// that did not exist before, or the pod is bound to a node. A Karpenter that stopped provisioning
// (it happened after 10,000 unschedulable drivers were cancelled: /healthz answered, nothing
// was provisioned and nothing logged) fails it. The probe pod is deleted either way; a node
// launched for it is consolidated away 30 s after, like any empty node of the pool. The
// result wraps ErrProbeInconclusive when the probe cannot tell.
func ProvisionProbe(ctx context.Context, cfg *rest.Config) (time.Duration, error) {
	start := time.Now()
	k, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	if why := poolAtLimit(ctx, dyn); why != "" {
		return 0, fmt.Errorf("%w: %s", ErrProbeInconclusive, why)
	}
	nodes, err := k.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("list nodes: %w", err)
	}
	taken := map[string]bool{}
	for _, n := range nodes.Items {
		taken[n.Labels[wellknown.LabelInstanceType]] = true
	}
	// NodeClaims not yet registered as nodes count too, and only a NodeClaim that did not
	// exist before the probe passes it.
	claims, err := dyn.Resource(nodeClaimsGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("list NodeClaims: %w", err)
	}
	before := map[string]bool{}
	for _, nc := range claims.Items {
		before[nc.GetName()] = true
		taken[nc.GetLabels()[wellknown.LabelInstanceType]] = true
	}
	instanceType := ""
	for _, it := range probeTypes {
		if !taken[it] {
			instanceType = it
			break
		}
	}
	if instanceType == "" {
		return 0, fmt.Errorf("%w: every probe instance type already has a node", ErrProbeInconclusive)
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
			NodeSelector: map[string]string{"app": "demo", wellknown.LabelCapacityType: "spot", wellknown.LabelInstanceType: instanceType},
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
	wctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	for {
		if p, err := pods.Get(wctx, pod.Name, metav1.GetOptions{}); err == nil && p.Spec.NodeName != "" {
			return time.Since(start), nil
		}
		if newClaim(wctx, dyn, before) {
			return time.Since(start), nil
		}
		select {
		case <-wctx.Done():
			if why := poolAtLimit(ctx, dyn); why != "" {
				return 0, fmt.Errorf("%w: %s", ErrProbeInconclusive, why)
			}
			return 0, fmt.Errorf("a pod that needs a new %s spot node of NodePool %s got none within %s", instanceType, probePool, probeTimeout)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// newClaim reports whether a NodeClaim exists that is not among before: Karpenter acted.
func newClaim(ctx context.Context, dyn dynamic.Interface, before map[string]bool) bool {
	l, err := dyn.Resource(nodeClaimsGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for _, nc := range l.Items {
		if !before[nc.GetName()] {
			return true
		}
	}
	return false
}

// poolAtLimit says why NodePool demo can launch no node (its CPU or memory in use reached
// spec.limits), or "" when it can.
func poolAtLimit(ctx context.Context, dyn dynamic.Interface) string {
	np, err := dyn.Resource(nodePoolsGVR).Get(ctx, probePool, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	for _, res := range []string{"cpu", "memory"} {
		limit, ok1 := quantityAt(np, "spec", "limits", res)
		used, ok2 := quantityAt(np, "status", "resources", res)
		if ok1 && ok2 && used.Cmp(limit) >= 0 {
			return fmt.Sprintf("NodePool %s is at its %s limit (%s of %s in use)", probePool, res, used.String(), limit.String())
		}
	}
	return ""
}

func quantityAt(obj *unstructured.Unstructured, path ...string) (resource.Quantity, bool) {
	s, ok, err := unstructured.NestedString(obj.Object, path...)
	if err != nil || !ok {
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}
