package jobs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// VirtualClusterState is the lifecycle state of a virtual cluster.
type VirtualClusterState string

// Virtual cluster states, as the emr-containers API names them.
const (
	VirtualClusterRunning     VirtualClusterState = "RUNNING"
	VirtualClusterTerminating VirtualClusterState = "TERMINATING"
	VirtualClusterTerminated  VirtualClusterState = "TERMINATED"
	VirtualClusterArrested    VirtualClusterState = "ARRESTED"
)

// JobRunState is the lifecycle state of a job run; see CanTransition for the allowed moves.
type JobRunState string

// Job run states, as the emr-containers API names them.
const (
	StatePending       JobRunState = "PENDING"
	StateSubmitted     JobRunState = "SUBMITTED"
	StateRunning       JobRunState = "RUNNING"
	StateFailed        JobRunState = "FAILED"
	StateCancelled     JobRunState = "CANCELLED"
	StateCancelPending JobRunState = "CANCEL_PENDING"
	StateCompleted     JobRunState = "COMPLETED"
)

// FailureReason says which party a FAILED job run's failure belongs to.
type FailureReason string

// Failure reasons, as the emr-containers API names them.
const (
	FailureInternalError      FailureReason = "INTERNAL_ERROR"
	FailureUserError          FailureReason = "USER_ERROR"
	FailureValidationError    FailureReason = "VALIDATION_ERROR"
	FailureClusterUnavailable FailureReason = "CLUSTER_UNAVAILABLE"
)

// ContainerProviderEKS is the only container provider type the API defines.
const ContainerProviderEKS = "EKS"

// ContainerProvider says which Kubernetes cluster (by the id the server configuration gives it)
// and which namespace a virtual cluster maps to.
type ContainerProvider struct {
	Type string         `json:"type"`
	ID   string         `json:"id"`
	Info *ContainerInfo `json:"info,omitempty"`
}

// ContainerInfo is the union of provider details; only eksInfo exists.
type ContainerInfo struct {
	EKSInfo *EKSInfo `json:"eksInfo,omitempty"`
}

// EKSInfo names the namespace (and optional node label) of a virtual cluster.
type EKSInfo struct {
	Namespace string `json:"namespace,omitempty"`
	NodeLabel string `json:"nodeLabel,omitempty"`
}

// Namespace returns the Kubernetes namespace of the provider, or "" when none was given.
func (p ContainerProvider) Namespace() string {
	if p.Info == nil || p.Info.EKSInfo == nil {
		return ""
	}
	return p.Info.EKSInfo.Namespace
}

// VirtualCluster is a namespace on a registered Kubernetes cluster that job runs target.
type VirtualCluster struct {
	ID                      string              `json:"id"`
	Name                    string              `json:"name"`
	ARN                     string              `json:"arn"`
	State                   VirtualClusterState `json:"state"`
	ContainerProvider       ContainerProvider   `json:"containerProvider"`
	CreatedAt               time.Time           `json:"createdAt"`
	Tags                    map[string]string   `json:"tags,omitempty"`
	SecurityConfigurationID string              `json:"securityConfigurationId,omitempty"`
	// Settings are the operator's settings put on this virtual cluster, nil when none; only
	// Store.GetVirtualCluster fills them, and they are never part of the API's shapes.
	Settings *VirtualClusterSettings `json:"-"`
}

// JobDriver is the union of the two ways to run Spark.
type JobDriver struct {
	SparkSubmitJobDriver *SparkSubmitJobDriver `json:"sparkSubmitJobDriver,omitempty"`
	SparkSQLJobDriver    *SparkSQLJobDriver    `json:"sparkSqlJobDriver,omitempty"`
}

// SparkSubmitJobDriver runs an application the way spark-submit would.
type SparkSubmitJobDriver struct {
	EntryPoint            string   `json:"entryPoint"`
	EntryPointArguments   []string `json:"entryPointArguments,omitempty"`
	SparkSubmitParameters string   `json:"sparkSubmitParameters,omitempty"`
}

// SparkSQLJobDriver runs a Spark SQL script.
type SparkSQLJobDriver struct {
	EntryPoint         string `json:"entryPoint,omitempty"`
	SparkSQLParameters string `json:"sparkSqlParameters,omitempty"`
}

