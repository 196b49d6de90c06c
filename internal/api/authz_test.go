package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/aws/smithy-go"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
)

const otherRole = "arn:aws:iam::000000000000:role/other-jobs"

// fixture is a server with two virtual clusters (team a and team b), a job run, a job
// template and a security configuration, made by the administrator.
type fixture struct {
	srv                   *apitest.Server
	vcA, vcB, run, tpl    string
	secconf, arnA, arnRun string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := apitest.Start(t, apitest.WithExecutionRole(otherRole))
	c := srv.Client()
	ctx := t.Context()
	f := &fixture{srv: srv}
	mk := func(name, ns, team string) string {
		out, err := c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{
			Name: aws.String(name), Tags: map[string]string{"team": team},
			ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks,
				Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String(ns)}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Id
	}
	f.vcA, f.vcB = mk("team-a", "team-a", "a"), mk("team-b", "team-b", "b")
	f.arnA = "arn:aws:emr-containers:" + srv.Region + ":" + srv.AccountID + ":/virtualclusters/" + f.vcA
	run, err := c.StartJobRun(ctx, startInput(f.vcA, "admin-run"))
	if err != nil {
		t.Fatal(err)
	}
	f.run, f.arnRun = *run.Id, *run.Arn
	tpl, err := c.CreateJobTemplate(ctx, &emrcontainers.CreateJobTemplateInput{Name: aws.String("tpl"), ClientToken: aws.String("t1"),
		JobTemplateData: &types.JobTemplateData{ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String(apitest.ReleaseLabel),
			JobDriver: startInput(f.vcA, "x").JobDriver}})
	if err != nil {
		t.Fatal(err)
	}
	f.tpl = *tpl.Id
	sc, err := c.CreateSecurityConfiguration(ctx, &emrcontainers.CreateSecurityConfigurationInput{Name: aws.String("sc"), ClientToken: aws.String("s1"),
		SecurityConfigurationData: &types.SecurityConfigurationData{AuthorizationConfiguration: &types.AuthorizationConfiguration{
			EncryptionConfiguration: &types.EncryptionConfiguration{InTransitEncryptionConfiguration: &types.InTransitEncryptionConfiguration{
				TlsCertificateConfiguration: &types.TLSCertificateConfiguration{CertificateProviderType: types.CertificateProviderTypePem,
					PublicCertificateSecretArn:  aws.String("arn:aws:secretsmanager:us-east-1:000000000000:secret:pub"),
					PrivateCertificateSecretArn: aws.String("arn:aws:secretsmanager:us-east-1:000000000000:secret:priv")}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	f.secconf = *sc.Id
	return f
}

// denied fails the test unless err is IAM's AccessDenied for user, action and resource.
func denied(t *testing.T, err error, user, action, resource string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("%s = %v, want AccessDeniedException", action, err)
	}
	want := "User: " + user + " is not authorized to perform: " + action + " on resource: " + resource
	if !strings.HasPrefix(ae.ErrorMessage(), want) {
		t.Fatalf("%s message = %q, want it to start %q", action, ae.ErrorMessage(), want)
	}
}

func policy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// TestEveryOperationIsAuthorized calls every operation as a user with no policy (each is
// denied with IAM's message naming the action and the resource, and changes nothing) and as
// a user whose policy allows the whole service (each gets past authorization).
func TestEveryOperationIsAuthorized(t *testing.T) {
	f := newFixture(t)
	nobody := f.srv.User(t, "nobody", nil)
	all := f.srv.User(t, "everything", map[string]string{"all": policy(`{"Effect":"Allow","Action":["emr-containers:*","sparkplane:*"],"Resource":"*"}`)})
	arn := func(res string) string {
		return "arn:aws:emr-containers:" + f.srv.Region + ":" + f.srv.AccountID + ":/" + res
	}
	ctx := t.Context()
	ops := []struct {
		action, resource string
		call             func(c *emrcontainers.Client) error
	}{
		{"emr-containers:CreateVirtualCluster", "*", func(c *emrcontainers.Client) error {
			_, err := c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{Name: aws.String("new"),
				ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks,
					Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String("new-ns")}}}})
			return err
		}},
		{"emr-containers:ListVirtualClusters", "*", func(c *emrcontainers.Client) error {
			_, err := c.ListVirtualClusters(ctx, &emrcontainers.ListVirtualClustersInput{})
			return err
		}},
		{"emr-containers:DescribeVirtualCluster", arn("virtualclusters/" + f.vcA), func(c *emrcontainers.Client) error {
			_, err := c.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(f.vcA)})
			return err
		}},
		{"emr-containers:StartJobRun", arn("virtualclusters/" + f.vcA), func(c *emrcontainers.Client) error {
			_, err := c.StartJobRun(ctx, startInput(f.vcA, "user-run"))
			return err
		}},
		{"emr-containers:ListJobRuns", arn("virtualclusters/" + f.vcA), func(c *emrcontainers.Client) error {
			_, err := c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(f.vcA)})
			return err
		}},
		{"emr-containers:DescribeJobRun", f.arnRun, func(c *emrcontainers.Client) error {
			_, err := c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(f.vcA), Id: aws.String(f.run)})
			return err
		}},
		{"emr-containers:CreateJobTemplate", "*", func(c *emrcontainers.Client) error {
			_, err := c.CreateJobTemplate(ctx, &emrcontainers.CreateJobTemplateInput{Name: aws.String("t2"),
				JobTemplateData: &types.JobTemplateData{ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String(apitest.ReleaseLabel),
					JobDriver: startInput(f.vcA, "x").JobDriver}})
			return err
		}},
		{"emr-containers:ListJobTemplates", "*", func(c *emrcontainers.Client) error {
			_, err := c.ListJobTemplates(ctx, &emrcontainers.ListJobTemplatesInput{})
			return err
		}},
		{"emr-containers:DescribeJobTemplate", arn("jobtemplates/" + f.tpl), func(c *emrcontainers.Client) error {
			_, err := c.DescribeJobTemplate(ctx, &emrcontainers.DescribeJobTemplateInput{Id: aws.String(f.tpl)})
			return err
		}},
		{"emr-containers:CreateSecurityConfiguration", "*", func(c *emrcontainers.Client) error {
			_, err := c.CreateSecurityConfiguration(ctx, &emrcontainers.CreateSecurityConfigurationInput{Name: aws.String("sc2"), ClientToken: aws.String("s2"),
				SecurityConfigurationData: &types.SecurityConfigurationData{AuthorizationConfiguration: &types.AuthorizationConfiguration{
					EncryptionConfiguration: &types.EncryptionConfiguration{InTransitEncryptionConfiguration: &types.InTransitEncryptionConfiguration{
						TlsCertificateConfiguration: &types.TLSCertificateConfiguration{CertificateProviderType: types.CertificateProviderTypePem,
							PublicCertificateSecretArn:  aws.String("arn:aws:secretsmanager:us-east-1:000000000000:secret:pub"),
							PrivateCertificateSecretArn: aws.String("arn:aws:secretsmanager:us-east-1:000000000000:secret:priv")}}}}}})
			return err
		}},
		{"emr-containers:ListSecurityConfigurations", "*", func(c *emrcontainers.Client) error {
			_, err := c.ListSecurityConfigurations(ctx, &emrcontainers.ListSecurityConfigurationsInput{})
			return err
		}},
		{"emr-containers:DescribeSecurityConfiguration", arn("securityconfigurations/" + f.secconf), func(c *emrcontainers.Client) error {
			_, err := c.DescribeSecurityConfiguration(ctx, &emrcontainers.DescribeSecurityConfigurationInput{Id: aws.String(f.secconf)})
			return err
		}},
		{"emr-containers:TagResource", f.arnRun, func(c *emrcontainers.Client) error {
			_, err := c.TagResource(ctx, &emrcontainers.TagResourceInput{ResourceArn: aws.String(f.arnRun), Tags: map[string]string{"k": "v"}})
			return err
		}},
		{"emr-containers:ListTagsForResource", f.arnRun, func(c *emrcontainers.Client) error {
			_, err := c.ListTagsForResource(ctx, &emrcontainers.ListTagsForResourceInput{ResourceArn: aws.String(f.arnRun)})
			return err
		}},
		{"emr-containers:UntagResource", f.arnRun, func(c *emrcontainers.Client) error {
			_, err := c.UntagResource(ctx, &emrcontainers.UntagResourceInput{ResourceArn: aws.String(f.arnRun), TagKeys: []string{"k"}})
			return err
		}},
		{"emr-containers:CancelJobRun", f.arnRun, func(c *emrcontainers.Client) error {
			_, err := c.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(f.vcA), Id: aws.String(f.run)})
			return err
		}},
		{"emr-containers:DeleteJobTemplate", arn("jobtemplates/" + f.tpl), func(c *emrcontainers.Client) error {
			_, err := c.DeleteJobTemplate(ctx, &emrcontainers.DeleteJobTemplateInput{Id: aws.String(f.tpl)})
			return err
		}},
		{"emr-containers:DeleteVirtualCluster", arn("virtualclusters/" + f.vcB), func(c *emrcontainers.Client) error {
			_, err := c.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: aws.String(f.vcB)})
			return err
		}},
	}
	runsBefore := countRuns(t, f.srv.Client(), f.vcA)
	for _, op := range ops {
		denied(t, op.call(f.srv.ClientAs(nobody)), nobody.Arn, op.action, op.resource)
	}
	// Nothing the denied calls asked for happened.
	if n := countRuns(t, f.srv.Client(), f.vcA); n != runsBefore {
		t.Errorf("job runs after denied calls = %d, want %d", n, runsBefore)
	}
	d, err := f.srv.Client().DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(f.vcA), Id: aws.String(f.run)})
	if err != nil || d.JobRun.State != types.JobRunStatePending || len(d.JobRun.Tags) != 1 {
		t.Errorf("job run after denied cancel and tag = %+v, %v; want PENDING with its one tag", d.JobRun, err)
	}
	if vc, err := f.srv.Client().DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(f.vcB)}); err != nil || vc.VirtualCluster.State != types.VirtualClusterStateRunning {
		t.Errorf("virtual cluster after denied delete = %v, want RUNNING", err)
	}
	for _, op := range ops {
		if err := op.call(f.srv.ClientAs(all)); err != nil {
			t.Errorf("%s with an allowing policy: %v", op.action, err)
		}
	}

	// The extension routes are authorized as sparkplane:<Action>.
	ext := []struct{ method, path, action, resource string }{
		{"GET", "/virtualclusters/" + f.vcA + "/settings", "sparkplane:GetVirtualClusterSettings", arn("virtualclusters/" + f.vcA)},
		{"PUT", "/virtualclusters/" + f.vcA + "/settings", "sparkplane:PutVirtualClusterSettings", arn("virtualclusters/" + f.vcA)},
		{"GET", "/virtualclusters/" + f.vcA + "/jobruns/" + f.run + "/cost", "sparkplane:GetJobRunCost", f.arnRun},
		{"GET", "/virtualclusters/" + f.vcA + "/cost", "sparkplane:GetVirtualClusterCost", arn("virtualclusters/" + f.vcA)},
		{"GET", "/audit/events", "sparkplane:ListAuditEvents", "*"},
		{"GET", "/iam/users", "sparkplane:ListUsers", "*"},
		{"POST", "/iam/users", "sparkplane:CreateUser", "arn:aws:iam::" + f.srv.AccountID + ":user/mallory"},
		{"PUT", "/iam/users/nobody/policies/escalate", "sparkplane:PutUserPolicy", "arn:aws:iam::" + f.srv.AccountID + ":user/nobody"},
	}
	for _, e := range ext {
		body := map[string]string{"userName": "mallory", "policyDocument": policy(`{"Effect":"Allow","Action":"*","Resource":"*"}`)}
		status, code, out := f.srv.Do(t, nobody, e.method, e.path, body)
		want := "User: " + nobody.Arn + " is not authorized to perform: " + e.action + " on resource: " + e.resource
		if status != http.StatusForbidden || code != "AccessDeniedException" || !bytes.Contains(out, []byte(want)) {
			t.Errorf("%s %s as nobody = %d %s %s, want 403 AccessDeniedException %q", e.method, e.path, status, code, out, want)
		}
	}
	if status, _, out := f.srv.Do(t, f.srv.Admin(), "GET", "/iam/users/nobody/policies", nil); status != http.StatusOK || !bytes.Contains(out, []byte(`"PolicyNames":[]`)) {
		t.Errorf("nobody's policies after a denied put = %d %s, want none", status, out)
	}
}

