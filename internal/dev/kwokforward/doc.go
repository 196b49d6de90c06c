// Package kwokforward makes the API server's pods/portforward subresource (`kubectl
// port-forward POD PORT`) reach a TCP address on the host, for pods on kwok nodes, where no
// container listens on any port.
//
// # How it works
//
// The API server proxies pods/portforward to the kubelet endpoint of the pod's node, as it
// does pods/log (see package kwoklogs for how that endpoint is the kwok controller on a
// kwokctl cluster with the binary runtime). The kwok controller answers the SPDY port-forward
// protocol there and, for each forwarded connection, looks up a kwok PortForward object
// (kwok.x-k8s.io/v1alpha1, namespaced) with the pod's name and namespace, picks the forward
// that lists the requested port, and dials its target address: the bytes of the connection
// then flow between the API server's client and that address. The cluster must run kwok with
// the PortForward CRD (kwokctl --enable-crds=PortForward, as sandbox.Cluster does).
//
// Forward creates or updates the PortForward object of one pod, owned by the pod so that the
// garbage collector removes it with the pod; Stop deletes it.
//
// # Invariants and limits
//
//   - One object per pod, one forward per port: Forward replaces the forward of the same port
//     and keeps the others, so it may be called once per port.
//   - kwok matches the object by the pod's namespace and name only; an object left by an
//     earlier pod of the same name is taken over and its forwards dropped.
//   - kwok dials the target in its own process, so the address must be reachable from the
//     kwok controller's host; in the sandbox and the tests that is this host.
//   - kwok learns of an object through a watch, a few milliseconds after Forward returns (a
//     second or two for the first ones on a new cluster); a connection in between fails with
//     "no forward found".
package kwokforward
