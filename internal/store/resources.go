package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// CreateVirtualCluster implements jobs.Store.
func (s *SQLite) CreateVirtualCluster(ctx context.Context, vc jobs.VirtualCluster, token jobs.Idempotency) (jobs.VirtualCluster, error) {
	out := vc
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		doc, ok, err := byToken(ctx, tx, "virtual_clusters", "", nil, token)
		if err != nil {
			return err
		}
		if ok {
			return json.Unmarshal(doc, &out)
		}
		doc, err = json.Marshal(vc)
		if err != nil {
			return fmt.Errorf("encode virtual cluster: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO virtual_clusters (id, created_at, state, provider_id, provider_type, namespace, client_token, request_hash, doc) VALUES (?,?,?,?,?,?,?,?,?)`,
			vc.ID, micros(vc.CreatedAt), string(vc.State), vc.ContainerProvider.ID, vc.ContainerProvider.Type, vc.ContainerProvider.Namespace(), nullable(token.Token), nullable(token.Hash), doc)
		if isUniqueViolation(err) {
			return fmt.Errorf("virtual cluster %s: namespace %q of %q is taken: %w", vc.ID, vc.ContainerProvider.Namespace(), vc.ContainerProvider.ID, jobs.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert virtual cluster %s: %w", vc.ID, err)
		}
		return nil
	})
	if err != nil {
		return jobs.VirtualCluster{}, err
	}
	return out, nil
}

// GetVirtualCluster implements jobs.Store.
// It reads the settings in the same query (VirtualCluster.Settings).
func (s *SQLite) GetVirtualCluster(ctx context.Context, id string) (jobs.VirtualCluster, error) {
	var doc, settings []byte
	err := s.read.QueryRowContext(ctx, `SELECT doc, settings FROM virtual_clusters WHERE id = ?`, id).Scan(&doc, &settings)
	return virtualClusterWithSettings(id, doc, settings, err, sql.ErrNoRows)
}

// virtualClusterWithSettings decodes a virtual cluster row read with its settings column.
func virtualClusterWithSettings(id string, doc, settings []byte, err, noRows error) (jobs.VirtualCluster, error) {
	if errors.Is(err, noRows) {
		return jobs.VirtualCluster{}, jobs.NotFoundError("virtual cluster", id)
	}
	if err != nil {
		return jobs.VirtualCluster{}, fmt.Errorf("read virtual cluster %s: %w", id, err)
	}
	vc, err := decodeJSON[jobs.VirtualCluster]("virtual cluster")(doc)
	if err != nil {
		return vc, err
	}
	vc.Settings, err = decodeSettings(id, settings, nil, noRows)
	return vc, err
}

// ListVirtualClusters implements jobs.Store.
func (s *SQLite) ListVirtualClusters(ctx context.Context, f jobs.VirtualClusterFilter) ([]jobs.VirtualCluster, string, error) {
	var q listQuery
	if f.ContainerProviderID != "" {
		q.add("provider_id = ?", f.ContainerProviderID)
	}
	if f.ContainerProviderType != "" {
		q.add("provider_type = ?", f.ContainerProviderType)
	}
	in(&q, "state", f.States)
	if err := q.time(f.TimeFilter); err != nil {
		return nil, "", err
	}
	return list(ctx, s.read, "virtual_clusters", &q, limitOf(f.Limit), decodeJSON[jobs.VirtualCluster]("virtual cluster"),
		func(v jobs.VirtualCluster) (time.Time, string) { return v.CreatedAt, v.ID })
}

func limitOf(n int) int {
	if n <= 0 {
		return 50
	}
	return n
}

// SetVirtualClusterState implements jobs.Store.
func (s *SQLite) SetVirtualClusterState(ctx context.Context, id string, state jobs.VirtualClusterState) (jobs.VirtualCluster, error) {
	var out jobs.VirtualCluster
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		doc, err := getDoc(ctx, tx, "virtual_clusters", "virtual cluster", id)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(doc, &out); err != nil {
			return fmt.Errorf("decode stored virtual cluster: %w", err)
		}
		out.State = state
		doc, err = json.Marshal(out)
		if err != nil {
			return fmt.Errorf("encode virtual cluster: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE virtual_clusters SET state = ?, doc = ? WHERE id = ?`, string(state), doc, id)
		if isUniqueViolation(err) {
			return fmt.Errorf("virtual cluster %s: namespace is taken: %w", id, jobs.ErrConflict)
		}
		return err
	})
	return out, err
}

