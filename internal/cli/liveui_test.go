package cli

import (
	"strings"
	"testing"
)

// TestJobsSparkUIErrors checks the arguments of jobs spark-ui, and that the server's answer
// for a run without a live UI, or a caller who may not open it, is printed before anything
// listens (this server runs no controller: runs stay PENDING). The proxy itself runs against
// a real cluster in internal/controller (TestLiveSparkUI).
func TestJobsSparkUIErrors(t *testing.T) {
	startServer(t)
	vc := createVC(t)
	job := startJob(t, vc, "no-driver")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"driver not running", []string{"jobs", "spark-ui", job, "--virtual-cluster-id", vc},
			"ValidationException: job run " + job + " is PENDING: its driver does not run yet, and the live Spark UI exists only while it runs"},
		{"unknown job run", []string{"jobs", "spark-ui", "--virtual-cluster-id", vc, "--id", "0000000000000000000"}, "ResourceNotFoundException: "},
		{"no job run", []string{"jobs", "spark-ui", "--virtual-cluster-id", vc}, `required flag(s) "id" not set`},
		{"no virtual cluster", []string{"jobs", "spark-ui", job}, `required flag(s) "virtual-cluster-id" not set`},
		{"two job runs", []string{"jobs", "spark-ui", "a", "--id", "b", "--virtual-cluster-id", vc}, `--id: "b" and the argument "a" name different job runs`},
		{"bad listen", []string{"jobs", "spark-ui", job, "--virtual-cluster-id", vc, "--listen", "4040"}, `--listen: must be host:port such as 127.0.0.1:4040, got "4040"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := execute(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
				t.Fatalf("sparkplane %s: error %v, printed %q; want %q", strings.Join(tc.args, " "), err, out, tc.want)
			}
		})
	}

	t.Run("denied", func(t *testing.T) {
		runDefault(t, "iam", "create-user", "--user-name", "ui-viewer")
		runQuiet(t, "iam", "put-user-policy", "--user-name", "ui-viewer", "--policy-name", "describe",
			"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["emr-containers:Describe*","sparkplane:DescribeJobRunUI"],"Resource":"*"}]}`)
		key := runDefault(t, "iam", "create-access-key", "--user-name", "ui-viewer")["AccessKey"].(map[string]any)
		t.Setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"].(string))
		t.Setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"].(string))
		err := wantError(t, "AccessDeniedException: ", "jobs", "spark-ui", job, "--virtual-cluster-id", vc)
		if !strings.Contains(err.Error(), "sparkplane:AccessJobRunLiveUI") {
			t.Errorf("denied jobs spark-ui: %v, want it to name sparkplane:AccessJobRunLiveUI", err)
		}
	})
}
