package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

func osPID() int { return os.Getpid() }

// execSQLite runs statements on a SQLite file directly, as an older or foreign program would
// have written it.
func execSQLite(t *testing.T, path, stmts string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(stmts); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writer keeps creating job runs through the store, each with its audit event in the same
// transaction, numbering them from 0, until stopped; committed is the highest number whose
// creation has returned.
type writer struct {
	committed atomic.Int64
	stop      chan struct{}
	done      chan error
}

func startWriter(s store.Backend) *writer {
	w := &writer{stop: make(chan struct{}), done: make(chan error, 1)}
	w.committed.Store(-1)
	go func() {
		for i := int64(0); ; i++ {
			select {
			case <-w.stop:
				w.done <- nil
				return
			default:
			}
			ctx, pending := audit.WithPending(context.Background(), audit.Event{RequestID: fmt.Sprintf("w%07d", i), Action: "StartJobRun"})
			run := storetest.JobRun(fmt.Sprintf("w%07d", i), "v1", "n", jobs.StatePending, opsAt(0).Add(time.Duration(i)*time.Millisecond))
			if _, err := s.CreateJobRun(ctx, run, jobs.Idempotency{}); err != nil {
				w.done <- err
				return
			}
			if !pending.Written() {
				w.done <- fmt.Errorf("run %d: its audit event was not written", i)
				return
			}
			w.committed.Store(i)
		}
	}()
	return w
}

func (w *writer) wait(t *testing.T) {
	t.Helper()
	close(w.stop)
	if err := <-w.done; err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until the writer has committed run n, failing after a while: the server's
// writes must go on while the backup holds its snapshot.
func (w *writer) waitFor(n int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for w.committed.Load() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("the writer is stuck at run %d, waiting for %d", w.committed.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// TestBackupWhileWriting backs up a database a store keeps writing to: the writes go on
// while the backup holds its snapshot, and the backup is that snapshot exactly, a prefix of
// the writes (every run committed before it began is there, none that committed after its
// snapshot, and each run's audit event with it). Restored into a new data directory, the
// store opens on it.
func TestBackupWhileWriting(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "sparkplane.db")
	s := open(t, path)
	// A few thousand runs already, so the copy takes a while.
	bulk := make([]jobs.JobRun, 5000)
	for i := range bulk {
		bulk[i] = storetest.JobRun(fmt.Sprintf("bulk%05d", i), "v1", "n", jobs.StateCompleted, opsAt(0).Add(-time.Duration(i)*time.Second))
	}
	if err := s.ImportJobRuns(ctx, bulk); err != nil {
		t.Fatal(err)
	}
	w := startWriter(s)
	if err := w.waitFor(20); err != nil {
		t.Fatal(err)
	}
	before := w.committed.Load()
	var atSnapshot, during int64
	to := filepath.Join(dir, "backup.db")
	report, err := store.BackupSQLite(ctx, path, to, store.BackupAfterSnapshot(func() {
		atSnapshot = w.committed.Load()
		// The snapshot is open: the writer must still commit.
		if err := w.waitFor(atSnapshot + 20); err != nil {
			t.Error(err)
		}
		during = w.committed.Load()
	}))
	if err != nil {
		t.Fatal(err)
	}
	w.wait(t)
	if t.Failed() {
		return
	}

	counts := map[string]int64{}
	for _, c := range report.Tables {
		counts[c.Table] = c.Rows
	}
	runs := counts["job_runs"] - int64(len(bulk))
	// The backup holds runs 0..runs-1: every run committed before it began (before), and
	// none of those the hook waited for while the snapshot was open. (The writer counts a
	// run once its call returns, so the snapshot may hold one run past atSnapshot.)
	if runs-1 < before || runs-1 > atSnapshot+1 || during < atSnapshot+20 {
		t.Fatalf("backup holds runs 0..%d; committed before it began: %d, at its snapshot: %d, during it: %d", runs-1, before, atSnapshot, during)
	}
	t.Logf("before %d, at snapshot %d, in backup 0..%d, during %d; snapshot held %v", before, atSnapshot, runs-1, during, report.Snapshot)
	if counts["audit_events"] != runs {
		t.Errorf("backup holds %d runs and %d audit events: not one point in time", runs, counts["audit_events"])
	}
	if report.SchemaVersion != 5 || report.Bytes == 0 || report.Path != to {
		t.Errorf("report %+v", report)
	}
	if _, err := os.Stat(to + "-wal"); err == nil {
		t.Errorf("the backup has a -wal file beside it")
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".backup.db.tmp-*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	// Read-only, the backup passes integrity_check and holds exactly runs 0..runs-1.
	ro, err := sql.Open("sqlite", "file:"+to+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var check string
	var n, first, last int64
	if err := ro.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	if err := ro.QueryRow(`SELECT count(*), coalesce(min(substr(id, 2)), -1), coalesce(max(substr(id, 2)), -1) FROM job_runs WHERE id LIKE 'w%'`).Scan(&n, &first, &last); err != nil {
		t.Fatal(err)
	}
	if n != runs || first != 0 || last != runs-1 {
		t.Errorf("backup's written runs: %d, from %d to %d; want %d from 0", n, first, last, runs)
	}

	// Restore: a new data directory holding the backup as its database.
	restored := filepath.Join(t.TempDir(), "sparkplane.db")
	body, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, restored, string(body))
	r := open(t, restored)
	if _, err := r.GetJobRun(ctx, fmt.Sprintf("w%07d", runs-1)); err != nil {
		t.Errorf("restored store: %v", err)
	}
	if _, err := r.GetJobRun(ctx, fmt.Sprintf("w%07d", runs)); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("restored store holds a run committed after the snapshot: %v", err)
	}
	if _, err := r.CreateJobRun(ctx, storetest.JobRun("after-restore", "v1", "n", jobs.StatePending, opsAt(9)), jobs.Idempotency{}); err != nil {
		t.Errorf("restored store takes writes: %v", err)
	}
}

// TestBackupErrors: a backup never overwrites a file, never creates a database where none
// was, and leaves nothing behind when it fails.
func TestBackupErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "sparkplane.db")
	s := open(t, db)
	existing := filepath.Join(dir, "existing.db")
	writeFile(t, existing, "keep me")
	other := filepath.Join(dir, "other.db")
	execSQLite(t, other, `CREATE TABLE t (x)`)
	tests := []struct{ database, to, want string }{
		{filepath.Join(dir, "missing.db"), filepath.Join(dir, "b1.db"), "no SQLite database at " + filepath.Join(dir, "missing.db")},
		{db, existing, existing + " exists; store backup does not overwrite a file"},
		{db, db, db + " exists"},
		{db, filepath.Join(dir, "no", "such", "b.db"), "its directory " + filepath.Join(dir, "no", "such") + " does not exist"},
		{other, filepath.Join(dir, "b2.db"), other + " is not a sparkplane SQLite database"},
	}
	for _, tc := range tests {
		_, err := store.BackupSQLite(t.Context(), tc.database, tc.to, store.BackupOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("backup %s to %s: %v, want %q", tc.database, tc.to, err, tc.want)
		}
	}
	if body, _ := os.ReadFile(existing); string(body) != "keep me" {
		t.Errorf("existing file changed: %q", body)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "existing.db other.db sparkplane.db sparkplane.db-shm sparkplane.db-wal sparkplane.db.lock" {
		t.Errorf("files after the failed backups: %s", got)
	}
	// The store still works: nothing of the backups got in its way.
	if _, err := s.CreateJobRun(t.Context(), storetest.JobRun("x", "v1", "n", jobs.StatePending, opsAt(1)), jobs.Idempotency{}); err != nil {
		t.Fatal(err)
	}
}
