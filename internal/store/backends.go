// What the SQLite and PostgreSQL stores share: reading rows, paging, migration files.

package store

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// page keeps the first limit rows of a list query, which asks for limit+1, and when there was
// one more returns the nextToken of the page after them. limit <= 0 keeps every row.
func page[T any](out []T, limit int, key func(T) (time.Time, string)) ([]T, string) {
	if limit <= 0 || len(out) <= limit {
		return out, ""
	}
	out = out[:limit]
	at, id := key(out[limit-1])
	return out, encodeCursor(micros(at), id)
}

// docs decodes the doc column of every row of a list query on table.
func docs[T any](rows rowIterator, table string, decode func(doc []byte, extra ...any) (T, error)) ([]T, error) {
	return collect(rows, func(row rowScanner) (T, error) {
		var doc []byte
		if err := row.Scan(&doc); err != nil {
			var zero T
			return zero, err
		}
		return decode(doc)
	}, "list "+table)
}

// jobRunKey is what a job run page is ordered by.
func jobRunKey(r jobs.JobRun) (time.Time, string) { return r.CreatedAt, r.ID }

// migration is one embedded migration file: its version (the number its name starts with),
// its file name, and its body.
type migration struct {
	version int
	name    string
	body    []byte
}

// migrationsIn reads the *.sql files of dir in fsys in version order, and refuses a database
// whose newest applied version (newest) is beyond them: a newer sparkplane migrated it, and
// this binary would read and write rows whose shape it does not know.
func migrationsIn(fsys fs.FS, dir string, newest int) ([]migration, error) {
	paths, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(paths)
	out := make([]migration, 0, len(paths))
	for _, path := range paths {
		name := strings.TrimPrefix(path, dir+"/")
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number: %w", name, err)
		}
		body, err := fs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, migration{version: version, name: name, body: body})
	}
	if known := len(out); known > 0 && newest > out[known-1].version {
		return nil, fmt.Errorf("the database's schema is at version %d, newer than this sparkplane knows (%d): run the newer sparkplane that migrated it, or restore a backup taken before", newest, out[known-1].version)
	}
	return out, nil
}

// rowIterator is what *sql.Rows and pgx.Rows share.
type rowIterator interface {
	rowScanner
	Next() bool
	Err() error
}

// collect scans every row with scan; errors say what was being read.
func collect[T any](rows rowIterator, scan func(rowScanner) (T, error), what string) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// auditCursor reads the nextToken of ListAudit: the last sequence number returned.
func auditCursor(token string) (int64, error) {
	if token == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(token, 10, 64)
	if err != nil || n < 0 {
		return 0, &jobs.ValidationError{Field: "nextToken", Rule: "is not a token this server handed out"}
	}
	return n, nil
}

// auditPage cuts a page of limit+1 events to limit and returns the cursor of the next page.
func auditPage(events []audit.Event, limit int) ([]audit.Event, string) {
	if len(events) <= limit {
		return events, ""
	}
	events = events[:limit]
	return events, strconv.FormatInt(events[limit-1].Seq, 10)
}
