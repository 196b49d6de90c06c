package spark

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DriverKind says which runner the driver starts.
type DriverKind string

// The driver kinds: a JVM application (jar + main class), a PySpark script, an R script, or a
// Spark SQL file run by the Spark SQL CLI (EMR's sparkSqlJobDriver).
const (
	DriverJVM    DriverKind = "jvm"
	DriverPython DriverKind = "python"
	DriverR      DriverKind = "r"
	DriverSQL    DriverKind = "sql"
)

// Main classes spark-submit uses for the non-JVM kinds.
const (
	PythonRunnerClass = "org.apache.spark.deploy.PythonRunner"
	RRunnerClass      = "org.apache.spark.deploy.RRunner"
	SQLCLIDriverClass = "org.apache.spark.sql.hive.thriftserver.SparkSQLCLIDriver"
)

// Driver is what the driver runs.
type Driver struct {
	Kind DriverKind
	// EntryPoint is the primary resource: the application jar, the .py or .R file, or the
	// .sql file. It must be a URI the driver can fetch itself (local://, s3a://, https://, ...):
	// sparkplane has no submitting machine to upload files from.
	EntryPoint string
	// MainClass is required for DriverJVM and ignored otherwise.
	MainClass string
	// Args are the application arguments (entryPointArguments). For DriverSQL they are Spark
	// SQL CLI options (--hiveconf, --hivevar, -d, --database, -i) placed before "-f <file>".
	Args []string
}

