package iam

import "testing"

func TestDeniedMessage(t *testing.T) {
	allow := mustParse(t, "runs", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"emr-containers:*","Resource":"*"},
		{"Effect":"Deny","Action":"emr-containers:DeleteVirtualCluster","Resource":"*"}]}`)
	tests := []struct {
		name     string
		policies []*Policy
		req      Request
		want     string
	}{
		{"implicit deny", nil,
			Request{Principal: alice, Action: "emr-containers:StartJobRun", Resource: vcABC},
			"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: emr-containers:StartJobRun on resource: arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/abc because no identity-based policy allows the emr-containers:StartJobRun action"},
		{"explicit deny", []*Policy{allow},
			Request{Principal: alice, Action: "emr-containers:DeleteVirtualCluster", Resource: vcABC},
			"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: emr-containers:DeleteVirtualCluster on resource: arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/abc with an explicit deny in an identity-based policy"},
		{"action without a resource type", nil,
			Request{Principal: alice, Action: "emr-containers:ListVirtualClusters", Resource: "*"},
			"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: emr-containers:ListVirtualClusters on resource: * because no identity-based policy allows the emr-containers:ListVirtualClusters action"},
		{"allowed: no message", []*Policy{allow},
			Request{Principal: alice, Action: "emr-containers:StartJobRun", Resource: vcABC}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeniedMessage(tt.req, Evaluate(tt.policies, tt.req)); got != tt.want {
				t.Errorf("DeniedMessage =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
