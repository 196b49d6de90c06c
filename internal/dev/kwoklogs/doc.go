// Package kwoklogs makes the API server's pods/log subresource (`kubectl logs POD [-c C] [-f]`)
// return what the sandbox writes to files on the host, for pods on kwok nodes, where no
// container runs and no kubelet keeps logs.
//
// # How it works
//
// The API server proxies pods/log to the kubelet endpoint of the pod's node:
// https://<address>:<status.daemonEndpoints.kubeletEndpoint.Port>/containerLogs/NS/POD/C.
// On a kwokctl cluster with the binary runtime the node stages give every node the Hostname
// address "localhost" and the kwok controller's port, and the kwok controller answers there
// (TLS with the cluster's admin certificate; the API server has no kubelet CA, so it does not
// verify it). The controller looks up a kwok Logs object (kwok.x-k8s.io/v1alpha1, namespaced)
// with the pod's name and namespace, picks the entry that lists the container, and reads that
// entry's logsFile the way the kubelet reads a container log (k8s.io/cri-client/pkg/logs):
// tailLines, sinceSeconds, sinceTime, timestamps, limitBytes and follow work as on a real
// node, and previous reads previousLogsFile. The cluster must run kwok with the Logs CRD
// (kwokctl --enable-crds=Logs, as sandbox.Cluster does).
//
// Serve creates or updates the Logs object of one pod, owned by the pod so that the garbage
// collector removes it with the pod. WriteLine writes lines in the CRI log format, the only
// format (with Docker's JSON lines) the reader accepts: a plain text line makes every request
// for that file fail.
//
// # Invariants and limits
//
//   - A file is read afresh on every request, and a follow request watches it (inotify on its
//     directory, and a re-read every second), so lines appended later reach a following
//     client. Files must only grow; a file that is replaced is reopened by name.
//   - A follow request on kwok never ends by itself: kwok has no container state to report,
//     so the reader treats the container as running until the client goes away, even after
//     the pod is deleted. A real kubelet ends the stream when the container exits.
//   - kwok reads the file in its own process, so the path must be on the kwok controller's
//     host; in the sandbox and the tests that is this host.
//   - kwok learns of a Logs object through a watch: a few milliseconds after Serve returns,
//     but a second or two for the first ones on a new cluster, because kwokctl installs the
//     CRD after starting kwok, whose informer then retries its list with backoff. A request
//     in between fails with "no logs found".
//   - A request with previous=true for a container without a PreviousFile fails, as a
//     kubelet's does for a container that never restarted.
package kwoklogs
