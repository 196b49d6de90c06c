package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/trust"
)

func (a *app) executionRolesCmd() *cobra.Command {
	return group("execution-roles", "Prepare IAM execution roles for a virtual cluster (sparkplane extension)",
		a.trustPolicyCmd())
}

func (a *app) trustPolicyCmd() *cobra.Command {
	var role, vc, oidc string
	c := &cobra.Command{
		Use:   "trust-policy",
		Short: "Print the IAM trust policy that lets a virtual cluster's job pods assume an execution role",
		Long: `Print the IAM trust policy document that lets the pods of a virtual cluster's job runs
assume an execution role through IAM roles for service accounts, as
'aws emr-containers update-role-trust-policy' does for EMR on EKS. The server checks that the
virtual cluster may use the role, and names the namespace and the service account sparkplane
runs that role's pods as; the statement trusts exactly that service account through the
cluster's OIDC provider (--oidc-provider, unless the server has one configured).

The output is the policy document for 'aws iam update-assume-role-policy', which replaces the
role's whole trust policy. For a role that already trusts others, merge the statement (its Sid
names the virtual cluster) into the current document instead, for example with
  aws iam get-role --role-name NAME --query Role.AssumeRolePolicyDocument > current.json
  jq -s '.[0].Statement = ([.[0].Statement[] | select(.Sid != .[1].Statement[0].Sid)] + .[1].Statement) | .[0]' current.json trust.json
-o json prints the whole answer (role, namespace, service account, statement, document).`,
		Example: `  sparkplane execution-roles trust-policy --virtual-cluster-id abc123 \
    --role-arn arn:aws:iam::111122223333:role/spark-jobs \
    --oidc-provider arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE > trust.json
  aws iam update-assume-role-policy --role-name spark-jobs --policy-document file://trust.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Malformed ARNs are refused here, naming the flag, before anything is sent.
			if _, err := trust.ParseRole(role); err != nil {
				return fmt.Errorf("--role-arn: %w", ruleOf(err))
			}
			q := url.Values{trust.QueryRoleArn: {role}}
			if oidc != "" {
				if _, err := trust.ParseOIDCProvider(oidc); err != nil {
					return fmt.Errorf("--oidc-provider: %w", ruleOf(err))
				}
				q.Set(trust.QueryOIDCProvider, oidc)
			}
			raw, err := a.extension(ctxOf(cmd), trust.Path(vc), q)
			if err != nil {
				return err
			}
			if ok, err := a.printRaw(cmd.OutOrStdout(), raw); ok {
				return err
			}
			var resp trust.Response
			if err := json.Unmarshal(raw, &resp); err != nil {
				return fmt.Errorf("decode trust policy: %w", err)
			}
			if len(resp.PolicyDocument.Statement) == 0 {
				return fmt.Errorf("decode trust policy: the answer holds no policy document")
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetIndent("", "    ")
			if err := enc.Encode(resp.PolicyDocument); err != nil {
				return fmt.Errorf("encode output: %w", err)
			}
			// The note goes to stderr so that stdout is the document alone, ready for a file.
			fmt.Fprintf(cmd.ErrOrStderr(), "# trusts service account %s/%s (virtual cluster %s) to assume %s\n",
				resp.Namespace, resp.ServiceAccount, resp.VirtualClusterID, resp.RoleArn)
			_, err = cmd.OutOrStdout().Write(b.Bytes())
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&role, "role-arn", "", "execution role whose trust policy to print (required)")
	f.StringVar(&vc, "virtual-cluster-id", "", "virtual cluster whose job runs assume the role (required)")
	f.StringVar(&oidc, "oidc-provider", "", "ARN of the IAM OIDC provider of the cluster's issuer (default: the server's, if configured)")
	mustRequire(c, "role-arn", "virtual-cluster-id")
	return c
}

// ruleOf returns the rule of a validation error without its field name, since the caller
// names the flag instead.
func ruleOf(err error) error {
	var verr *jobs.ValidationError
	if errors.As(err, &verr) {
		return errors.New(verr.Rule)
	}
	return err
}
