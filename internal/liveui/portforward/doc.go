// Package portforward reaches a pod's port through the Kubernetes API server's
// pods/portforward subresource, what `kubectl port-forward` uses: from wherever the API server
// is reachable, without a route into the pod network, and with only the RBAC verb create on
// pods/portforward.
//
// # Protocol
//
// The connection to the API server is upgraded to SPDY/3.1 with the subprotocol
// portforward.k8s.io (k8s.io/client-go/transport/spdy; the API server passes the upgraded
// connection on to the pod's kubelet, which dials the pod's port). One such connection per
// pod is kept and shared by every request to that pod; each net.Conn the Dialer returns is one
// pair of streams on it, an error stream and a data stream with the same requestID, as
// client-go's tools/portforward opens per local connection. The kubelet writes on the error
// stream why it could not reach the port (nothing listening, no such port); a Read that ends
// the data stream returns that message as its error.
//
// # Lifetime
//
// A pod's connection is closed once no stream has used it for idleClose, and dropped when the
// API server or kubelet closes it; the next dial opens a new one. A dial whose shared
// connection turns out dead retries once on a fresh connection.
package portforward
