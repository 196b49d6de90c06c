package kwokforward

import (
	"context"
	"fmt"
	"slices"

	"github.com/sparkplane/sparkplane/internal/dev/kwokobj"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// Resource is kwok's namespaced PortForward resource; kwok forwards a pod's ports as the
// PortForward object with the pod's name in the pod's namespace says.
var Resource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "portforwards"}

// spec, forward and target mirror kwok's v1alpha1 PortForwardSpec, Forward and ForwardTarget
// (sigs.k8s.io/kwok/pkg/apis/v1alpha1/port_forward_types.go), the fields sparkplane sets.
type spec struct {
	Forwards []forward `json:"forwards"`
}

type forward struct {
	Ports  []int32 `json:"ports,omitempty"`
	Target *target `json:"target,omitempty"`
}

type target struct {
	Port    int32  `json:"port"`
	Address string `json:"address"`
}

// Forward makes the API server's pods/portforward of port on pod reach address:targetPort on
// the kwok controller's host. It creates the pod's PortForward object or updates it, replacing
// an earlier forward of the same port; the object is owned by the pod (which must come from
// the API server, with its UID).
func Forward(ctx context.Context, client dynamic.Interface, pod *corev1.Pod, port int32, address string, targetPort int32) error {
	if pod.UID == "" {
		return fmt.Errorf("forward port %d of pod %s/%s: the pod has no UID", port, pod.Namespace, pod.Name)
	}
	objects := client.Resource(Resource).Namespace(pod.Namespace)
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
	want := forward{Ports: []int32{port}, Target: &target{Port: targetPort, Address: address}}
	err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		cur, err := objects.Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			obj, err := object(pod.Namespace, pod.Name, owner, []forward{want})
			if err != nil {
				return err
			}
			_, err = objects.Create(ctx, obj, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		var s spec
		if m, ok := cur.Object["spec"].(map[string]any); ok && kwokobj.OwnedBy(cur, pod.UID) {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &s); err != nil {
				return fmt.Errorf("read spec: %w", err)
			}
		}
		forwards := slices.DeleteFunc(s.Forwards, func(f forward) bool { return slices.Contains(f.Ports, port) })
		obj, err := object(pod.Namespace, pod.Name, owner, append(forwards, want))
		if err != nil {
			return err
		}
		obj.SetResourceVersion(cur.GetResourceVersion())
		_, err = objects.Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("forward port %d of pod %s/%s: %w", port, pod.Namespace, pod.Name, err)
	}
	return nil
}

// Stop deletes the PortForward object of the pod named namespace/name, if it belongs to the
// pod with uid: pods/portforward of that pod then fails, as it does on a kubelet for a port
// nothing listens on. An object that is gone, or that a newer pod of the same name took over,
// is left alone.
func Stop(ctx context.Context, client dynamic.Interface, namespace, name string, uid types.UID) error {
	objects := client.Resource(Resource).Namespace(namespace)
	cur, err := objects.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop forwarding the ports of pod %s/%s: %w", namespace, name, err)
	}
	if !kwokobj.OwnedBy(cur, uid) {
		return nil
	}
	rv := cur.GetResourceVersion()
	err = objects.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("stop forwarding the ports of pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

func object(namespace, name string, owner metav1.OwnerReference, forwards []forward) (*unstructured.Unstructured, error) {
	return kwokobj.New(Resource.GroupVersion(), "PortForward", namespace, name, owner, &spec{Forwards: forwards})
}
