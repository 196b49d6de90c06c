package wellknown

// Labels EMR on EKS puts on every pod of a job run; sparkplane sets them the same way.
const (
	LabelJobID            = "emr-containers.amazonaws.com/job.id"
	LabelVirtualClusterID = "emr-containers.amazonaws.com/virtual-cluster-id"
)

// sparkplane's own labels and annotations.
const (
	// LabelManagedBy marks what sparkplane created (pods, namespaces, roles), with the value
	// ManagedBy.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "sparkplane"
	// LabelAttempt is the driver attempt (from 1) a pod belongs to.
	LabelAttempt = "sparkplane.io/attempt"
	// LabelPrefix is the prefix of every sparkplane label; users may not set labels under it.
	LabelPrefix = "sparkplane.io/"
	// EMRLabelPrefix is the prefix of EMR's labels; users may not set them either.
	EMRLabelPrefix = "emr-containers.amazonaws.com/"
)

// Labels Spark puts on its driver and executor pods (and the app selector on their services,
// config maps and volume claims).
const (
	LabelSparkAppSelector     = "spark-app-selector"
	LabelSparkRole            = "spark-role"
	LabelSparkAppName         = "spark-app-name"
	LabelSparkVersion         = "spark-version"
	LabelSparkExecID          = "spark-exec-id"
	LabelSparkResourceProfile = "spark-exec-resourceprofile-id"
	// SparkRoleDriver and SparkRoleExecutor are LabelSparkRole's values.
	SparkRoleDriver   = "driver"
	SparkRoleExecutor = "executor"
)

// Node labels Kubernetes, Karpenter and EKS set, which say what a node costs.
const (
	LabelInstanceType = "node.kubernetes.io/instance-type"
	// LabelInstanceTypeBeta is the deprecated spelling older clusters still set.
	LabelInstanceTypeBeta = "beta.kubernetes.io/instance-type"
	LabelCapacityType     = "karpenter.sh/capacity-type"
	LabelNodePool         = "karpenter.sh/nodepool"
	LabelZone             = "topology.kubernetes.io/zone"
	LabelRegion           = "topology.kubernetes.io/region"
	// LabelEKSCapacityType is how EKS managed node groups say SPOT or ON_DEMAND.
	LabelEKSCapacityType = "eks.amazonaws.com/capacityType"
)

// AnnotationRoleArn on a service account names the IAM role its pods assume (IAM roles for
// service accounts on EKS).
const AnnotationRoleArn = "eks.amazonaws.com/role-arn"

// DriverSelector selects every driver pod of every job run.
const DriverSelector = LabelJobID + "," + LabelSparkRole + "=" + SparkRoleDriver

// Log shipping (docs/design/logs.md): the native sidecar that ships a pod's Spark output to the
// run's logUri, and how its termination message starts when it could not.
const (
	LogShipperContainer      = "sparkplane-log-shipper"
	LogShippingFailurePrefix = "logs could not be shipped"
)
