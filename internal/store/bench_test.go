package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// BenchmarkListJobRuns measures ListJobRuns at the store, without HTTP, over 1M job runs of
// one virtual cluster (100k with -short), on SQLite and then on PostgreSQL in the same run,
// one call at a time: the first page of 50, a page in the middle of the list (keyset
// pagination far from the start), a state filter (one run in ten is FAILED) and a name
// filter (one run in ten). Each reports p50 and p99 in ms, and PostgreSQL's also its p99 as a
// multiple of SQLite's (p99_vs_sqlite). The data is internal/api's BenchmarkListJobRuns's.
//
// PostgreSQL runs on a server of the benchmark's own with production durability (fsync on),
// stock settings otherwise, through its unix socket; after the load it is vacuumed and
// analysed, as autovacuum would have done a minute later. Under -short PostgreSQL is left
// out, as in the tests.
func BenchmarkListJobRuns(b *testing.B) {
	rows := 1_000_000
	if testing.Short() {
		rows = 100_000
	}
	const vc = "benchvc"
	queries := []struct {
		name string
		f    jobs.JobRunFilter
	}{
		{"first", jobs.JobRunFilter{VirtualClusterID: vc, TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 50}}}},
		{"deep", jobs.JobRunFilter{VirtualClusterID: vc, TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 50, Token: benchToken(rows / 2)}}}},
		{"state", jobs.JobRunFilter{VirtualClusterID: vc, States: []jobs.JobRunState{jobs.StateFailed}, TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 50}}}},
		{"name", jobs.JobRunFilter{VirtualClusterID: vc, Name: "etl-7", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 50}}}},
	}
	baseline := map[string]float64{} // SQLite's p99 per query, ms
	stores := []struct {
		name string
		open func(b *testing.B) store.Backend
	}{
		{"sqlite", func(b *testing.B) store.Backend { return open(b, filepath.Join(b.TempDir(), "bench.db")) }},
		{"postgres", openBenchPostgres},
	}
	if testing.Short() {
		stores = stores[:1]
	}
	for _, st := range stores {
		b.Run("store="+st.name, func(b *testing.B) {
			s := st.open(b)
			t0 := time.Now()
			seedRuns(b, s, vc, rows)
			b.Logf("%s: seeded %d job runs in %s", st.name, rows, time.Since(t0).Round(time.Millisecond))
			if p, ok := s.(*benchPostgres); ok {
				p.settle(b)
			}
			for _, q := range queries {
				b.Run("query="+q.name, func(b *testing.B) {
					lat := make([]time.Duration, b.N)
					b.ResetTimer()
					for i := range b.N {
						t0 := time.Now()
						page, _, err := s.ListJobRuns(b.Context(), q.f)
						lat[i] = time.Since(t0)
						if err != nil {
							b.Fatal(err)
						}
						if len(page) != 50 {
							b.Fatalf("%s: %d runs on the page, want 50", q.name, len(page))
						}
						if q.name == "deep" && page[0].ID != benchID(rows/2-1) {
							b.Fatalf("deep page starts at %s, want %s", page[0].ID, benchID(rows/2-1))
						}
					}
					b.StopTimer()
					sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
					pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
					b.ReportMetric(pct(0.50), "p50_ms")
					b.ReportMetric(pct(0.99), "p99_ms")
					b.ReportMetric(0, "ns/op") // the percentiles say it better than a mean
					switch {
					case st.name == "sqlite":
						baseline[q.name] = pct(0.99)
					case baseline[q.name] > 0:
						b.ReportMetric(pct(0.99)/baseline[q.name], "p99_vs_sqlite")
					}
				})
			}
		})
	}
}

// benchBase is the creation time of the oldest seeded run; run i is i seconds younger.
var benchBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func benchID(i int) string { return fmt.Sprintf("r%018d", i) }

// benchToken is the nextToken after the run at index i from the oldest: the next page starts
// at run i-1. It is made the way both stores make their tokens.
func benchToken(i int) string {
	return encodeToken(fmt.Sprintf("%d:%s", benchBase.Add(time.Duration(i)*time.Second).UnixMicro(), benchID(i)))
}

// seedRuns bulk-loads rows job runs into vc in batches: one in ten FAILED, the rest
// COMPLETED, ten names.
func seedRuns(b *testing.B, s store.Backend, vc string, rows int) {
	b.Helper()
	const batch = 20_000
	for off := 0; off < rows; off += batch {
		runs := make([]jobs.JobRun, 0, batch)
		for i := off; i < off+batch && i < rows; i++ {
			st := jobs.StateCompleted
			if i%10 == 0 {
				st = jobs.StateFailed
			}
			runs = append(runs, storetest.JobRun(benchID(i), vc, fmt.Sprintf("etl-%d", i%10), st, benchBase.Add(time.Duration(i)*time.Second)))
		}
		if err := s.ImportJobRuns(b.Context(), runs); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPostgres is the PostgreSQL store of the benchmark, with its DSN for maintenance.
type benchPostgres struct {
	*store.Postgres
	dsn string
}

func openBenchPostgres(b *testing.B) store.Backend {
	srv := pgtest.New(b, pgtest.Options{Durable: true})
	name, err := srv.CreateDatabase(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	dsn := srv.DSN(name)
	s, err := store.OpenPostgres(b.Context(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return &benchPostgres{Postgres: s, dsn: dsn}
}

// settle vacuums and analyses job_runs after the bulk load, and logs the plan of a deep page.
func (p *benchPostgres) settle(b *testing.B) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	t0 := time.Now()
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) job_runs`); err != nil {
		b.Fatal(err)
	}
	var size string
	if err := conn.QueryRow(ctx, `SELECT pg_size_pretty(pg_total_relation_size('job_runs'))`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.Logf("postgres: vacuum analyze in %s; job_runs with its indexes: %s", time.Since(t0).Round(time.Millisecond), size)
	rows, err := conn.Query(ctx, `EXPLAIN SELECT doc, version, attempt FROM job_runs
		WHERE virtual_cluster_id = 'benchvc' AND (created_at, id) < ('2025-01-04T00:00:00Z'::timestamptz, 'r'::text)
		ORDER BY created_at DESC, id DESC LIMIT 51`)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("postgres: plan of a deep page:\n%s", joinLines(plan))
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "    " + l + "\n"
	}
	return out
}
