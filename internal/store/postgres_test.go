package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

func TestPostgresConformance(t *testing.T) {
	needPostgres(t)
	storetest.Run(t, func(t *testing.T) jobs.Store { return openPostgres(t) })
}

// TestCostConformance runs the cost store's suite against every backend.
func TestCostConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunCost(t, func(t *testing.T) cost.Store { return b.open(t) })
		})
	}
}

// TestAccessConformance runs the suite of users, access keys and policies against every
// backend.
func TestAccessConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunAccess(t, func(t *testing.T) access.Store { return b.open(t) })
		})
	}
}

// TestSessionConformance runs the suite of the web console's sessions against every backend.
func TestSessionConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunSessions(t, func(t *testing.T) access.SessionStore { return b.open(t) })
		})
	}
}

// TestAuditConformance runs the audit log's suite against every backend.
func TestAuditConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			storetest.RunAudit(t, func(t *testing.T) audit.Store { return b.open(t) })
		})
	}
}

// TestOpenDatabase checks that the database setting picks the backend by its form.
func TestOpenDatabase(t *testing.T) {
	tests := []struct {
		database string
		postgres bool
	}{
		{"postgres://u@h/db", true},
		{"postgresql://u@h/db", true},
		{"/var/lib/sparkplane/sparkplane.db", false},
		{"sparkplane.db", false},
		{"host=h dbname=db", false}, // a key=value DSN would be a file name: only URLs select PostgreSQL
	}
	for _, tc := range tests {
		if got := store.IsPostgresURL(tc.database); got != tc.postgres {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", tc.database, got, tc.postgres)
		}
	}
	s, err := store.OpenDatabase(context.Background(), t.TempDir()+"/s.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*store.SQLite); !ok {
		t.Fatalf("a path opened %T", s)
	}
	if testing.Short() {
		return
	}
	p, err := store.OpenDatabase(context.Background(), pg.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, ok := p.(*store.Postgres); !ok {
		t.Fatalf("a postgres:// URL opened %T", p)
	}
}

// TestOpenPostgresErrors checks that a DSN that cannot work fails at open, naming the setting
// and what is wrong, without the password.
func TestOpenPostgresErrors(t *testing.T) {
	tests := []struct {
		name string
		dsn  string
		want []string
	}{
		{"empty", "", []string{"database setting", "empty PostgreSQL URL"}},
		{"malformed", "postgres://u:s3cret@host:notaport/db", []string{"database setting", "malformed PostgreSQL URL"}},
		{"bad option", "postgres://u:s3cret@localhost/db?sslmode=sometimes", []string{"database setting", "malformed PostgreSQL URL", "sslmode"}},
		// Port 1 on loopback: nothing listens there, so the connection is refused at once.
		{"unreachable", "postgres://u:s3cret@127.0.0.1:1/db?connect_timeout=5", []string{"database setting", "cannot reach PostgreSQL database \"db\" as user \"u\" on 127.0.0.1:1"}},
		{"no socket", "postgres://u:s3cret@/db?host=/nonexistent", []string{"database setting", "cannot reach", "/nonexistent"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.OpenPostgres(context.Background(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	if testing.Short() {
		return
	}
	// A server that is up but has no such database.
	dsn := pg.Database(t)
	missing := dsn[:strings.LastIndex(dsn, "/")] + "/nosuchdb" + dsn[strings.Index(dsn, "?"):]
	if _, err := store.OpenPostgres(context.Background(), missing); err == nil || !strings.Contains(err.Error(), "nosuchdb") {
		t.Errorf("missing database: %v", err)
	}
}

// TestPostgresConcurrentMigrations starts several replicas on one new database at once: each
// opens, and each migration is applied once.
func TestPostgresConcurrentMigrations(t *testing.T) {
	needPostgres(t)
	dsn := pg.Database(t)
	const replicas = 6
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			s, err := store.OpenPostgres(context.Background(), dsn)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, _ := conn.Query(context.Background(), `SELECT version FROM schema_migrations ORDER BY version`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(versions) != "[1 2 3 4]" {
		t.Fatalf("schema_migrations holds %v, want [1 2 3 4]", versions)
	}
}

// TestPostgresReopenKeepsData checks that job runs, their clientTokens and cost records are
// there after a close, with migrations not re-applied over them (TestReopenKeepsData is
// SQLite's).
func TestPostgresReopenKeepsData(t *testing.T) {
	needPostgres(t)
	dsn := pg.Database(t)
	s, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	run := storetest.JobRun("keep", "v1", "n", jobs.StatePending, storetestTime)
	if _, err := s.CreateJobRun(context.Background(), run, jobs.Idempotency{Token: "tok", Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SavePodUsage(context.Background(), cost.PodUsage{UID: "u", JobRunID: "keep", Start: storetestTime}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.CreateJobRun(context.Background(), storetest.JobRun("retry", "v1", "n", jobs.StatePending, storetestTime), jobs.Idempotency{Token: "tok", Hash: "h"})
	if err != nil || got.ID != "keep" {
		t.Fatalf("clientToken after reopen: %+v %v", got.ID, err)
	}
	pods, err := s2.PodUsageByJobRun(context.Background(), "keep")
	if err != nil || len(pods) != 1 || !pods[0].Start.Equal(storetestTime) {
		t.Fatalf("pod usage after reopen: %+v %v", pods, err)
	}
}

// TestImportJobRuns loads runs in bulk on every backend and reads them back in list order,
// pages and all; an import that fails halfway stores none of its runs.
func TestImportJobRuns(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var runs []jobs.JobRun
			for i := range 1000 {
				run := storetest.JobRun(fmt.Sprintf("r%04d", i), "v1", fmt.Sprintf("etl-%d", i%10), jobs.StateCompleted, base.Add(time.Duration(i)*time.Second))
				if i%100 == 0 {
					run.Attempt = jobs.Attempt{Number: 1, Namespace: "spark", DriverPod: run.ID + "-driver"}
				}
				runs = append(runs, run)
			}
			if err := s.ImportJobRuns(t.Context(), runs); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetJobRun(t.Context(), "r0100")
			if err != nil || got.Version != 1 || got.Attempt.DriverPod != "r0100-driver" || !got.CreatedAt.Equal(base.Add(100*time.Second)) {
				t.Fatalf("imported run read back %+v %v", got, err)
			}
			page, next, err := s.ListJobRuns(t.Context(), jobs.JobRunFilter{VirtualClusterID: "v1", Name: "etl-3", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 50}}})
			if err != nil || len(page) != 50 || page[0].ID != "r0993" || next == "" {
				t.Fatalf("first page by name: %d runs, first %v, next %q, %v", len(page), page[0].ID, next, err)
			}
			page, next, err = s.ListJobRuns(t.Context(), jobs.JobRunFilter{VirtualClusterID: "v1", Name: "etl-3", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 50, Token: next}}})
			if err != nil || len(page) != 50 || page[0].ID != "r0493" || next != "" {
				t.Fatalf("second page by name: %d runs, first %v, next %q, %v", len(page), page[0].ID, next, err)
			}
			dup := []jobs.JobRun{storetest.JobRun("new", "v1", "n", jobs.StatePending, base), runs[0]}
			if err := s.ImportJobRuns(t.Context(), dup); err == nil {
				t.Fatal("importing a run that exists succeeded")
			}
			if _, err := s.GetJobRun(t.Context(), "new"); !errors.Is(err, jobs.ErrNotFound) {
				t.Fatalf("a failed import kept a run: %v", err)
			}
		})
	}
}

// TestListTokenValidation checks on every backend that a nextToken that is not one is a
// validation error, not a database error, and that one of the right form but out of range
// means the same on both.
func TestListTokenValidation(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			for _, tok := range []string{"!!garbage", "MTIz", encodeToken("x:abc"), encodeToken("99999999999999999999:abc"), encodeToken("5:")} {
				_, _, err := s.ListJobRuns(t.Context(), jobs.JobRunFilter{VirtualClusterID: "v1", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Token: tok}}})
				var ve *jobs.ValidationError
				if !errors.As(err, &ve) || ve.Field != "nextToken" {
					t.Errorf("token %q: %v, want a nextToken ValidationError", tok, err)
				}
			}
			// Positions beyond any time a store keeps are after, or before, every run.
			for _, r := range []string{"a", "b"} {
				if _, err := s.CreateJobRun(t.Context(), storetest.JobRun(r, "v1", "n", jobs.StatePending, storetestTime), jobs.Idempotency{}); err != nil {
					t.Fatal(err)
				}
			}
			for tok, want := range map[string]int{encodeToken("9223372036854775807:a"): 2, encodeToken("-9223372036854775808:b"): 0} {
				page, _, err := s.ListJobRuns(t.Context(), jobs.JobRunFilter{VirtualClusterID: "v1", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Token: tok}}})
				if err != nil || len(page) != want {
					t.Errorf("token %q: %d runs, %v; want %d", tok, len(page), err, want)
				}
			}
		})
	}
}

