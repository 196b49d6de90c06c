// Moving an installation from SQLite to PostgreSQL (sparkplane store migrate): every table
// copied in one PostgreSQL transaction, compared row by row with the source before it
// commits.

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// SQLiteSource is a SQLite database opened to be copied: locked as a server locks it, so no
// server runs on it or starts on it until Close, and read only.
type SQLiteSource struct {
	// Path is the database file.
	Path string
	// Version is the schema version it is at, this sparkplane's newest.
	Version int

	db   *sql.DB
	lock *os.File
}

// OpenSQLiteSource opens the SQLite database at path for copying. It refuses a file that does
// not exist (rather than create an empty database), a database another process holds (a
// server: stop it first), one that is not sparkplane's, and one whose schema is not this
// sparkplane's newest: its columns would not be the ones this binary copies.
func OpenSQLiteSource(ctx context.Context, path string) (*SQLiteSource, error) {
	if err := sqliteFileExists(path); err != nil {
		return nil, err
	}
	lock, err := lockDatabase(path)
	var inUse *InUseError
	if errors.As(err, &inUse) {
		return nil, fmt.Errorf("SQLite database %s is in use by sparkplane process %s (a server, or another store command): stop it first, so that nothing writes to the database while it is copied", path, inUse.PID)
	}
	if err != nil {
		return nil, err
	}
	src := &SQLiteSource{Path: path, lock: lock}
	// Not mode=ro: a database a crashed server left with its -wal file is recovered on open,
	// which a read-only connection cannot do. query_only keeps this connection from writing.
	src.db, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err == nil {
		src.Version, err = sqliteSchemaVersion(ctx, src.db, path)
	}
	if err != nil {
		return nil, errors.Join(err, src.Close())
	}
	return src, nil
}

// sqliteFileExists refuses a path that holds no file: opening it would create an empty
// database.
func sqliteFileExists(path string) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no SQLite database at %s", path)
	case err != nil:
		return fmt.Errorf("SQLite database %s: %w", path, err)
	case info.IsDir():
		return fmt.Errorf("%s is a directory, not a SQLite database file", path)
	}
	return nil
}

// sqliteSchemaVersion reads the schema version of a sparkplane SQLite database and refuses
// any but this binary's newest.
func sqliteSchemaVersion(ctx context.Context, db *sql.DB, path string) (int, error) {
	var version int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return 0, fmt.Errorf("%s is not a sparkplane SQLite database: %w", path, err)
	}
	files, err := migrationsIn(migrations, "migrations", version)
	if err != nil {
		return 0, fmt.Errorf("SQLite database %s: %w", path, err)
	}
	if newest := files[len(files)-1].version; version != newest {
		return 0, fmt.Errorf("SQLite database %s is at schema version %d, this sparkplane's is %d: start this sparkplane's server on it once (it applies its migrations at start), stop it, then copy it", path, version, newest)
	}
	return version, nil
}

// Close closes the database and releases its lock.
func (s *SQLiteSource) Close() error {
	var err error
	if s.db != nil {
		err = s.db.Close()
	}
	return errors.Join(err, s.lock.Close())
}

// PostgresTarget is a connection to the PostgreSQL database store migrate copies into.
type PostgresTarget struct {
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
}

// CheckPostgresURL says what is wrong with a URL of a PostgreSQL database, without
// connecting: it is not a postgres:// or postgresql:// URL, or it does not parse.
func CheckPostgresURL(url string) error {
	_, err := parsePostgresURL(url)
	return err
}

func parsePostgresURL(url string) (*pgx.ConnConfig, error) {
	if !IsPostgresURL(url) {
		return nil, errors.New("want a postgres:// URL (postgres://user@host:5432/dbname?sslmode=...)")
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx masks the password in what it quotes of the URL.
		return nil, fmt.Errorf("malformed PostgreSQL URL: %w", err)
	}
	return cfg, nil
}

// ConnectPostgresTarget connects to the database a postgres:// or postgresql:// URL names.
// Its errors name the database without the password.
func ConnectPostgresTarget(ctx context.Context, url string) (*PostgresTarget, error) {
	cfg, err := parsePostgresURL(url)
	if err != nil {
		return nil, err
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "sparkplane-store-migrate"
	}
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if cfg.ConnectTimeout == 0 {
		cctx, cancel = context.WithTimeout(ctx, connectTimeout)
	}
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot reach PostgreSQL database %s: %w", where(cfg), err)
	}
	return &PostgresTarget{cfg: cfg, conn: conn}, nil
}

