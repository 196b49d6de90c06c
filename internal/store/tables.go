// The tables of both schemas, column by column, as store migrate copies and compares them:
// how a value of each column reads from SQLite, how it writes into PostgreSQL, and the one
// canonical form both sides are compared in.

package store

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// colKind is how a column is stored on each side.
type colKind int

const (
	colText  colKind = iota // TEXT / text
	colInt                  // INTEGER / bigint or integer
	colTime                 // INTEGER unix microseconds / timestamptz
	colBool                 // INTEGER 0 or 1 / boolean
	colJSON                 // BLOB or TEXT holding JSON / json, kept byte for byte
	colBytes                // BLOB / bytea
)

// tableColumn is one column: its name in PostgreSQL, and in SQLite where that differs.
type tableColumn struct {
	name   string
	sqlite string
	kind   colKind
}

func (c tableColumn) sqliteName() string {
	if c.sqlite != "" {
		return c.sqlite
	}
	return c.name
}

// tableSpec is one table: its columns, the first key of which form its primary key.
type tableSpec struct {
	name    string
	key     int
	columns []tableColumn
}

func col(name string, kind colKind) tableColumn { return tableColumn{name: name, kind: kind} }

// Columns that every resource table shares.
var (
	idCol        = col("id", colText)
	createdAtCol = col("created_at", colTime)
	tokenCols    = []tableColumn{col("client_token", colText), col("request_hash", colText)}
	docCol       = col("doc", colJSON)
)

func cols(parts ...any) []tableColumn {
	var out []tableColumn
	for _, p := range parts {
		switch p := p.(type) {
		case tableColumn:
			out = append(out, p)
		case []tableColumn:
			out = append(out, p...)
		}
	}
	return out
}

// copiedTables are every table of both schemas but schema_migrations (each side records its
// own migrations), in the order they are copied: a table after those its rows refer to
// (job runs after their virtual clusters, pods after nodes, keys and policies after users,
// whose rows their foreign keys name). A test holds them to both schemas column by column,
// and store migrate checks them against both databases before it copies.
var copiedTables = []tableSpec{
	{name: "virtual_clusters", key: 1, columns: cols(idCol, createdAtCol, col("state", colText), col("provider_id", colText),
		col("provider_type", colText), col("namespace", colText), tokenCols, docCol, col("settings", colJSON))},
	{name: "job_runs", key: 1, columns: cols(idCol, col("virtual_cluster_id", colText), col("name", colText), col("state", colText),
		createdAtCol, col("version", colInt), tokenCols, docCol,
		// The typed jobs.Attempt: SQLite kept the column's first name (migration 0003).
		tableColumn{name: "attempt", sqlite: "extensions", kind: colJSON},
		col("admitted", colBool))},
	{name: "job_templates", key: 1, columns: cols(idCol, createdAtCol, tokenCols, docCol)},
	{name: "security_configurations", key: 1, columns: cols(idCol, createdAtCol, tokenCols, docCol)},
	{name: "cost_nodes", key: 2, columns: cols(col("cluster", colText), col("name", colText), col("uid", colText),
		col("instance_type", colText), col("capacity_type", colText), col("zone", colText), col("region", colText),
		col("price_label", colText), col("cpu_millis", colInt), col("memory_bytes", colInt),
		col("created_at", colTime), col("deleted_at", colTime))},
	{name: "cost_pods", key: 1, columns: cols(col("uid", colText), col("cluster", colText), col("namespace", colText),
		col("name", colText), col("job_run_id", colText), col("virtual_cluster_id", colText), col("role", colText),
		col("node_name", colText), col("cpu_millis", colInt), col("memory_bytes", colInt), col("cpu_usage_millis", colInt),
		col("memory_usage_bytes", colInt), col("started_at", colTime), col("ended_at", colTime), col("updated_at", colTime))},
	{name: "iam_users", key: 1, columns: cols(col("name", colText), col("id", colText), col("arn", colText), createdAtCol)},
	{name: "iam_access_keys", key: 1, columns: cols(idCol, col("user_name", colText), col("status", colText),
		col("secret", colBytes), createdAtCol)},
	{name: "iam_user_policies", key: 2, columns: cols(col("user_name", colText), col("name", colText),
		col("document", colText), col("updated_at", colTime))},
	{name: "audit_events", key: 1, columns: cols(col("seq", colInt), col("at", colTime), col("request_id", colText),
		col("principal", colText), col("access_key_id", colText), col("source", colText), col("action", colText),
		col("resource", colText), col("outcome", colText), col("error_code", colText), col("status", colInt))},
	{name: "console_sessions", key: 1, columns: cols(idCol, col("kind", colText), col("access_key_id", colText), createdAtCol,
		col("expires_at", colTime))},
}

// sqliteSelect is the column list of a SELECT of t in SQLite.
func (t tableSpec) sqliteSelect() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.sqliteName()
	}
	return strings.Join(names, ", ")
}

// pgColumns are t's column names in PostgreSQL.
func (t tableSpec) pgColumns() []string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return names
}

// sqliteOrder orders t by its primary key in SQLite: text by its bytes (the BINARY collation).
func (t tableSpec) sqliteOrder() string {
	names := make([]string, t.key)
	for i, c := range t.columns[:t.key] {
		names[i] = c.sqliteName()
	}
	return strings.Join(names, ", ")
}

// pgOrder orders t by its primary key in PostgreSQL in the same order as sqliteOrder: text
// COLLATE "C" compares bytes, whatever the database's locale.
func (t tableSpec) pgOrder() string {
	names := make([]string, t.key)
	for i, c := range t.columns[:t.key] {
		names[i] = c.name
		if c.kind == colText {
			names[i] += ` COLLATE "C"`
		}
	}
	return strings.Join(names, ", ")
}