func countRuns(t *testing.T, c *emrcontainers.Client, vc string) int {
	t.Helper()
	n := 0
	p := emrcontainers.NewListJobRunsPaginator(c, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.JobRuns)
	}
	return n
}

// TestPolicyRules checks what a platform team writes policies for: a team limited to its
// virtual cluster, an explicit Deny beating an Allow, StartJobRun's condition keys, tag
// conditions, and lists showing only what the caller may describe.
func TestPolicyRules(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	base := "arn:aws:emr-containers:" + f.srv.Region + ":" + f.srv.AccountID + ":/virtualclusters/"
	teamA := f.srv.User(t, "alice", map[string]string{
		"team-a": policy(
			`{"Effect":"Allow","Action":"emr-containers:ListVirtualClusters","Resource":"*"}`,
			`{"Effect":"Allow","Action":["emr-containers:DescribeVirtualCluster","emr-containers:ListJobRuns"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"a"}}}`,
			`{"Effect":"Allow","Action":"emr-containers:StartJobRun","Resource":"`+base+f.vcA+`","Condition":{"ArnEquals":{"emr-containers:ExecutionRoleArn":"`+apitest.RoleArn+`"},"StringEquals":{"aws:RequestTag/owner":"alice"}}}`,
			`{"Effect":"Allow","Action":["emr-containers:DescribeJobRun","emr-containers:CancelJobRun"],"Resource":"`+base+f.vcA+`/jobruns/*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"alice"}}}`,
			`{"Effect":"Allow","Action":"emr-containers:TagResource","Resource":"`+base+f.vcA+`/jobruns/*"}`),
	})
	a := f.srv.ClientAs(teamA)

	// Lists show only what the caller may describe.
	vcs, err := a.ListVirtualClusters(ctx, &emrcontainers.ListVirtualClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vcs.VirtualClusters) != 1 || *vcs.VirtualClusters[0].Id != f.vcA {
		t.Errorf("alice's ListVirtualClusters = %d clusters, want only team a's %s", len(vcs.VirtualClusters), f.vcA)
	}
	denied(t, func() error {
		_, err := a.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(f.vcB)})
		return err
	}(), teamA.Arn, "emr-containers:DescribeVirtualCluster", base+f.vcB)

	// StartJobRun: the execution role and the request's tags are condition keys.
	own, err := a.StartJobRun(ctx, startInput(f.vcA, "alice-run"))
	if err != nil {
		t.Fatalf("StartJobRun with the allowed role and owner tag: %v", err)
	}
	in := startInput(f.vcA, "other-role")
	in.ExecutionRoleArn = aws.String(otherRole)
	_, err = a.StartJobRun(ctx, in)
	denied(t, err, teamA.Arn, "emr-containers:StartJobRun", base+f.vcA)
	in = startInput(f.vcA, "not-mine")
	in.Tags = map[string]string{"owner": "bob"}
	_, err = a.StartJobRun(ctx, in)
	denied(t, err, teamA.Arn, "emr-containers:StartJobRun", base+f.vcA)
	_, err = a.StartJobRun(ctx, startInput(f.vcB, "team-b"))
	denied(t, err, teamA.Arn, "emr-containers:StartJobRun", base+f.vcB)

	// ListJobRuns shows alice's run and not the administrator's (tagged owner=alice by
	// startInput too, so retag it first).
	if _, err := f.srv.Client().TagResource(ctx, &emrcontainers.TagResourceInput{ResourceArn: aws.String(f.arnRun), Tags: map[string]string{"owner": "admin"}}); err != nil {
		t.Fatal(err)
	}
	runs, err := a.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(f.vcA)})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs.JobRuns) != 1 || *runs.JobRuns[0].Id != *own.Id {
		t.Errorf("alice's ListJobRuns = %d runs, want only her own %s", len(runs.JobRuns), *own.Id)
	}
	_, err = a.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(f.vcA), Id: aws.String(f.run)})
	denied(t, err, teamA.Arn, "emr-containers:CancelJobRun", f.arnRun)
	if _, err := a.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(f.vcA), Id: own.Id}); err != nil {
		t.Errorf("alice cancels her own run: %v", err)
	}

	// An explicit Deny beats every Allow.
	bob := f.srv.User(t, "bob", map[string]string{
		"allow-all": policy(`{"Effect":"Allow","Action":"emr-containers:*","Resource":"*"}`),
		"no-b":      policy(`{"Effect":"Deny","Action":"emr-containers:StartJobRun","Resource":"` + base + f.vcB + `"}`),
	})
	b := f.srv.ClientAs(bob)
	if _, err := b.StartJobRun(ctx, startInput(f.vcA, "bob-a")); err != nil {
		t.Errorf("bob on team a's cluster: %v", err)
	}
	_, err = b.StartJobRun(ctx, startInput(f.vcB, "bob-b"))
	denied(t, err, bob.Arn, "emr-containers:StartJobRun", base+f.vcB)
	var ae smithy.APIError
	if errors.As(err, &ae) && !strings.HasSuffix(ae.ErrorMessage(), "with an explicit deny in an identity-based policy") {
		t.Errorf("explicit deny message = %q", ae.ErrorMessage())
	}

	// A policy change applies at once on this server.
	status, code, out := f.srv.Do(t, f.srv.Admin(), "DELETE", "/iam/users/bob/policies/no-b", nil)
	if status != http.StatusOK {
		t.Fatalf("delete policy: %d %s %s", status, code, out)
	}
	if _, err := b.StartJobRun(ctx, startInput(f.vcB, "bob-b")); err != nil {
		t.Errorf("bob on team b's cluster once the Deny is gone: %v", err)
	}
	// A deleted key stops working at once.
	status, code, out = f.srv.Do(t, f.srv.Admin(), "DELETE", "/iam/users/bob/accesskeys/"+bob.AccessKeyID, nil)
	if status != http.StatusOK {
		t.Fatalf("delete key: %d %s %s", status, code, out)
	}
	_, err = b.ListVirtualClusters(ctx, &emrcontainers.ListVirtualClustersInput{})
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("a deleted key = %v, want UnrecognizedClientException", err)
	}
}

