// Online backups of a SQLite database (sparkplane store backup).

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
)

// TableCount is the number of rows of one table.
type TableCount struct {
	Table string
	Rows  int64
}

// BackupReport is what BackupSQLite wrote.
type BackupReport struct {
	// Path is the backup file, Bytes its size.
	Path  string
	Bytes int64
	// SchemaVersion is the database's schema version, which the backup keeps.
	SchemaVersion int
	// Tables are the rows of every table, in name order: the database's at the moment of the
	// backup, which the backup was checked to hold.
	Tables []TableCount
	// Elapsed is the time the whole backup took, Snapshot the time the database's snapshot
	// was held open (counting and copying its pages).
	Elapsed, Snapshot time.Duration
}

// BackupOptions tune BackupSQLite.
type BackupOptions struct {
	// afterSnapshot runs once the snapshot is taken and counted, before its pages are copied:
	// a test writes to the database there.
	afterSnapshot func()
}

// BackupSQLite writes a consistent copy of the SQLite database at database to the file to,
// while a server may be using it. It neither takes the server's lock nor waits for it.
//
// It opens a read transaction on the database, counts every table's rows in it, and copies
// the database's pages from that same transaction with SQLite's online backup API
// (sqlite3_backup_step, all pages in one step), so the copy is exactly that snapshot: the
// writes committed before it began, none of those after. In WAL mode, which the server uses,
// the server's writes go on meanwhile; its checkpoints only wait to reuse the WAL until the
// snapshot ends.
//
// The copy is written to a temporary file beside to, switched to a rollback journal so the
// backup is one self-contained file, fsynced, then opened read-only and checked: PRAGMA
// integrity_check must answer ok, and every table must hold the rows counted in the snapshot.
// Only then is it renamed to to (and the directory fsynced), so to is either absent or a
// complete, checked backup. An existing to is refused, not overwritten.
func BackupSQLite(ctx context.Context, database, to string, opts BackupOptions) (BackupReport, error) {
	start := time.Now()
	report := BackupReport{Path: to}
	if err := sqliteFileExists(database); err != nil {
		return report, err
	}
	if _, err := os.Lstat(to); err == nil {
		return report, fmt.Errorf("%s exists; store backup does not overwrite a file: remove it or name another", to)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return report, fmt.Errorf("backup file %s: %w", to, err)
	}
	dir := filepath.Dir(to)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return report, fmt.Errorf("backup file %s: its directory %s does not exist", to, dir)
	}

	db, err := sql.Open("sqlite", "file:"+database+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return report, fmt.Errorf("open SQLite database %s: %w", database, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return report, fmt.Errorf("open SQLite database %s: %w", database, err)
	}
	defer conn.Close()

	// The snapshot begins at the first read after BEGIN, and ends with ROLLBACK (it wrote
	// nothing). The backup's pages come from the same connection, hence from the snapshot.
	if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
		return report, fmt.Errorf("SQLite database %s: begin: %w", database, err)
	}
	snapshot := time.Now()
	inSnapshot := true
	endSnapshot := func() error {
		if !inSnapshot {
			return nil
		}
		inSnapshot = false
		report.Snapshot = time.Since(snapshot)
		_, err := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	defer func() { _ = endSnapshot() }() // on a path that already failed: that error is the one to report
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&report.SchemaVersion); err != nil {
		return report, fmt.Errorf("%s is not a sparkplane SQLite database: %w", database, err)
	}
	if report.Tables, err = countTables(ctx, conn); err != nil {
		return report, fmt.Errorf("SQLite database %s: %w", database, err)
	}
	if opts.afterSnapshot != nil {
		opts.afterSnapshot()
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(to)+".tmp-*")
	if err != nil {
		return report, fmt.Errorf("backup file %s: %w", to, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			for _, p := range []string{tmpPath, tmpPath + "-journal", tmpPath + "-wal", tmpPath + "-shm"} {
				_ = os.Remove(p) // what is left of a backup that failed
			}
		}
	}()
	if err := copyPages(conn, tmpPath); err != nil {
		return report, fmt.Errorf("back up SQLite database %s: %w", database, err)
	}
	if err := endSnapshot(); err != nil {
		return report, fmt.Errorf("SQLite database %s: end the snapshot: %w", database, err)
	}
	if err := finishBackupFile(ctx, tmpPath, report.Tables); err != nil {
		return report, fmt.Errorf("backup of %s: %w", database, err)
	}
	if err := os.Rename(tmpPath, to); err != nil {
		return report, fmt.Errorf("backup file %s: %w", to, err)
	}
	done = true
	if err := syncPath(dir); err != nil {
		return report, fmt.Errorf("backup file %s: sync its directory: %w", to, err)
	}
	if info, err := os.Stat(to); err == nil {
		report.Bytes = info.Size()
	}
	report.Elapsed = time.Since(start)
	return report, nil
}

