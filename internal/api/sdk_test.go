package api_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/aws/smithy-go"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

func createVC(t *testing.T, c *emrcontainers.Client, name, ns string) string {
	t.Helper()
	out, err := c.CreateVirtualCluster(t.Context(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(name),
		ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks,
			Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String(ns)}}},
		Tags: map[string]string{"team": "data"},
	})
	if err != nil {
		t.Fatalf("CreateVirtualCluster: %v", err)
	}
	return *out.Id
}

func startInput(vc, name string) *emrcontainers.StartJobRunInput {
	return &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String(name),
		ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String(apitest.ReleaseLabel),
		JobDriver: &types.JobDriver{SparkSubmitJobDriver: &types.SparkSubmitJobDriver{
			EntryPoint: aws.String("local:///usr/lib/spark/examples/src/main/python/pi.py"), EntryPointArguments: []string{"100"},
			SparkSubmitParameters: aws.String("--conf spark.executor.instances=2 --conf spark.executor.memory=2G")}},
		ConfigurationOverrides: &types.ConfigurationOverrides{
			ApplicationConfiguration: []types.Configuration{{Classification: aws.String("spark-defaults"), Properties: map[string]string{"spark.driver.memory": "1G"}}},
			MonitoringConfiguration: &types.MonitoringConfiguration{PersistentAppUI: types.PersistentAppUIEnabled,
				S3MonitoringConfiguration: &types.S3MonitoringConfiguration{LogUri: aws.String("s3://logs/spark/")}},
		},
		RetryPolicyConfiguration: &types.RetryPolicyConfiguration{MaxAttempts: aws.Int32(2)},
		Tags:                     map[string]string{"owner": "alice"},
	}
}

func TestSDKVirtualClusters(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	id1 := createVC(t, c, "analytics", "ns-a")
	id2 := createVC(t, c, "etl", "ns-b")

	d, err := c.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(id1)})
	if err != nil {
		t.Fatal(err)
	}
	vc := d.VirtualCluster
	if len(id1) != 25 || *vc.Name != "analytics" || vc.State != types.VirtualClusterStateRunning || *vc.Arn != "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/"+id1 ||
		*vc.ContainerProvider.Id != apitest.ContainerProvider || vc.ContainerProvider.Type != types.ContainerProviderTypeEks ||
		*vc.ContainerProvider.Info.(*types.ContainerInfoMemberEksInfo).Value.Namespace != "ns-a" || vc.CreatedAt.Before(before) || vc.Tags["team"] != "data" {
		t.Fatalf("DescribeVirtualCluster: %+v", vc)
	}
	if _, err := c.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: aws.String(id2)}); err != nil {
		t.Fatal(err)
	}
	list := func(in *emrcontainers.ListVirtualClustersInput) []string {
		t.Helper()
		var ids []string
		p := emrcontainers.NewListVirtualClustersPaginator(c, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range out.VirtualClusters {
				ids = append(ids, *v.Id)
			}
		}
		return ids
	}
	for _, tc := range []struct {
		name string
		in   emrcontainers.ListVirtualClustersInput
		want []string
	}{
		{"all, pages of one", emrcontainers.ListVirtualClustersInput{MaxResults: aws.Int32(1)}, []string{id2, id1}},
		{"running", emrcontainers.ListVirtualClustersInput{States: []types.VirtualClusterState{types.VirtualClusterStateRunning}}, []string{id1}},
		{"terminated", emrcontainers.ListVirtualClustersInput{States: []types.VirtualClusterState{types.VirtualClusterStateTerminated}}, []string{id2}},
		{"provider", emrcontainers.ListVirtualClustersInput{ContainerProviderId: aws.String(apitest.ContainerProvider), ContainerProviderType: types.ContainerProviderTypeEks}, []string{id2, id1}},
		{"other provider", emrcontainers.ListVirtualClustersInput{ContainerProviderId: aws.String("nope")}, nil},
		{"created window", emrcontainers.ListVirtualClustersInput{CreatedAfter: aws.Time(before), CreatedBefore: aws.Time(time.Now().Add(time.Minute))}, []string{id2, id1}},
		{"created before", emrcontainers.ListVirtualClustersInput{CreatedBefore: aws.Time(before)}, nil},
	} {
		if got := list(&tc.in); !equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// Deleting twice is fine; the cluster stays TERMINATED and refuses job runs.
	if _, err := c.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: aws.String(id2)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartJobRun(ctx, startInput(id2, "late"))
	wantValidation(t, err, "virtualClusterId")
	// The namespace is free again once its cluster is terminated, and taken while one runs.
	createVC(t, c, "etl2", "ns-b")
	_, err = c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{Name: aws.String("dup"),
		ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks,
			Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String("ns-a")}}}})
	wantValidation(t, err, "namespace")
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func wantValidation(t *testing.T, err error, mention string) {
	t.Helper()
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want ValidationException", err)
	}
	if mention != "" && !contains(ve.ErrorMessage(), mention) {
		t.Fatalf("ValidationException %q does not mention %q", ve.ErrorMessage(), mention)
	}
}