// String names the database for messages, without the password.
func (t *PostgresTarget) String() string { return "PostgreSQL database " + where(t.cfg) }

// Close ends the connection.
func (t *PostgresTarget) Close() error { return t.conn.Close(context.Background()) }

// CopyOptions tune CopyToPostgres.
type CopyOptions struct {
	// BatchSize is how many rows each COPY sends (default 5000).
	BatchSize int
	// Progress, when set, is called after each batch with the rows of table copied so far.
	Progress func(table string, copied int64)

	// beforeVerify runs between the copy and the verification, in the copy's transaction: a
	// test tampers with the copy there.
	beforeVerify func(ctx context.Context, tx pgx.Tx) error
}

// TableResult is what CopyToPostgres found of one table.
type TableResult struct {
	Table string
	// SourceRows and TargetRows are the table's rows in SQLite and in PostgreSQL.
	SourceRows, TargetRows int64
	// SourceSum and TargetSum are the hex SHA-256 of each side's rows in a canonical form
	// (every column; text, JSON and bytes as their bytes, times as unix microseconds), in
	// primary key order.
	SourceSum, TargetSum string
	// Problem says how the sides differ ("" when they are equal): how many rows, and the
	// first of them by its key and column.
	Problem string
}

// CopyReport is what CopyToPostgres did.
type CopyReport struct {
	// SourceVersion and TargetVersion are the schema versions of the two databases (each has
	// its own numbering).
	SourceVersion, TargetVersion int
	// Tables are the tables in the order they were copied.
	Tables []TableResult
	// NextAuditSeq is the seq the next audit event gets in PostgreSQL: one past the highest
	// SQLite ever gave out, pruned events included.
	NextAuditSeq int64
	// Copy and Verify are the time spent copying and comparing.
	Copy, Verify time.Duration
	// Committed reports that the copy was committed.
	Committed bool
	// AnalyzeErr is the error of the ANALYZE run after the commit, for the planner's
	// statistics: the copy stands, and autovacuum analyzes later.
	AnalyzeErr error
}

// NotEmptyError says that the target already holds sparkplane data: copying into it would mix
// two installations, and their ids, sequences and clientTokens could collide.
type NotEmptyError struct {
	Target string
	Tables []TableResult // TargetRows: the tables that hold rows
}

func (e *NotEmptyError) Error() string {
	parts := make([]string, len(e.Tables))
	for i, t := range e.Tables {
		parts[i] = fmt.Sprintf("%s: %d rows", t.Table, t.TargetRows)
		if t.TargetRows == 1 {
			parts[i] = t.Table + ": 1 row"
		}
	}
	return fmt.Sprintf("%s already holds sparkplane data (%s): store migrate copies into an empty database only; create a new database for it, or drop this one and create it again if its data is not wanted",
		e.Target, strings.Join(parts, ", "))
}

// MismatchError says that the copy in PostgreSQL differs from the SQLite database; nothing was
// committed.
type MismatchError struct {
	Tables []TableResult // the tables that differ
}

func (e *MismatchError) Error() string {
	parts := make([]string, len(e.Tables))
	for i, t := range e.Tables {
		parts[i] = t.Table + ": " + t.Problem
	}
	return "verification failed, nothing was committed: " + strings.Join(parts, "; ")
}

// lockTimeout bounds the wait for the target's tables: a server running on the target holds
// them only for moments, but one stuck in a transaction would hold the copy forever.
const lockTimeout = "10s"

