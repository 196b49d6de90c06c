package iam

import "strings"

// The tables in this file transcribe AWS's Service Authorization Reference for Amazon EMR on
// EKS (service prefix emr-containers):
//
//	https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonemroneksemrcontainers.html
//
// (also published as .../reference/list_emr-containers.html, with a machine-readable copy at
// https://servicereference.us-east-1.amazonaws.com/v1/emr-containers/emr-containers.json).
// They are data: when AWS adds an action or a condition key, add a row here.

// ServicePrefix is the emr-containers service prefix used in actions and ARNs.
const ServicePrefix = "emr-containers"

// ResourceType is a resource type of emr-containers, named as the reference names it.
type ResourceType string

// The five emr-containers resource types and, in comments, their ARN formats.
const (
	// arn:${Partition}:emr-containers:${Region}:${Account}:/virtualclusters/${VirtualClusterId}
	VirtualCluster ResourceType = "virtualCluster"
	// arn:${Partition}:emr-containers:${Region}:${Account}:/virtualclusters/${VirtualClusterId}/jobruns/${JobRunId}
	JobRun ResourceType = "jobRun"
	// arn:${Partition}:emr-containers:${Region}:${Account}:/jobtemplates/${JobTemplateId}
	JobTemplate ResourceType = "jobTemplate"
	// arn:${Partition}:emr-containers:${Region}:${Account}:/virtualclusters/${VirtualClusterId}/endpoints/${EndpointId}
	ManagedEndpoint ResourceType = "managedEndpoint"
	// arn:${Partition}:emr-containers:${Region}:${Account}:/securityconfigurations/${SecurityConfigurationId}
	SecurityConfiguration ResourceType = "securityConfiguration"
)

// Condition keys emr-containers supports. Tag keys are templates: the request carries
// aws:RequestTag/team, aws:ResourceTag/team and so on.
const (
	KeyRequestTag       = "aws:RequestTag/${TagKey}"        // String: tags in the request
	KeyResourceTag      = "aws:ResourceTag/${TagKey}"       // String: tags on the resource
	KeyTagKeys          = "aws:TagKeys"                     // ArrayOfString: tag keys in the request
	KeyExecutionRoleArn = "emr-containers:ExecutionRoleArn" // ARN: the execution role in the request
	KeyJobTemplateArn   = "emr-containers:JobTemplateArn"   // ARN: the job template in the request
)

// conditionKeyTypes holds the reference's type of each condition key above, which says
// which operators suit it (String*, ForAnyValue:/ForAllValues: String*, Arn*).
var conditionKeyTypes = map[string]string{
	KeyRequestTag:       "String",
	KeyResourceTag:      "String",
	KeyTagKeys:          "ArrayOfString",
	KeyExecutionRoleArn: "ARN",
	KeyJobTemplateArn:   "ARN",
}

// ConditionKeyType returns the reference's type of an emr-containers condition key
// ("String", "ArrayOfString" or "ARN"), or "" for a key emr-containers does not define.
func ConditionKeyType(key string) string {
	return conditionKeyTypes[key]
}

// ActionResource is one resource type an action can be authorized on. Required marks the
// reference's asterisk: a policy restricting Resource must then name an ARN of this type,
// and the authorizer asks about that ARN.
type ActionResource struct {
	Type     ResourceType
	Required bool
}

// ActionInfo describes one emr-containers action. An action with no Resources is authorized
// on "*" only: IAM matches it against Resource "*", never against an ARN pattern.
type ActionInfo struct {
	// Action is the full action name, e.g. emr-containers:StartJobRun.
	Action string
	// AccessLevel is the reference's classification: List, Read, Write, or "Tagging, Write".
	AccessLevel string
	Resources   []ActionResource
	// ConditionKeys are the keys the action supports, including those of its resource types.
	ConditionKeys []string
}

func required(t ResourceType) []ActionResource { return []ActionResource{{Type: t, Required: true}} }

// anyTaggable is the optional resource list of the tagging actions, which work on an ARN of
// any of the five types.
var anyTaggable = []ActionResource{{Type: JobRun}, {Type: JobTemplate}, {Type: ManagedEndpoint}, {Type: SecurityConfiguration}, {Type: VirtualCluster}}

var (
	keysResourceTag = []string{KeyResourceTag}
	keysCreate      = []string{KeyRequestTag, KeyTagKeys}
)