// TestIAMManagement checks the /iam routes' rules: IAM's names and limits, a malformed policy
// refused with its line, a user deleted only once empty, and secrets that a copy of the
// database does not hand out.
func TestIAMManagement(t *testing.T) {
	srv := apitest.Start(t)
	admin := srv.Admin()
	do := func(method, path string, body any) (int, string, string) {
		status, code, out := srv.Do(t, admin, method, path, body)
		return status, code, string(out)
	}
	expect := func(what string, status int, code, out string, wantStatus int, wantCode, wantText string) {
		t.Helper()
		if status != wantStatus || code != wantCode || !strings.Contains(out, wantText) {
			t.Errorf("%s = %d %s %s; want %d %s containing %q", what, status, code, out, wantStatus, wantCode, wantText)
		}
	}
	s, c, o := do("POST", "/iam/users", map[string]string{"userName": "carol"})
	expect("create-user", s, c, o, 200, "", `"Arn":"arn:aws:iam::`+srv.AccountID+`:user/carol"`)
	s, c, o = do("POST", "/iam/users", map[string]string{"userName": "carol"})
	expect("create-user again", s, c, o, 409, "EntityAlreadyExistsException", "carol")
	s, c, o = do("POST", "/iam/users", map[string]string{"userName": "bad name!"})
	expect("create-user bad name", s, c, o, 400, "ValidationException", "userName")
	var keys []string
	secrets := []string{}
	for range 2 {
		s, c, o = do("POST", "/iam/users/carol/accesskeys", nil)
		expect("create-access-key", s, c, o, 200, "", `"SecretAccessKey"`)
		var k struct {
			AccessKey struct{ AccessKeyId, SecretAccessKey string } //nolint:revive // IAM's member names
		}
		if err := json.Unmarshal([]byte(o), &k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.AccessKey.AccessKeyId)
		secrets = append(secrets, k.AccessKey.SecretAccessKey)
	}
	s, c, o = do("POST", "/iam/users/carol/accesskeys", nil)
	expect("third access key", s, c, o, 409, "LimitExceededException", "AccessKeysPerUser: 2")
	s, c, o = do("GET", "/iam/users/carol/accesskeys", nil)
	expect("list-access-keys", s, c, o, 200, "", keys[1])
	if strings.Contains(o, secrets[0]) || strings.Contains(o, "SecretAccessKey") {
		t.Errorf("list-access-keys shows a secret: %s", o)
	}
	s, c, o = do("PUT", "/iam/users/carol/policies/broken", map[string]string{"policyDocument": "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Alow\", \"Action\": \"*\", \"Resource\": \"*\"}]\n}"})
	expect("malformed policy", s, c, o, 400, "MalformedPolicyDocumentException", "line 3")
	s, c, o = do("PUT", "/iam/users/carol/policies/read", map[string]string{"policyDocument": policy(`{"Effect":"Allow","Action":"emr-containers:List*","Resource":"*"}`)})
	expect("put-user-policy", s, c, o, 200, "", "{}")
	s, c, o = do("GET", "/iam/users/carol/policies/read", nil)
	expect("get-user-policy", s, c, o, 200, "", `emr-containers:List*`)
	s, c, o = do("DELETE", "/iam/users/carol", nil)
	expect("delete a user with keys", s, c, o, 409, "DeleteConflictException", "access keys (2) and policies (1)")
	s, c, o = do("GET", "/iam/users/nobody-here", nil)
	expect("get unknown user", s, c, o, 404, "NoSuchEntityException", "nobody-here")

	// The secrets are sealed: neither the database nor its write-ahead log holds them.
	matches, _ := filepath.Glob(srv.App.Config.Database + "*")
	for _, path := range matches {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range secrets {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds a secret access key in clear", path)
			}
		}
	}
	for _, k := range keys {
		s, c, o = do("DELETE", "/iam/users/carol/accesskeys/"+k, nil)
		expect("delete-access-key", s, c, o, 200, "", "{}")
	}
	s, c, o = do("DELETE", "/iam/users/carol/policies/read", nil)
	expect("delete-user-policy", s, c, o, 200, "", "{}")
	s, c, o = do("DELETE", "/iam/users/carol", nil)
	expect("delete-user", s, c, o, 200, "", "{}")
}

