// Package benchkit holds what the cluster benchmarks share: the raw client-go baseline that
// creates a job's driver objects as sparkplane would, a watch that times when each job's
// objects appear, percentiles, and CPU accounting of the control plane's processes. It is
// test tooling; nothing in the product imports it.
package benchkit