// Configuration is one classification of application settings, possibly nested.
type Configuration struct {
	Classification string            `json:"classification"`
	Properties     map[string]string `json:"properties,omitempty"`
	Configurations []Configuration   `json:"configurations,omitempty"`
}

// ConfigurationOverrides are the Spark settings and monitoring options of a job run.
type ConfigurationOverrides struct {
	ApplicationConfiguration []Configuration          `json:"applicationConfiguration,omitempty"`
	MonitoringConfiguration  *MonitoringConfiguration `json:"monitoringConfiguration,omitempty"`
}

// MonitoringConfiguration says where a job run's logs and UI go.
type MonitoringConfiguration struct {
	PersistentAppUI                   string                             `json:"persistentAppUI,omitempty"`
	CloudWatchMonitoringConfiguration *CloudWatchMonitoringConfiguration `json:"cloudWatchMonitoringConfiguration,omitempty"`
	S3MonitoringConfiguration         *S3MonitoringConfiguration         `json:"s3MonitoringConfiguration,omitempty"`
	ContainerLogRotationConfiguration *ContainerLogRotationConfiguration `json:"containerLogRotationConfiguration,omitempty"`
	ManagedLogs                       *ManagedLogs                       `json:"managedLogs,omitempty"`
}

// CloudWatchMonitoringConfiguration names a CloudWatch log group for driver and executor logs.
type CloudWatchMonitoringConfiguration struct {
	LogGroupName        string `json:"logGroupName"`
	LogStreamNamePrefix string `json:"logStreamNamePrefix,omitempty"`
}

// S3MonitoringConfiguration names the S3 URI logs are shipped to.
type S3MonitoringConfiguration struct {
	LogURI string `json:"logUri"`
}

// ContainerLogRotationConfiguration bounds the log files kept per container.
type ContainerLogRotationConfiguration struct {
	RotationSize   string `json:"rotationSize"`
	MaxFilesToKeep int32  `json:"maxFilesToKeep"`
}

// ManagedLogs is accepted and stored for compatibility; sparkplane has no managed log service.
type ManagedLogs struct {
	AllowAWSToRetainLogs string `json:"allowAWSToRetainLogs,omitempty"`
	EncryptionKeyArn     string `json:"encryptionKeyArn,omitempty"`
}

// RetryPolicyConfiguration bounds how many driver attempts a job run gets.
type RetryPolicyConfiguration struct {
	MaxAttempts int32 `json:"maxAttempts"`
}

// RetryPolicyExecution reports the driver attempt a job run is on.
type RetryPolicyExecution struct {
	CurrentAttemptCount int32 `json:"currentAttemptCount"`
}

// JobRun is one submitted Spark application. The jobDriver, configurationOverrides,
// releaseLabel and executionRoleArn held here are the resolved input, after job template
// substitution, from which a controller builds the Spark objects.
type JobRun struct {
	ID                       string                    `json:"id"`
	Name                     string                    `json:"name,omitempty"`
	ARN                      string                    `json:"arn"`
	VirtualClusterID         string                    `json:"virtualClusterId"`
	ClientToken              string                    `json:"clientToken,omitempty"`
	State                    JobRunState               `json:"state"`
	ExecutionRoleArn         string                    `json:"executionRoleArn"`
	ReleaseLabel             string                    `json:"releaseLabel"`
	JobDriver                JobDriver                 `json:"jobDriver"`
	ConfigurationOverrides   *ConfigurationOverrides   `json:"configurationOverrides,omitempty"`
	CreatedAt                time.Time                 `json:"createdAt"`
	CreatedBy                string                    `json:"createdBy,omitempty"`
	FinishedAt               *time.Time                `json:"finishedAt,omitempty"`
	StateDetails             string                    `json:"stateDetails,omitempty"`
	FailureReason            FailureReason             `json:"failureReason,omitempty"`
	Tags                     map[string]string         `json:"tags,omitempty"`
	RetryPolicyConfiguration *RetryPolicyConfiguration `json:"retryPolicyConfiguration,omitempty"`
	RetryPolicyExecution     *RetryPolicyExecution     `json:"retryPolicyExecution,omitempty"`

	// JobTemplateID is the template the run was started from, if any (sparkplane extension).
	JobTemplateID string `json:"jobTemplateId,omitempty"`
	// Version increases by one on every stored change; UpdateJobRun compares it.
	Version int64 `json:"-"`
	// Attempt is the lifecycle controller's record of the current driver attempt; it is stored
	// with the run and never shown in the AWS shapes.
	Attempt Attempt `json:"-"`
}

