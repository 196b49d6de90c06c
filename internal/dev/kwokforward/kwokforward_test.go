package kwokforward_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkplane/sparkplane/internal/dev/kwokforward"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

// TestForwardAndStop checks the PortForward object kwok reads: one forward per port, owned by
// the pod, replaced per port, taken over from an earlier pod of the same name, and removed
// only by its owner. (That kwok then forwards is proven in internal/liveui's tests.)
func TestForwardAndStop(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	pods := env.Client.CoreV1().Pods("default")
	pod, err := pods.Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "kwokforward-pod"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "unused"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pods.Delete(context.Background(), pod.Name, metav1.DeleteOptions{}) })
	objects := env.Dynamic.Resource(kwokforward.Resource).Namespace(pod.Namespace)
	forwards := func() map[int64]int64 {
		t.Helper()
		obj, err := objects.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if refs := obj.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != pod.UID {
			t.Errorf("owner references %+v, want the pod", refs)
		}
		list, _, _ := unstructured.NestedSlice(obj.Object, "spec", "forwards")
		out := map[int64]int64{}
		for _, f := range list {
			m := f.(map[string]any)
			ports, _, _ := unstructured.NestedSlice(m, "ports")
			target, _, _ := unstructured.NestedInt64(m, "target", "port")
			address, _, _ := unstructured.NestedString(m, "target", "address")
			if len(ports) != 1 || address != "127.0.0.1" {
				t.Errorf("forward %v, want one port to 127.0.0.1", m)
			}
			out[ports[0].(int64)] = target
		}
		return out
	}
	for _, f := range []struct{ port, target int32 }{{4040, 30001}, {4041, 30002}, {4040, 30003}} {
		if err := kwokforward.Forward(ctx, env.Dynamic, pod, f.port, "127.0.0.1", f.target); err != nil {
			t.Fatal(err)
		}
	}
	if got := forwards(); len(got) != 2 || got[4040] != 30003 || got[4041] != 30002 {
		t.Errorf("forwards %v, want 4040 to 30003 and 4041 to 30002", got)
	}
	// Another pod's uid (an earlier pod of the same name) leaves the object alone.
	if err := kwokforward.Stop(ctx, env.Dynamic, pod.Namespace, pod.Name, types.UID("another")); err != nil {
		t.Fatal(err)
	}
	forwards()
	if err := kwokforward.Stop(ctx, env.Dynamic, pod.Namespace, pod.Name, pod.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Get(ctx, pod.Name, metav1.GetOptions{}); err == nil {
		t.Error("the PortForward object outlived Stop")
	}
	if err := kwokforward.Stop(ctx, env.Dynamic, pod.Namespace, pod.Name, pod.UID); err != nil {
		t.Errorf("Stop of a gone object: %v", err)
	}
}