// jobRunRow holds what the job_runs table keeps outside doc.
type jobRunRow struct {
	doc        []byte
	version    int64
	extensions []byte
}

func (r jobRunRow) decode() (jobs.JobRun, error) {
	var run jobs.JobRun
	if err := json.Unmarshal(r.doc, &run); err != nil {
		return run, fmt.Errorf("decode stored job run: %w", err)
	}
	run.Version = r.version
	if len(r.extensions) > 0 {
		if err := json.Unmarshal(r.extensions, &run.Attempt); err != nil {
			return run, fmt.Errorf("decode stored job run attempt: %w", err)
		}
	}
	return run, nil
}

func encodeJobRun(run jobs.JobRun) (doc, ext []byte, err error) {
	doc, err = json.Marshal(run)
	if err != nil {
		return nil, nil, fmt.Errorf("encode job run %s: %w", run.ID, err)
	}
	if run.Attempt != (jobs.Attempt{}) {
		ext, err = json.Marshal(run.Attempt)
		if err != nil {
			return nil, nil, fmt.Errorf("encode job run %s attempt: %w", run.ID, err)
		}
	}
	return doc, ext, nil
}

const jobRunColumns = "doc, version, extensions"

// CreateJobRun implements jobs.Store.
func (s *SQLite) CreateJobRun(ctx context.Context, run jobs.JobRun, token jobs.Idempotency) (jobs.JobRun, error) {
	run.Version = 1
	doc, ext, err := encodeJobRun(run)
	if err != nil {
		return jobs.JobRun{}, err
	}
	out := run
	pending := audit.PendingFrom(ctx)
	err = s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if pending != nil {
			if err := s.insertAudit(ctx, tx, []audit.Event{pending.Event(time.Now())}); err != nil {
				return err
			}
		}
		if token.Token != "" {
			var row jobRunRow
			var hash sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT `+jobRunColumns+`, request_hash FROM job_runs WHERE virtual_cluster_id = ? AND client_token = ?`,
				run.VirtualClusterID, token.Token).Scan(&row.doc, &row.version, &row.extensions, &hash)
			switch {
			case err == nil:
				if hash.String != token.Hash {
					return jobs.ErrIdempotencyMismatch
				}
				out, err = row.decode()
				return err
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("look up clientToken: %w", err)
			}
		}
		_, err := tx.StmtContext(ctx, s.insertRun).ExecContext(ctx,
			run.ID, run.VirtualClusterID, run.Name, string(run.State), micros(run.CreatedAt), run.Version, nullable(token.Token), nullable(token.Hash), doc, ext)
		if err != nil {
			return fmt.Errorf("insert job run %s: %w", run.ID, err)
		}
		return nil
	})
	if err != nil {
		return jobs.JobRun{}, err
	}
	if pending != nil {
		pending.Committed()
	}
	return out, nil
}

const insertJobRunSQL = `INSERT INTO job_runs (id, virtual_cluster_id, name, state, created_at, version, client_token, request_hash, doc, extensions) VALUES (?,?,?,?,?,?,?,?,?,?)`

func scanJobRun(row interface{ Scan(...any) error }, id string) (jobs.JobRun, error) {
	var r jobRunRow
	err := row.Scan(&r.doc, &r.version, &r.extensions)
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.JobRun{}, jobs.NotFoundError("job run", id)
	}
	if err != nil {
		return jobs.JobRun{}, fmt.Errorf("read job run %s: %w", id, err)
	}
	return r.decode()
}

// GetJobRun implements jobs.Store.
func (s *SQLite) GetJobRun(ctx context.Context, id string) (jobs.JobRun, error) {
	return scanJobRun(s.read.QueryRowContext(ctx, `SELECT `+jobRunColumns+` FROM job_runs WHERE id = ?`, id), id)
}

// ListJobRuns implements jobs.Store.
func (s *SQLite) ListJobRuns(ctx context.Context, f jobs.JobRunFilter) ([]jobs.JobRun, string, error) {
	stmt, args, limit, err := jobRunListSQL(f)
	if err != nil {
		return nil, "", err
	}
	return s.queryJobRuns(ctx, stmt, args, limit)
}

// jobRunListSQL is the query of one page of ListJobRuns, its arguments and the page's size.
// Whatever the filters, it walks the job_runs_list index of the virtual cluster in list order.
func jobRunListSQL(f jobs.JobRunFilter) (stmt string, args []any, limit int, err error) {
	var q listQuery
	q.add("virtual_cluster_id = ?", f.VirtualClusterID)
	if f.Name != "" {
		q.add("name = ?", f.Name)
	}
	in(&q, "state", f.States)
	// doc is a BLOB of JSON text: SQLite's JSON functions would read a BLOB as binary JSONB,
	// so it is cast to TEXT. Tag keys and values are bound parameters compared with
	// json_each's key and value, so a key needs no quoting in a JSON path whatever it holds.
	if f.CreatedBy != "" {
		q.add("json_extract(CAST(doc AS TEXT), '$.createdBy') = ?", f.CreatedBy)
	}
	for _, k := range slices.Sorted(maps.Keys(f.Tags)) {
		q.add("EXISTS (SELECT 1 FROM json_each(CAST(doc AS TEXT), '$.tags') WHERE key = ? AND type = 'text' AND value = ?)", k, f.Tags[k])
	}
	if err := q.time(f.TimeFilter); err != nil {
		return "", nil, 0, err
	}
	limit = limitOf(f.Limit)
	stmt, args = q.sql("job_runs", jobRunColumns, limit)
	return stmt, args, limit, nil
}

// countJobRunsSQL counts a virtual cluster's runs by state, in its entries of the
// job_runs_list index.
const countJobRunsSQL = `SELECT state, count(*) FROM job_runs WHERE virtual_cluster_id = ? GROUP BY state`

// CountJobRuns implements jobs.Store.
func (s *SQLite) CountJobRuns(ctx context.Context, virtualClusterID string) (map[jobs.JobRunState]int, error) {
	rows, err := s.read.QueryContext(ctx, countJobRunsSQL, virtualClusterID)
	if err != nil {
		return nil, fmt.Errorf("count job runs: %w", sqliteUnavailable(err, false))
	}
	defer rows.Close()
	return countStates(rows)
}

// countStates reads the (state, count) rows of a CountJobRuns query.
func countStates(rows rowIterator) (map[jobs.JobRunState]int, error) {
	out := map[jobs.JobRunState]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count job runs: %w", err)
		}
		out[jobs.JobRunState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count job runs: %w", err)
	}
	return out, nil
}

func (s *SQLite) queryJobRuns(ctx context.Context, stmt string, args []any, limit int) ([]jobs.JobRun, string, error) {
	rows, err := s.read.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list job runs: %w", err)
	}
	defer rows.Close()
	out, err := collect(rows, func(row rowScanner) (jobs.JobRun, error) { return scanJobRun(row, "") }, "list job runs")
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, limit, jobRunKey)
	return out, next, nil
}

// ListActiveJobRunIDs implements jobs.Store. It reads the ids from the partial index alone,
// never the documents.
func (s *SQLite) ListActiveJobRunIDs(ctx context.Context, limit int) ([]string, error) {
	stmt := `SELECT id FROM job_runs WHERE state IN ('PENDING', 'SUBMITTED', 'RUNNING', 'CANCEL_PENDING') ORDER BY created_at, id`
	var args []any
	if limit > 0 {
		stmt += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.read.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("list active job runs: %w", err)
	}
	defer rows.Close()
	return collect(rows, func(row rowScanner) (id string, err error) { return id, row.Scan(&id) }, "list active job runs")
}

// UpdateJobRun implements jobs.Store.
func (s *SQLite) UpdateJobRun(ctx context.Context, id string, expectedVersion int64, mutate func(*jobs.JobRun) error) (jobs.JobRun, error) {
	var out jobs.JobRun
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		run, err := scanJobRun(tx.QueryRowContext(ctx, `SELECT `+jobRunColumns+` FROM job_runs WHERE id = ?`, id), id)
		if err != nil {
			return err
		}
		out = run
		if expectedVersion >= 0 && run.Version != expectedVersion {
			return fmt.Errorf("job run %s: version is %d, expected %d: %w", id, run.Version, expectedVersion, jobs.ErrConflict)
		}
		next := run
		next.Tags = cloneMap(run.Tags)
		if err := mutate(&next); err != nil {
			return err
		}
		// Identity columns are never rewritten, whatever mutate did.
		next.ID, next.VirtualClusterID, next.CreatedAt = run.ID, run.VirtualClusterID, run.CreatedAt
		next.Version = run.Version + 1
		doc, ext, err := encodeJobRun(next)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE job_runs SET state = ?, name = ?, version = ?, doc = ?, extensions = ?, admitted = ? WHERE id = ?`,
			string(next.State), next.Name, next.Version, doc, ext, next.HoldsSlot(), id); err != nil {
			return fmt.Errorf("update job run %s: %w", id, err)
		}
		out = next
		return nil
	})
	return out, err
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// createSimple inserts a row of a table with columns (id, created_at, client_token,
// request_hash, doc), honouring the clientToken.
func createSimple[T any](ctx context.Context, s *SQLite, table, kind string, v T, id string, createdAt time.Time, token jobs.Idempotency) (T, error) {
	out := v
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		doc, ok, err := byToken(ctx, tx, table, "", nil, token)
		if err != nil {
			return err
		}
		if ok {
			return json.Unmarshal(doc, &out)
		}
		doc, err = json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", kind, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+table+` (id, created_at, client_token, request_hash, doc) VALUES (?,?,?,?,?)`,
			id, micros(createdAt), nullable(token.Token), nullable(token.Hash), doc); err != nil {
			return fmt.Errorf("insert %s %s: %w", kind, id, err)
		}
		return nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// CreateJobTemplate implements jobs.Store.
