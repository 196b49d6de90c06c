// Package sandbox runs sparkplane's local stand-in for a Kubernetes cluster on AWS: a kwokctl
// cluster with real etcd, kube-apiserver, kube-scheduler and kube-controller-manager and
// simulated kubelets, Karpenter with its kwok provider, versitygw as S3, the Spark driver
// emulator and the sparkplane server. `sparkplane-sandbox up|down|status` uses it with its
// state in a directory (.sandbox/ by default); package testenv uses its parts for the
// integration tests' shared clusters.
//
// With `up --store postgres --replicas N` the one server gives way to a PostgreSQL server (the
// machine's, run by pgtest's means as an unprivileged account on loopback), N sparkplane
// replicas on it that elect their leader on a Lease of the kwok cluster, and a round-robin
// Proxy on the sandbox's API port (run as `sparkplane-sandbox proxy`), so that .sandbox/env
// keeps its shape; status says which replica leads.
//
// Cluster.Component reads how one of the cluster's processes runs (from /proc), so that a
// failure test can kill it by its pid and start it again as it was, on the same port and
// etcd; kwokctl itself stops and starts only whole clusters.
//
// Every part it starts runs in a process group of its own with a pid file and a log in the
// state directory, so that `down` stops exactly what `up` started.
package sandbox