// DriverFor picks the driver kind for a sparkSubmitJobDriver the way spark-submit does: a
// primary resource ending in .py is Python, in .R or .r is R, anything else is a JVM jar.
func DriverFor(entryPoint, mainClass string, args []string) Driver {
	k := DriverJVM
	switch {
	case hasSuffixFold(entryPoint, ".py"):
		k = DriverPython
	case len(entryPoint) > 2 && (entryPoint[len(entryPoint)-2:] == ".R" || entryPoint[len(entryPoint)-2:] == ".r"):
		k = DriverR
	}
	return Driver{Kind: k, EntryPoint: entryPoint, MainClass: mainClass, Args: args}
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// Job is a resolved job run attempt: everything Build needs, with configuration precedence
// already applied by the caller.
type Job struct {
	// SparkVersion is the Spark version of the release ("3.5.3"): it selects version-specific
	// behaviour and becomes the spark-version label.
	SparkVersion string
	// Image is the release's image. spark.kubernetes.container.image in Conf overrides it.
	Image string
	// Namespace is the virtual cluster's namespace (spark.kubernetes.namespace, forced).
	Namespace string
	// AppName is spark.app.name. Empty means Conf's spark.app.name, else spark-submit's default
	// (the main class, or the file name of a Python/R entry point).
	AppName string
	// JobRunID and Attempt (1 for the first) seed every generated name.
	JobRunID string
	Attempt  int
	// VirtualClusterID goes into the emr-containers.amazonaws.com/virtual-cluster-id label.
	VirtualClusterID string
	// ServiceAccount is the driver's service account (forced); empty leaves the pod's default.
	ServiceAccount string
	// DriverPodName overrides the driver pod name "<prefix>-driver" (forced when set).
	DriverPodName string
	// ProxyUser is spark-submit's --proxy-user.
	ProxyUser string
	// Driver is the entry point.
	Driver Driver
	// Conf is the final Spark configuration after precedence (release defaults < virtual
	// cluster defaults < spark-defaults classification < sparkSubmitParameters). Keys the
	// service owns (ForcedConfKeys) are overwritten by Build.
	Conf map[string]string
	// ConfFiles are extra files for the driver's SPARK_CONF_DIR (/opt/spark/conf), e.g.
	// log4j2.properties from ApplyClassifications. They are shipped in the spark.properties
	// ConfigMap, as spark-submit ships the files of its own conf directory.
	ConfFiles map[string]string
	// DriverPodTemplate is the parsed spark.kubernetes.driver.podTemplateFile, fetched by the
	// caller; nil when there is none.
	DriverPodTemplate *corev1.Pod
	// ExecutorPodTemplate is the parsed spark.kubernetes.executor.podTemplateFile; nil when
	// there is none. ExecutorPodTemplateText, when set, is the file's text and is shipped
	// verbatim (as Spark does); otherwise the parsed pod is serialized as YAML.
	ExecutorPodTemplate     *corev1.Pod
	ExecutorPodTemplateText string
	// Labels are added to the driver and executor pods besides the ones Build always adds
	// (wellknown.LabelJobID, wellknown.LabelVirtualClusterID, wellknown.LabelManagedBy, wellknown.LabelAttempt).
	Labels map[string]string
	// Master is spark.master; empty means DefaultMaster.
	Master string
	// SubmitTime is spark.app.submitTime and the date line of spark.properties. The zero time
	// leaves submitTime out (the driver sets its own) and writes the Unix epoch as the date.
	SubmitTime time.Time
	// SparkUser is the SPARK_USER of the driver; empty means DefaultSparkUser.
	SparkUser string
}

// Defaults for Job fields left empty.
const (
	// DefaultMaster is the in-cluster API server, which is what the driver talks to anyway.
	DefaultMaster = "k8s://https://kubernetes.default.svc:443"
	// DefaultSparkUser is the user of the apache/spark images.
	DefaultSparkUser = "spark"
	// DriverContainerName is Spark's default driver container name.
	DriverContainerName = "spark-kubernetes-driver"
)

// Objects is what Build returns: the objects spark-submit would send to the API server, in the
// shape it sends them (no server-side defaults).
//
// Create DriverPod first, then call SetDriverUID with the created pod's UID, then create the
// rest (Dependents): each carries an owner reference to the driver pod, so deleting the pod
// garbage-collects them. Treat AlreadyExists as success: the names are deterministic.
type Objects struct {
	// Namespace is where every object belongs; like spark-submit, only the spark.properties
	// ConfigMap (Spark 3.3+) and the NetworkPolicy carry it in metadata, the rest rely on the
	// namespaced client.
	Namespace string
	// SparkVersion is the Spark version whose spark-submit rules built these objects
	// (Job.SparkVersion), so a caller can report which rules applied to a job run.
	SparkVersion string
	// AppID is spark.app.id ("spark-<32 hex>"), the spark-app-selector label of every pod.
	AppID string
	// ResourcePrefix is the "<appName>-<16 hex>" prefix of the generated names.
	ResourcePrefix string

	DriverPod *corev1.Pod
	Service   *corev1.Service
	// ConfigMap holds spark.properties (and any ConfFiles), mounted at /opt/spark/conf.
	ConfigMap *corev1.ConfigMap
	// ExecutorTemplate is the executor pod-template ConfigMap; nil without a template.
	ExecutorTemplate *corev1.ConfigMap
	// PVCs are the driver's on-demand claims (claimName=OnDemand with storageClass and
	// sizeLimit).
	PVCs []*corev1.PersistentVolumeClaim
	// NetworkPolicy admits ingress to the executors from the app's own pods (Spark 4.2+);
	// nil before 4.2.
	NetworkPolicy *networkingv1.NetworkPolicy
}

// SetDriverUID fills the driver pod's UID into every dependent's owner reference.
func (o *Objects) SetDriverUID(uid types.UID) {
	for _, obj := range o.Dependents() {
		refs := obj.GetOwnerReferences()
		for i := range refs {
			if refs[i].Kind == "Pod" && refs[i].Name == o.DriverPod.Name {
				refs[i].UID = uid
			}
		}
		obj.SetOwnerReferences(refs)
	}
}

// Dependents returns the objects owned by the driver pod, in the order spark-submit creates
// them: Service, spark.properties ConfigMap, executor template ConfigMap, PVCs, NetworkPolicy.
func (o *Objects) Dependents() []OwnedObject {
	var out []OwnedObject
	if o.Service != nil {
		out = append(out, o.Service)
	}
	if o.ConfigMap != nil {
		out = append(out, o.ConfigMap)
	}
	if o.ExecutorTemplate != nil {
		out = append(out, o.ExecutorTemplate)
	}
	for _, p := range o.PVCs {
		out = append(out, p)
	}
	if o.NetworkPolicy != nil {
		out = append(out, o.NetworkPolicy)
	}
	return out
}