func (s *SQLite) CreateJobTemplate(ctx context.Context, t jobs.JobTemplate, token jobs.Idempotency) (jobs.JobTemplate, error) {
	return createSimple(ctx, s, "job_templates", "job template", t, t.ID, t.CreatedAt, token)
}

// GetJobTemplate implements jobs.Store.
func (s *SQLite) GetJobTemplate(ctx context.Context, id string) (jobs.JobTemplate, error) {
	doc, err := getDoc(ctx, s.read, "job_templates", "job template", id)
	if err != nil {
		return jobs.JobTemplate{}, err
	}
	return decodeJSON[jobs.JobTemplate]("job template")(doc)
}

// ListJobTemplates implements jobs.Store.
func (s *SQLite) ListJobTemplates(ctx context.Context, f jobs.TimeFilter) ([]jobs.JobTemplate, string, error) {
	var q listQuery
	if err := q.time(f); err != nil {
		return nil, "", err
	}
	return list(ctx, s.read, "job_templates", &q, limitOf(f.Limit), decodeJSON[jobs.JobTemplate]("job template"),
		func(v jobs.JobTemplate) (time.Time, string) { return v.CreatedAt, v.ID })
}

// DeleteJobTemplate implements jobs.Store.
func (s *SQLite) DeleteJobTemplate(ctx context.Context, id string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM job_templates WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete job template %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return jobs.NotFoundError("job template", id)
		}
		return nil
	})
}

