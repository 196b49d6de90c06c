package iam

import (
	"fmt"
	"strings"
)

// Partition is the ARN partition sparkplane writes. AWS SDKs and CLIs accept ARNs from any
// partition, but sparkplane presents itself as the aws partition, as its API does.
const Partition = "aws"

// ARN is an emr-containers resource ARN taken apart, for an authorizer that receives an ARN
// (TagResource, ListTagsForResource) and must know what it names.
type ARN struct {
	Partition string
	Region    string
	Account   string
	Type      ResourceType
	// VirtualClusterID is set for virtual clusters, job runs and managed endpoints.
	VirtualClusterID string
	// ID is the resource's own id: the job run, endpoint, template or security
	// configuration id, or the virtual cluster id for a virtual cluster.
	ID string
}

// String formats the ARN as emr-containers does: arn:aws:emr-containers:<region>:<account>:/<path>.
func (a ARN) String() string {
	var path string
	switch a.Type {
	case VirtualCluster:
		path = "virtualclusters/" + a.ID
	case JobRun:
		path = "virtualclusters/" + a.VirtualClusterID + "/jobruns/" + a.ID
	case ManagedEndpoint:
		path = "virtualclusters/" + a.VirtualClusterID + "/endpoints/" + a.ID
	case JobTemplate:
		path = "jobtemplates/" + a.ID
	case SecurityConfiguration:
		path = "securityconfigurations/" + a.ID
	}
	return "arn:" + a.Partition + ":" + ServicePrefix + ":" + a.Region + ":" + a.Account + ":/" + path
}

// VirtualClusterARN returns arn:aws:emr-containers:<region>:<account>:/virtualclusters/<id>.
func VirtualClusterARN(region, account, id string) string {
	return ARN{Partition: Partition, Region: region, Account: account, Type: VirtualCluster, VirtualClusterID: id, ID: id}.String()
}

// JobRunARN returns arn:aws:emr-containers:<region>:<account>:/virtualclusters/<vc>/jobruns/<id>.
func JobRunARN(region, account, virtualClusterID, id string) string {
	return ARN{Partition: Partition, Region: region, Account: account, Type: JobRun, VirtualClusterID: virtualClusterID, ID: id}.String()
}

// ManagedEndpointARN returns arn:aws:emr-containers:<region>:<account>:/virtualclusters/<vc>/endpoints/<id>.
func ManagedEndpointARN(region, account, virtualClusterID, id string) string {
	return ARN{Partition: Partition, Region: region, Account: account, Type: ManagedEndpoint, VirtualClusterID: virtualClusterID, ID: id}.String()
}

// JobTemplateARN returns arn:aws:emr-containers:<region>:<account>:/jobtemplates/<id>.
func JobTemplateARN(region, account, id string) string {
	return ARN{Partition: Partition, Region: region, Account: account, Type: JobTemplate, ID: id}.String()
}

// SecurityConfigurationARN returns arn:aws:emr-containers:<region>:<account>:/securityconfigurations/<id>.
func SecurityConfigurationARN(region, account, id string) string {
	return ARN{Partition: Partition, Region: region, Account: account, Type: SecurityConfiguration, ID: id}.String()
}

// ParseARN takes an emr-containers resource ARN apart. It accepts exactly the five resource
// forms of the reference, with non-empty ids free of '/' and ':'.
func ParseARN(s string) (ARN, error) {
	parts, ok := arnComponents(s)
	if !ok || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("ARN %q: must have the form arn:partition:emr-containers:region:account:/resource", s)
	}
	if parts[1] == "" {
		return ARN{}, fmt.Errorf("ARN %q: partition must not be empty", s)
	}
	if parts[2] != ServicePrefix {
		return ARN{}, fmt.Errorf("ARN %q: service must be %q, got %q", s, ServicePrefix, parts[2])
	}
	a := ARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	path, ok := strings.CutPrefix(parts[5], "/")
	if !ok {
		return ARN{}, fmt.Errorf("ARN %q: resource must start with '/'", s)
	}
	seg := strings.Split(path, "/")
	for _, id := range seg {
		if id == "" || strings.ContainsRune(id, ':') {
			return ARN{}, fmt.Errorf("ARN %q: resource path segments must be non-empty and contain no ':'", s)
		}
	}
	switch {
	case len(seg) == 2 && seg[0] == "virtualclusters":
		a.Type, a.VirtualClusterID, a.ID = VirtualCluster, seg[1], seg[1]
	case len(seg) == 4 && seg[0] == "virtualclusters" && seg[2] == "jobruns":
		a.Type, a.VirtualClusterID, a.ID = JobRun, seg[1], seg[3]
	case len(seg) == 4 && seg[0] == "virtualclusters" && seg[2] == "endpoints":
		a.Type, a.VirtualClusterID, a.ID = ManagedEndpoint, seg[1], seg[3]
	case len(seg) == 2 && seg[0] == "jobtemplates":
		a.Type, a.ID = JobTemplate, seg[1]
	case len(seg) == 2 && seg[0] == "securityconfigurations":
		a.Type, a.ID = SecurityConfiguration, seg[1]
	default:
		return ARN{}, fmt.Errorf("ARN %q: resource must be /virtualclusters/<id>, /virtualclusters/<id>/jobruns/<id>, /virtualclusters/<id>/endpoints/<id>, /jobtemplates/<id> or /securityconfigurations/<id>", s)
	}
	return a, nil
}
