package trust

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/submission"
)

// PolicyVersion is the IAM policy language version every document carries.
const PolicyVersion = "2012-10-17"

// Audience is the audience EKS's pod identity webhook puts into projected service account
// tokens, and the one STS must see.
const Audience = "sts.amazonaws.com"

// Policy is an IAM policy document in IAM's own member names, ready for
// `aws iam update-assume-role-policy --policy-document`.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a trust policy.
type Statement struct {
	// Sid names the statement so that a later run can find and replace it in a policy that
	// holds other statements.
	Sid       string    `json:"Sid,omitempty"`
	Effect    string    `json:"Effect"`
	Principal Principal `json:"Principal"`
	Action    string    `json:"Action"`
	// Condition maps a condition operator to its keys and values.
	Condition map[string]map[string]string `json:"Condition"`
}

// Principal is the federated identity provider a statement trusts.
type Principal struct {
	Federated string `json:"Federated"`
}

// OIDCProvider is the ARN of an IAM OIDC identity provider, parsed.
type OIDCProvider struct {
	ARN       string
	Partition string
	AccountID string
	// Issuer is the provider's issuer URL without its scheme
	// (oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE); it prefixes the condition keys.
	Issuer string
}

// Role is the ARN of an IAM role, parsed.
type Role struct {
	ARN       string
	Partition string
	AccountID string
	// Name is the last element of the role's path.
	Name string
}

var (
	reOIDCProvider = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::([0-9]{12}):oidc-provider/([A-Za-z0-9.-]+(?::[0-9]+)?(?:/[\x21-\x7E]+)?)$`)
	reRole         = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::([0-9]{12}):role/(?:[\x21-\x7E]*/)?([\w+=,.@-]{1,64})$`)
)

// exampleOIDC is the shape an OIDC provider ARN takes, for error messages.
const exampleOIDC = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

// ParseOIDCProvider parses an OIDC provider ARN. An issuer given with its https:// scheme is
// refused, since IAM names providers without it.
func ParseOIDCProvider(arn string) (OIDCProvider, error) {
	m := reOIDCProvider.FindStringSubmatch(arn)
	if m == nil {
		return OIDCProvider{}, &jobs.ValidationError{Field: "oidcProvider", Rule: fmt.Sprintf(
			"%q must be the ARN of an IAM OIDC identity provider, arn:<partition>:iam::<12-digit account>:oidc-provider/<issuer without https://>, for example %s",
			arn, exampleOIDC)}
	}
	return OIDCProvider{ARN: arn, Partition: m[1], AccountID: m[2], Issuer: m[3]}, nil
}

// ParseRole parses an IAM role ARN; the account must be given.
func ParseRole(arn string) (Role, error) {
	m := reRole.FindStringSubmatch(arn)
	if m == nil {
		return Role{}, &jobs.ValidationError{Field: "roleArn", Rule: fmt.Sprintf(
			"%q must be an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/[<path>/]<name>", arn)}
	}
	return Role{ARN: arn, Partition: m[1], AccountID: m[2], Name: m[3]}, nil
}

// ServiceAccountStatement is the statement that lets the pods of serviceAccount in namespace,
// on the cluster whose issuer provider names, assume a role with their web identity token.
// sid names the statement (letters and digits only, as IAM requires); empty leaves it out.
func ServiceAccountStatement(provider OIDCProvider, namespace, serviceAccount, sid string) Statement {
	return Statement{
		Sid:       sid,
		Effect:    "Allow",
		Principal: Principal{Federated: provider.ARN},
		Action:    "sts:AssumeRoleWithWebIdentity",
		Condition: map[string]map[string]string{
			"StringEquals": {
				provider.Issuer + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
				provider.Issuer + ":aud": Audience,
			},
		},
	}
}

// Route is the extension route that answers trust-policy requests, as a net/http ServeMux
// pattern. It is signed like every emr-containers operation; the query carries QueryRoleArn
// and, optionally, QueryOIDCProvider; the answer is a Response as JSON.
const Route = "GET /virtualclusters/{virtualClusterId}/trustpolicy"

// The route's query parameters.
const (
	QueryRoleArn      = "roleArn"
	QueryOIDCProvider = "oidcProvider"
)

// Path is the route's path for one virtual cluster.
func Path(virtualClusterID string) string {
	return "/virtualclusters/" + url.PathEscape(virtualClusterID) + "/trustpolicy"
}

// ParseRequest reads a request from the route's path value and query. Each parameter may be
// given once; any other parameter is refused, so that a misspelt oidcProvider is not silently
// replaced by the server's default.
func ParseRequest(virtualClusterID string, query url.Values) (Request, error) {
	for k, v := range query {
		if k != QueryRoleArn && k != QueryOIDCProvider {
			return Request{}, &jobs.ValidationError{Field: k, Rule: fmt.Sprintf("is not a parameter of this operation (%s, %s)", QueryRoleArn, QueryOIDCProvider)}
		}
		if len(v) != 1 {
			return Request{}, &jobs.ValidationError{Field: k, Rule: "must be given once"}
		}
	}
	req := Request{VirtualClusterID: virtualClusterID, RoleArn: query.Get(QueryRoleArn), OIDCProvider: query.Get(QueryOIDCProvider)}
	if strings.TrimSpace(req.VirtualClusterID) == "" {
		return Request{}, &jobs.ValidationError{Field: "virtualClusterId", Rule: "is required"}
	}
	return req, nil
}

