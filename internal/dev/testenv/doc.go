// Package testenv gives each integration-test package one shared, real Kubernetes control
// plane: a kwokctl cluster built from the cached binaries (etcd, kube-apiserver, kube-scheduler,
// kube-controller-manager, kwok), optionally with Karpenter's kwok provider and the sandbox
// NodePools, the Spark driver emulator, and versitygw as S3.
//
// A package opts in from its TestMain and reaches the cluster from each test:
//
//	func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Karpenter: true}) }
//
//	func TestSomething(t *testing.T) {
//		env := testenv.Get(t)
//		env.Client.CoreV1().Pods("default").List(...)
//	}
//
// A missing binary fails the package with the command that builds it (hack/tools.sh); nothing
// is skipped for it. With -short no cluster is started and Get skips the calling test, which
// is how `make test-unit` runs only the tests that need no cluster.
//
// Teardown deletes Karpenter's NodeClaims, stops every process the package started by its pid
// (process group), and deletes the kwokctl cluster. Clusters left by a test binary that was
// killed are removed by the next Main.
package testenv
