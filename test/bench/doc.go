// Package bench holds the end-to-end benchmarks of issue 4, which need a real control plane:
// how many job runs per second sparkplane turns into driver objects on the cluster, how long
// one job run takes from StartJobRun to its driver pod at a steady rate, and, in the same run,
// what raw client-go achieves creating the same objects against the same API server.
//
// The package has no code of its own; its benchmarks live in bench_test.go and run through
// `make bench` (hack/bench.sh), which also runs the API benchmarks of internal/api and writes
// the results to .cache/bench/. docs/benchmarks.md records the numbers and how to reproduce
// them.
package bench
