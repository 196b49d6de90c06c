// How the stores tell a database that is unavailable from any other failure: such errors
// wrap jobs.ErrUnavailable (and jobs.ErrOutcomeUnknown when a write may have committed), so
// the API answers 503 and the controller pauses, whatever the backend.

package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// unavailableError is a store error that means the database could not be reached or went
// away. It keeps the error it marks in its chain, so callers still find a *pgconn.PgError or
// a context error in it.
type unavailableError struct {
	err error
	// unknown: the connection was lost after a write was sent and before its commit was
	// confirmed.
	unknown bool
}

func (e *unavailableError) Error() string { return e.err.Error() }

func (e *unavailableError) Unwrap() []error {
	if e.unknown {
		return []error{jobs.ErrUnavailable, jobs.ErrOutcomeUnknown, e.err}
	}
	return []error{jobs.ErrUnavailable, e.err}
}

// beforeCommit marks an error of a transaction's body: whatever it was, the transaction did
// not commit (PostgreSQL aborts a transaction whose connection is lost), so the write was not
// applied.
type beforeCommit struct{ err error }

func (e *beforeCommit) Error() string { return e.err.Error() }
func (e *beforeCommit) Unwrap() error { return e.err }

// pgUnavailable marks err when it means the PostgreSQL server could not be reached or went
// away. write says that err ends a write (a statement that commits by itself, or a COMMIT):
// a connection lost after such a statement was sent leaves its outcome unknown, unless the
// error says nothing was sent or the statement ran inside a transaction that had not reached
// its COMMIT (beforeCommit). Any other error is returned as it is.
func pgUnavailable(err error, write bool) error {
	if err == nil || errors.Is(err, jobs.ErrUnavailable) {
		return err
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		// No connection: refused, timed out, or turned away by the server (starting up, no
		// slot left, a login it refuses); the server log says which.
		return &unavailableError{err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// The server answered the statement with an error: it did not apply it.
		if pgUnavailableCode(pgErr.Code) {
			return &unavailableError{err: err}
		}
		return err
	}
	if pgconn.SafeToRetry(err) {
		// A connection that failed before anything was sent on it ("conn closed").
		return &unavailableError{err: err}
	}
	if !lostConnection(err) {
		return err
	}
	var before *beforeCommit
	return &unavailableError{err: err, unknown: write && !errors.As(err, &before)}
}

// pgUnavailableCode reports whether a PostgreSQL error code means the server cannot serve
// now: a connection exception (class 08), the server shutting down (57P01 admin_shutdown,
// 57P02 crash_shutdown), starting up or recovering (57P03 cannot_connect_now), or no
// connection slot left (53300 too_many_connections).
func pgUnavailableCode(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	}
	return strings.HasPrefix(code, "08")
}

// lostConnection reports whether err is a connection that failed or timed out in the middle of
// a call: end of stream, reset, broken pipe, a network timeout, a statement cut off by the
// store's own deadline (writeTimeout).
func lostConnection(err error) bool {
	var netErr net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &netErr):
		return true
	case pgconn.Timeout(err):
		return true
	}
	return false
}

// pgPool is the connection pool with its errors classified (unavailable): reads through
// Query, QueryRow and Exec return errors that wrap jobs.ErrUnavailable when the server is
// gone. Everything else is pgxpool's.
type pgPool struct{ *pgxpool.Pool }

// unavailable classifies err (pgUnavailable) and, when it says the connections to the server
// were lost (a crash, a restart, a network cut), empties the pool: its other connections went
// the same way, and a call that picked one up after the server is back would fail for nothing.
// Connections in use are closed when they are released.
func (p pgPool) unavailable(err error, write bool) error {
	err = pgUnavailable(err, write)
	if errors.Is(err, jobs.ErrUnavailable) && !tooManyConnections(err) {
		p.Reset()
	}
	return err
}

// tooManyConnections: the server refused a new connection for want of slots; the ones the
// pool holds are fine.
func tooManyConnections(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53300"
}

func (p pgPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := p.Pool.Query(ctx, sql, args...)
	if err != nil {
		return rows, p.unavailable(err, false)
	}
	return pgRows{rows, p}, nil
}

func (p pgPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return pgRow{p.Pool.QueryRow(ctx, sql, args...), p}
}

func (p pgPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.Pool.Exec(ctx, sql, args...)
	return tag, p.unavailable(err, false)
}

// Ping reports whether the server answers, acquiring a connection (a new one when the pooled
// ones went away with the server) and sending it an empty statement.
func (p pgPool) Ping(ctx context.Context) error { return p.unavailable(p.Pool.Ping(ctx), false) }

type pgRows struct {
	pgx.Rows
	pool pgPool
}

func (r pgRows) Err() error { return r.pool.unavailable(r.Rows.Err(), false) }

func (r pgRows) Scan(dest ...any) error { return r.pool.unavailable(r.Rows.Scan(dest...), false) }

type pgRow struct {
	pgx.Row
	pool pgPool
}

func (r pgRow) Scan(dest ...any) error { return r.pool.unavailable(r.Row.Scan(dest...), false) }

// sqliteUnavailable marks err when SQLite could not do the work for now: the database stayed
// locked beyond the busy timeout (SQLITE_BUSY), or the disk failed or filled up (SQLITE_IOERR,
// SQLITE_FULL, SQLITE_CANTOPEN). committing says err came from the COMMIT of the group
// transaction: an I/O error there may leave the transaction in the write-ahead log, to be
// found committed when the database is next opened, so its outcome is unknown.
func sqliteUnavailable(err error, committing bool) error {
	if err == nil || errors.Is(err, jobs.ErrUnavailable) {
		return err
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY:
		// Nothing was written: the transaction could not take the lock.
		return &unavailableError{err: err}
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
		return &unavailableError{err: err, unknown: committing}
	}
	return err
}
