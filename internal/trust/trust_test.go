package trust

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/submission"
)

const (
	roleARN = "arn:aws:iam::111122223333:role/spark-jobs"
	oidcARN = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	issuer  = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
)

// roleTable is jobs.Roles as the server's executionRoles configure it: role ARN to the
// virtual clusters that may use it ("*" for all).
type roleTable map[string][]string

func (r roleTable) Allowed(arn, vc string) bool {
	for _, v := range r[arn] {
		if v == "*" || v == vc {
			return true
		}
	}
	return false
}

func virtualCluster(id, namespace string, state jobs.VirtualClusterState) jobs.VirtualCluster {
	return jobs.VirtualCluster{ID: id, Name: "analytics", State: state, ContainerProvider: jobs.ContainerProvider{
		Type: "EKS", ID: "prod-eks", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: namespace}}}}
}

func TestForVirtualCluster(t *testing.T) {
	vc := virtualCluster("vc1abc", "spark", jobs.VirtualClusterRunning)
	resp, err := ForVirtualCluster(Request{VirtualClusterID: vc.ID, RoleArn: roleARN, OIDCProvider: oidcARN}, vc,
		roleTable{roleARN: {"vc1abc"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	sa := submission.ServiceAccountName(roleARN)
	if resp.Namespace != "spark" || resp.ServiceAccount != sa || resp.RoleArn != roleARN || resp.OIDCProvider != oidcARN || resp.VirtualClusterID != "vc1abc" {
		t.Errorf("response = %+v", resp)
	}
	want := Statement{
		Sid: "SparkplaneVirtualClustervc1abc", Effect: "Allow", Principal: Principal{Federated: oidcARN},
		Action: "sts:AssumeRoleWithWebIdentity",
		Condition: map[string]map[string]string{"StringEquals": {
			issuer + ":sub": "system:serviceaccount:spark:" + sa,
			issuer + ":aud": "sts.amazonaws.com",
		}},
	}
	got, _ := json.Marshal(resp.Statement)
	wantJSON, _ := json.Marshal(want)
	if string(got) != string(wantJSON) {
		t.Errorf("statement\n got %s\nwant %s", got, wantJSON)
	}
	if resp.PolicyDocument.Version != "2012-10-17" || len(resp.PolicyDocument.Statement) != 1 {
		t.Errorf("policy document = %+v", resp.PolicyDocument)
	}
	// The document uses IAM's member names, which `aws iam update-assume-role-policy` reads.
	doc, _ := json.Marshal(resp.PolicyDocument)
	for _, member := range []string{`"Version":"2012-10-17"`, `"Statement":[`, `"Effect":"Allow"`, `"Principal":{"Federated":`, `"Action":"sts:AssumeRoleWithWebIdentity"`, `"Condition":{"StringEquals":`} {
		if !strings.Contains(string(doc), member) {
			t.Errorf("policy document lacks %s: %s", member, doc)
		}
	}

	// The server's configured provider is used when the request names none.
	fromConfig, err := ForVirtualCluster(Request{VirtualClusterID: vc.ID, RoleArn: roleARN}, vc, roleTable{roleARN: {"*"}}, oidcARN)
	if err != nil || fromConfig.OIDCProvider != oidcARN {
		t.Errorf("configured provider: %+v, %v", fromConfig, err)
	}
	// A provider in the request wins over the configured one.
	other := "arn:aws:iam::111122223333:oidc-provider/oidc.example.com"
	fromRequest, err := ForVirtualCluster(Request{VirtualClusterID: vc.ID, RoleArn: roleARN, OIDCProvider: other}, vc, roleTable{roleARN: {"*"}}, oidcARN)
	if err != nil || fromRequest.OIDCProvider != other || fromRequest.Statement.Condition["StringEquals"]["oidc.example.com:sub"] == "" {
		t.Errorf("request provider: %+v, %v", fromRequest, err)
	}
}

func TestForVirtualClusterRefuses(t *testing.T) {
	running := virtualCluster("vc1abc", "spark", jobs.VirtualClusterRunning)
	roles := roleTable{roleARN: {"vc1abc"}, "arn:aws:iam::111122223333:role/other-team": {"vc2xyz"}}
	tests := []struct {
		name       string
		req        Request
		vc         jobs.VirtualCluster
		configured string
		field      string
		rule       string
	}{
		{"role no virtual cluster may use", Request{RoleArn: "arn:aws:iam::111122223333:role/unregistered", OIDCProvider: oidcARN}, running, "",
			"roleArn", "is not an execution role virtual cluster vc1abc may use"},
		{"role of another virtual cluster", Request{RoleArn: "arn:aws:iam::111122223333:role/other-team", OIDCProvider: oidcARN}, running, "",
			"roleArn", "is not an execution role virtual cluster vc1abc may use"},
		{"no role", Request{OIDCProvider: oidcARN}, running, "", "roleArn", "is required"},
		{"role is not a role ARN", Request{RoleArn: "arn:aws:iam::111122223333:user/alice", OIDCProvider: oidcARN}, running, "", "roleArn", "must be an IAM role ARN"},
		{"role without account", Request{RoleArn: "arn:aws:iam:::role/spark-jobs", OIDCProvider: oidcARN}, running, "", "roleArn", "12-digit account"},
		{"no provider anywhere", Request{RoleArn: roleARN}, running, "", "oidcProvider", `no OIDC provider configured for container provider "prod-eks"`},
		{"provider given as the issuer URL", Request{RoleArn: roleARN, OIDCProvider: "https://" + issuer}, running, "", "oidcProvider", "must be the ARN of an IAM OIDC identity provider"},
		{"provider ARN with the scheme", Request{RoleArn: roleARN, OIDCProvider: "arn:aws:iam::111122223333:oidc-provider/https://" + issuer}, running, "", "oidcProvider", "without https://"},
		{"bad configured provider", Request{RoleArn: roleARN}, running, "oidc.eks.us-west-2.amazonaws.com", "oidcProvider", "must be the ARN"},
		{"provider in another account", Request{RoleArn: roleARN, OIDCProvider: "arn:aws:iam::444455556666:oidc-provider/" + issuer}, running, "",
			"oidcProvider", "register the cluster's OIDC issuer in account 111122223333"},
		{"provider in another partition", Request{RoleArn: roleARN, OIDCProvider: "arn:aws-cn:iam::111122223333:oidc-provider/" + issuer}, running, "",
			"oidcProvider", "(aws-cn)"},
		{"terminated virtual cluster", Request{RoleArn: roleARN, OIDCProvider: oidcARN}, virtualCluster("vc1abc", "spark", jobs.VirtualClusterTerminated), "",
			"virtualClusterId", "is TERMINATED"},
		{"virtual cluster without namespace", Request{RoleArn: roleARN, OIDCProvider: oidcARN}, virtualCluster("vc1abc", "", jobs.VirtualClusterRunning), "",
			"virtualClusterId", "names no namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.VirtualClusterID = tt.vc.ID
			_, err := ForVirtualCluster(tt.req, tt.vc, roles, tt.configured)
			var verr *jobs.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error = %v, want a *jobs.ValidationError", err)
			}
			if verr.Field != tt.field || !strings.Contains(verr.Rule, tt.rule) {
				t.Errorf("error = %s / %s, want field %s and a rule containing %q", verr.Field, verr.Rule, tt.field, tt.rule)
			}
		})
	}
	// No roles at all (a server without executionRoles) trusts nothing.
	if _, err := ForVirtualCluster(Request{RoleArn: roleARN, OIDCProvider: oidcARN}, running, nil, ""); err == nil {
		t.Error("nil roles: no error")
	}
}

func TestParseOIDCProvider(t *testing.T) {
	tests := []struct {
		arn                        string
		partition, account, issuer string
	}{
		{oidcARN, "aws", "111122223333", issuer},
		{"arn:aws-us-gov:iam::111122223333:oidc-provider/oidc.eks.us-gov-west-1.amazonaws.com/id/ABC", "aws-us-gov", "111122223333", "oidc.eks.us-gov-west-1.amazonaws.com/id/ABC"},
		{"arn:aws:iam::111122223333:oidc-provider/keycloak.example.com:8443/realms/k8s", "aws", "111122223333", "keycloak.example.com:8443/realms/k8s"},
		{"arn:aws:iam::111122223333:oidc-provider/oidc.example.com", "aws", "111122223333", "oidc.example.com"},
	}
	for _, tt := range tests {
		p, err := ParseOIDCProvider(tt.arn)
		if err != nil || p.Partition != tt.partition || p.AccountID != tt.account || p.Issuer != tt.issuer || p.ARN != tt.arn {
			t.Errorf("ParseOIDCProvider(%q) = %+v, %v", tt.arn, p, err)
		}
	}
	for _, bad := range []string{"", "oidc.eks.us-west-2.amazonaws.com/id/X", "arn:aws:iam::1111:oidc-provider/x.example.com",
		"arn:aws:iam::111122223333:oidc-provider/", "arn:aws:iam::111122223333:saml-provider/corp", "arn:aws:iam::111122223333:oidc-provider/a b"} {
		if _, err := ParseOIDCProvider(bad); err == nil {
			t.Errorf("ParseOIDCProvider(%q): no error", bad)
		}
	}
}

func TestParseRole(t *testing.T) {
	r, err := ParseRole("arn:aws:iam::111122223333:role/service-role/teams/spark_Jobs")
	if err != nil || r.Name != "spark_Jobs" || r.AccountID != "111122223333" || r.Partition != "aws" {
		t.Errorf("ParseRole = %+v, %v", r, err)
	}
	for _, bad := range []string{"", "spark-jobs", "arn:aws:iam::111122223333:role/", "arn:aws:sts::111122223333:assumed-role/x/y", "arn:aws:iam::111122223333:role/bad name"} {
		if _, err := ParseRole(bad); err == nil {
			t.Errorf("ParseRole(%q): no error", bad)
		}
	}
}

func TestStatementID(t *testing.T) {
	if got := StatementID("cm996q4fp7r6j461nx7bbgf2s"); got != "SparkplaneVirtualClustercm996q4fp7r6j461nx7bbgf2s" {
		t.Errorf("StatementID = %q", got)
	}
	if got := StatementID("a-b_c"); got != "SparkplaneVirtualClusterabc" {
		t.Errorf("StatementID keeps characters IAM refuses: %q", got)
	}
}

func TestParseRequest(t *testing.T) {
	q := url.Values{QueryRoleArn: {roleARN}, QueryOIDCProvider: {oidcARN}}
	req, err := ParseRequest("vc1abc", q)
	if err != nil || req != (Request{VirtualClusterID: "vc1abc", RoleArn: roleARN, OIDCProvider: oidcARN}) {
		t.Errorf("ParseRequest = %+v, %v", req, err)
	}
	if Path("vc1abc") != "/virtualclusters/vc1abc/trustpolicy" || !strings.HasSuffix(Route, "/virtualclusters/{virtualClusterId}/trustpolicy") {
		t.Errorf("Path %q and Route %q disagree", Path("vc1abc"), Route)
	}
	tests := []struct {
		name  string
		vc    string
		query url.Values
		field string
	}{
		{"misspelt provider", "vc1abc", url.Values{QueryRoleArn: {roleARN}, "oidcprovider": {oidcARN}}, "oidcprovider"},
		{"role twice", "vc1abc", url.Values{QueryRoleArn: {roleARN, roleARN}}, QueryRoleArn},
		{"no virtual cluster", " ", url.Values{QueryRoleArn: {roleARN}}, "virtualClusterId"},
	}
	for _, tt := range tests {
		_, err := ParseRequest(tt.vc, tt.query)
		var verr *jobs.ValidationError
		if !errors.As(err, &verr) || verr.Field != tt.field {
			t.Errorf("%s: ParseRequest = %v, want a validation error on %s", tt.name, err, tt.field)
		}
	}
}
