package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// TestPostgresLostAtRunTime crashes the PostgreSQL server under an open store (an immediate
// shutdown: every session cut, no checkpoint): every read and write fails with an error that
// wraps jobs.ErrUnavailable, and a write that could not reach the server is not reported as
// of unknown outcome; nothing of them is stored. Once the server is back, the same store
// (its pool reconnects by itself) reads and writes again.
func TestPostgresLostAtRunTime(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	srv := pgtest.New(t, pgtest.Options{Settings: pgtest.CrashSafe})
	db, err := srv.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenPostgres(ctx, srv.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := storetest.JobRun("before", "vc1", "n", jobs.StatePending, storetestTime)
	if _, err := s.CreateJobRun(ctx, before, jobs.Idempotency{Token: "t-before", Hash: "h"}); err != nil {
		t.Fatal(err)
	}

	if err := srv.Crash(); err != nil {
		t.Fatal(err)
	}
	during := storetest.JobRun("during", "vc1", "n", jobs.StatePending, storetestTime)
	calls := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"GetJobRun", func() error { _, err := s.GetJobRun(ctx, "before"); return err }},
		{"ListJobRuns", func() error { _, _, err := s.ListJobRuns(ctx, jobs.JobRunFilter{}); return err }},
		{"CreateJobRun", func() error {
			_, err := s.CreateJobRun(ctx, during, jobs.Idempotency{Token: "t-during", Hash: "h"})
			return err
		}},
		{"UpdateJobRun", func() error {
			_, err := s.UpdateJobRun(ctx, "before", 1, func(r *jobs.JobRun) error { r.StateDetails = "changed"; return nil })
			return err
		}},
	}
	for _, c := range calls {
		err := c.call()
		t.Logf("%s with the server down: %v", c.name, err)
		if !errors.Is(err, jobs.ErrUnavailable) {
			t.Errorf("%s with the server down: %v, want an error that wraps jobs.ErrUnavailable", c.name, err)
		}
		// The server was gone before the call: nothing was sent, so nothing is in doubt.
		if errors.Is(err, jobs.ErrOutcomeUnknown) {
			t.Errorf("%s with the server down: %v says its outcome is unknown; nothing was sent", c.name, err)
		}
	}

	restart := time.Now()
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("PostgreSQL restarted (crash recovery included) in %s", time.Since(restart).Round(time.Millisecond))
	got, err := s.GetJobRun(ctx, "before")
	if err != nil {
		t.Fatalf("GetJobRun after the restart: %v", err)
	}
	if got.StateDetails != "" || got.Version != 1 {
		t.Errorf("job run after the outage: stateDetails %q, version %d: an update that failed was applied", got.StateDetails, got.Version)
	}
	if _, err := s.GetJobRun(ctx, "during"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("the job run created during the outage: %v, want not found", err)
	}
	if _, err := s.CreateJobRun(ctx, during, jobs.Idempotency{Token: "t-during", Hash: "h"}); err != nil {
		t.Errorf("CreateJobRun after the restart: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after the restart: %v", err)
	}
}

// TestSQLiteBusyIsUnavailable holds SQLite's write lock from outside the store (another
// process would) beyond the store's busy timeout: the write fails as unavailable, nothing in
// doubt, and goes through once the lock is released.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out SQLite's 10 s busy timeout; runs without -short")
	}
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path)
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	run := storetest.JobRun("busy", "vc1", "n", jobs.StatePending, storetestTime)
	_, err = s.CreateJobRun(ctx, run, jobs.Idempotency{})
	if !errors.Is(err, jobs.ErrUnavailable) || errors.Is(err, jobs.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "SQLITE_BUSY") {
		t.Fatalf("write while another connection holds the lock: %v, want SQLITE_BUSY wrapping jobs.ErrUnavailable alone", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateJobRun(ctx, run, jobs.Idempotency{}); err != nil {
		t.Fatalf("write once the lock is released: %v", err)
	}
}