func wantNotFound(t *testing.T, err error) {
	t.Helper()
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("got %v, want ResourceNotFoundException", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestSDKJobRuns(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	vc := createVC(t, c, "jobs", "jobs")
	other := createVC(t, c, "other", "other")

	started, err := c.StartJobRun(ctx, startInput(vc, "pi"))
	if err != nil {
		t.Fatal(err)
	}
	if len(*started.Id) != 19 || *started.VirtualClusterId != vc || *started.Name != "pi" || *started.Arn != "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/"+vc+"/jobruns/"+*started.Id {
		t.Fatalf("StartJobRun: %+v", started)
	}
	d, err := c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: started.Id})
	if err != nil {
		t.Fatal(err)
	}
	r := d.JobRun
	if r.State != types.JobRunStatePending || *r.CreatedBy != srv.Principal || r.CreatedAt == nil || r.FinishedAt != nil ||
		r.JobDriver.SparkSubmitJobDriver.EntryPointArguments[0] != "100" || *r.ReleaseLabel != apitest.ReleaseLabel ||
		r.ConfigurationOverrides.ApplicationConfiguration[0].Properties["spark.driver.memory"] != "1G" ||
		r.ConfigurationOverrides.MonitoringConfiguration.PersistentAppUI != types.PersistentAppUIEnabled ||
		*r.RetryPolicyConfiguration.MaxAttempts != 2 || *r.RetryPolicyExecution.CurrentAttemptCount != 1 || r.Tags["owner"] != "alice" || r.ClientToken == nil {
		t.Fatalf("DescribeJobRun: %+v", r)
	}
	// The same run is not visible under another virtual cluster.
	_, err = c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(other), Id: started.Id})
	wantNotFound(t, err)

	// More runs for filters and pagination.
	ids := []string{*started.Id}
	for _, name := range []string{"a", "b", "a", "b", "a"} {
		out, err := c.StartJobRun(ctx, startInput(vc, name))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.Id)
	}
	// Advance one run to COMPLETED the way the controller will.
	svc := srv.App.Service
	for _, st := range []jobs.JobRunState{jobs.StateSubmitted, jobs.StateRunning, jobs.StateCompleted} {
		if _, err := svc.UpdateJobRun(ctx, ids[1], -1, func(r *jobs.JobRun) error { r.State = st; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	cancelled, err := c.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(ids[2])})
	if err != nil || *cancelled.Id != ids[2] || *cancelled.VirtualClusterId != vc {
		t.Fatalf("CancelJobRun: %+v %v", cancelled, err)
	}
	_, err = c.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(ids[1])})
	wantValidation(t, err, "COMPLETED")

	done, err := c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(ids[1])})
	if err != nil || done.JobRun.State != types.JobRunStateCompleted || done.JobRun.FinishedAt == nil {
		t.Fatalf("completed run: %+v %v", done.JobRun, err)
	}

	list := func(in emrcontainers.ListJobRunsInput) []string {
		t.Helper()
		in.VirtualClusterId = aws.String(vc)
		var got []string
		p := emrcontainers.NewListJobRunsPaginator(c, &in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.JobRuns {
				got = append(got, *r.Id)
			}
		}
		return got
	}
	rev := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   emrcontainers.ListJobRunsInput
		want []string
	}{
		{"all in pages of 2", emrcontainers.ListJobRunsInput{MaxResults: aws.Int32(2)}, rev(5, 4, 3, 2, 1, 0)},
		{"name", emrcontainers.ListJobRunsInput{Name: aws.String("a")}, rev(5, 3, 1)},
		{"pending", emrcontainers.ListJobRunsInput{States: []types.JobRunState{types.JobRunStatePending}}, rev(5, 4, 3, 0)},
		{"finished or cancelling", emrcontainers.ListJobRunsInput{States: []types.JobRunState{types.JobRunStateCompleted, types.JobRunStateCancelPending}}, rev(2, 1)},
		{"name and state", emrcontainers.ListJobRunsInput{Name: aws.String("a"), States: []types.JobRunState{types.JobRunStatePending}, MaxResults: aws.Int32(1)}, rev(5, 3)},
		{"created after now", emrcontainers.ListJobRunsInput{CreatedAfter: aws.Time(time.Now().Add(time.Minute))}, nil},
		{"created before now", emrcontainers.ListJobRunsInput{CreatedBefore: aws.Time(time.Now().Add(time.Minute))}, rev(5, 4, 3, 2, 1, 0)},
	} {
		if got := list(tc.in); !equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// Deleting the virtual cluster asks for its unfinished runs to be cancelled.
	if _, err := c.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: aws.String(vc)}); err != nil {
		t.Fatal(err)
	}
	if got := list(emrcontainers.ListJobRunsInput{States: []types.JobRunState{types.JobRunStatePending}}); len(got) != 0 {
		t.Fatalf("pending runs after delete: %v", got)
	}
}

