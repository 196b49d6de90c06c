package iam

import (
	"strings"
	"testing"
)

func TestARNHelpers(t *testing.T) {
	const r, acct = "us-east-1", "123456789012"
	tests := []struct {
		got, want string
	}{
		{VirtualClusterARN(r, acct, "vc1"), "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/vc1"},
		{JobRunARN(r, acct, "vc1", "jr1"), "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/vc1/jobruns/jr1"},
		{ManagedEndpointARN(r, acct, "vc1", "ep1"), "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/vc1/endpoints/ep1"},
		{JobTemplateARN(r, acct, "jt1"), "arn:aws:emr-containers:us-east-1:123456789012:/jobtemplates/jt1"},
		{SecurityConfigurationARN(r, acct, "sc1"), "arn:aws:emr-containers:us-east-1:123456789012:/securityconfigurations/sc1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
		a, err := ParseARN(tt.got)
		if err != nil {
			t.Errorf("ParseARN(%s): %v", tt.got, err)
			continue
		}
		if a.String() != tt.got {
			t.Errorf("ParseARN(%s).String() = %s", tt.got, a.String())
		}
	}
}

func TestParseARN(t *testing.T) {
	tests := []struct {
		in      string
		want    ARN
		wantErr string
	}{
		{in: "arn:aws:emr-containers:us-east-1:1:/virtualclusters/vc", want: ARN{"aws", "us-east-1", "1", VirtualCluster, "vc", "vc"}},
		{in: "arn:aws-cn:emr-containers:cn-north-1:1:/virtualclusters/vc/jobruns/j", want: ARN{"aws-cn", "cn-north-1", "1", JobRun, "vc", "j"}},
		{in: "arn:aws:emr-containers:us-east-1:1:/virtualclusters/vc/endpoints/e", want: ARN{"aws", "us-east-1", "1", ManagedEndpoint, "vc", "e"}},
		{in: "arn:aws:emr-containers:us-east-1:1:/jobtemplates/t", want: ARN{"aws", "us-east-1", "1", JobTemplate, "", "t"}},
		{in: "arn:aws:emr-containers:us-east-1:1:/securityconfigurations/s", want: ARN{"aws", "us-east-1", "1", SecurityConfiguration, "", "s"}},
		{in: "arn:aws:s3:::bucket", wantErr: `service must be "emr-containers"`},
		{in: "virtualclusters/vc", wantErr: "must have the form"},
		{in: "arn::emr-containers:r:1:/jobtemplates/t", wantErr: "partition must not be empty"},
		{in: "arn:aws:emr-containers:r:1:virtualclusters/vc", wantErr: "must start with '/'"},
		{in: "arn:aws:emr-containers:r:1:/virtualclusters/", wantErr: "non-empty"},
		{in: "arn:aws:emr-containers:r:1:/virtualclusters/vc/jobruns", wantErr: "resource must be"},
		{in: "arn:aws:emr-containers:r:1:/virtualclusters/vc/steps/s", wantErr: "resource must be"},
		{in: "arn:aws:emr-containers:r:1:/jobtemplates/a:b", wantErr: "contain no ':'"},
	}
	for _, tt := range tests {
		got, err := ParseARN(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseARN(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseARN(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
