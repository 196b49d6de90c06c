package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxBatch bounds how many waiting writes share one transaction.
const maxBatch = 512

// SQLite is the SQLite implementation of jobs.Store. Close it when done.
type SQLite struct {
	write *sql.DB // one connection, used only by the writer goroutine
	read  *sql.DB
	// Statements of the hot write path, prepared once on the write connection: modernc's
	// SQLite parses a statement's text on every unprepared call.
	insertRun, insertEvent *sql.Stmt
	ops                    chan writeOp
	stop                   chan struct{}
	done                   chan struct{}
	once                   sync.Once
	// lock holds the exclusive lock on the database's lock file (lockDatabase) until Close.
	lock *os.File
}

var _ jobs.Store = (*SQLite)(nil)

type writeOp struct {
	fn     func(ctx context.Context, tx *sql.Tx) error
	result chan error
}

// Open opens (creating if needed) the SQLite database at path and applies pending migrations.
// It holds an exclusive lock on <path>.lock until Close: a second process (or a second Open in
// this one) on the same file is refused, since the group-commit writer assumes it is the
// database's only writer.
func Open(ctx context.Context, path string) (*SQLite, error) {
	lock, err := lockDatabase(path)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, path)
	if err != nil {
		_ = lock.Close() // releases the lock; the open error is the one to report
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// lockDatabase takes an exclusive, non-blocking flock on <path>.lock and writes this process's
// pid into it, for the message another process gets. The kernel releases the lock when the
// process ends, however it ends, so a crashed server leaves nothing to clean up.
func lockDatabase(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: open SQLite database %s: %w", settingName, path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, &InUseError{Path: path, PID: pid}
		}
		return nil, fmt.Errorf("%s: lock SQLite database %s: %w", settingName, name, err)
	}
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: write lock file %s: %w", settingName, name, err)
	}
	return f, nil
}

func open(ctx context.Context, path string) (*SQLite, error) {
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		if extra != "" {
			q.Add("_pragma", extra)
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn("")+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := &SQLite{write: w, read: r, ops: make(chan writeOp, maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	if s.insertRun, err = w.PrepareContext(ctx, insertJobRunSQL); err == nil {
		s.insertEvent, err = w.PrepareContext(ctx, insertAuditSQL)
	}
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("prepare statements: %w", err)
	}
	go s.writer()
	return s, nil
}

// migrate applies, in order, every embedded migration not yet in schema_migrations.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	files, err := migrationsIn(migrations, "migrations", newest)
	if err != nil {
		return err
	}
	for _, m := range files {
		version, base := m.version, m.name
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		if n > 0 {
			continue
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, string(m.body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("apply migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, version, base, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %s: %w", base, err)
		}
	}
	return nil
}

// Close stops the writer after the writes already queued and closes the database.
func (s *SQLite) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	err := errors.Join(s.read.Close(), s.write.Close())
	if cerr := s.lock.Close(); cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		err = errors.Join(err, cerr)
	}
	return err
}

var errClosed = errors.New("store is closed")

// Ping reports whether the database file can be read; the error wraps jobs.ErrUnavailable
// when SQLite could not (a failing disk).
func (s *SQLite) Ping(ctx context.Context) error {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
	return sqliteUnavailable(err, false)
}