// actionTable is the reference's Actions table, in its order.
var actionTable = []ActionInfo{
	{"emr-containers:CancelJobRun", "Write", required(JobRun), keysResourceTag},
	{"emr-containers:CreateCertificate", "Write", nil, nil},
	{"emr-containers:CreateJobTemplate", "Write", nil, keysCreate},
	{"emr-containers:CreateManagedEndpoint", "Write", required(VirtualCluster), []string{KeyRequestTag, KeyResourceTag, KeyTagKeys, KeyExecutionRoleArn}},
	{"emr-containers:CreateSecurityConfiguration", "Write", nil, keysCreate},
	{"emr-containers:CreateVirtualCluster", "Write", nil, keysCreate},
	{"emr-containers:DeleteJobTemplate", "Write", required(JobTemplate), keysResourceTag},
	{"emr-containers:DeleteManagedEndpoint", "Write", required(ManagedEndpoint), keysResourceTag},
	{"emr-containers:DeleteSecurityConfiguration", "Write", required(SecurityConfiguration), keysResourceTag},
	{"emr-containers:DeleteVirtualCluster", "Write", required(VirtualCluster), keysResourceTag},
	{"emr-containers:DescribeJobRun", "Read", required(JobRun), keysResourceTag},
	{"emr-containers:DescribeJobTemplate", "Read", required(JobTemplate), keysResourceTag},
	{"emr-containers:DescribeManagedEndpoint", "Read", required(ManagedEndpoint), keysResourceTag},
	{"emr-containers:DescribeSecurityConfiguration", "Read", required(SecurityConfiguration), keysResourceTag},
	{"emr-containers:DescribeVirtualCluster", "Read", required(VirtualCluster), keysResourceTag},
	{"emr-containers:GetManagedEndpointSessionCredentials", "Write", required(ManagedEndpoint), keysResourceTag},
	{"emr-containers:ListJobRuns", "List", required(VirtualCluster), keysResourceTag},
	{"emr-containers:ListJobTemplates", "List", nil, nil},
	{"emr-containers:ListManagedEndpoints", "List", required(VirtualCluster), keysResourceTag},
	{"emr-containers:ListSecurityConfigurations", "List", nil, nil},
	{"emr-containers:ListTagsForResource", "List", anyTaggable, keysResourceTag},
	{"emr-containers:ListVirtualClusters", "List", nil, nil},
	{"emr-containers:StartJobRun", "Write", required(VirtualCluster), []string{KeyRequestTag, KeyResourceTag, KeyTagKeys, KeyExecutionRoleArn, KeyJobTemplateArn}},
	{"emr-containers:TagResource", "Tagging, Write", anyTaggable, []string{KeyRequestTag, KeyResourceTag, KeyTagKeys}},
	{"emr-containers:UntagResource", "Tagging, Write", anyTaggable, []string{KeyResourceTag, KeyTagKeys}},
}

// operationTable is the reference's "API operations" table: the IAM actions each API call
// is authorized against, beyond the action of the same name. The reference lists them
// without saying when each applies; sparkplane's reading, not confirmed by the page, is that
// TagResource is checked when the call carries tags, DescribeJobTemplate when StartJobRun
// names a template, and iam:PassRole (with iam:PassedToService = pods.eks.amazonaws.com)
// for the execution role. Operations not listed here check only their own action. The
// ec2: and eks: actions AWS checks for managed endpoints and cluster deletion concern AWS's
// own resources and are left out.
var operationTable = map[string][]string{
	"CreateJobTemplate":           {"emr-containers:CreateJobTemplate", "emr-containers:TagResource"},
	"CreateManagedEndpoint":       {"emr-containers:CreateManagedEndpoint", "emr-containers:TagResource", "iam:PassRole"},
	"CreateSecurityConfiguration": {"emr-containers:CreateSecurityConfiguration", "emr-containers:TagResource"},
	"CreateVirtualCluster":        {"emr-containers:CreateVirtualCluster", "emr-containers:TagResource"},
	"StartJobRun":                 {"emr-containers:DescribeJobTemplate", "emr-containers:StartJobRun", "emr-containers:TagResource", "iam:PassRole"},
}

// Actions returns the emr-containers actions in the reference's order. The slice is a copy;
// the ActionInfo values share their inner slices, which callers must not modify.
func Actions() []ActionInfo {
	return append([]ActionInfo(nil), actionTable...)
}

// LookupAction finds an emr-containers action by name, case-insensitively as IAM matches
// actions ("emr-containers:startjobrun" finds StartJobRun).
func LookupAction(action string) (ActionInfo, bool) {
	for _, a := range actionTable {
		if strings.EqualFold(a.Action, action) {
			return a, true
		}
	}
	return ActionInfo{}, false
}

// OperationActions returns the IAM actions an emr-containers API operation (e.g.
// "StartJobRun") is authorized against, per the reference's API operations table: its own
// action and, for a few operations, others (see operationTable for when each applies).
func OperationActions(operation string) []string {
	if acts, ok := operationTable[operation]; ok {
		return append([]string(nil), acts...)
	}
	return []string{ServicePrefix + ":" + operation}
}
