// Package spark turns a resolved job run into the Kubernetes objects stock
// `spark-submit --master k8s://… --deploy-mode cluster` would create for it: the driver Pod,
// its headless Service, the spark.properties ConfigMap, the executor pod-template ConfigMap,
// on-demand PersistentVolumeClaims and (Spark 4.2+) the executor NetworkPolicy. The stock
// apache/spark image's entrypoint then starts the driver from those objects and the driver
// creates its executors, so no JVM runs in sparkplane's control plane.
//
// Everything here is a pure function: inputs in, objects out, no network, no cluster, no clock
// and no randomness. Names that Spark draws at random (the "<appName>-<16 hex>" resource prefix,
// the "spark-<32 hex>" application id, the local directory UUID) are derived from a hash of the
// job run id and attempt number instead, so a retry after a crash computes the same objects
// and finds the ones it already created.
//
// The package also owns the submit-side parsing that has to match spark-submit:
// ParseSubmitParameters (the sparkSubmitParameters string of StartJobRun),
// ApplyClassifications (configurationOverrides.applicationConfiguration) and CheckUserConf
// (the Spark settings the service owns and users may not set).
//
// The builder is tested field by field against objects captured from real spark-submit 4.0.4
// and 4.2.0 (the conformance golden files), see conformance_test.go.
package spark
