// Package failover holds the failure tests of sparkplane run as several replicas: real
// `sparkplane server` processes (the binary, built by the test) on a real PostgreSQL (pgtest)
// and the package's shared test cluster (testenv), started, killed and stopped by pid while
// clients call them through aws-sdk-go-v2. They check what a platform team relies on when a
// replica dies: nothing accepted is lost or doubled, and another replica takes over the
// controller; when PostgreSQL crashes and comes back, or the cluster's API server is down for
// a minute: calls fail with a retryable 503 that changed nothing, runs wait saying why, and
// everything resumes by itself; and when a replica is replaced by a newer binary whose
// migration runs once. Start-up refusals of the binary (a database setting that cannot work, a second
// server on one SQLite file) are checked here too, as an operator meets them.
//
// The package has no non-test code; -short skips it (it needs the cluster and PostgreSQL).
package failover