func TestSDKJobTemplates(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	vc := createVC(t, c, "tmpl", "tmpl")
	created, err := c.CreateJobTemplate(ctx, &emrcontainers.CreateJobTemplateInput{
		Name: aws.String("pi-template"),
		JobTemplateData: &types.JobTemplateData{
			ExecutionRoleArn: aws.String("${Role}"),
			ReleaseLabel:     aws.String("emr-6.5.0-latest"),
			JobDriver: &types.JobDriver{SparkSubmitJobDriver: &types.SparkSubmitJobDriver{
				EntryPoint: aws.String("local:///pi.py"), EntryPointArguments: []string{"${Partitions}"},
				SparkSubmitParameters: aws.String("--conf spark.executor.instances=${Executors}")}},
			ConfigurationOverrides: &types.ParametricConfigurationOverrides{MonitoringConfiguration: &types.ParametricMonitoringConfiguration{
				PersistentAppUI: aws.String("${AppUI}"), S3MonitoringConfiguration: &types.ParametricS3MonitoringConfiguration{LogUri: aws.String("s3://logs/${Team}/")}}},
			JobTags: map[string]string{"team": "${Team}"},
			ParameterConfiguration: map[string]types.TemplateParameterConfiguration{
				"Role":       {Type: types.TemplateParameterDataTypeString, DefaultValue: aws.String(apitest.RoleArn)},
				"Partitions": {Type: types.TemplateParameterDataTypeNumber},
				"Executors":  {Type: types.TemplateParameterDataTypeNumber, DefaultValue: aws.String("2")},
				"AppUI":      {Type: types.TemplateParameterDataTypeString, DefaultValue: aws.String("DISABLED")},
				"Team":       {Type: types.TemplateParameterDataTypeString},
			},
		},
		Tags: map[string]string{"kind": "template"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.CreatedAt == nil || len(*created.Id) == 0 || *created.Arn != "arn:aws:emr-containers:us-east-1:000000000000:/jobtemplates/"+*created.Id {
		t.Fatalf("CreateJobTemplate: %+v", created)
	}
	d, err := c.DescribeJobTemplate(ctx, &emrcontainers.DescribeJobTemplateInput{Id: created.Id})
	if err != nil || *d.JobTemplate.JobTemplateData.ExecutionRoleArn != "${Role}" || d.JobTemplate.JobTemplateData.ParameterConfiguration["Partitions"].Type != types.TemplateParameterDataTypeNumber {
		t.Fatalf("DescribeJobTemplate: %+v %v", d, err)
	}
	tmpl := func(params map[string]string) (*emrcontainers.StartJobRunOutput, error) {
		return c.StartJobRun(ctx, &emrcontainers.StartJobRunInput{VirtualClusterId: aws.String(vc), Name: aws.String("from-template"),
			JobTemplateId: created.Id, JobTemplateParameters: params})
	}
	run, err := tmpl(map[string]string{"Partitions": "50", "Team": "growth"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: run.Id})
	if err != nil {
		t.Fatal(err)
	}
	r := got.JobRun
	if *r.ExecutionRoleArn != apitest.RoleArn || r.JobDriver.SparkSubmitJobDriver.EntryPointArguments[0] != "50" ||
		*r.JobDriver.SparkSubmitJobDriver.SparkSubmitParameters != "--conf spark.executor.instances=2" ||
		r.ConfigurationOverrides.MonitoringConfiguration.PersistentAppUI != types.PersistentAppUIDisabled ||
		*r.ConfigurationOverrides.MonitoringConfiguration.S3MonitoringConfiguration.LogUri != "s3://logs/growth/" || r.Tags["team"] != "growth" {
		t.Fatalf("resolved run: %+v", r)
	}
	for _, tc := range []struct {
		name    string
		params  map[string]string
		mention string
	}{
		{"missing required", map[string]string{"Team": "x"}, "Partitions"},
		{"not a number", map[string]string{"Partitions": "many", "Team": "x"}, "NUMBER"},
		{"undeclared", map[string]string{"Partitions": "1", "Team": "x", "Extra": "1"}, "Extra"},
		{"bad value after substitution", map[string]string{"Partitions": "1", "Team": "x", "AppUI": "MAYBE"}, "persistentAppUI"},
		{"bad role after substitution", map[string]string{"Partitions": "1", "Team": "x", "Role": "not-an-arn"}, "executionRoleArn"},
	} {
		_, err := tmpl(tc.params)
		t.Run(tc.name, func(t *testing.T) { wantValidation(t, err, tc.mention) })
	}
	// A template must declare every parameter it uses.
	_, err = c.CreateJobTemplate(ctx, &emrcontainers.CreateJobTemplateInput{Name: aws.String("bad"), JobTemplateData: &types.JobTemplateData{
		ExecutionRoleArn: aws.String("${Role}"), ReleaseLabel: aws.String("emr-6.5.0-latest"),
		JobDriver: &types.JobDriver{SparkSubmitJobDriver: &types.SparkSubmitJobDriver{EntryPoint: aws.String("x.py")}}}})
	wantValidation(t, err, "Role")

	lt, err := c.ListJobTemplates(ctx, &emrcontainers.ListJobTemplatesInput{CreatedAfter: aws.Time(time.Now().Add(-time.Hour))})
	if err != nil || len(lt.Templates) != 1 || *lt.Templates[0].Id != *created.Id {
		t.Fatalf("ListJobTemplates: %+v %v", lt, err)
	}
	if _, err := c.DeleteJobTemplate(ctx, &emrcontainers.DeleteJobTemplateInput{Id: created.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeJobTemplate(ctx, &emrcontainers.DescribeJobTemplateInput{Id: created.Id})
	wantNotFound(t, err)
	_, err = tmpl(map[string]string{"Partitions": "1", "Team": "x"})
	wantNotFound(t, err)
}

func TestSDKSecurityConfigurationsAndTags(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	sc, err := c.CreateSecurityConfiguration(ctx, &emrcontainers.CreateSecurityConfigurationInput{
		Name: aws.String("lf"),
		SecurityConfigurationData: &types.SecurityConfigurationData{AuthorizationConfiguration: &types.AuthorizationConfiguration{
			LakeFormationConfiguration: &types.LakeFormationConfiguration{QueryEngineRoleArn: aws.String("arn:aws:iam::000000000000:role/qe"),
				AuthorizedSessionTagValue: aws.String("EMR on EKS Engine")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeSecurityConfiguration(ctx, &emrcontainers.DescribeSecurityConfigurationInput{Id: sc.Id})
	if err != nil || *d.SecurityConfiguration.SecurityConfigurationData.AuthorizationConfiguration.LakeFormationConfiguration.QueryEngineRoleArn != "arn:aws:iam::000000000000:role/qe" {
		t.Fatalf("DescribeSecurityConfiguration: %+v %v", d, err)
	}
	ls, err := c.ListSecurityConfigurations(ctx, &emrcontainers.ListSecurityConfigurationsInput{})
	if err != nil || len(ls.SecurityConfigurations) != 1 {
		t.Fatalf("ListSecurityConfigurations: %+v %v", ls, err)
	}
	vc := createVC(t, c, "tags", "tags")
	run, err := c.StartJobRun(ctx, startInput(vc, "tagged"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := c.CreateJobTemplate(ctx, &emrcontainers.CreateJobTemplateInput{Name: aws.String("t"), JobTemplateData: &types.JobTemplateData{
		ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String("emr-6.5.0-latest"),
		JobDriver: &types.JobDriver{SparkSqlJobDriver: &types.SparkSqlJobDriver{EntryPoint: aws.String("s3://q.sql")}}}})
	if err != nil {
		t.Fatal(err)
	}
	arns := map[string]string{
		"virtual cluster": "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/" + vc,
		"job run":         *run.Arn, "job template": *tmpl.Arn, "security configuration": *sc.Arn,
	}
	for kind, arn := range arns {
		t.Run(kind, func(t *testing.T) {
			if _, err := c.TagResource(ctx, &emrcontainers.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"x": "1", "y": "2"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.UntagResource(ctx, &emrcontainers.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"x"}}); err != nil {
				t.Fatal(err)
			}
			out, err := c.ListTagsForResource(ctx, &emrcontainers.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil || out.Tags["y"] != "2" || out.Tags["x"] != "" {
				t.Fatalf("ListTagsForResource: %v %v", out.Tags, err)
			}
		})
	}
	_, err = c.ListTagsForResource(ctx, &emrcontainers.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/0000000000000000000000000")})
	wantNotFound(t, err)
	_, err = c.TagResource(ctx, &emrcontainers.TagResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket-name-long-enough-to-pass-the-length-check"), Tags: map[string]string{"a": "b"}})
	wantValidation(t, err, "resourceArn")
	// Managed endpoints answer a clear ValidationException.
	_, err = c.ListManagedEndpoints(ctx, &emrcontainers.ListManagedEndpointsInput{VirtualClusterId: aws.String(vc)})
	wantValidation(t, err, "managed endpoints")
}

// TestSDKErrors checks that every bad request gets its typed error and stores nothing.
func TestSDKErrors(t *testing.T) {
	srv := apitest.Start(t, apitest.WithExecutionRole("arn:aws:iam::000000000000:role/only-vc1", "nomatch"))
	c := srv.Client()
	ctx := t.Context()
	vc := createVC(t, c, "errs", "errs")
	mod := func(f func(*emrcontainers.StartJobRunInput)) *emrcontainers.StartJobRunInput {
		in := startInput(vc, "bad")
		f(in)
		return in
	}
	for _, tc := range []struct {
		name    string
		in      *emrcontainers.StartJobRunInput
		mention string
	}{
		{"unknown release label", mod(func(in *emrcontainers.StartJobRunInput) { in.ReleaseLabel = aws.String("emr-1.0.0") }), "releaseLabel"},
		// A near miss names the nearest valid labels.
		{"misspelt release label", mod(func(in *emrcontainers.StartJobRunInput) { in.ReleaseLabel = aws.String("emr-7.2.1") }), "nearest valid labels: emr-7"},
		// EMR 6.2.0 ships Spark 3.0, older than the builder supports: refused with the range.
		{"release of an unsupported Spark", mod(func(in *emrcontainers.StartJobRunInput) { in.ReleaseLabel = aws.String("emr-6.2.0") }), "it supports Spark 3.1.1 up to 4.2.x"},
		{"unregistered role", mod(func(in *emrcontainers.StartJobRunInput) {
			in.ExecutionRoleArn = aws.String("arn:aws:iam::000000000000:role/unknown")
		}), "executionRoleArn"},
		{"role not allowed here", mod(func(in *emrcontainers.StartJobRunInput) {
			in.ExecutionRoleArn = aws.String("arn:aws:iam::000000000000:role/only-vc1")
		}), "executionRoleArn"},
		{"malformed role", mod(func(in *emrcontainers.StartJobRunInput) {
			in.ExecutionRoleArn = aws.String("arn:aws:iam::role/x-but-long")
		}), "executionRoleArn"},
		{"name pattern", mod(func(in *emrcontainers.StartJobRunInput) { in.Name = aws.String("has space") }), "name"},
		{"name length", mod(func(in *emrcontainers.StartJobRunInput) { in.Name = aws.String(string(make([]byte, 65))) }), "name"},
		{"no driver", mod(func(in *emrcontainers.StartJobRunInput) { in.JobDriver = &types.JobDriver{} }), "jobDriver"},
		{"blank argument", mod(func(in *emrcontainers.StartJobRunInput) {
			in.JobDriver.SparkSubmitJobDriver.EntryPointArguments = []string{" \t "}
		}), "entryPointArguments[0]"},
		{"empty classification", mod(func(in *emrcontainers.StartJobRunInput) {
			in.ConfigurationOverrides.ApplicationConfiguration[0].Classification = aws.String(" ")
		}), "classification"},
		{"retry attempts", mod(func(in *emrcontainers.StartJobRunInput) { in.RetryPolicyConfiguration.MaxAttempts = aws.Int32(11) }), "maxAttempts"},
		{"log rotation", mod(func(in *emrcontainers.StartJobRunInput) {
			in.ConfigurationOverrides.MonitoringConfiguration.ContainerLogRotationConfiguration = &types.ContainerLogRotationConfiguration{RotationSize: aws.String("big"), MaxFilesToKeep: aws.Int32(1)}
		}), "rotationSize"},
		{"too many tags", mod(func(in *emrcontainers.StartJobRunInput) {
			for i := range 51 {
				in.Tags[string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
			}
		}), "tags"},
		{"template parameters without template", mod(func(in *emrcontainers.StartJobRunInput) { in.JobTemplateParameters = map[string]string{"a": "b"} }), "jobTemplateParameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.StartJobRun(ctx, tc.in)
			wantValidation(t, err, tc.mention)
		})
	}
	_, err := c.StartJobRun(ctx, startInput("0000000000000000000000000", "x"))
	wantNotFound(t, err)
	_, err = c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String("0000000000000000000")})
	wantNotFound(t, err)
	_, err = c.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String("UPPER")})
	wantValidation(t, err, "id")
	_, err = c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{Name: aws.String("x"),
		ContainerProvider: &types.ContainerProvider{Id: aws.String("unknown-cluster"), Type: types.ContainerProviderTypeEks}})
	wantValidation(t, err, "containerProvider.id")
	_, err = c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc), NextToken: aws.String("garbage!")})
	wantValidation(t, err, "nextToken")
	_, err = c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc), States: []types.JobRunState{"DONE"}})
	wantValidation(t, err, "states")

	runs, err := c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc)})
	if err != nil || len(runs.JobRuns) != 0 {
		t.Fatalf("bad requests stored job runs: %+v %v", runs, err)
	}
}