// exec runs fn inside the next group-commit transaction and returns once it is durable. fn gets
// a context that is not cancelled with the caller's: an interrupted statement would make
// SQLite roll back the whole shared transaction, failing every other write of the batch.
func (s *SQLite) exec(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	op := writeOp{fn: fn, result: make(chan error, 1)}
	select {
	case s.ops <- op:
	case <-s.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the write will be attempted; wait for its outcome even if ctx ends, so a
	// caller never reports failure for a write that committed. A write queued just as the
	// writer stopped is never attempted: report the store closed rather than wait forever.
	select {
	case err := <-op.result:
		return err
	case <-s.done:
		select {
		case err := <-op.result:
			return err
		default:
			return errClosed
		}
	}
}

func (s *SQLite) writer() {
	defer close(s.done)
	batch := make([]writeOp, 0, maxBatch)
	for {
		select {
		case op := <-s.ops:
			batch = append(batch[:0], op)
		case <-s.stop:
			// Drain what was queued before Close.
			for {
				select {
				case op := <-s.ops:
					s.commit([]writeOp{op})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit runs a batch of writes in one transaction, each in its own savepoint.
func (s *SQLite) commit(batch []writeOp) {
	ctx := context.Background()
	results := make([]error, len(batch))
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		for _, op := range batch {
			op.result <- fmt.Errorf("begin transaction: %w", sqliteUnavailable(err, false))
		}
		return
	}
	for i, op := range batch {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			results[i] = fmt.Errorf("savepoint: %w", err)
			continue
		}
		if err := op.fn(ctx, tx); err != nil {
			// Rolled back to its savepoint: whatever failed, this write was not applied.
			results[i] = sqliteUnavailable(err, false)
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO w"); rerr != nil {
				results[i] = errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil && results[i] == nil {
			results[i] = fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("commit: %w", sqliteUnavailable(err, true))
			}
		}
	}
	for i, op := range batch {
		op.result <- results[i]
	}
}

// micros converts a time to the stored unix-microsecond form.
func micros(t time.Time) int64 { return t.UnixMicro() }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// cursor is the position after the last row of a page: (created_at, id) of that row.
type cursor struct {
	at int64
	id string
}

func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + ":" + id))
}

func decodeCursor(token string) (cursor, error) {
	bad := &jobs.ValidationError{Field: "nextToken", Rule: "is not a token returned by a previous call"}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return cursor{}, bad
	}
	at, id, ok := strings.Cut(string(raw), ":")
	if !ok || id == "" {
		return cursor{}, bad
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return cursor{}, bad
	}
	return cursor{at: n, id: id}, nil
}

// listQuery builds the WHERE clause, ORDER and LIMIT shared by every list.
type listQuery struct {
	where []string
	args  []any
}

func (q *listQuery) add(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

func (q *listQuery) time(f jobs.TimeFilter) error {
	if !f.CreatedAfter.IsZero() {
		q.add("created_at >= ?", micros(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		q.add("created_at <= ?", micros(f.CreatedBefore))
	}
	if f.Token != "" {
		c, err := decodeCursor(f.Token)
		if err != nil {
			return err
		}
		q.add("(created_at, id) < (?, ?)", c.at, c.id)
	}
	return nil
}

func in[T ~string](q *listQuery, column string, values []T) {
	if len(values) == 0 {
		return
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(values)), ",")
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = string(v)
	}
	q.add(column+" IN ("+marks+")", args...)
}

func (q *listQuery) sql(table, columns string, limit int) (string, []any) {
	stmt := "SELECT " + columns + " FROM " + table
	if len(q.where) > 0 {
		stmt += " WHERE " + strings.Join(q.where, " AND ")
	}
	stmt += " ORDER BY created_at DESC, id DESC LIMIT ?"
	return stmt, append(q.args, limit+1)
}

// list runs a list query and decodes each doc into T; it returns the page and next token.
func list[T any](ctx context.Context, db *sql.DB, table string, q *listQuery, limit int, decode func(doc []byte, extra ...any) (T, error), idOf func(T) (time.Time, string)) ([]T, string, error) {
	stmt, args := q.sql(table, "doc", limit)
	rows, err := db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", table, sqliteUnavailable(err, false))
	}
	defer rows.Close()
	out, err := docs(rows, table, decode)
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, limit, idOf)
	return out, next, nil
}

func decodeJSON[T any](kind string) func([]byte, ...any) (T, error) {
	return func(doc []byte, _ ...any) (T, error) {
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return v, fmt.Errorf("decode stored %s: %w", kind, err)
		}
		return v, nil
	}
}

// getDoc reads one row's doc by id from db or tx.
func getDoc(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, table, kind, id string) ([]byte, error) {
	var doc []byte
	err := q.QueryRowContext(ctx, "SELECT doc FROM "+table+" WHERE id = ?", id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, jobs.NotFoundError(kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", kind, id, sqliteUnavailable(err, false))
	}
	return doc, nil
}

// byToken looks up the doc already stored for a clientToken; ok is false when there is none.
// A different request hash is ErrIdempotencyMismatch.
func byToken(ctx context.Context, tx *sql.Tx, table, scopeCond string, args []any, token jobs.Idempotency) (doc []byte, ok bool, err error) {
	if token.Token == "" {
		return nil, false, nil
	}
	var hash sql.NullString
	stmt := "SELECT doc, request_hash FROM " + table + " WHERE client_token = ?" + scopeCond
	err = tx.QueryRowContext(ctx, stmt, append([]any{token.Token}, args...)...).Scan(&doc, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("look up clientToken in %s: %w", table, err)
	}
	if hash.String != token.Hash {
		return nil, false, jobs.ErrIdempotencyMismatch
	}
	return doc, true, nil
}