// CreateSecurityConfiguration implements jobs.Store.
func (s *SQLite) CreateSecurityConfiguration(ctx context.Context, sc jobs.SecurityConfiguration, token jobs.Idempotency) (jobs.SecurityConfiguration, error) {
	return createSimple(ctx, s, "security_configurations", "security configuration", sc, sc.ID, sc.CreatedAt, token)
}

// GetSecurityConfiguration implements jobs.Store.
func (s *SQLite) GetSecurityConfiguration(ctx context.Context, id string) (jobs.SecurityConfiguration, error) {
	doc, err := getDoc(ctx, s.read, "security_configurations", "security configuration", id)
	if err != nil {
		return jobs.SecurityConfiguration{}, err
	}
	return decodeJSON[jobs.SecurityConfiguration]("security configuration")(doc)
}

// ListSecurityConfigurations implements jobs.Store.
func (s *SQLite) ListSecurityConfigurations(ctx context.Context, f jobs.TimeFilter) ([]jobs.SecurityConfiguration, string, error) {
	var q listQuery
	if err := q.time(f); err != nil {
		return nil, "", err
	}
	return list(ctx, s.read, "security_configurations", &q, limitOf(f.Limit), decodeJSON[jobs.SecurityConfiguration]("security configuration"),
		func(v jobs.SecurityConfiguration) (time.Time, string) { return v.CreatedAt, v.ID })
}

