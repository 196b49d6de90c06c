// Package load holds the benchmarks that measure what a user meets: they run against a
// running sandbox (bin/sparkplane-sandbox up: Karpenter's kwok provider provisioning nodes, the
// driver emulator starting executors, the controller-manager collecting garbage, and the
// sparkplane server as its own process), submit over SigV4 HTTP like any client, and compare
// with raw client-go creating the same objects on the same cluster in the same run. They
// report memory of the server process and check that the sandbox still provisions nodes
// afterwards. hack/bench.sh brings a sandbox up for them; without one they fail and say how to
// start it. There are no tests here, so `go test ./...` only compiles the package.
package load