// CopyToPostgres copies every table of src into dst and verifies the copy, in one PostgreSQL
// transaction:
//
//  1. it refuses a target that holds sparkplane data (NotEmptyError), then applies the
//     target's migrations (the server's own code) and checks that both schemas have the
//     columns it copies;
//  2. it locks the target's tables (a server started on the target meanwhile waits), checks
//     again that they are empty, and copies each table in order (copiedTables) with COPY in
//     batches, every column as it is: ids, versions, timestamps to the microsecond, JSON
//     documents byte for byte, sealed secrets, clientTokens and their request hashes, queue
//     admission;
//  3. it sets the audit log's sequence past the highest seq SQLite gave out;
//  4. it reads every table back from both sides in primary key order and compares the rows and
//     their counts, and a SHA-256 of each side; on any difference it rolls back
//     (MismatchError), so the target stays empty and the copy can be run again.
//
// The source is read in one snapshot, which its lock keeps still anyway.
func CopyToPostgres(ctx context.Context, src *SQLiteSource, dst *PostgresTarget, opts CopyOptions) (CopyReport, error) {
	report := CopyReport{SourceVersion: src.Version}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if err := dst.refuseData(ctx, dst.conn); err != nil {
		return report, err
	}
	if err := migratePostgres(ctx, dst.cfg); err != nil {
		return report, fmt.Errorf("%s: %w", dst, err)
	}
	if err := dst.conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&report.TargetVersion); err != nil {
		return report, fmt.Errorf("%s: read schema_migrations: %w", dst, err)
	}
	if err := checkColumns(ctx, src, dst); err != nil {
		return report, err
	}

	tx, err := dst.conn.Begin(ctx)
	if err != nil {
		return report, fmt.Errorf("%s: begin: %w", dst, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // nothing to undo after a commit
	names := make([]string, len(copiedTables))
	for i, t := range copiedTables {
		names[i] = t.name
	}
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+lockTimeout+`'`); err != nil {
		return report, fmt.Errorf("%s: %w", dst, err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		return report, fmt.Errorf("%s: lock its tables (is a sparkplane server running on it? stop it first): %w", dst, err)
	}
	if err := dst.refuseData(ctx, tx); err != nil {
		return report, err
	}

	stx, err := src.db.BeginTx(ctx, nil)
	if err != nil {
		return report, fmt.Errorf("SQLite database %s: begin: %w", src.Path, err)
	}
	defer stx.Rollback()

	start := time.Now()
	for _, t := range copiedTables {
		if err := copyTable(ctx, stx, tx, t, opts); err != nil {
			return report, err
		}
	}
	if report.NextAuditSeq, err = copyAuditSeq(ctx, stx, tx); err != nil {
		return report, err
	}
	report.Copy = time.Since(start)

	if opts.beforeVerify != nil {
		if err := opts.beforeVerify(ctx, tx); err != nil {
			return report, err
		}
	}
	start = time.Now()
	var differ []TableResult
	for _, t := range copiedTables {
		res, err := verifyTable(ctx, stx, tx, t)
		if err != nil {
			return report, err
		}
		report.Tables = append(report.Tables, res)
		if res.Problem != "" {
			differ = append(differ, res)
		}
	}
	report.Verify = time.Since(start)
	if len(differ) > 0 {
		return report, &MismatchError{Tables: differ}
	}
	if err := tx.Commit(ctx); err != nil {
		return report, fmt.Errorf("%s: commit the copy: %w", dst, err)
	}
	report.Committed = true
	// The planner's statistics, so the first queries on the new database are planned as on
	// one autovacuum has seen.
	if _, err := dst.conn.Exec(ctx, `ANALYZE `+strings.Join(names, ", ")); err != nil {
		report.AnalyzeErr = fmt.Errorf("%s: analyze: %w", dst, err)
	}
	return report, nil
}

// pgQuerier is what a pgx connection and a transaction share.
type pgQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// refuseData returns a NotEmptyError when a sparkplane table of the target holds a row.
// Tables that do not exist yet are empty.
func (t *PostgresTarget) refuseData(ctx context.Context, q pgQuerier) error {
	var full []TableResult
	for _, spec := range copiedTables {
		var exists bool
		if err := q.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, spec.name).Scan(&exists); err != nil {
			return fmt.Errorf("%s: look for table %s: %w", t, spec.name, err)
		}
		if !exists {
			continue
		}
		var n int64
		if err := q.QueryRow(ctx, `SELECT count(*) FROM `+spec.name).Scan(&n); err != nil {
			return fmt.Errorf("%s: count the rows of %s: %w", t, spec.name, err)
		}
		if n > 0 {
			full = append(full, TableResult{Table: spec.name, TargetRows: n})
		}
	}
	if len(full) > 0 {
		return &NotEmptyError{Target: t.String(), Tables: full}
	}
	return nil
}

