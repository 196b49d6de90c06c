package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestSecondOpenRefused: one SQLite database serves one process; a second opener is told who
// holds it and what to use instead, and can open it once the first has closed it.
func TestSecondOpenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(context.Background(), path)
	want := fmt.Sprintf("database %s is in use by another sparkplane process (pid %d); SQLite supports one replica, use PostgreSQL for several", path, os.Getpid())
	if err == nil || err.Error() != want {
		t.Fatalf("second open: %v\nwant: %s", err, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, path)
	// A database whose directory does not exist fails naming the setting.
	if _, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "missing", "s.db")); err == nil || !strings.Contains(err.Error(), "database setting") {
		t.Errorf("missing directory: %v", err)
	}
}
