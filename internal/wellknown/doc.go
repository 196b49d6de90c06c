// Package wellknown defines, once, the label and annotation keys that several packages read or
// write on Kubernetes objects: the ones EMR on EKS puts on job pods (so cost reports built for
// EMR keep working), sparkplane's own, the ones Spark puts on its driver and executors, and the
// node labels Kubernetes and Karpenter set. The builder writes them, the controller selects by
// them, the cost recorder prices by them and the sandbox's emulator imitates Spark with them;
// a key spelt in one place cannot drift from the others.
package wellknown
