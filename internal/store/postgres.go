package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

//go:embed migrations/postgres/*.sql
var pgMigrations embed.FS

// pgMigrateLock is the pg_advisory_lock key under which a replica migrates the schema, so
// replicas that start together apply each migration once. The bytes spell "spkplane".
const pgMigrateLock int64 = 0x73706b706c616e65

// connectTimeout bounds the first connection of OpenPostgres when the DSN sets no
// connect_timeout, so an unreachable server fails the start instead of hanging it.
const connectTimeout = 30 * time.Second

// dialTimeout bounds every later connection of the pool when the DSN sets no connect_timeout:
// a server that stops answering (a partition, a host gone) makes calls fail as unavailable
// within it instead of hanging until their clients give up.
const dialTimeout = 10 * time.Second

// writeTimeout bounds a write once it has begun (see Postgres.conn).
const writeTimeout = 30 * time.Second

// Postgres is the PostgreSQL implementation of jobs.Store and cost.Store, for several server
// replicas sharing one database. Close it when done.
type Postgres struct {
	pool pgPool
}

var _ jobs.Store = (*Postgres)(nil)

// OpenPostgres connects to the PostgreSQL database dsn names (a postgres:// URL or a
// key=value string, as libpq takes them, plus pgxpool's pool_* settings) and applies pending
// migrations. A malformed DSN and a database that cannot be reached are errors that say so.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, fmt.Errorf("%s: empty PostgreSQL URL", settingName)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx masks the password in what it quotes of the DSN.
		return nil, fmt.Errorf("%s: malformed PostgreSQL URL: %w", settingName, err)
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		// So an operator can tell sparkplane's sessions apart in pg_stat_activity.
		cfg.ConnConfig.RuntimeParams["application_name"] = "sparkplane"
	}
	pingCtx, cancel := ctx, context.CancelFunc(func() {})
	if cfg.ConnConfig.ConnectTimeout == 0 {
		pingCtx, cancel = context.WithTimeout(ctx, connectTimeout)
		cfg.ConnConfig.ConnectTimeout = dialTimeout
	}
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", settingName, err)
	}
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: cannot reach PostgreSQL database %s: %w", settingName, where(cfg.ConnConfig), err)
	}
	if err := migratePostgres(ctx, cfg.ConnConfig); err != nil {
		pool.Close()
		return nil, fmt.Errorf("PostgreSQL database %s: %w", where(cfg.ConnConfig), err)
	}
	return &Postgres{pool: pgPool{pool}}, nil
}

// settingName is how errors name the configuration that holds the DSN.
const settingName = `database setting ("database" in the config file, SPARKPLANE_DATABASE)`

// where names a database for messages, without its password.
func where(c *pgx.ConnConfig) string {
	host := c.Host
	if !strings.HasPrefix(host, "/") {
		host += ":" + strconv.Itoa(int(c.Port))
	}
	return fmt.Sprintf("%q as user %q on %s", c.Database, c.User, host)
}

// migratePostgres applies, in order, every embedded migration not yet in schema_migrations,
// each in its own transaction. It holds a session advisory lock throughout, on a connection of
// its own: a replica that starts while another migrates waits, then finds nothing left to do,
// and the lock goes with the connection if this process dies halfway.
func migratePostgres(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return fmt.Errorf("connect to migrate: %w", err)
	}
	// Closing ends the session, which releases the lock whatever happened; an error closing
	// it changes nothing for the migrations, which committed or not before.
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, pgMigrateLock); err != nil {
		return fmt.Errorf("wait for the migration lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	files, err := migrationsIn(pgMigrations, "migrations/postgres", newest)
	if err != nil {
		return err
	}
	for _, m := range files {
		version, base := m.version, m.name
		var applied bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, version).Scan(&applied); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if applied {
			continue
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: the simple protocol, which runs a file of several statements.
			if _, err := tx.Exec(ctx, string(m.body)); err != nil {
				return fmt.Errorf("apply migration %s: %w", base, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, version, base); err != nil {
				return fmt.Errorf("record migration %s: %w", base, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, pgMigrateLock); err != nil {
		return fmt.Errorf("release the migration lock: %w", err)
	}
	return nil
}

// Close closes the pool's connections, waiting for the queries in flight.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// Ping reports whether the server answers; the error wraps jobs.ErrUnavailable when it does
// not.
func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

// conn runs a write, fn, on a connection of the pool. The connection is waited for under ctx;
// once it is held, fn runs under a context of its own, bounded by writeTimeout: a caller that
// gives up (a client that disconnects) does not interrupt a write that may already have
// committed, and learns its real outcome, as SQLite's group commit does. An error that means
// the server is gone wraps jobs.ErrUnavailable, and jobs.ErrOutcomeUnknown too when the write
// may have committed (pgUnavailable).
func (p *Postgres) conn(ctx context.Context, fn func(ctx context.Context, c *pgxpool.Conn) error) error {
	c, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: acquire a connection: %w", p.pool.unavailable(err, false))
	}
	defer c.Release()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	return p.pool.unavailable(fn(wctx, c), true)
}

// tx runs fn in a transaction (see conn), committed when fn returns nil, rolled back otherwise.
// An error of fn itself is one before COMMIT: whatever happened to the connection, nothing
// was applied.
func (p *Postgres) tx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		return pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if err := fn(ctx, tx); err != nil {
				return &beforeCommit{err}
			}
			return nil
		})
	})
}

