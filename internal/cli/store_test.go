package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// executeStore runs the store commands as the binary does and returns stdout, stderr and the
// error.
func executeStore(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := &cobra.Command{Use: "sparkplane", SilenceUsage: true}
	root.AddCommand(StoreCommands()...)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// sqliteStore creates a SQLite store with a few job runs, a user and a sealed key, and
// returns its path and the store, open (close it to migrate).
func sqliteStore(t *testing.T) (string, *store.SQLite) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sparkplane.db")
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 3 {
		if _, err := s.CreateJobRun(t.Context(), storetest.JobRun(fmt.Sprintf("run%d", i), "vc1", "n", jobs.StatePending, at), jobs.Idempotency{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateUser(t.Context(), access.User{UserName: "alice", UserID: "AIDAALICE", Arn: "arn:aws:iam::000000000000:user/alice", CreateDate: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessKey(t.Context(), access.StoredKey{AccessKeyID: "AKIA1", UserName: "alice", Status: access.StatusActive, Sealed: []byte{1, 0, 2}, CreateDate: at}, 2); err != nil {
		t.Fatal(err)
	}
	return path, s
}

// TestStoreBadInput checks that every bad flag of the store commands is refused with a
// message that names the flag and the form it wants, and never repeats a password.
func TestStoreBadInput(t *testing.T) {
	dir := t.TempDir()
	locked, _ := sqliteStore(t)
	closed, s := sqliteStore(t)
	s.Close()
	existing := filepath.Join(dir, "existing.db")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreachable := "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=5"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"migrate without flags", []string{"store", "migrate"}, `required flag(s) "from", "to" not set`},
		{"from without sqlite:", []string{"store", "migrate", "--from", closed, "--to", unreachable},
			"--from: want sqlite:PATH, the server's SQLite database file (for example sqlite:/var/lib/sparkplane/sparkplane.db)"},
		{"from empty path", []string{"store", "migrate", "--from", "sqlite:", "--to", unreachable}, "--from: want sqlite:PATH"},
		{"from a PostgreSQL URL", []string{"store", "migrate", "--from", "postgres://u:s3cret@h/db", "--to", unreachable}, "--from: a PostgreSQL URL; want sqlite:PATH"},
		{"to a key=value DSN", []string{"store", "migrate", "--from", "sqlite:" + closed, "--to", "host=h password=s3cret dbname=db"},
			"--to: want a postgres:// URL (postgres://user@host:5432/dbname?sslmode=...)"},
		{"to malformed", []string{"store", "migrate", "--from", "sqlite:" + closed, "--to", "postgres://u:s3cret@host:notaport/db"}, "--to: malformed PostgreSQL URL"},
		{"to bad option", []string{"store", "migrate", "--from", "sqlite:" + closed, "--to", "postgres://u:s3cret@localhost/db?sslmode=sometimes"}, "--to: malformed PostgreSQL URL"},
		{"from missing", []string{"store", "migrate", "--from", "sqlite:" + filepath.Join(dir, "missing.db"), "--to", unreachable},
			"--from: no SQLite database at " + filepath.Join(dir, "missing.db")},
		{"from in use", []string{"store", "migrate", "--from", "sqlite:" + locked, "--to", unreachable},
			fmt.Sprintf("--from: SQLite database %s is in use by sparkplane process %d (a server, or another store command): stop it first", locked, os.Getpid())},
		{"to unreachable", []string{"store", "migrate", "--from", "sqlite:" + closed, "--to", unreachable},
			`--to: cannot reach PostgreSQL database "db" as user "u" on 127.0.0.1:1`},
		{"backup without flags", []string{"store", "backup"}, `required flag(s) "database", "to" not set`},
		{"backup of PostgreSQL", []string{"store", "backup", "--database", "postgres://u:s3cret@h/db", "--to", filepath.Join(dir, "b.db")},
			`--database: store backup copies a SQLite database; back up PostgreSQL with pg_dump (pg_dump --format=custom --file=FILE "$URL") and restore it with pg_restore`},
		{"backup of a URL", []string{"store", "backup", "--database", "mysql://u:s3cret@h/db", "--to", filepath.Join(dir, "b.db")},
			"--database: want the path of the server's SQLite database file, or sqlite:PATH"},
		{"backup missing", []string{"store", "backup", "--database", filepath.Join(dir, "missing.db"), "--to", filepath.Join(dir, "b.db")},
			"no SQLite database at " + filepath.Join(dir, "missing.db")},
		{"backup over a file", []string{"store", "backup", "--database", "sqlite:" + closed, "--to", existing},
			existing + " exists; store backup does not overwrite a file: remove it or name another"},
		{"backup to empty", []string{"store", "backup", "--database", closed, "--to", ""}, `required flag(s) "to" not set`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := executeStore(t, tc.args...)
			if err == nil {
				t.Fatalf("accepted; printed %s", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error repeats the password: %q", err)
			}
			if ExitCode(err) != ExitError {
				t.Errorf("exit code %d", ExitCode(err))
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep" {
		t.Errorf("the backup overwrote a file: %q", b)
	}
}

// TestStoreBackup backs up a database its store has open, through the command, and checks
// what it prints and that the file is a database holding the runs.
func TestStoreBackup(t *testing.T) {
	path, s := sqliteStore(t)
	to := filepath.Join(t.TempDir(), "backup.db")
	out, _, err := executeStore(t, "store", "backup", "--database", path, "--to", to)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Backed up " + path + " (schema version 5) to " + to, "integrity_check ok",
		"Keep the secrets key with the backup, stored apart"} {
		if !strings.Contains(out, w) {
			t.Errorf("output does not say %q:\n%s", w, out)
		}
	}
	if !regexp.MustCompile(`(?m)^job_runs\s+3$`).MatchString(out) || !regexp.MustCompile(`(?m)^iam_access_keys\s+1$`).MatchString(out) {
		t.Errorf("output lacks the row counts:\n%s", out)
	}
	// The server's store goes on; the backup opens as a store of its own.
	if _, err := s.GetJobRun(t.Context(), "run2"); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(t.Context(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.GetJobRun(t.Context(), "run2"); err != nil {
		t.Errorf("the backup: %v", err)
	}
	// `sparkplane backup` is the same command.
	again := filepath.Join(t.TempDir(), "again.db")
	if out, _, err := executeStore(t, "backup", "--database", path, "--to", again); err != nil || !strings.Contains(out, "integrity_check ok") {
		t.Errorf("sparkplane backup: %v\n%s", err, out)
	}
}

// TestStoreMigrate moves a SQLite store to a real PostgreSQL server through the command, and
// checks what it prints; a second run into the database, now holding data, is refused.
func TestStoreMigrate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: store migrate needs a PostgreSQL server (internal/dev/pgtest)")
	}
	path, s := sqliteStore(t)
	s.Close()
	srv := pgtest.New(t, pgtest.Options{})
	name, err := srv.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	url := srv.DSN(name)
	out, errOut, err := executeStore(t, "store", "migrate", "--from", "sqlite:"+path, "--to", url)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	for _, w := range []string{
		"Copying SQLite database " + path + " (schema version 5)\n   into PostgreSQL database \"" + name + "\" as user \"sparkplane\"",
		"rows in", "committed. PostgreSQL's schema is at version 4.",
		"Give the servers on PostgreSQL the same secrets key as the SQLite server",
		"Do not start a server on " + path + " again",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output does not say %q:\n%s", w, out)
		}
	}
	for _, line := range []string{`job_runs\s+3\s+3\s+[0-9a-f]{16}\s+[0-9a-f]{16}\s+ok`, `iam_users\s+1\s+1\s+.*ok`, `cost_pods\s+0\s+0\s+.*ok`} {
		if !regexp.MustCompile(`(?m)^` + line + `$`).MatchString(out) {
			t.Errorf("output lacks a line %s:\n%s", line, out)
		}
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", out, errOut)
	if !strings.Contains(errOut, "copying job_runs: 3 rows") {
		t.Errorf("progress: %s", errOut)
	}

	out, _, err = executeStore(t, "store", "migrate", "--from", "sqlite:"+path, "--to", url)
	want := `--to: PostgreSQL database "` + name + `" as user "sparkplane" on ` + srv.Dir + ` already holds sparkplane data (job_runs: 3 rows, iam_users: 1 row, iam_access_keys: 1 row): store migrate copies into an empty database only`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("second migrate: %v (printed %q)\nwant: %s", err, out, want)
	}
}
