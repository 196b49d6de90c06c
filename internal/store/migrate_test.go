package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// TestMigrateAttemptToTyped opens a database written by a server of schema version 2, whose
// job runs keep the controller's state as a map of strings, and checks that migration 3 turns
// each shape that server wrote into the typed jobs.Attempt: a submitted attempt, a retry that
// had not submitted yet (its old driverPod belongs to the previous attempt), a cleaned-up run,
// and a run the controller never touched.
func TestMigrateAttemptToTyped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"0001_initial.sql", "0002_cost.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("apply %s: %v", name, err)
		}
		if i == 0 {
			if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, i+1, name); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	old := map[string]string{
		"submitted": `{"attempt":"1","submitted":"true","driverPod":"spark/sp-a-driver","submittedAt":"2026-11-30T12:00:00Z","runningAt":"2026-11-30T12:00:02Z"}`,
		"retrying":  `{"attempt":"2","driverPod":"spark/sp-b-1-driver","submittedAt":"2026-11-30T12:00:00Z"}`,
		"cleaned":   `{"attempt":"1","submitted":"true","driverPod":"spark/sp-c-driver","cleanedUp":"true"}`,
		"untouched": ``,
	}
	for id, ext := range old {
		run := storetest.JobRun(id, "v1", id, jobs.StateSubmitted, at)
		doc := []byte(`{"id":"` + id + `","virtualClusterId":"v1","state":"SUBMITTED","createdAt":"2026-11-30T12:00:00Z","jobDriver":{}}`)
		var extArg any
		if ext != "" {
			extArg = ext
		}
		if _, err := db.Exec(`INSERT INTO job_runs (id, virtual_cluster_id, name, state, created_at, version, doc, extensions) VALUES (?,?,?,?,?,?,?,?)`,
			run.ID, run.VirtualClusterID, run.Name, string(run.State), at.UnixMicro(), 3, doc, extArg); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	want := map[string]jobs.Attempt{
		"submitted": {Number: 1, Namespace: "spark", DriverPod: "sp-a-driver", SubmittedAt: at, RunningAt: at.Add(2 * time.Second)},
		"retrying":  {Number: 2, SubmittedAt: at},
		"cleaned":   {Number: 1, Namespace: "spark", DriverPod: "sp-c-driver", CleanedUp: true},
		"untouched": {},
	}
	for id, w := range want {
		got, err := s.GetJobRun(context.Background(), id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !got.Attempt.SubmittedAt.Equal(w.SubmittedAt) || !got.Attempt.RunningAt.Equal(w.RunningAt) {
			t.Errorf("%s: times %v %v, want %v %v", id, got.Attempt.SubmittedAt, got.Attempt.RunningAt, w.SubmittedAt, w.RunningAt)
		}
		got.Attempt.SubmittedAt, got.Attempt.RunningAt, w.SubmittedAt, w.RunningAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got.Attempt != w {
			t.Errorf("%s: attempt %+v, want %+v", id, got.Attempt, w)
		}
		if got.Version != 3 {
			t.Errorf("%s: version %d changed by the migration", id, got.Version)
		}
	}
}

// TestRefuseNewerSchema: a database a newer sparkplane migrated is refused with a message
// that says so, instead of being read with row shapes this binary does not know.
func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newer.db")
	s := open(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "schema is at version 999, newer than this sparkplane knows") {
		t.Fatalf("opening a newer database: %v", err)
	}
}