// TestAuditLog checks that allowed, failed and denied calls, and unsigned ones, are in the
// audit log with who, what, on which resource and how it ended.
func TestAuditLog(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	dave := f.srv.User(t, "dave", map[string]string{"read": policy(`{"Effect":"Allow","Action":"emr-containers:Describe*","Resource":"*"}`)})
	d := f.srv.ClientAs(dave)
	if _, err := d.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(f.vcA)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.StartJobRun(ctx, startInput(f.vcA, "dave")); err == nil {
		t.Fatal("dave may not start jobs")
	}
	if _, err := d.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String("doesnotexist")}); err == nil {
		t.Fatal("describe of an unknown cluster succeeded")
	}
	f.srv.Do(t, apitest.Key{}, "GET", "/virtualclusters", nil) // unsigned

	type event struct {
		Principal, AccessKeyID, Action, Resource, Outcome, ErrorCode, SourceAddress, RequestID string
		HTTPStatus                                                                             int
	}
	list := func(query string) []event {
		t.Helper()
		status, code, out := f.srv.Do(t, f.srv.Admin(), "GET", "/audit/events?"+query, nil)
		if status != http.StatusOK {
			t.Fatalf("audit list: %d %s %s", status, code, out)
		}
		var page struct {
			Events []struct {
				Principal   string `json:"principal"`
				AccessKeyID string `json:"accessKeyId"`
				Action      string `json:"action"`
				Resource    string `json:"resource"`
				Outcome     string `json:"outcome"`
				ErrorCode   string `json:"errorCode"`
				Source      string `json:"sourceAddress"`
				RequestID   string `json:"requestId"`
				Status      int    `json:"httpStatus"`
			} `json:"events"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			t.Fatal(err)
		}
		var evs []event
		for _, e := range page.Events {
			evs = append(evs, event{e.Principal, e.AccessKeyID, e.Action, e.Resource, e.Outcome, e.ErrorCode, e.Source, e.RequestID, e.Status})
		}
		return evs
	}
	// Reads are recorded without waiting: give the writer a moment.
	got := list("principal=" + url.QueryEscape(dave.Arn))
	for deadline := time.Now().Add(5 * time.Second); len(got) < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		got = list("principal=" + url.QueryEscape(dave.Arn))
	}
	want := []struct{ action, outcome, code string }{
		{"emr-containers:DescribeVirtualCluster", "allowed", ""},
		{"emr-containers:StartJobRun", "denied", "AccessDeniedException"},
		{"emr-containers:DescribeVirtualCluster", "failed", "ResourceNotFoundException"},
	}
	if len(got) != len(want) {
		t.Fatalf("dave's audit events = %+v, want %d", got, len(want))
	}
	for i, w := range want {
		e := got[i]
		if e.Action != w.action || e.Outcome != w.outcome || e.ErrorCode != w.code || e.AccessKeyID != dave.AccessKeyID || e.SourceAddress != "127.0.0.1" || e.RequestID == "" {
			t.Errorf("event %d = %+v, want %s %s %s by key %s from 127.0.0.1", i, e, w.action, w.outcome, w.code, dave.AccessKeyID)
		}
	}
	if got[1].Resource != f.arnA || got[1].HTTPStatus != http.StatusForbidden {
		t.Errorf("denied StartJobRun event = %+v, want resource %s and status 403", got[1], f.arnA)
	}
	found := false
	for deadline := time.Now().Add(5 * time.Second); !found && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, e := range list("action=emr-containers:listvirtualclusters") {
			if e.Principal == "" && e.Outcome == "denied" && e.ErrorCode == "MissingAuthenticationTokenException" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no audit event for the unsigned ListVirtualClusters")
	}
	// An accepted StartJobRun is recorded once, committed with the run itself.
	erin := f.srv.User(t, "erin", map[string]string{"run": policy(`{"Effect":"Allow","Action":["emr-containers:StartJobRun","emr-containers:TagResource"],"Resource":"*"}`)})
	started, err := f.srv.ClientAs(erin).StartJobRun(ctx, startInput(f.vcA, "erin"))
	if err != nil {
		t.Fatal(err)
	}
	runs := list("principal=" + url.QueryEscape(erin.Arn))
	if len(runs) != 1 || runs[0].Action != "emr-containers:StartJobRun" || runs[0].Outcome != "allowed" || runs[0].HTTPStatus != 200 || runs[0].Resource != f.arnA {
		t.Errorf("erin's events right after StartJobRun %s = %+v, want exactly one allowed StartJobRun on %s", *started.Id, runs, f.arnA)
	}
	// Bad queries are refused by name.
	for query, field := range map[string]string{"since=yesterday": "since", "until=2026-13-01": "until", "maxResults=5000": "maxResults", "nextToken=x": "nextToken"} {
		status, code, out := f.srv.Do(t, f.srv.Admin(), "GET", "/audit/events?"+query, nil)
		if status != http.StatusBadRequest || code != "ValidationException" || !strings.HasPrefix(string(out), `{"message":"`+field+":") {
			t.Errorf("audit list ?%s = %d %s %s, want a ValidationException on %s", query, status, code, out, field)
		}
	}
	// Paging: one event per page still lists them all, in order.
	all := list("principal=" + url.QueryEscape(dave.Arn) + "&maxResults=1")
	if len(all) != 1 {
		t.Errorf("maxResults=1 gave %d events", len(all))
	}
}