func TestSDKIdempotency(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	ctx := t.Context()
	vcIn := &emrcontainers.CreateVirtualClusterInput{Name: aws.String("idem"), ClientToken: aws.String("vc-token"),
		ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks,
			Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String("idem")}}}}
	a, err := c.CreateVirtualCluster(ctx, vcIn)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateVirtualCluster(ctx, vcIn)
	if err != nil || *b.Id != *a.Id {
		t.Fatalf("virtual cluster retry: %v %v", b, err)
	}
	vcIn.Name = aws.String("other")
	_, err = c.CreateVirtualCluster(ctx, vcIn)
	wantValidation(t, err, "clientToken")

	in := startInput(*a.Id, "idem")
	in.ClientToken = aws.String("run-token")
	r1, err := c.StartJobRun(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.StartJobRun(ctx, in)
	if err != nil || *r2.Id != *r1.Id {
		t.Fatalf("job run retry: %v %v", r2, err)
	}
	in.JobDriver.SparkSubmitJobDriver.EntryPointArguments = []string{"7"}
	_, err = c.StartJobRun(ctx, in)
	wantValidation(t, err, "clientToken")
	// Without an explicit token the SDK fills a fresh one: two runs.
	in.ClientToken = nil
	r3, err := c.StartJobRun(ctx, in)
	if err != nil || *r3.Id == *r1.Id {
		t.Fatalf("fresh token: %v %v", r3, err)
	}
	runs, err := c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: a.Id})
	if err != nil || len(runs.JobRuns) != 2 {
		t.Fatalf("stored %d runs, want 2 (%v)", len(runs.JobRuns), err)
	}

	tIn := &emrcontainers.CreateJobTemplateInput{Name: aws.String("t"), ClientToken: aws.String("tmpl-token"), JobTemplateData: &types.JobTemplateData{
		ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String("emr-6.5.0-latest"),
		JobDriver: &types.JobDriver{SparkSubmitJobDriver: &types.SparkSubmitJobDriver{EntryPoint: aws.String("x.py")}}}}
	t1, err := c.CreateJobTemplate(ctx, tIn)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := c.CreateJobTemplate(ctx, tIn)
	if err != nil || *t2.Id != *t1.Id {
		t.Fatalf("template retry: %v %v", t2, err)
	}
	tIn.Name = aws.String("t2")
	_, err = c.CreateJobTemplate(ctx, tIn)
	wantValidation(t, err, "clientToken")
}

