// Package toolcache finds the pinned cluster parts (etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, kwok and kwokctl, versitygw, Karpenter's kwok provider) and helm
// that hack/tools.sh builds from the Go module proxy into a cache outside the checkout. It never
// builds anything itself: when a part is missing it says so and names the command that builds it.
package toolcache