var tables = map[jobs.ResourceKind]struct{ table, kind string }{
	jobs.KindVirtualCluster:        {"virtual_clusters", "virtual cluster"},
	jobs.KindJobRun:                {"job_runs", "job run"},
	jobs.KindJobTemplate:           {"job_templates", "job template"},
	jobs.KindSecurityConfiguration: {"security_configurations", "security configuration"},
}

// UpdateTags implements jobs.Store. With nothing to set or remove it only reads.
func (s *SQLite) UpdateTags(ctx context.Context, ref jobs.ResourceRef, set map[string]string, remove []string, check func(map[string]string) error) (map[string]string, error) {
	t, ok := tables[ref.Kind]
	if !ok {
		return nil, fmt.Errorf("tags: unknown resource kind %q", ref.Kind)
	}
	if set == nil && remove == nil {
		doc, err := getDoc(ctx, s.read, t.table, t.kind, ref.ID)
		if err != nil {
			return nil, err
		}
		tags, _, err := retag(doc, t.kind, nil, nil, nil)
		return tags, err
	}
	var tags map[string]string
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		tags = nil
		doc, err := getDoc(ctx, tx, t.table, t.kind, ref.ID)
		if err != nil {
			return err
		}
		tags, doc, err = retag(doc, t.kind, set, remove, check)
		if err != nil {
			return err
		}
		stmt := `UPDATE ` + t.table + ` SET doc = ? WHERE id = ?`
		if ref.Kind == jobs.KindJobRun {
			stmt = `UPDATE job_runs SET doc = ?, version = version + 1 WHERE id = ?`
		}
		_, err = tx.ExecContext(ctx, stmt, doc, ref.ID)
		return err
	})
	return tags, err
}

// retag reads the tags of a stored resource document and, unless set and remove are both nil,
// sets and removes tags, runs check on the result, and returns the document with the new tags
// (doc is nil when there was nothing to change). Both stores share it so that a document's
// tags change the same way in either.
func retag(stored []byte, kind string, set map[string]string, remove []string, check func(map[string]string) error) (tags map[string]string, doc []byte, err error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(stored, &m); err != nil {
		return nil, nil, fmt.Errorf("decode stored %s: %w", kind, err)
	}
	if raw, ok := m["tags"]; ok {
		if err := json.Unmarshal(raw, &tags); err != nil {
			return nil, nil, fmt.Errorf("decode stored %s tags: %w", kind, err)
		}
	}
	if set == nil && remove == nil {
		return tags, nil, nil
	}
	if tags == nil {
		tags = map[string]string{}
	}
	for k, v := range set {
		tags[k] = v
	}
	for _, k := range remove {
		delete(tags, k)
	}
	if check != nil {
		if err := check(tags); err != nil {
			return tags, nil, err
		}
	}
	if len(tags) == 0 {
		delete(m, "tags")
	} else {
		raw, err := json.Marshal(tags)
		if err != nil {
			return tags, nil, err
		}
		m["tags"] = raw
	}
	doc, err = json.Marshal(m)
	return tags, doc, err
}

// ImportJobRuns inserts many job runs in one transaction, without clientTokens. It is meant for
// bulk loads (benchmarks, migrations from another store), not for the request path.
func (s *SQLite) ImportJobRuns(ctx context.Context, runs []jobs.JobRun) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO job_runs (id, virtual_cluster_id, name, state, created_at, version, doc, extensions, admitted) VALUES (?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("prepare import: %w", err)
		}
		defer stmt.Close()
		for _, run := range runs {
			if run.Version == 0 {
				run.Version = 1
			}
			doc, ext, err := encodeJobRun(run)
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, run.ID, run.VirtualClusterID, run.Name, string(run.State), micros(run.CreatedAt), run.Version, doc, ext, run.HoldsSlot()); err != nil {
				return fmt.Errorf("import job run %s: %w", run.ID, err)
			}
		}
		return nil
	})
}