// checkColumns makes sure both databases have exactly the tables and columns copiedTables
// names, so that no column is left behind: a migration that adds one without teaching
// copiedTables about it fails here, not silently.
func checkColumns(ctx context.Context, src *SQLiteSource, dst *PostgresTarget) error {
	known := map[string]bool{"schema_migrations": true}
	for _, t := range copiedTables {
		known[t.name] = true
		var sqliteCols, pgCols []string
		rows, err := src.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t.name)
		if err == nil {
			sqliteCols, err = collect(rows, func(r rowScanner) (s string, err error) { return s, r.Scan(&s) }, "read columns")
			rows.Close()
		}
		if err != nil {
			return fmt.Errorf("SQLite database %s: table %s: %w", src.Path, t.name, err)
		}
		prows, err := dst.conn.Query(ctx, `SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, t.name)
		if err == nil {
			pgCols, err = pgx.CollectRows(prows, pgx.RowTo[string])
		}
		if err != nil {
			return fmt.Errorf("%s: table %s: %w", dst, t.name, err)
		}
		var wantSQLite, wantPG []string
		for _, c := range t.columns {
			wantSQLite, wantPG = append(wantSQLite, c.sqliteName()), append(wantPG, c.name)
		}
		if err := sameColumns("SQLite", t.name, sqliteCols, wantSQLite); err != nil {
			return err
		}
		if err := sameColumns("PostgreSQL", t.name, pgCols, wantPG); err != nil {
			return err
		}
	}
	rows, err := src.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return fmt.Errorf("SQLite database %s: list tables: %w", src.Path, err)
	}
	defer rows.Close()
	tables, err := collect(rows, func(r rowScanner) (s string, err error) { return s, r.Scan(&s) }, "list tables")
	if err != nil {
		return fmt.Errorf("SQLite database %s: %w", src.Path, err)
	}
	for _, name := range tables {
		if !known[name] {
			return fmt.Errorf("SQLite table %s is not one store migrate copies: this sparkplane's copy is out of date with its schema (a bug); nothing was copied", name)
		}
	}
	return nil
}

func sameColumns(side, table string, have, want []string) error {
	slices.Sort(have)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(have, want) {
		return fmt.Errorf("%s table %s has columns %s, store migrate copies %s: this sparkplane's copy is out of date with its schema (a bug); nothing was copied",
			side, table, strings.Join(have, ", "), strings.Join(want, ", "))
	}
	return nil
}

// copyTable copies every row of t from the SQLite transaction into the PostgreSQL one, one
// COPY per batch.
func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, t tableSpec, opts CopyOptions) error {
	rows, err := src.QueryContext(ctx, `SELECT `+t.sqliteSelect()+` FROM `+t.name)
	if err != nil {
		return fmt.Errorf("read SQLite table %s: %w", t.name, err)
	}
	defer rows.Close()
	scanner, row := newSQLiteScanner(t), make([]cell, len(t.columns))
	batch := make([][]any, 0, opts.BatchSize)
	var copied int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := dst.CopyFrom(ctx, pgx.Identifier{t.name}, t.pgColumns(), pgx.CopyFromRows(batch)); err != nil {
			return fmt.Errorf("copy %s into PostgreSQL (rows %d to %d): %w", t.name, copied+1, copied+int64(len(batch)), err)
		}
		copied += int64(len(batch))
		batch = batch[:0]
		if opts.Progress != nil {
			opts.Progress(t.name, copied)
		}
		return nil
	}
	for rows.Next() {
		if err := scanner.scan(rows, row); err != nil {
			return fmt.Errorf("read SQLite table %s: %w", t.name, err)
		}
		values := make([]any, len(row))
		for i, c := range t.columns {
			values[i] = row[i].pgValue(c.kind)
		}
		batch = append(batch, values)
		if len(batch) == opts.BatchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read SQLite table %s: %w", t.name, err)
	}
	if err := flush(); err != nil {
		return err
	}
	if copied == 0 && opts.Progress != nil {
		opts.Progress(t.name, 0)
	}
	return nil
}

// copyAuditSeq sets the target's audit_events sequence to the highest seq SQLite gave out:
// SQLite's AUTOINCREMENT never reuses one, pruned events' included, and neither may
// PostgreSQL, or a client's nextToken (the last seq it read) would skip new events. It
// returns the seq the next event gets.
func copyAuditSeq(ctx context.Context, src *sql.Tx, dst pgx.Tx) (int64, error) {
	// sqlite_sequence exists: SQLite creates it with the first AUTOINCREMENT table,
	// audit_events (migration 0004).
	var last int64
	if err := src.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(seq) FROM audit_events), 0),
		coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'), 0))`).Scan(&last); err != nil {
		return 0, fmt.Errorf("read SQLite's audit sequence: %w", err)
	}
	if last == 0 {
		return 1, nil
	}
	if _, err := dst.Exec(ctx, `SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), $1)`, last); err != nil {
		return 0, fmt.Errorf("set PostgreSQL's audit sequence to %d: %w", last, err)
	}
	return last + 1, nil
}

