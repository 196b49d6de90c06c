package sandbox_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Karpenter: true}) }

// TestSpotPodGetsKarpenterNode is the sandbox's capacity end to end: a pod asking for a spot
// node of the seed's NodePool is Pending until Karpenter launches one, then Running on it;
// once the pod is gone the empty node is consolidated away.
func TestSpotPodGetsKarpenterNode(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	pods := env.Client.CoreV1().Pods("default")

	nodes, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 0 {
		t.Fatalf("the cluster starts with %d nodes, want none until a pod needs one", len(nodes.Items))
	}

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "spot-pod"},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"karpenter.sh/capacity-type": "spot", "app": "demo"},
			Containers: []corev1.Container{{
				Name: "main", Image: "busybox",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"),
				}},
			}},
		},
	}
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.Status.Phase != corev1.PodPending || created.Spec.NodeName != "" {
		t.Fatalf("new pod is %s on %q, want Pending on no node", created.Status.Phase, created.Spec.NodeName)
	}

	createdAt := time.Now()
	var running *corev1.Pod
	waitFor(t, 2*time.Minute, "the spot pod to run", func() bool {
		p, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			dumpEvents(t, env)
			t.Fatal(err)
		}
		running = p
		return p.Status.Phase == corev1.PodRunning
	})
	t.Logf("pod Running on a new node %s after it was created", time.Since(createdAt).Round(time.Millisecond))
	node, err := env.Client.CoreV1().Nodes().Get(ctx, running.Spec.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"karpenter.sh/capacity-type":  "spot",
		"app":                         "demo",
		"topology.kubernetes.io/zone": "us-west-2a",
		"karpenter.sh/nodepool":       "demo",
	}
	for k, v := range wantLabels {
		if node.Labels[k] != v {
			t.Errorf("node %s label %s = %q, want %q", node.Name, k, node.Labels[k], v)
		}
	}
	// The seed's families and sizes (deploy/sandbox/SEED.md): every pair the kwok provider's
	// catalogue has.
	seedTypes := map[string]bool{}
	for _, family := range []string{"c5", "c5a", "c5d", "c5ad", "m5", "c6a"} {
		for _, size := range []string{"2xlarge", "4xlarge", "8xlarge", "9xlarge"} {
			seedTypes[family+"."+size] = true
		}
	}
	if it := node.Labels["node.kubernetes.io/instance-type"]; !seedTypes[it] {
		t.Errorf("node instance type %q is not one of the seed's families and sizes", it)
	}

	if err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	// consolidateAfter is 30s; Karpenter then needs a few seconds more to remove the node.
	waitFor(t, 3*time.Minute, "the empty node to go", func() bool {
		_, err := env.Client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	t.Logf("empty node removed %s after its last pod", time.Since(deleted).Round(time.Millisecond))
}

func dumpEvents(t *testing.T, env *testenv.Env) {
	evs, _ := env.Client.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	for _, e := range evs.Items {
		t.Logf("event %s %s/%s: %s %s", e.InvolvedObject.Kind, e.InvolvedObject.Namespace, e.InvolvedObject.Name, e.Reason, e.Message)
	}
}

// waitFor polls cond until it holds, failing the test after deadline.
func waitFor(t *testing.T, deadline time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", deadline, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