// uniqueViolation returns the constraint (index) a unique violation hit, or "" for any other
// error.
func uniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}

// pgTime is t as a timestamptz parameter: NULL when zero, else cut to whole microseconds (what
// PostgreSQL keeps, and what micros gives SQLite).
func pgTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return time.UnixMicro(micros(t)).UTC()
}

// fromPG is a nullable timestamptz as the cost types hold it: zero for NULL, else UTC.
func fromPG(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// pgQuery builds the WHERE clause, ORDER and LIMIT shared by every list, with numbered
// parameters.
type pgQuery struct {
	where []string
	args  []any
}

// arg adds a parameter and returns its placeholder.
func (q *pgQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *pgQuery) add(cond string) { q.where = append(q.where, cond) }

// The range of timestamptz, within which a nextToken's time is kept.
var (
	pgMinTime = time.Date(-4712, 1, 1, 0, 0, 0, 0, time.UTC)
	pgMaxTime = time.Date(294276, 1, 1, 0, 0, 0, 0, time.UTC)
)

func (q *pgQuery) time(f jobs.TimeFilter) error {
	if !f.CreatedAfter.IsZero() {
		q.add("created_at >= " + q.arg(pgTime(f.CreatedAfter)))
	}
	if !f.CreatedBefore.IsZero() {
		q.add("created_at <= " + q.arg(pgTime(f.CreatedBefore)))
	}
	if f.Token != "" {
		c, err := decodeCursor(f.Token)
		if err != nil {
			return err
		}
		// A position beyond the range of timestamptz is beyond every row, as it is in SQLite.
		at := time.UnixMicro(c.at).UTC()
		if at.Before(pgMinTime) {
			at = pgMinTime
		} else if at.After(pgMaxTime) {
			at = pgMaxTime
		}
		q.add("(created_at, id) < (" + q.arg(at) + "::timestamptz, " + q.arg(c.id) + "::text)")
	}
	return nil
}

// pgIn restricts column to values, when there are any.
func pgIn[T ~string](q *pgQuery, column string, values []T) {
	if len(values) == 0 {
		return
	}
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	q.add(column + " = ANY(" + q.arg(s) + "::text[])")
}

func (q *pgQuery) sql(table, columns string, limit int) string {
	stmt := "SELECT " + columns + " FROM " + table
	if len(q.where) > 0 {
		stmt += " WHERE " + strings.Join(q.where, " AND ")
	}
	return stmt + " ORDER BY created_at DESC, id DESC LIMIT " + q.arg(limit+1)
}

// pgList runs a list query of one doc column and decodes each doc into T; it returns the page
// and the next token.
func pgList[T any](ctx context.Context, p *Postgres, table string, q *pgQuery, limit int, decode func(doc []byte, extra ...any) (T, error), idOf func(T) (time.Time, string)) ([]T, string, error) {
	rows, err := p.pool.Query(ctx, q.sql(table, "doc", limit), q.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", table, err)
	}
	defer rows.Close()
	out, err := docs(rows, table, decode)
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, limit, idOf)
	return out, next, nil
}

// pgDoc reads one row's doc by id; lock takes the row lock (FOR UPDATE) within a transaction.
func pgDoc(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, table, kind, id string, lock bool) ([]byte, error) {
	stmt := "SELECT doc FROM " + table + " WHERE id = $1"
	if lock {
		stmt += " FOR UPDATE"
	}
	var doc []byte
	err := q.QueryRow(ctx, stmt, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, jobs.NotFoundError(kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", kind, id, err)
	}
	return doc, nil
}

// createOnce stores a new row unless its clientToken was already used in its scope. insert
// must end in ON CONFLICT (<the token's unique index>) DO NOTHING, so that of concurrent
// creates with one token exactly one inserts; when insert stored nothing, find reads the row
// that holds the token (its request hash, "" for none). A row that vanished in between (a
// deleted job template) is tried again. stored reports that find's row is the answer. An
// error of insert is returned as it is, for the caller to map.
func (p *Postgres) createOnce(ctx context.Context, token jobs.Idempotency, insert string, args []any,
	find func(ctx context.Context, c *pgxpool.Conn) (hash string, err error)) (stored bool, err error) {
	err = p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		for range 5 {
			tag, err := c.Exec(ctx, insert, args...)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				return nil
			}
			hash, err := find(ctx, c)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("look up clientToken: %w", err)
			}
			if hash != token.Hash {
				return jobs.ErrIdempotencyMismatch
			}
			stored = true
			return nil
		}
		return fmt.Errorf("clientToken %q: the resource holding it vanished five times while being read", token.Token)
	})
	return stored, err
}
