package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

func open(t testing.TB, path string) *store.SQLite {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jobs.Store {
		return open(t, filepath.Join(t.TempDir(), "s.db"))
	})
}

// TestReopenKeepsData checks durability across a close and that migrations are not re-applied.
func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	run := storetest.JobRun("keep", "v1", "n", jobs.StatePending, storetestTime)
	if _, err := s.CreateJobRun(context.Background(), run, jobs.Idempotency{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, path)
	got, err := s2.GetJobRun(context.Background(), "keep")
	if err != nil || got.ID != "keep" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
}