// LogURI is the run's s3MonitoringConfiguration.logUri, or "": where its container logs and
// event logs go.
func (r JobRun) LogURI() string {
	if o := r.ConfigurationOverrides; o != nil && o.MonitoringConfiguration != nil && o.MonitoringConfiguration.S3MonitoringConfiguration != nil {
		return o.MonitoringConfiguration.S3MonitoringConfiguration.LogURI
	}
	return ""
}

// Attempt is what the lifecycle controller records about a job run's current driver attempt,
// so that a restarted controller resumes where the last one stopped instead of submitting twice.
type Attempt struct {
	// Number is the attempt, from 1; zero means the first, not yet planned.
	Number int `json:"number,omitempty"`
	// Namespace and DriverPod name the attempt's driver pod once its objects exist; both are
	// empty before that (and again when a retry starts the next attempt).
	Namespace string `json:"namespace,omitempty"`
	DriverPod string `json:"driverPod,omitempty"`
	// SubmittedAt is when the attempt's objects were created, RunningAt when its driver
	// started running.
	SubmittedAt time.Time `json:"submittedAt,omitzero"`
	RunningAt   time.Time `json:"runningAt,omitzero"`
	// CleanedUp is set once a finished run's driver pods were deleted after their TTL.
	CleanedUp bool `json:"cleanedUp,omitempty"`
	// SparkVersion is the Spark version whose spark-submit rules built the attempt's driver
	// objects (the release label's Spark); DescribeJobRun reports it.
	SparkVersion string `json:"sparkVersion,omitempty"`
	// AdmittedAt is when the run took one of its virtual cluster's maxConcurrentJobRuns
	// slots; zero when the virtual cluster had no limit or the run is still queued. Retries
	// keep it: the run holds its slot until it ends.
	AdmittedAt time.Time `json:"admittedAt,omitzero"`
	// LogsNote says, for stateDetails, where the attempt's container logs go, or why they are
	// not shipped to the run's logUri; empty for runs without one.
	LogsNote string `json:"logsNote,omitempty"`
}

// UnmarshalJSON reads the typed document, and also the map of strings that servers before the
// typed attempt wrote ({"attempt": "2", "submitted": "true", "driverPod": "ns/name", ...}): a
// row such a server writes after the migration (an older replica, a downgrade and upgrade
// again) stays readable instead of sticking its run.
func (a *Attempt) UnmarshalJSON(data []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return fmt.Errorf("attempt: %w", err)
	}
	_, hasAttempt := members["attempt"]
	_, hasSubmitted := members["submitted"]
	if !hasAttempt && !hasSubmitted {
		type typed Attempt
		var t typed
		if err := json.Unmarshal(data, &t); err != nil {
			return fmt.Errorf("attempt: %w", err)
		}
		*a = Attempt(t)
		return nil
	}
	var old map[string]string
	if err := json.Unmarshal(data, &old); err != nil {
		return fmt.Errorf("attempt: the older map of strings: %w", err)
	}
	*a = Attempt{}
	if n, err := strconv.Atoi(old["attempt"]); err == nil {
		a.Number = n
	}
	if old["submitted"] == "true" {
		ns, pod, ok := strings.Cut(old["driverPod"], "/")
		if !ok {
			ns, pod = "", old["driverPod"]
		}
		a.Namespace, a.DriverPod = ns, pod
	}
	for key, dst := range map[string]*time.Time{"submittedAt": &a.SubmittedAt, "runningAt": &a.RunningAt} {
		if t, err := time.Parse(time.RFC3339, old[key]); err == nil {
			*dst = t
		}
	}
	a.CleanedUp = old["cleanedUp"] == "true"
	return nil
}

// Current is the attempt's number, from 1.
func (a Attempt) Current() int {
	if a.Number < 1 {
		return 1
	}
	return a.Number
}

// Submitted reports whether the attempt's driver objects exist.
func (a Attempt) Submitted() bool { return a.DriverPod != "" }

// Next is the following attempt: its number, nothing submitted yet.
func (a Attempt) Next() Attempt { return Attempt{Number: a.Current() + 1, AdmittedAt: a.AdmittedAt} }

