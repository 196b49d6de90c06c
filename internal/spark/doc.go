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
// # Spark versions
//
// Build follows the rules of the Spark version it is given (Job.SparkVersion, reported back as
// Objects.SparkVersion) for Spark 3.1.1 up to the 4.2 line (CheckVersion, SupportedRange);
// anything else is refused rather than built by rules nobody compared with it. The rules per
// line, and where each was read (Spark's resource-managers/kubernetes/core/src/main/scala/
// org/apache/spark/deploy/k8s and core's deploy/SparkSubmit.scala, at the tags named):
//
//   - 3.1 (v3.1.1, v3.1.2): the driver carries only the spark-app-selector and spark-role
//     labels (KubernetesConf.scala), so spark-version and spark-app-name are ordinary user
//     labels; the Service and on-demand PVCs have no labels (DriverServiceFeatureStep,
//     MountVolumesFeatureStep); no ConfigMap is immutable (KubernetesClientUtils,
//     PodTemplateConfigMapStep); the resource prefix maps whitespace and '.' to '-' and drops
//     every other character outside [a-z0-9-] (KubernetesConf.getResourceNamePrefix). The
//     driver container's blockmanager port falls back to spark.blockManager.port from 3.1.2
//     on (SPARK-35493, BasicDriverFeatureStep; v3.1.1 does not).
//   - 3.2 (v3.2.0, v3.2.1-rc1; their k8s trees are identical): ConfigMaps are immutable
//     (SPARK-35443), the Service and on-demand PVCs carry spark-app-selector (SPARK-35131,
//     SPARK-35182), and the resource prefix replaces every character outside [a-z0-9-] with
//     '-' (SPARK-35969).
//   - 3.3 (v3.3.0): the driver gains the spark-version and spark-app-name labels
//     (SPARK-37339, SPARK-36566); the spark.properties ConfigMap carries its namespace in
//     metadata and as a data key (SPARK-37713; KubernetesClientApplication,
//     KubernetesClientUtils); SparkSubmit writes spark.app.submitTime (SPARK-37863);
//     spark.kubernetes.driver.scheduler.name and spark.kubernetes.scheduler.name
//     (SPARK-36059), spark.kubernetes.driver.node.selector.* (SPARK-36075) and
//     spark.driver.memoryOverheadFactor (SPARK-38194) take effect, {{APP_ID}} is substituted
//     in driver annotations (SPARK-38383), and spark.kubernetes.memoryOverheadFactor may be 1
//     or more (SPARK-37611; before 3.3 it had to stay below 1). The ConfigMap size limit drops
//     from 1.5 MiB to 1 MiB in 3.3.2, the prefix loses a leading '-' in 3.3.2 and a leading
//     digit becomes 'x' in 3.3.3.
//   - 3.4 and later: Service IP families and labels (3.4), ReadWriteOncePod claims (3.4.3,
//     3.5.1), the executor Hadoop ConfigMap name (3.5), {{APP_ID}} in labels, minimum memory
//     overhead and volume labels (4.0), the Spark Connect port (4.1) and the NetworkPolicy
//     (4.2); the 4.0.4 and 4.2.0 rules are checked against captured spark-submit objects.
//
// The executor pod-template ConfigMap ("<prefix>-driver-podspec-conf-map", key
// podspec-configmap-key, mounted at /opt/spark/pod-template/pod-spec-template.yml), the port
// names and defaults, the driver environment and the volume, secret and local-dir steps are
// the same in every supported line (Constants.scala and the feature steps compared between
// v3.1.2, v3.2.1-rc1 and v3.3.0). A patch release not named above is built with its line's
// rules as read; branch-3.1 up to 2021-12-30 has no further driver-object change, and the 3.2
// patch releases after 3.2.1 were not read.
//
// The builder is tested field by field against objects captured from real spark-submit 4.0.4
// and 4.2.0 (the conformance golden files, see conformance_test.go), and per line by the
// table tests in build_test.go.
package spark
