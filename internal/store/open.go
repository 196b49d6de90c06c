package store

import (
	"context"
	"strings"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Backend is everything a server keeps in its store: the domain's resources (jobs.Store), the
// cost recorder's records (cost.Store), users and keys (access.Store), the web console's
// sessions (access.SessionStore), the audit log (audit.Store), bulk loading, and Close.
// SQLite and Postgres both implement it, so the server can hold either.
type Backend interface {
	jobs.Store
	cost.Store
	access.Store
	access.SessionStore
	audit.Store
	// ImportJobRuns inserts many job runs at once, without clientTokens, all or none; for
	// bulk loads, not the request path.
	ImportJobRuns(ctx context.Context, runs []jobs.JobRun) error
	// Ping reports whether the database answers now; an error that wraps
	// jobs.ErrUnavailable says it does not (the readiness endpoint asks).
	Ping(ctx context.Context) error
	Close() error
}

var (
	_ Backend = (*SQLite)(nil)
	_ Backend = (*Postgres)(nil)
)

// IsPostgresURL reports whether the database setting names a PostgreSQL database: a
// postgres:// or postgresql:// URL. Anything else is the path of a SQLite file.
func IsPostgresURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// OpenDatabase opens the store the database setting names: PostgreSQL for a postgres:// or
// postgresql:// URL (OpenPostgres), else the SQLite file at that path (Open).
func OpenDatabase(ctx context.Context, database string) (Backend, error) {
	if IsPostgresURL(database) {
		return OpenPostgres(ctx, database)
	}
	return Open(ctx, database)
}
