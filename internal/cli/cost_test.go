package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCostCommands runs `jobs cost` and `cost` against the real API. No cluster runs behind
// apitest, so the amounts are zero: the test checks the shapes, the flags and the errors.
func TestCostCommands(t *testing.T) {
	startServer(t)
	vc := createVC(t)
	job := startJob(t, vc, "costed")

	rep := runJSON(t, "jobs", "cost", "--virtual-cluster-id", vc, "--id", job)
	if rep["jobRunId"] != job || rep["virtualClusterId"] != vc || rep["currency"] != "USD" {
		t.Errorf("jobs cost -o json = %v", rep)
	}
	if tot, ok := rep["totals"].(map[string]any); !ok || tot["cost"] != 0.0 || tot["savings"] != 0.0 {
		t.Errorf("jobs cost totals = %v, want zero amounts", rep["totals"])
	}
	if pods, ok := rep["pods"].([]any); !ok || len(pods) != 0 {
		t.Errorf("jobs cost pods = %v, want an empty list", rep["pods"])
	}
	// The job run may also be given as the argument.
	if again := runJSON(t, "jobs", "cost", job, "--virtual-cluster-id", vc); again["jobRunId"] != job {
		t.Errorf("jobs cost ID: %v", again)
	}
	out, stderr, err := execute(t, "jobs", "cost", job, "--virtual-cluster-id", vc)
	if err != nil {
		t.Fatalf("jobs cost (table): %v %s", err, stderr)
	}
	for _, want := range []string{"Job run", job, "Total (USD)", "0.000000", "driver", "executors", "spot", "on-demand", "Savings", "none has held a node yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("jobs cost table lacks %q:\n%s", want, out)
		}
	}

	now := time.Now().UTC()
	for _, tc := range []struct {
		name  string
		args  []string
		span  time.Duration // expected to-from, 0: not checked
		after time.Time     // expected from, zero: not checked
	}{
		{"default range", nil, 7 * 24 * time.Hour, time.Time{}},
		{"days", []string{"--since", "7d"}, 7 * 24 * time.Hour, time.Time{}},
		{"hours and days", []string{"--since", "1d12h"}, 36 * time.Hour, time.Time{}},
		{"date", []string{"--since", now.AddDate(0, 0, -2).Format(time.DateOnly)}, 0, now.AddDate(0, 0, -2).Truncate(24 * time.Hour)},
		{"date and until", []string{"--since", "2026-01-01", "--until", "2026-01-08T00:00:00Z"}, 7 * 24 * time.Hour, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"cost", "--virtual-cluster", vc}, tc.args...)
			rep := runJSON(t, args...)
			from, err1 := time.Parse(time.RFC3339, rep["from"].(string))
			to, err2 := time.Parse(time.RFC3339, rep["to"].(string))
			if err1 != nil || err2 != nil || rep["virtualClusterId"] != vc {
				t.Fatalf("cost -o json = %v", rep)
			}
			if d := to.Sub(from); tc.span != 0 && (d < tc.span-time.Minute || d > tc.span+time.Minute) {
				t.Errorf("range %s - %s spans %s, want %s", from, to, d, tc.span)
			}
			if !tc.after.IsZero() && !from.Equal(tc.after) {
				t.Errorf("from = %s, want %s", from, tc.after)
			}
			for _, k := range []string{"totals", "jobs", "days", "idleNodes", "prices"} {
				if _, ok := rep[k]; !ok {
					t.Errorf("cost -o json lacks %q: %v", k, rep)
				}
			}
		})
	}
	out, stderr, err = execute(t, "cost", "--virtual-cluster-id", vc, "--since", "7d")
	if err != nil {
		t.Fatalf("cost (table): %v %s", err, stderr)
	}
	for _, want := range []string{"Virtual cluster", vc, "Period", "Total (USD)", "Savings", "Idle (not in the total)", "No job run held a node"} {
		if !strings.Contains(out, want) {
			t.Errorf("cost table lacks %q:\n%s", want, out)
		}
	}
	out, _, err = execute(t, "cost", "--virtual-cluster-id", vc, "-o", "yaml")
	if err != nil || !strings.Contains(out, "virtualClusterId: "+vc) {
		t.Errorf("cost -o yaml: %v\n%s", err, out)
	}
}

func TestCostCommandErrors(t *testing.T) {
	startServer(t)
	vc := createVC(t)
	job := startJob(t, vc, "costed")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown job run", []string{"jobs", "cost", "--virtual-cluster-id", vc, "--id", "0000000000000000000"}, "ResourceNotFoundException: "},
		{"unknown virtual cluster", []string{"cost", "--virtual-cluster-id", "0000000000000000000000000"}, "ResourceNotFoundException: "},
		{"no job run", []string{"jobs", "cost", "--virtual-cluster-id", vc}, `required flag(s) "id" not set`},
		{"two job runs", []string{"jobs", "cost", "a", "--id", "b", "--virtual-cluster-id", vc}, `--id: "b" and the argument "a" name different job runs`},
		{"no virtual cluster", []string{"cost", "--since", "7d"}, `required flag(s) "virtual-cluster-id" not set`},
		{"bad since", []string{"cost", "--virtual-cluster-id", vc, "--since", "last week"}, `--since: "last week" is not a duration`},
		{"bad until", []string{"cost", "--virtual-cluster-id", vc, "--until", "2026-02-30"}, `--until: "2026-02-30" is not a duration`},
		{"zero since", []string{"cost", "--virtual-cluster-id", vc, "--since", "0d"}, `--since: "0d": the duration must be positive`},
		{"since after until", []string{"cost", "--virtual-cluster-id", vc, "--since", "2026-02-01", "--until", "2026-01-01"}, "ValidationException: createdAfter: must be before createdBefore"},
		{"range too long", []string{"cost", "--virtual-cluster-id", vc, "--since", "400d"}, "ValidationException: createdAfter: must be at most 366 days"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := execute(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("sparkplane %s: error %v, want %q", strings.Join(tc.args, " "), err, tc.want)
			}
		})
	}
	t.Run("refused signature", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		for _, args := range [][]string{{"jobs", "cost", job, "--virtual-cluster-id", vc}, {"cost", "--virtual-cluster-id", vc}} {
			_, _, err := execute(t, args...)
			if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
				t.Errorf("sparkplane %s with a wrong secret: %v, want InvalidSignatureException", strings.Join(args, " "), err)
			}
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Setenv(EndpointEnv, "http://127.0.0.1:1")
		_, _, err := execute(t, "cost", "--virtual-cluster-id", vc)
		if err == nil || !strings.Contains(err.Error(), "cannot reach the endpoint") {
			t.Errorf("unreachable endpoint: %v", err)
		}
	})
	// Nothing above changed the job run's report.
	var rep map[string]any
	out, _, err := execute(t, "jobs", "cost", job, "--virtual-cluster-id", vc, "-o", "json")
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep["jobRunId"] != job {
		t.Errorf("after the errors: %v %s", err, out)
	}
}
