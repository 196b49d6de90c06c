package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// TestSQLiteJobRunPlans pins how SQLite answers the job run queries of the web console: a
// count and a filtered page each read one virtual cluster's entries of the job_runs_list
// index, and the page needs no sort of its own, whatever filters on the document it has.
func TestSQLiteJobRunPlans(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, listArgs, _, err := jobRunListSQL(jobs.JobRunFilter{VirtualClusterID: "v1", CreatedBy: "arn:aws:iam::000000000000:user/alice",
		States: []jobs.JobRunState{jobs.StateRunning}, Tags: map[string]string{"team.name:x": "data", "owner": "ops"},
		TimeFilter: jobs.TimeFilter{CreatedAfter: time.Unix(1, 0), Page: jobs.Page{Limit: 10, Token: encodeCursor(5e6, "r1")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stmt string
		args       []any
	}{
		{"count", countJobRunsSQL, []any{"v1"}},
		{"filtered page", list, listArgs},
	} {
		rows, err := s.read.Query(`EXPLAIN QUERY PLAN `+tc.stmt, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", tc.name, text)
		if !strings.Contains(text, "SEARCH job_runs USING INDEX job_runs_list (virtual_cluster_id=?") {
			t.Errorf("%s does not search job_runs_list by virtual cluster:\n%s", tc.name, text)
		}
		if tc.name == "filtered page" && strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s sorts instead of reading the index in order:\n%s", tc.name, text)
		}
	}
}