// countTables counts the rows of every table but SQLite's own, in name order.
func countTables(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]TableCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	names, err := collect(rows, func(r rowScanner) (s string, err error) { return s, r.Scan(&s) }, "list tables")
	rows.Close()
	if err != nil {
		return nil, err
	}
	out := make([]TableCount, len(names))
	for i, name := range names {
		out[i].Table = name
		rows, err := q.QueryContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(name, `"`, `""`)+`"`)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
		for rows.Next() {
			err = rows.Scan(&out[i].Rows)
		}
		err = errors.Join(err, rows.Err(), rows.Close())
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", name, err)
		}
	}
	return out, nil
}

// backuper is what modernc's connection offers for SQLite's online backup API.
type backuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// copyPages copies every page of conn's database into the file at path, in one step, from
// the read transaction conn holds.
func copyPages(conn *sql.Conn, path string) error {
	return conn.Raw(func(driverConn any) error {
		b, ok := driverConn.(backuper)
		if !ok {
			return fmt.Errorf("the SQLite driver's connection (%T) has no backup API", driverConn)
		}
		backup, err := b.NewBackup(path)
		if err != nil {
			return err
		}
		if _, err := backup.Step(-1); err != nil {
			return errors.Join(err, backup.Finish())
		}
		return backup.Finish()
	})
}

// finishBackupFile makes the copied file one self-contained database (rollback journal, no
// -wal beside it), fsyncs it, and checks it read-only: integrity_check answers ok and every
// table holds the rows want counts.
func finishBackupFile(ctx context.Context, path string, want []TableCount) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err == nil {
		var mode string
		err = db.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode)
		err = errors.Join(err, db.Close())
	}
	if err != nil {
		return fmt.Errorf("switch the copy to a rollback journal: %w", err)
	}
	if err := syncPath(path); err != nil {
		return fmt.Errorf("sync the copy: %w", err)
	}

	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("open the copy read-only: %w", err)
	}
	defer ro.Close()
	rows, err := ro.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity_check of the copy: %w", err)
	}
	problems, err := collect(rows, func(r rowScanner) (s string, err error) { return s, r.Scan(&s) }, "integrity_check of the copy")
	rows.Close()
	if err != nil {
		return err
	}
	if len(problems) != 1 || problems[0] != "ok" {
		if len(problems) > 5 {
			problems = append(problems[:5], "...")
		}
		return fmt.Errorf("integrity_check of the copy failed: %s", strings.Join(problems, "; "))
	}
	got, err := countTables(ctx, ro)
	if err != nil {
		return fmt.Errorf("the copy: %w", err)
	}
	if len(got) != len(want) {
		return fmt.Errorf("the copy has %d tables, the database had %d", len(got), len(want))
	}
	for i := range got {
		switch {
		case got[i].Table != want[i].Table:
			return fmt.Errorf("the copy has table %s where the database had %s", got[i].Table, want[i].Table)
		case got[i].Rows != want[i].Rows:
			return fmt.Errorf("table %s: the copy has %d rows, the database had %d when copied", want[i].Table, got[i].Rows, want[i].Rows)
		}
	}
	return nil
}

// syncPath fsyncs a file or a directory.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
