package controller_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"

	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/spark"
)

// TestSparkUIAfterTheJob runs jobs with a logUri: the driver (the emulator, as Spark would)
// writes its event log to <logUri>/<vc>/jobs/<id>/sparklogs/<app id>, and the Spark UI route
// reads it back once the job is over: the application, its executors, jobs and stages, and a
// failed job's failure. A run that keeps no event log says why.
func TestSparkUIAfterTheJob(t *testing.T) {
	ensureNode(t)
	env := testenv.Get(t)
	s := startServer(t, t.TempDir(), env.Kubeconfig)
	vc := s.virtualCluster(t, "sparkui")
	logURI := "s3://" + env.Bucket + "/logs"
	start := func(name string, confs ...string) string {
		t.Helper()
		params := "--class org.apache.spark.examples.SparkPi --conf spark.executor.instances=3 --conf spark.executor.cores=2"
		for _, c := range confs {
			params += " --conf " + c
		}
		out, err := s.client.StartJobRun(context.Background(), &emrcontainers.StartJobRunInput{
			VirtualClusterId: aws.String(vc), Name: aws.String(name), ExecutionRoleArn: aws.String(roleArn), ReleaseLabel: aws.String(release),
			JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
				EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), SparkSubmitParameters: aws.String(params)}},
			ConfigurationOverrides: &emrtypes.ConfigurationOverrides{MonitoringConfiguration: &emrtypes.MonitoringConfiguration{
				S3MonitoringConfiguration: &emrtypes.S3MonitoringConfiguration{LogUri: aws.String(logURI)}}},
		})
		if err != nil {
			t.Fatalf("StartJobRun: %v", err)
		}
		return *out.Id
	}
	ok := start("pi-ui", "spark.sparkplane.sandbox.duration=2s")
	failed := start("pi-fails", "spark.sparkplane.sandbox.duration=1s", "spark.sparkplane.sandbox.exitCode=2")
	done, _ := s.waitState(t, vc, ok, emrtypes.JobRunStateCompleted, 2*time.Minute)
	if want := "driver and executor logs go to " + logURI + "/" + vc + "/jobs/" + ok + "/containers/"; !strings.Contains(aws.ToString(done.StateDetails), want) {
		t.Errorf("stateDetails %q does not say where the container logs go (%s)", aws.ToString(done.StateDetails), want)
	}
	s.waitState(t, vc, failed, emrtypes.JobRunStateFailed, 2*time.Minute)

	type ui struct {
		AppID       string `json:"sparkApplicationId"`
		EventLog    string `json:"eventLog"`
		Complete    bool   `json:"complete"`
		Application struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Duration int64  `json:"durationMs"`
		} `json:"application"`
		Executors []struct {
			ID string `json:"id"`
		} `json:"executors"`
		Jobs []struct {
			Status string `json:"status"`
		} `json:"jobs"`
	}
	get := func(id string) (int, string, ui) {
		t.Helper()
		status, code, body := s.Do(t, s.Admin(), http.MethodGet, "/virtualclusters/"+vc+"/jobruns/"+id+"/ui", nil)
		var out ui
		if status == http.StatusOK {
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("ui of %s: %v\n%s", id, err, body)
			}
		} else {
			code += " " + string(body)
		}
		return status, code, out
	}
	status, code, got := get(ok)
	if status != http.StatusOK {
		t.Fatalf("ui of %s: %d %s", ok, status, code)
	}
	app := spark.AppID(ok, 1)
	wantLog := logURI + "/" + vc + "/jobs/" + ok + "/sparklogs/" + app
	if got.AppID != app || got.Application.ID != app || got.EventLog != wantLog || !got.Complete {
		t.Errorf("ui = app %s / %s from %s, complete %v; want %s from %s", got.AppID, got.Application.ID, got.EventLog, got.Complete, app, wantLog)
	}
	if len(got.Executors) != 3 || len(got.Jobs) != 3 || got.Application.Duration < 2000 {
		t.Errorf("ui: %d executors, %d jobs, %d ms; want the 3 executors the driver created, 3 jobs, at least the 2 s held", len(got.Executors), len(got.Jobs), got.Application.Duration)
	}
	for _, j := range got.Jobs {
		if j.Status != "SUCCEEDED" {
			t.Errorf("job status %s in a completed run", j.Status)
		}
	}
	if status, code, got = get(failed); status != http.StatusOK || len(got.Jobs) == 0 || got.Jobs[len(got.Jobs)-1].Status != "FAILED" {
		t.Errorf("ui of the failed run: %d %s, jobs %+v; want its last job FAILED", status, code, got.Jobs)
	}

	// A run with no logUri on a server with no eventLogUri keeps no event log, and says so.
	plain := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=1s")
	s.waitState(t, vc, plain, emrtypes.JobRunStateCompleted, 2*time.Minute)
	if status, code, _ := get(plain); status != http.StatusNotFound || !strings.Contains(code, "keeps no Spark event log") {
		t.Errorf("ui of a run without event logs = %d %s, want 404 saying it keeps none", status, code)
	}
}