// cell is one value of a column, as both sides are compared: text, JSON and bytes as their
// bytes, times as unix microseconds, booleans as 0 or 1.
type cell struct {
	null bool
	n    int64
	b    []byte
}

func (k colKind) numeric() bool { return k == colInt || k == colTime || k == colBool }

// pgValue is c as a parameter of kind k for PostgreSQL.
func (c cell) pgValue(k colKind) any {
	if c.null {
		return nil
	}
	switch k {
	case colText:
		return string(c.b)
	case colInt:
		return c.n
	case colTime:
		return time.UnixMicro(c.n).UTC()
	case colBool:
		return c.n != 0
	default:
		return c.b
	}
}

// appendTo appends c's canonical encoding: a tag (NULL, number, bytes), then the number as
// 8 bytes or the bytes after their length, so that no two different rows encode the same.
func (c cell) appendTo(buf []byte, k colKind) []byte {
	switch {
	case c.null:
		return append(buf, 0)
	case k.numeric():
		return binary.BigEndian.AppendUint64(append(buf, 1), uint64(c.n))
	default:
		buf = binary.AppendUvarint(append(buf, 2), uint64(len(c.b)))
		return append(buf, c.b...)
	}
}

func (c cell) equal(o cell) bool {
	return c.null == o.null && c.n == o.n && string(c.b) == string(o.b)
}

// compare orders two key cells of kind k as both databases order them.
func (c cell) compare(o cell, k colKind) int {
	switch {
	case c.null != o.null:
		if c.null {
			return -1
		}
		return 1
	case k.numeric():
		return cmpInt(c.n, o.n)
	default:
		return strings.Compare(string(c.b), string(o.b))
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// format shows a key cell in a message.
func (c cell) format(k colKind) string {
	switch {
	case c.null:
		return "NULL"
	case k.numeric():
		return fmt.Sprint(c.n)
	default:
		return fmt.Sprintf("%q", c.b)
	}
}

// describeKey names a row by its primary key, for messages: id="x", or cluster="c" name="n".
func (t tableSpec) describeKey(row []cell) string {
	parts := make([]string, t.key)
	for i, c := range t.columns[:t.key] {
		parts[i] = c.name + "=" + row[i].format(c.kind)
	}
	return strings.Join(parts, " ")
}

// compareKeys orders two rows of t by their primary keys.
func (t tableSpec) compareKeys(a, b []cell) int {
	for i, c := range t.columns[:t.key] {
		if n := a[i].compare(b[i], c.kind); n != 0 {
			return n
		}
	}
	return 0
}

// encode appends a row's canonical encoding.
func (t tableSpec) encode(buf []byte, row []cell) []byte {
	for i, c := range t.columns {
		buf = row[i].appendTo(buf, c.kind)
	}
	return buf
}

// sqliteScanner reads rows of t from SQLite into cells.
type sqliteScanner struct {
	t     tableSpec
	dests []any
}

func newSQLiteScanner(t tableSpec) *sqliteScanner {
	s := &sqliteScanner{t: t, dests: make([]any, len(t.columns))}
	for i, c := range t.columns {
		switch {
		case c.kind == colText:
			s.dests[i] = new(sql.NullString)
		case c.kind.numeric():
			s.dests[i] = new(sql.NullInt64)
		default:
			s.dests[i] = new([]byte)
		}
	}
	return s
}

// scan reads the current row into row (reused between rows; the cells do not alias the
// driver's buffers).
func (s *sqliteScanner) scan(rows *sql.Rows, row []cell) error {
	if err := rows.Scan(s.dests...); err != nil {
		return err
	}
	for i, c := range s.t.columns {
		switch d := s.dests[i].(type) {
		case *sql.NullString:
			row[i] = cell{null: !d.Valid, b: []byte(d.String)}
		case *sql.NullInt64:
			row[i] = cell{null: !d.Valid, n: d.Int64}
			if c.kind == colBool && d.Int64 != 0 {
				row[i].n = 1
			}
		case *[]byte:
			row[i] = cell{null: *d == nil, b: *d}
			*d = nil
		}
	}
	return nil
}

// pgScanner reads rows of t from PostgreSQL into cells.
type pgScanner struct {
	t     tableSpec
	dests []any
}

func newPGScanner(t tableSpec) *pgScanner {
	s := &pgScanner{t: t, dests: make([]any, len(t.columns))}
	for i, c := range t.columns {
		switch c.kind {
		case colText:
			s.dests[i] = new(*string)
		case colInt:
			s.dests[i] = new(*int64)
		case colTime:
			s.dests[i] = new(*time.Time)
		case colBool:
			s.dests[i] = new(*bool)
		default:
			s.dests[i] = new([]byte)
		}
	}
	return s
}

func (s *pgScanner) scan(row rowScanner, out []cell) error {
	if err := row.Scan(s.dests...); err != nil {
		return err
	}
	for i := range s.t.columns {
		var c cell
		switch d := s.dests[i].(type) {
		case **string:
			if c.null = *d == nil; !c.null {
				c.b = []byte(**d)
			}
		case **int64:
			if c.null = *d == nil; !c.null {
				c.n = **d
			}
		case **time.Time:
			if c.null = *d == nil; !c.null {
				c.n = (*d).UnixMicro()
			}
		case **bool:
			if c.null = *d == nil; !c.null && **d {
				c.n = 1
			}
		case *[]byte:
			c = cell{null: *d == nil, b: *d}
			*d = nil
		}
		out[i] = c
	}
	return nil
}
