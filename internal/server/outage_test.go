package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
)

// TestDatabaseLostAtRunTime crashes the server's PostgreSQL (an immediate shutdown: every
// session cut, no checkpoint) under a running server. Every call is answered HTTP 503 with
// AWS's error shape, InternalServerException, saying that the database is unreachable and
// that the call changed nothing, which the SDK's and the aws CLI's retryers retry; /readyz
// says so while /healthz stays up. The calls changed nothing, and once PostgreSQL is back the
// same server answers again, without a restart.
func TestDatabaseLostAtRunTime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server; runs without -short")
	}
	ctx := context.Background()
	pg := pgtest.New(t, pgtest.Options{Settings: pgtest.CrashSafe})
	db, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.Database = pg.DSN(db) }))
	c := srv.Client()
	vc, err := c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{Name: aws.String("outage"),
		ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(apitest.ContainerProvider),
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String("outage")}}}})
	if err != nil {
		t.Fatal(err)
	}
	start := func(token string) (*emrcontainers.StartJobRunOutput, error) {
		return c.StartJobRun(ctx, &emrcontainers.StartJobRunInput{VirtualClusterId: vc.Id, Name: aws.String("pi"), ClientToken: aws.String(token),
			ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String(apitest.ReleaseLabel),
			JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{EntryPoint: aws.String("local:///opt/pi.py")}}})
	}
	before, err := start("before")
	if err != nil {
		t.Fatal(err)
	}

	if err := pg.Crash(); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"StartJobRun", func() error { _, err := start("during"); return err }},
		{"DescribeJobRun", func() error {
			_, err := c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: vc.Id, Id: before.Id})
			return err
		}},
		{"ListJobRuns", func() error {
			_, err := c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: vc.Id})
			return err
		}},
		{"CancelJobRun", func() error {
			_, err := c.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: vc.Id, Id: before.Id})
			return err
		}},
		{"CreateVirtualCluster", func() error {
			_, err := c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{Name: aws.String("during"),
				ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(apitest.ContainerProvider),
					Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String("during")}}}})
			return err
		}},
	}
	retryable := retry.IsErrorRetryables(retry.DefaultRetryables)
	for _, tc := range calls {
		err := tc.call()
		var ise *emrtypes.InternalServerException
		var re *awshttp.ResponseError
		switch {
		case !errors.As(err, &ise) || !errors.As(err, &re):
			t.Errorf("%s with the database down: %v, want an InternalServerException", tc.name, err)
		case re.HTTPStatusCode() != http.StatusServiceUnavailable:
			t.Errorf("%s with the database down: HTTP %d, want 503", tc.name, re.HTTPStatusCode())
		case !strings.Contains(ise.ErrorMessage(), "database is unreachable; this call changed nothing"):
			t.Errorf("%s with the database down says %q", tc.name, ise.ErrorMessage())
		case retryable.IsErrorRetryable(err) != aws.TrueTernary:
			t.Errorf("%s with the database down: aws-sdk-go-v2 would not retry %v", tc.name, err)
		}
	}
	// botocore (the aws CLI) retries it too: with two attempts it says it retried once.
	out, err := awsCLI(srv, "emr-containers", "describe-job-run", "--virtual-cluster-id", *vc.Id, "--id", *before.Id)
	if err == nil || !strings.Contains(out, "An error occurred (InternalServerException) when calling the DescribeJobRun operation (reached max retries: 1): sparkplane's database is unreachable") {
		t.Errorf("aws CLI with the database down: %v\n%s", err, out)
	}
	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable || body != "database: unreachable\n" {
		t.Errorf("/readyz with the database down: %d %q", code, body)
	}
	if code, _ := get(t, srv.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the database down: %d, want 200 (the process is alive)", code)
	}
	if _, body := get(t, srv.URL+"/metrics"); !strings.Contains(body, "\nsparkplane_database_up 0\n") {
		t.Errorf("/metrics with the database down does not say sparkplane_database_up 0")
	}

	restarted := time.Now()
	if err := pg.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	var got *emrcontainers.DescribeJobRunOutput
	for {
		got, err = c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: vc.Id, Id: before.Id})
		if err == nil || time.Since(restarted) > 30*time.Second {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("DescribeJobRun 30 s after PostgreSQL came back: %v", err)
	}
	t.Logf("the server answered again %s after PostgreSQL was restarted (its crash recovery included)", time.Since(restarted).Round(time.Millisecond))
	if got.JobRun.State != emrtypes.JobRunStatePending {
		t.Errorf("the job run is %s after the outage; CancelJobRun failed and must have changed nothing", got.JobRun.State)
	}
	list, err := c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: vc.Id})
	if err != nil || len(list.JobRuns) != 1 {
		t.Errorf("ListJobRuns after the outage: %d runs (%v), want the one started before", len(list.JobRuns), err)
	}
	vcs, err := c.ListVirtualClusters(ctx, &emrcontainers.ListVirtualClustersInput{})
	if err != nil || len(vcs.VirtualClusters) != 1 {
		t.Errorf("ListVirtualClusters after the outage: %d (%v), want 1", len(vcs.VirtualClusters), err)
	}
	// The client retries its failed call as an SDK does, with the same clientToken: one run.
	during, err := start("during")
	if err != nil {
		t.Fatalf("StartJobRun after the outage: %v", err)
	}
	again, err := start("during")
	if err != nil || *again.Id != *during.Id {
		t.Errorf("StartJobRun again with the same clientToken: %v, %v; want job run %s", again, err, *during.Id)
	}
	if code, body := get(t, srv.URL+"/readyz"); code != http.StatusOK || body != "ok" {
		t.Errorf("/readyz after the outage: %d %q", code, body)
	}
}

// awsCLI runs the aws CLI against srv with two attempts in botocore's standard retry mode,
// and returns its combined output.
func awsCLI(srv *apitest.Server, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", srv.URL, "--output", "json"}, args...)...)
	cmd.Env = append(srv.Env(), "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=2")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
