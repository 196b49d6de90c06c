// Package release owns the release-label catalog: which releaseLabel values (open-source
// "spark-3.5.3" style labels and Amazon EMR labels such as "emr-7.2.0-latest") sparkplane can
// run, the open-source Apache Spark version each one means, and the container image its pods use.
//
// The catalog is data, not code: a YAML file embedded in the binary (catalog.yaml) is the
// default, and an operator can replace or extend it with a file of the same shape (Load).
// The package is pure: it reads at most the one file it is given and talks to nothing else.
package release