// smithyCode returns the AWS error code of err.
func smithyCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var _ = context.Background

// TestSDKRefusesBadSparkInput checks that the Spark part of a job (sparkSubmitParameters,
// classifications, keys the service owns) is validated before anything is stored.
func TestSDKRefusesBadSparkInput(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	vc := createVC(t, c, "spark-input", "spark-input")
	bad := []struct {
		mutate  func(*emrcontainers.StartJobRunInput)
		mention string
	}{
		{func(in *emrcontainers.StartJobRunInput) {
			in.JobDriver.SparkSubmitJobDriver.SparkSubmitParameters = aws.String("--master yarn --class x.Y")
		}, "sparkSubmitParameters: --master"},
		{func(in *emrcontainers.StartJobRunInput) {
			in.JobDriver.SparkSubmitJobDriver.SparkSubmitParameters = aws.String("--conf spark.kubernetes.namespace=kube-system --class x.Y")
		}, "spark.kubernetes.namespace"},
		{func(in *emrcontainers.StartJobRunInput) {
			in.ConfigurationOverrides = &types.ConfigurationOverrides{ApplicationConfiguration: []types.Configuration{
				{Classification: aws.String("yarn-site"), Properties: map[string]string{"a": "b"}}}}
		}, "yarn-site"},
	}
	for _, b := range bad {
		in := startInput(vc, "bad")
		b.mutate(in)
		_, err := c.StartJobRun(ctx, in)
		wantValidation(t, err, b.mention)
	}
	out, err := c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.JobRuns) != 0 {
		t.Errorf("%d job runs stored after refused requests, want 0", len(out.JobRuns))
	}
}

