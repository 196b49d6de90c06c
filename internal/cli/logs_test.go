package cli

import (
	"strings"
	"testing"
)

// TestJobsLogsErrors checks the arguments of jobs logs, and the server's answer for a run
// that has no driver yet (this server runs no controller: runs stay PENDING).
func TestJobsLogsErrors(t *testing.T) {
	startServer(t)
	vc := createVC(t)
	job := startJob(t, vc, "no-driver")

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no driver yet", []string{"jobs", "logs", job, "--virtual-cluster-id", vc}, "ResourceNotFoundException: job run " + job + " (PENDING) has not started a driver yet"},
		{"unknown job run", []string{"jobs", "logs", "--virtual-cluster-id", vc, "--id", "0000000000000000000"}, "ResourceNotFoundException: "},
		{"no job run", []string{"jobs", "logs", "--virtual-cluster-id", vc}, `required flag(s) "id" not set`},
		{"no virtual cluster", []string{"jobs", "logs", job}, `required flag(s) "virtual-cluster-id" not set`},
		{"two job runs", []string{"jobs", "logs", "a", "--id", "b", "--virtual-cluster-id", vc}, `--id: "b" and the argument "a" name different job runs`},
		{"executor and all", []string{"jobs", "logs", job, "--virtual-cluster-id", vc, "--executor", "1", "--all"}, "--executor and --all: give one"},
		{"executor not an id", []string{"jobs", "logs", job, "--virtual-cluster-id", vc, "--executor", "driver"}, `--executor: must be an executor id such as 1, got "driver"`},
		{"executor zero", []string{"jobs", "logs", job, "--virtual-cluster-id", vc, "--executor", "0"}, `--executor: must be an executor id such as 1, got "0"`},
		{"negative tail", []string{"jobs", "logs", job, "--virtual-cluster-id", vc, "--tail", "-1"}, "--tail: must be 0 or more lines, got -1"},
		{"tail not a number", []string{"jobs", "logs", job, "--virtual-cluster-id", vc, "--tail", "all"}, `invalid argument "all" for "--tail"`},
		{"bad since", []string{"jobs", "logs", job, "--virtual-cluster-id", vc, "--since", "yesterday"}, `--since: must be a duration such as 10m or an RFC 3339 time`},
		{"negative since", []string{"jobs", "logs", job, "--virtual-cluster-id", vc, "--since", "-5m"}, `--since: must be a duration such as 10m`},
		{"two arguments", []string{"jobs", "logs", job, job, "--virtual-cluster-id", vc}, "accepts at most 1 arg(s), received 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := execute(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
				t.Fatalf("sparkplane %s: error %v, printed %q; want %q", strings.Join(tc.args, " "), err, out, tc.want)
			}
		})
	}
	// A valid since (duration or time) passes the command's checks and reaches the server.
	for _, since := range []string{"10m", "2024-01-31T12:00:00Z"} {
		if _, _, err := execute(t, "jobs", "logs", job, "--virtual-cluster-id", vc, "--since", since, "--tail", "0", "--follow"); err == nil ||
			!strings.Contains(err.Error(), "has not started a driver yet") {
			t.Errorf("jobs logs --since %s: %v, want the server's answer", since, err)
		}
	}
}
