package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/store"
)

// BenchmarkCopyToPostgres measures store migrate's copy of 100k job runs (the data of
// BenchmarkListJobRuns, about 1 kB of JSON each) from SQLite into an empty PostgreSQL
// database with production durability (fsync on), verification included: one iteration per
// database. It reports the seconds spent copying and verifying, and the rows per second of
// the whole.
func BenchmarkCopyToPostgres(b *testing.B) {
	const rows = 100_000
	path := filepath.Join(b.TempDir(), "sparkplane.db")
	lite := open(b, path)
	t0 := time.Now()
	seedRuns(b, lite, "benchvc", rows)
	b.Logf("sqlite: seeded %d job runs in %s", rows, time.Since(t0).Round(time.Millisecond))
	if err := lite.Close(); err != nil {
		b.Fatal(err)
	}
	srv := pgtest.New(b, pgtest.Options{Durable: true})
	var copySecs, verifySecs float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		name, err := srv.CreateDatabase(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		report, err := migrate(b.Context(), path, srv.DSN(name), store.CopyOptions{})
		if err != nil {
			b.Fatal(err)
		}
		copySecs += report.Copy.Seconds()
		verifySecs += report.Verify.Seconds()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(copySecs/n, "copy_s")
	b.ReportMetric(verifySecs/n, "verify_s")
	b.ReportMetric(rows*n/b.Elapsed().Seconds(), "rows/s")
}
