package store_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/store"
)

// pg is the package's PostgreSQL server, started by the first test that needs it. Tests run
// against PostgreSQL unless -short; without a server they fail, saying what to install.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// openPostgres opens a store on a new, empty database, closed when tb ends.
func openPostgres(tb testing.TB) *store.Postgres {
	tb.Helper()
	s, err := store.OpenPostgres(context.Background(), pg.Database(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// backend opens a new, empty store of one kind.
type backend struct {
	name string
	open func(tb testing.TB) store.Backend
}

// backends are the stores a test that holds for both runs against: SQLite always,
// PostgreSQL unless -short.
func backends() []backend {
	b := []backend{{"sqlite", func(tb testing.TB) store.Backend { return open(tb, filepath.Join(tb.TempDir(), "s.db")) }}}
	if !testing.Short() {
		b = append(b, backend{"postgres", func(tb testing.TB) store.Backend { return openPostgres(tb) }})
	}
	return b
}

// needPostgres skips, saying why, a PostgreSQL-only test under -short.
func needPostgres(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short tests SQLite alone; PostgreSQL tests need a server (see internal/dev/pgtest)")
	}
}

// encodeToken is how the stores encode a nextToken, for tests that forge one.
func encodeToken(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
