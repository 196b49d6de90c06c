package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/trust"
)

const (
	testRole = apitest.RoleArn
	testOIDC = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"
)

// TestTrustPolicyCommand runs the command against the real server: its signed extension
// route, the virtual cluster's namespace and the configured execution roles.
func TestTrustPolicyCommand(t *testing.T) {
	startServer(t)
	vc := createVC(t)
	args := []string{"execution-roles", "trust-policy", "--virtual-cluster-id", vc, "--role-arn", testRole, "--oidc-provider", testOIDC}

	// Table output: the policy document alone on stdout, ready for a file.
	out, stderr, err := execute(t, args...)
	if err != nil {
		t.Fatalf("trust-policy: %v %s", err, stderr)
	}
	var doc trust.Policy
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not a policy document: %v\n%s", err, out)
	}
	sa := submission.ServiceAccountName(testRole)
	if doc.Version != trust.PolicyVersion || len(doc.Statement) != 1 ||
		doc.Statement[0].Condition["StringEquals"]["oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub"] != "system:serviceaccount:spark-jobs:"+sa {
		t.Errorf("policy document = %s", out)
	}
	if !strings.Contains(stderr, "spark-jobs/"+sa) {
		t.Errorf("stderr = %q, want the service account named", stderr)
	}

	// -o json: the whole answer.
	resp := runJSON(t, args...)
	if resp["serviceAccount"] != sa || resp["namespace"] != "spark-jobs" || resp["policyDocument"] == nil || resp["statement"] == nil {
		t.Errorf("-o json = %v", resp)
	}

	// The server's refusal comes back as the AWS error.
	_, _, err = execute(t, "execution-roles", "trust-policy", "--virtual-cluster-id", vc, "--role-arn", "arn:aws:iam::000000000000:role/other", "--oidc-provider", testOIDC)
	if err == nil || !strings.HasPrefix(err.Error(), "ValidationException: roleArn:") || !strings.Contains(err.Error(), "is not an execution role virtual cluster "+vc+" may use") {
		t.Errorf("unregistered role: %v", err)
	}
	_, _, err = execute(t, "execution-roles", "trust-policy", "--virtual-cluster-id", vc, "--role-arn", testRole)
	if err == nil || !strings.Contains(err.Error(), "ValidationException: oidcProvider: is required") {
		t.Errorf("no provider: %v", err)
	}
}

func TestTrustPolicyBadFlags(t *testing.T) {
	isolateEnv(t)
	closed := "http://127.0.0.1:1"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no role", []string{"--virtual-cluster-id", "v"}, `required flag(s) "role-arn" not set`},
		{"no virtual cluster", []string{"--role-arn", testRole}, `required flag(s) "virtual-cluster-id" not set`},
		{"role name only", []string{"--virtual-cluster-id", "v", "--role-arn", "spark-jobs"}, `--role-arn: "spark-jobs" must be an IAM role ARN`},
		{"issuer URL for provider", []string{"--virtual-cluster-id", "v", "--role-arn", testRole, "--oidc-provider", "https://oidc.eks.us-west-2.amazonaws.com/id/X"},
			"--oidc-provider: \"https://oidc.eks.us-west-2.amazonaws.com/id/X\" must be the ARN of an IAM OIDC identity provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := execute(t, append([]string{"execution-roles", "trust-policy", "--endpoint-url", closed}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
