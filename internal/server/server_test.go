package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/store"
)

// TestServerOnPostgres: `database: postgres://...` puts the whole server on PostgreSQL, and the
// API works on it through the SDK as it does on SQLite.
func TestServerOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server; runs without -short")
	}
	pg := pgtest.New(t, pgtest.Options{})
	db, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dsn := pg.DSN(db)
	srv := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.Database = dsn }))
	if _, ok := srv.App.Store.(*store.Postgres); !ok {
		t.Fatalf("store is %T, want *store.Postgres for database %q", srv.App.Store, dsn)
	}
	ctx := context.Background()
	c := srv.Client()
	vc, err := c.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{Name: aws.String("pg"),
		ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(apitest.ContainerProvider),
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String("pg")}}}})
	if err != nil {
		t.Fatal(err)
	}
	in := &emrcontainers.StartJobRunInput{VirtualClusterId: vc.Id, Name: aws.String("pi"), ClientToken: aws.String("once"),
		ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String(apitest.ReleaseLabel),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{EntryPoint: aws.String("local:///opt/pi.py")}}}
	run, err := c.StartJobRun(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.StartJobRun(ctx, in)
	if err != nil || *again.Id != *run.Id {
		t.Fatalf("the same clientToken gave %v (%v), want job run %s again", again, err, *run.Id)
	}
	got, err := c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: vc.Id, Id: run.Id})
	if err != nil || got.JobRun.State != emrtypes.JobRunStatePending {
		t.Fatalf("DescribeJobRun: %+v %v", got, err)
	}
	list, err := c.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: vc.Id})
	if err != nil || len(list.JobRuns) != 1 {
		t.Fatalf("ListJobRuns: %d runs, %v", len(list.JobRuns), err)
	}
}
