package api_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
)

// TestAWSCLI drives the common flows with the real aws CLI (v1) and --endpoint-url.
func TestAWSCLI(t *testing.T) {
	srv := apitest.Start(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := srv.AWS(t, append([]string{"emr-containers"}, args...)...)
		if err != nil {
			t.Fatalf("aws emr-containers %s: %v", strings.Join(args, " "), err)
		}
		var m map[string]any
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("aws output %q: %v", out, err)
			}
		}
		return m
	}
	fail := func(code string, args ...string) {
		t.Helper()
		_, err := srv.AWS(t, append([]string{"emr-containers"}, args...)...)
		var ce *apitest.CLIError
		if !errors.As(err, &ce) || !strings.Contains(ce.Stderr, code) {
			t.Fatalf("aws emr-containers %s: got %v, want %s", strings.Join(args, " "), err, code)
		}
	}

	vc := run("create-virtual-cluster", "--name", "cli-vc",
		"--container-provider", `{"id":"`+apitest.ContainerProvider+`","type":"EKS","info":{"eksInfo":{"namespace":"spark-jobs"}}}`)["id"].(string)
	if got := run("describe-virtual-cluster", "--id", vc)["virtualCluster"].(map[string]any); got["state"] != "RUNNING" {
		t.Fatalf("describe-virtual-cluster: %v", got)
	}
	if got := run("list-virtual-clusters", "--states", "RUNNING")["virtualClusters"].([]any); len(got) != 1 {
		t.Fatalf("list-virtual-clusters: %v", got)
	}

	// The seed's start-job-run shape.
	started := run("start-job-run", "--virtual-cluster-id", vc, "--name", "pi",
		"--execution-role-arn", apitest.RoleArn, "--release-label", "emr-6.5.0-latest",
		"--job-driver", `{"sparkSubmitJobDriver":{"entryPoint":"local:///usr/lib/spark/examples/src/main/python/pi.py","entryPointArguments":["100"],"sparkSubmitParameters":"--conf spark.executor.instances=2 --conf spark.executor.memory=2G --conf spark.executor.cores=1 --conf spark.driver.cores=1"}}`,
		"--configuration-overrides", `{"applicationConfiguration":[{"classification":"spark-defaults","properties":{"spark.dynamicAllocation.enabled":"false"}}],"monitoringConfiguration":{"persistentAppUI":"ENABLED","s3MonitoringConfiguration":{"logUri":"s3://spark-logs/"}}}`,
		"--client-token", "cli-token-1")
	id := started["id"].(string)
	again := run("start-job-run", "--virtual-cluster-id", vc, "--name", "pi",
		"--execution-role-arn", apitest.RoleArn, "--release-label", "emr-6.5.0-latest",
		"--job-driver", `{"sparkSubmitJobDriver":{"entryPoint":"local:///usr/lib/spark/examples/src/main/python/pi.py","entryPointArguments":["100"],"sparkSubmitParameters":"--conf spark.executor.instances=2 --conf spark.executor.memory=2G --conf spark.executor.cores=1 --conf spark.driver.cores=1"}}`,
		"--configuration-overrides", `{"applicationConfiguration":[{"classification":"spark-defaults","properties":{"spark.dynamicAllocation.enabled":"false"}}],"monitoringConfiguration":{"persistentAppUI":"ENABLED","s3MonitoringConfiguration":{"logUri":"s3://spark-logs/"}}}`,
		"--client-token", "cli-token-1")
	if again["id"] != id {
		t.Fatalf("retry with the same --client-token started %v, want %s", again["id"], id)
	}
	jr := run("describe-job-run", "--virtual-cluster-id", vc, "--id", id)["jobRun"].(map[string]any)
	if jr["state"] != "PENDING" || jr["releaseLabel"] != "emr-6.5.0-latest" || jr["createdBy"] != srv.Principal {
		t.Fatalf("describe-job-run: %v", jr)
	}
	if got := run("list-job-runs", "--virtual-cluster-id", vc, "--states", "PENDING", "RUNNING")["jobRuns"].([]any); len(got) != 1 {
		t.Fatalf("list-job-runs: %v", got)
	}
	run("cancel-job-run", "--virtual-cluster-id", vc, "--id", id)
	if got := run("describe-job-run", "--virtual-cluster-id", vc, "--id", id)["jobRun"].(map[string]any); got["state"] != "CANCEL_PENDING" {
		t.Fatalf("after cancel-job-run: %v", got["state"])
	}

	// Job template from a file://, started with parameters.
	tmplFile := filepath.Join(t.TempDir(), "template.json")
	tmpl := `{"executionRoleArn":"` + apitest.RoleArn + `","releaseLabel":"emr-6.5.0-latest",
	  "jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"${Script}","sparkSubmitParameters":"--conf spark.executor.instances=${N}"}},
	  "parameterConfiguration":{"Script":{"type":"STRING"},"N":{"type":"NUMBER","defaultValue":"3"}}}`
	if err := os.WriteFile(tmplFile, []byte(tmpl), 0o600); err != nil {
		t.Fatal(err)
	}
	tid := run("create-job-template", "--name", "cli-template", "--job-template-data", "file://"+tmplFile)["id"].(string)
	fromTmpl := run("start-job-run", "--virtual-cluster-id", vc, "--name", "templated", "--job-template-id", tid,
		"--job-template-parameters", `{"Script":"s3://code/job.py"}`)["id"].(string)
	jr = run("describe-job-run", "--virtual-cluster-id", vc, "--id", fromTmpl)["jobRun"].(map[string]any)
	driver := jr["jobDriver"].(map[string]any)["sparkSubmitJobDriver"].(map[string]any)
	if driver["entryPoint"] != "s3://code/job.py" || driver["sparkSubmitParameters"] != "--conf spark.executor.instances=3" {
		t.Fatalf("templated run: %v", driver)
	}
	if got := run("list-job-templates")["templates"].([]any); len(got) != 1 {
		t.Fatalf("list-job-templates: %v", got)
	}

	arn := "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/" + vc
	run("tag-resource", "--resource-arn", arn, "--tags", "env=dev,team=data")
	run("untag-resource", "--resource-arn", arn, "--tag-keys", "env")
	if tags := run("list-tags-for-resource", "--resource-arn", arn)["tags"].(map[string]any); tags["team"] != "data" || tags["env"] != nil {
		t.Fatalf("tags: %v", tags)
	}

	fail("ValidationException", "start-job-run", "--virtual-cluster-id", vc, "--name", "bad",
		"--execution-role-arn", apitest.RoleArn, "--release-label", "emr-0.0.1-nope",
		"--job-driver", `{"sparkSubmitJobDriver":{"entryPoint":"local:///pi.py"}}`)
	fail("ResourceNotFoundException", "describe-job-run", "--virtual-cluster-id", vc, "--id", "0000000000000000000")

	run("delete-job-template", "--id", tid)
	run("delete-virtual-cluster", "--id", vc)
	// Its job runs are still being cancelled (no controller runs here): TERMINATING.
	if got := run("describe-virtual-cluster", "--id", vc)["virtualCluster"].(map[string]any); got["state"] != "TERMINATING" {
		t.Fatalf("after delete-virtual-cluster: %v", got["state"])
	}
}