// TestSDKAcceptsWhatAWSAccepts checks that arguments the AWS model allows (anything with a
// non-whitespace character: globs, SQL, quotes, JSON) are accepted as they are.
func TestSDKAcceptsWhatAWSAccepts(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	vc := createVC(t, c, "aws-accepts", "aws-accepts")
	in := startInput(vc, "globs")
	args := []string{"s3://bucket/in/*.parquet", "SELECT * FROM t WHERE a = 'x';", `{"k": [1, 2]}`, "$HOME & (sub)"}
	in.JobDriver.SparkSubmitJobDriver.EntryPointArguments = args
	in.JobDriver.SparkSubmitJobDriver.SparkSubmitParameters = aws.String(`--conf "spark.driver.extraJavaOptions=-Da=1 -Db=2" --conf spark.executor.instances=2`)
	out, err := c.StartJobRun(t.Context(), in)
	if err != nil {
		t.Fatalf("StartJobRun with AWS-valid arguments: %v", err)
	}
	got, err := c.DescribeJobRun(t.Context(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: out.Id})
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got.JobRun.JobDriver.SparkSubmitJobDriver.EntryPointArguments, args) {
		t.Errorf("stored arguments %q, want %q", got.JobRun.JobDriver.SparkSubmitJobDriver.EntryPointArguments, args)
	}
}