// HoldsSlot reports whether the run counts against its virtual cluster's
// maxConcurrentJobRuns: from its admission (or, on a virtual cluster without a limit, its
// first submission) until it ends. A queued run, and a queued run being cancelled, hold none.
func (r JobRun) HoldsSlot() bool {
	switch r.State {
	case StateSubmitted, StateRunning:
		return true
	case StatePending:
		return !r.Attempt.AdmittedAt.IsZero()
	case StateCancelPending:
		return !r.Attempt.AdmittedAt.IsZero() || r.Attempt.Number > 0 || r.Attempt.Submitted()
	}
	return false
}

// Admission is the answer of Store.AdmitJobRun.
type Admission struct {
	// Admitted is true when the run holds a slot (it may go on to the cluster).
	Admitted bool
	// Ahead counts the queued runs of the virtual cluster created before this one, and
	// Holding the runs that hold a slot; both are as of the decision.
	Ahead, Holding int
}

// Terminal reports whether s is an end state.
func (s JobRunState) Terminal() bool {
	return s == StateCompleted || s == StateFailed || s == StateCancelled
}

// NonTerminalStates are the states a controller still has work for.
var NonTerminalStates = []JobRunState{StatePending, StateSubmitted, StateRunning, StateCancelPending}

// TemplateParameterConfiguration declares one ${name} of a job template.
type TemplateParameterConfiguration struct {
	Type         string  `json:"type,omitempty"`
	DefaultValue *string `json:"defaultValue,omitempty"`
}

// Template parameter types.
const (
	ParameterString = "STRING"
	ParameterNumber = "NUMBER"
)

// ParametricConfigurationOverrides is ConfigurationOverrides where enum fields may hold a
// ${parameter} and are checked only after substitution.
type ParametricConfigurationOverrides struct {
	ApplicationConfiguration []Configuration                    `json:"applicationConfiguration,omitempty"`
	MonitoringConfiguration  *ParametricMonitoringConfiguration `json:"monitoringConfiguration,omitempty"`
}

// ParametricMonitoringConfiguration is MonitoringConfiguration inside a job template.
type ParametricMonitoringConfiguration struct {
	PersistentAppUI                   string                             `json:"persistentAppUI,omitempty"`
	CloudWatchMonitoringConfiguration *CloudWatchMonitoringConfiguration `json:"cloudWatchMonitoringConfiguration,omitempty"`
	S3MonitoringConfiguration         *S3MonitoringConfiguration         `json:"s3MonitoringConfiguration,omitempty"`
}

// JobTemplateData is the StartJobRun input a template supplies, with ${name} placeholders.
type JobTemplateData struct {
	ExecutionRoleArn       string                                    `json:"executionRoleArn"`
	ReleaseLabel           string                                    `json:"releaseLabel"`
	JobDriver              JobDriver                                 `json:"jobDriver"`
	ConfigurationOverrides *ParametricConfigurationOverrides         `json:"configurationOverrides,omitempty"`
	JobTags                map[string]string                         `json:"jobTags,omitempty"`
	ParameterConfiguration map[string]TemplateParameterConfiguration `json:"parameterConfiguration,omitempty"`
}

// JobTemplate is a stored, parameterised StartJobRun input.
type JobTemplate struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	ARN             string            `json:"arn"`
	CreatedAt       time.Time         `json:"createdAt"`
	CreatedBy       string            `json:"createdBy,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	JobTemplateData JobTemplateData   `json:"jobTemplateData"`
	KMSKeyArn       string            `json:"kmsKeyArn,omitempty"`
}

// SecurityConfiguration is stored and returned as given; sparkplane does not act on it yet.
type SecurityConfiguration struct {
	ID                        string                    `json:"id"`
	Name                      string                    `json:"name"`
	ARN                       string                    `json:"arn"`
	CreatedAt                 time.Time                 `json:"createdAt"`
	CreatedBy                 string                    `json:"createdBy,omitempty"`
	Tags                      map[string]string         `json:"tags,omitempty"`
	SecurityConfigurationData SecurityConfigurationData `json:"securityConfigurationData"`
}

// SecurityConfigurationData is the opaque-to-sparkplane body of a security configuration. It is
// kept as raw JSON objects so every nested field the client sent is returned unchanged.
type SecurityConfigurationData struct {
	AuthorizationConfiguration map[string]any `json:"authorizationConfiguration,omitempty"`
}