// verifyTable reads t from both sides in primary key order and compares them row by row.
func verifyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, t tableSpec) (TableResult, error) {
	res := TableResult{Table: t.name}
	srows, err := src.QueryContext(ctx, `SELECT `+t.sqliteSelect()+` FROM `+t.name+` ORDER BY `+t.sqliteOrder())
	if err != nil {
		return res, fmt.Errorf("verify: read SQLite table %s: %w", t.name, err)
	}
	defer srows.Close()
	drows, err := dst.Query(ctx, `SELECT `+strings.Join(t.pgColumns(), ", ")+` FROM `+t.name+` ORDER BY `+t.pgOrder())
	if err != nil {
		return res, fmt.Errorf("verify: read PostgreSQL table %s: %w", t.name, err)
	}
	defer drows.Close()

	sscan, dscan := newSQLiteScanner(t), newPGScanner(t)
	s, d := make([]cell, len(t.columns)), make([]cell, len(t.columns))
	nextS := func() (bool, error) {
		if !srows.Next() {
			return false, srows.Err()
		}
		return true, sscan.scan(srows, s)
	}
	nextD := func() (bool, error) {
		if !drows.Next() {
			return false, drows.Err()
		}
		return true, dscan.scan(drows, d)
	}
	sh, dh := sha256.New(), sha256.New()
	var buf []byte
	add := func(h hash.Hash, row []cell, n *int64) {
		buf = t.encode(buf[:0], row)
		h.Write(buf)
		*n++
	}
	var differing int64
	var first string
	note := func(msg string) {
		if differing++; first == "" {
			first = msg
		}
	}
	hasS, err := nextS()
	if err != nil {
		return res, fmt.Errorf("verify: read SQLite table %s: %w", t.name, err)
	}
	hasD, err := nextD()
	if err != nil {
		return res, fmt.Errorf("verify: read PostgreSQL table %s: %w", t.name, err)
	}
	for hasS || hasD {
		order := 0
		switch {
		case !hasD:
			order = -1
		case !hasS:
			order = 1
		default:
			order = t.compareKeys(s, d)
		}
		if order == 0 {
			for i, c := range t.columns {
				if !s[i].equal(d[i]) {
					note(fmt.Sprintf("row %s: column %s differs", t.describeKey(s), c.name))
					break
				}
			}
		} else if order < 0 {
			note(fmt.Sprintf("row %s is missing from PostgreSQL", t.describeKey(s)))
		} else {
			note(fmt.Sprintf("row %s is in PostgreSQL only", t.describeKey(d)))
		}
		if order <= 0 {
			add(sh, s, &res.SourceRows)
			if hasS, err = nextS(); err != nil {
				return res, fmt.Errorf("verify: read SQLite table %s: %w", t.name, err)
			}
		}
		if order >= 0 {
			add(dh, d, &res.TargetRows)
			if hasD, err = nextD(); err != nil {
				return res, fmt.Errorf("verify: read PostgreSQL table %s: %w", t.name, err)
			}
		}
	}
	res.SourceSum, res.TargetSum = hex.EncodeToString(sh.Sum(nil)), hex.EncodeToString(dh.Sum(nil))
	switch {
	case differing > 0:
		res.Problem = fmt.Sprintf("%d rows differ, the first: %s", differing, first)
		if differing == 1 {
			res.Problem = first
		}
		if res.SourceRows != res.TargetRows {
			res.Problem = fmt.Sprintf("%d rows in SQLite, %d in PostgreSQL; %s", res.SourceRows, res.TargetRows, res.Problem)
		}
	case res.SourceSum != res.TargetSum:
		// Rows compare equal cell by cell but not as encoded: the comparison itself is wrong.
		res.Problem = "the checksums differ"
	}
	return res, nil
}