// TestSDKRefusesSystemNamespaces keeps virtual clusters (whose drivers may create pods) out of
// the Kubernetes system namespaces and out of namespaces the provider does not allow.
func TestSDKRefusesSystemNamespaces(t *testing.T) {
	srv := apitest.Start(t, apitest.WithConfig(func(c *config.Config) {
		c.ContainerProviders = append(c.ContainerProviders, config.ContainerProvider{ID: "teams", Namespaces: []string{"team-*", "spark"}})
	}))
	c := srv.Client()
	create := func(provider, ns string) error {
		_, err := c.CreateVirtualCluster(t.Context(), &emrcontainers.CreateVirtualClusterInput{
			Name: aws.String(ns),
			ContainerProvider: &types.ContainerProvider{Id: aws.String(provider), Type: types.ContainerProviderTypeEks,
				Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String(ns)}}},
		})
		return err
	}
	wantValidation(t, create(apitest.ContainerProvider, "kube-system"), "system namespace")
	wantValidation(t, create("teams", "payments"), `"payments" is not one container provider "teams" allows`)
	for _, ok := range []struct{ provider, ns string }{{apitest.ContainerProvider, "analytics"}, {"teams", "team-a"}, {"teams", "spark"}} {
		if err := create(ok.provider, ok.ns); err != nil {
			t.Errorf("CreateVirtualCluster(%s, %s): %v", ok.provider, ok.ns, err)
		}
	}
	out, err := c.ListVirtualClusters(t.Context(), &emrcontainers.ListVirtualClustersInput{})
	if err != nil || len(out.VirtualClusters) != 3 {
		t.Errorf("ListVirtualClusters = %d clusters, %v; want only the 3 allowed ones", len(out.VirtualClusters), err)
	}
}
