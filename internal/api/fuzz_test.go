package api

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/store"
)

// FuzzStartJobRun feeds arbitrary bodies through request decoding, validation and the real
// SQLite store. It must never panic, and every job run it manages to store must be valid.
func FuzzStartJobRun(f *testing.F) {
	seeds := []string{
		`{"name":"pi","clientToken":"t1","executionRoleArn":"arn:aws:iam::000000000000:role/spark-jobs","releaseLabel":"emr-6.5.0-latest","jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"local:///pi.py","entryPointArguments":["10"],"sparkSubmitParameters":"--conf spark.executor.instances=2"}}}`,
		`{"clientToken":"t2","executionRoleArn":"arn:aws:iam::000000000000:role/spark-jobs","releaseLabel":"emr-7.2.0","jobDriver":{"sparkSqlJobDriver":{"entryPoint":"s3://q.sql","sparkSqlParameters":"--conf a=b"}},"configurationOverrides":{"applicationConfiguration":[{"classification":"spark-defaults","properties":{"k":"v"},"configurations":[{"classification":"x"}]}],"monitoringConfiguration":{"persistentAppUI":"ENABLED","s3MonitoringConfiguration":{"logUri":"s3://l/"},"containerLogRotationConfiguration":{"rotationSize":"2GB","maxFilesToKeep":3}}},"retryPolicyConfiguration":{"maxAttempts":3},"tags":{"a":"b"}}`,
		`{"clientToken":"t3","jobTemplateId":"abc","jobTemplateParameters":{"x":"1"}}`,
		`{"clientToken":"t4","executionRoleArn":"arn:aws:iam::000000000000:role/spark-jobs","releaseLabel":"emr-6.5.0-latest","jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"a;b"}}}`,
		`{"name":5}`, `[]`, `{"jobDriver":{"sparkSubmitJobDriver":null}}`, `{"retryPolicyConfiguration":{"maxAttempts":"x"}}`, ``, `{`, `null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	st, err := store.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc, err := jobs.NewService(st, jobs.Config{Region: "us-east-1", AccountID: "000000000000", Releases: release.Default(),
		Roles: anyRole{}, ContainerProviders: oneProvider("c1")})
	if err != nil {
		f.Fatal(err)
	}
	vc, err := svc.CreateVirtualCluster(context.Background(), jobs.CreateVirtualClusterInput{Name: "fuzz", ClientToken: "vc",
		ContainerProvider: &jobs.ContainerProvider{Type: "EKS", ID: "c1"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in jobs.StartJobRunInput
		if err := decode(body, &in); err != nil {
			var ve *jobs.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("decode error is not a ValidationError naming a field: %v", err)
			}
			return
		}
		in.VirtualClusterID = vc.ID
		run, err := svc.StartJobRun(context.Background(), in, "arn:aws:iam::000000000000:user/fuzz")
		if err != nil {
			var ve *jobs.ValidationError
			if !errors.As(err, &ve) && !errors.Is(err, jobs.ErrNotFound) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		stored, err := st.GetJobRun(context.Background(), run.ID)
		if err != nil {
			t.Fatalf("accepted run not stored: %v", err)
		}
		if err := stored.ValidateInput(); err != nil {
			t.Fatalf("stored an invalid job run: %v (body %q)", err, body)
		}
		if stored.State != jobs.StatePending || stored.VirtualClusterID != vc.ID {
			t.Fatalf("stored run %+v", stored)
		}
	})
}

// anyRole lets every execution role run on every virtual cluster.
type anyRole struct{}

func (anyRole) Allowed(string, string) bool { return true }

// oneProvider is a single container provider id that allows every namespace.
type oneProvider string

func (p oneProvider) Known(id string) bool                 { return id == string(p) }
func (oneProvider) NamespaceAllowed(string, string) string { return "" }
