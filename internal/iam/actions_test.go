package iam

import (
	"slices"
	"strings"
	"testing"
)

func TestActionTable(t *testing.T) {
	acts := Actions()
	if len(acts) != 25 {
		t.Errorf("the reference lists 25 emr-containers actions, the table has %d", len(acts))
	}
	seen := map[string]bool{}
	for _, a := range acts {
		if !strings.HasPrefix(a.Action, ServicePrefix+":") {
			t.Errorf("%s: not an emr-containers action", a.Action)
		}
		if seen[a.Action] {
			t.Errorf("%s listed twice", a.Action)
		}
		seen[a.Action] = true
		switch a.AccessLevel {
		case "List", "Read", "Write", "Tagging, Write":
		default:
			t.Errorf("%s: access level %q", a.Action, a.AccessLevel)
		}
		for _, r := range a.Resources {
			if !validType(r.Type) {
				t.Errorf("%s: unknown resource type %q", a.Action, r.Type)
			}
			// Every resource type carries aws:ResourceTag, so an action with one supports it.
			if !slices.Contains(a.ConditionKeys, KeyResourceTag) {
				t.Errorf("%s: has resource type %s but not %s", a.Action, r.Type, KeyResourceTag)
			}
		}
		for _, k := range a.ConditionKeys {
			if ConditionKeyType(k) == "" {
				t.Errorf("%s: condition key %s has no type", a.Action, k)
			}
		}
	}
}

func validType(t ResourceType) bool {
	switch t {
	case VirtualCluster, JobRun, JobTemplate, ManagedEndpoint, SecurityConfiguration:
		return true
	}
	return false
}

func TestLookupAction(t *testing.T) {
	tests := []struct {
		action       string
		found        bool
		requiredType ResourceType // "" when the action is authorized on "*"
		keys         []string
	}{
		{"emr-containers:StartJobRun", true, VirtualCluster, []string{KeyRequestTag, KeyResourceTag, KeyTagKeys, KeyExecutionRoleArn, KeyJobTemplateArn}},
		{"EMR-CONTAINERS:startjobrun", true, VirtualCluster, nil},
		{"emr-containers:CancelJobRun", true, JobRun, []string{KeyResourceTag}},
		{"emr-containers:DescribeJobTemplate", true, JobTemplate, []string{KeyResourceTag}},
		{"emr-containers:DeleteSecurityConfiguration", true, SecurityConfiguration, []string{KeyResourceTag}},
		{"emr-containers:GetManagedEndpointSessionCredentials", true, ManagedEndpoint, []string{KeyResourceTag}},
		{"emr-containers:ListVirtualClusters", true, "", nil},
		{"emr-containers:CreateVirtualCluster", true, "", []string{KeyRequestTag, KeyTagKeys}},
		{"emr-containers:TagResource", true, "", []string{KeyRequestTag, KeyResourceTag, KeyTagKeys}},
		{"emr-containers:UntagResource", true, "", []string{KeyResourceTag, KeyTagKeys}},
		{"emr-containers:StartJob", false, "", nil},
		{"sparkplane:PutVirtualClusterSettings", false, "", nil},
	}
	for _, tt := range tests {
		a, ok := LookupAction(tt.action)
		if ok != tt.found {
			t.Errorf("LookupAction(%q) found = %v, want %v", tt.action, ok, tt.found)
			continue
		}
		var req ResourceType
		for _, r := range a.Resources {
			if r.Required {
				req = r.Type
			}
		}
		if req != tt.requiredType {
			t.Errorf("%s: required resource %q, want %q", tt.action, req, tt.requiredType)
		}
		if tt.keys != nil && !slices.Equal(a.ConditionKeys, tt.keys) {
			t.Errorf("%s: condition keys %v, want %v", tt.action, a.ConditionKeys, tt.keys)
		}
	}
}

func TestOperationActions(t *testing.T) {
	tests := []struct {
		op   string
		want []string
	}{
		{"StartJobRun", []string{"emr-containers:DescribeJobTemplate", "emr-containers:StartJobRun", "emr-containers:TagResource", "iam:PassRole"}},
		{"CreateVirtualCluster", []string{"emr-containers:CreateVirtualCluster", "emr-containers:TagResource"}},
		{"DescribeJobRun", []string{"emr-containers:DescribeJobRun"}},
	}
	for _, tt := range tests {
		if got := OperationActions(tt.op); !slices.Equal(got, tt.want) {
			t.Errorf("OperationActions(%s) = %v, want %v", tt.op, got, tt.want)
		}
	}
	// The result is a copy.
	OperationActions("StartJobRun")[0] = "x"
	if OperationActions("StartJobRun")[0] == "x" {
		t.Error("OperationActions returned the table itself")
	}
}
