// Package kwokobj builds the kwok objects (kwok.x-k8s.io/v1alpha1) that the sandbox's stand-in
// for the kubelet keeps per pod, Logs and PortForward: named after the pod, owned by it, so
// that they go when it goes.
package kwokobj

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// New is the kwok object of kind in group version gv for the pod namespace/name, owned by
// owner, with spec (a struct with JSON tags).
func New(gv schema.GroupVersion, kind, namespace, name string, owner metav1.OwnerReference, spec any) (*unstructured.Unstructured, error) {
	s, err := runtime.DefaultUnstructuredConverter.ToUnstructured(spec)
	if err != nil {
		return nil, fmt.Errorf("build the %s spec: %w", kind, err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"spec": s}}
	obj.SetAPIVersion(gv.String())
	obj.SetKind(kind)
	obj.SetNamespace(namespace)
	obj.SetName(name)
	obj.SetOwnerReferences([]metav1.OwnerReference{owner})
	return obj, nil
}

// OwnedBy reports whether obj belongs to the pod with uid (and not to an earlier pod of the
// same name).
func OwnedBy(obj *unstructured.Unstructured, uid types.UID) bool {
	return slices.ContainsFunc(obj.GetOwnerReferences(), func(r metav1.OwnerReference) bool { return r.UID == uid })
}