// TestJSONRoundTrip stores strings a JSON column may refuse (a NUL, invalid UTF-8, HTML
// characters) and reads them back as the SQLite store does.
func TestJSONRoundTrip(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			run := storetest.JobRun("j", "v1", "n", jobs.StatePending, storetestTime)
			run.JobDriver.SparkSubmitJobDriver.EntryPointArguments = []string{"a\x00b", "<&>", "caf\xe9", "日本"}
			if _, err := s.CreateJobRun(t.Context(), run, jobs.Idempotency{}); err != nil {
				t.Fatal(err)
			}
			got, err := s.GetJobRun(t.Context(), "j")
			if err != nil {
				t.Fatal(err)
			}
			// encoding/json writes invalid UTF-8 as U+FFFD, whatever the store.
			want := []string{"a\x00b", "<&>", "caf\ufffd", "日本"}
			if args := got.JobDriver.SparkSubmitJobDriver.EntryPointArguments; fmt.Sprintf("%q", args) != fmt.Sprintf("%q", want) {
				t.Fatalf("arguments read back as %q, want %q", args, want)
			}
		})
	}
}

// TestPostgresJobRunNotifications: the ids one replica notifies reach a listener on another,
// all of them, however many fit in one notification.
func TestPostgresJobRunNotifications(t *testing.T) {
	needPostgres(t)
	dsn := pg.Database(t)
	var stores [2]*store.Postgres
	for i := range stores {
		s, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 3000 // ids of 20 characters: several notifications
	got := make(chan string, n)
	listening := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- stores[0].ListenJobRuns(ctx, func() { close(listening) }, func(id string) { got <- id })
	}()
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("listen: %v", err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("run%017d", i)
	}
	if err := stores[1].NotifyJobRuns(ctx, ids); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	timeout := time.After(30 * time.Second)
	for len(seen) < n {
		select {
		case id := <-got:
			seen[id] = true
		case <-timeout:
			t.Fatalf("got %d of %d ids", len(seen), n)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("listener ended with %v, want nil once its context ends", err)
	}
}