// TestBoto3WithAUserKey drives the server from boto3 with a user's key whose policy allows
// running jobs on one virtual cluster: StartJobRun and ListJobRuns work, a call the policy does
// not allow raises botocore's ClientError with code AccessDeniedException and IAM's message.
func TestBoto3WithAUserKey(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with boto3 is required: %v", err)
	}
	f := newFixture(t)
	key := f.srv.User(t, "boto", map[string]string{"run": policy(
		`{"Effect":"Allow","Action":["emr-containers:StartJobRun","emr-containers:ListJobRuns","emr-containers:DescribeJobRun"],"Resource":["` + f.arnA + `","` + f.arnA + `/jobruns/*"]}`)})
	script := `
import sys, boto3, botocore
endpoint, vc, other, role = sys.argv[1:5]
emr = boto3.client("emr-containers", endpoint_url=endpoint)
run = emr.start_job_run(virtualClusterId=vc, name="boto", executionRoleArn=role, releaseLabel="emr-6.5.0-latest",
    jobDriver={"sparkSubmitJobDriver": {"entryPoint": "local:///usr/lib/spark/examples/src/main/python/pi.py"}})
names = sorted(r["name"] for r in emr.list_job_runs(virtualClusterId=vc)["jobRuns"])
print("listed", ",".join(names))
try:
    emr.start_job_run(virtualClusterId=other, name="boto", executionRoleArn=role, releaseLabel="emr-6.5.0-latest",
        jobDriver={"sparkSubmitJobDriver": {"entryPoint": "local:///usr/lib/spark/examples/src/main/python/pi.py"}})
    print("other: allowed")
except botocore.exceptions.ClientError as e:
    print("other:", e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"])
`
	cmd := exec.Command(python, "-c", script, f.srv.URL, f.vcA, f.vcB, apitest.RoleArn)
	cmd.Env = append(f.srv.Env(), "AWS_ACCESS_KEY_ID="+key.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+key.SecretAccessKey)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
	text := string(out)
	wantDenied := "other: AccessDeniedException 403 User: " + key.Arn + " is not authorized to perform: emr-containers:StartJobRun on resource: " +
		strings.Replace(f.arnA, f.vcA, f.vcB, 1)
	if !strings.Contains(text, "listed admin-run,boto") || !strings.Contains(text, wantDenied) {
		t.Errorf("boto3 output:\n%s\nwant the two runs listed and %q", text, wantDenied)
	}
}
