package cli

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/trust"
)

const (
	testRole = "arn:aws:iam::111122223333:role/spark-jobs"
	testOIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE"
)

type allowRoles map[string]bool

func (r allowRoles) Allowed(arn, _ string) bool { return r[arn] }

// trustRoute stands in for the server's GET /virtualclusters/{id}/trustpolicy until the API
// serves it: it answers with trust.ForVirtualCluster as the route will, and errors in the AWS
// shape (X-Amzn-Errortype and a JSON message).
func trustRoute(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc(trust.Route, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") ||
			!strings.Contains(r.Header.Get("Authorization"), "/emr-containers/aws4_request") {
			http.Error(w, "want a SigV4-signed GET for emr-containers", http.StatusForbidden)
			return
		}
		req, err := trust.ParseRequest(r.PathValue("virtualClusterId"), r.URL.Query())
		var resp trust.Response
		if err == nil {
			vc := jobs.VirtualCluster{ID: req.VirtualClusterID, State: jobs.VirtualClusterRunning, ContainerProvider: jobs.ContainerProvider{
				ID: "prod", Type: "EKS", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "spark"}}}}
			resp, err = trust.ForVirtualCluster(req, vc, allowRoles{testRole: true}, "")
		}
		w.Header().Set("Content-Type", "application/json")
		var verr *jobs.ValidationError
		if errors.As(err, &verr) {
			w.Header().Set("X-Amzn-Errortype", "ValidationException")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"message": verr.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(resp)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestTrustPolicyCommand(t *testing.T) {
	isolateEnv(t)
	srv := trustRoute(t)
	t.Setenv(EndpointEnv, srv.URL)
	args := []string{"execution-roles", "trust-policy", "--virtual-cluster-id", "vc1", "--role-arn", testRole, "--oidc-provider", testOIDC}

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
		doc.Statement[0].Condition["StringEquals"]["oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE:sub"] != "system:serviceaccount:spark:"+sa {
		t.Errorf("policy document = %s", out)
	}
	if !strings.Contains(stderr, "spark/"+sa) {
		t.Errorf("stderr = %q, want the service account named", stderr)
	}

	// -o json: the whole answer.
	resp := runJSON(t, args...)
	if resp["serviceAccount"] != sa || resp["namespace"] != "spark" || resp["policyDocument"] == nil || resp["statement"] == nil {
		t.Errorf("-o json = %v", resp)
	}

	// The server's refusal comes back as the AWS error.
	_, _, err = execute(t, "execution-roles", "trust-policy", "--virtual-cluster-id", "vc1", "--role-arn", "arn:aws:iam::111122223333:role/other", "--oidc-provider", testOIDC)
	if err == nil || !strings.HasPrefix(err.Error(), "ValidationException: roleArn:") || !strings.Contains(err.Error(), "is not an execution role virtual cluster vc1 may use") {
		t.Errorf("unregistered role: %v", err)
	}
	_, _, err = execute(t, "execution-roles", "trust-policy", "--virtual-cluster-id", "vc1", "--role-arn", testRole)
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