// Request is what the route asks: the virtual cluster comes from the path, roleArn and
// oidcProvider from the query.
type Request struct {
	VirtualClusterID string `json:"virtualClusterId"`
	RoleArn          string `json:"roleArn"`
	// OIDCProvider is the ARN of the IAM OIDC provider of the virtual cluster's Kubernetes
	// cluster; empty means the one the server has configured for it, if any.
	OIDCProvider string `json:"oidcProvider,omitempty"`
}

// Response is the route's answer: who is trusted, and the statement and the whole policy
// document that trust it.
type Response struct {
	RoleArn          string    `json:"roleArn"`
	VirtualClusterID string    `json:"virtualClusterId"`
	Namespace        string    `json:"namespace"`
	ServiceAccount   string    `json:"serviceAccount"`
	OIDCProvider     string    `json:"oidcProvider"`
	Statement        Statement `json:"statement"`
	// PolicyDocument holds Statement alone. `aws iam update-assume-role-policy` replaces a
	// role's whole trust policy, so a role that trusts others too needs Statement merged
	// into its current document instead.
	PolicyDocument Policy `json:"policyDocument"`
}

// ForVirtualCluster answers a trust-policy request for vc, the virtual cluster the request's
// path names (the caller looks it up, so a missing one is its ResourceNotFound). roles are the
// server's execution roles; configuredOIDC is the OIDC provider ARN the server has configured
// for vc's container provider, or empty.
//
// It refuses, with a *jobs.ValidationError naming the field: a malformed role or provider ARN,
// no provider at all, a provider in another account or partition than the role (IAM trusts
// only identity providers registered in the role's own account), a virtual cluster that is
// not RUNNING, and a role the server does not let vc's job runs use: trusting such a role
// would hand its credentials to pods that StartJobRun would never give it.
func ForVirtualCluster(req Request, vc jobs.VirtualCluster, roles jobs.Roles, configuredOIDC string) (Response, error) {
	if req.RoleArn == "" {
		return Response{}, &jobs.ValidationError{Field: "roleArn", Rule: "is required: the execution role whose trust policy to write"}
	}
	role, err := ParseRole(req.RoleArn)
	if err != nil {
		return Response{}, err
	}
	providerARN := req.OIDCProvider
	if providerARN == "" {
		providerARN = configuredOIDC
	}
	if providerARN == "" {
		return Response{}, &jobs.ValidationError{Field: "oidcProvider", Rule: fmt.Sprintf(
			"is required: the server has no OIDC provider configured for container provider %q; give the ARN of the IAM OIDC provider of the cluster's issuer (aws eks describe-cluster --query cluster.identity.oidc.issuer), for example %s",
			vc.ContainerProvider.ID, exampleOIDC)}
	}
	provider, err := ParseOIDCProvider(providerARN)
	if err != nil {
		return Response{}, err
	}
	if provider.Partition != role.Partition || provider.AccountID != role.AccountID {
		return Response{}, &jobs.ValidationError{Field: "oidcProvider", Rule: fmt.Sprintf(
			"%s is in account %s (%s) but role %s is in account %s (%s); a role trusts only identity providers registered in its own account, so register the cluster's OIDC issuer in account %s",
			provider.ARN, provider.AccountID, provider.Partition, role.ARN, role.AccountID, role.Partition, role.AccountID)}
	}
	if vc.State != jobs.VirtualClusterRunning {
		return Response{}, &jobs.ValidationError{Field: "virtualClusterId", Rule: fmt.Sprintf(
			"virtual cluster %s is %s; trust policies are written only for RUNNING virtual clusters", vc.ID, vc.State)}
	}
	if roles == nil || !roles.Allowed(role.ARN, vc.ID) {
		return Response{}, &jobs.ValidationError{Field: "roleArn", Rule: fmt.Sprintf(
			"%q is not an execution role virtual cluster %s may use; add it to the server's executionRoles for this virtual cluster first, since only job runs it may start get the role's service account",
			role.ARN, vc.ID)}
	}
	namespace := vc.ContainerProvider.Namespace()
	if namespace == "" {
		return Response{}, &jobs.ValidationError{Field: "virtualClusterId", Rule: fmt.Sprintf(
			"virtual cluster %s names no namespace (containerProvider.info.eksInfo.namespace)", vc.ID)}
	}
	sa := submission.ServiceAccountName(role.ARN)
	stmt := ServiceAccountStatement(provider, namespace, sa, StatementID(vc.ID))
	return Response{
		RoleArn: role.ARN, VirtualClusterID: vc.ID, Namespace: namespace, ServiceAccount: sa, OIDCProvider: provider.ARN,
		Statement:      stmt,
		PolicyDocument: Policy{Version: PolicyVersion, Statement: []Statement{stmt}},
	}, nil
}

var reNotSid = regexp.MustCompile(`[^A-Za-z0-9]`)

// StatementID is the Sid of the statement for a virtual cluster: the same on every run, so a
// statement can be found and replaced, and only letters and digits, as IAM requires.
func StatementID(virtualClusterID string) string {
	return "SparkplaneVirtualCluster" + reNotSid.ReplaceAllString(virtualClusterID, "")
}
