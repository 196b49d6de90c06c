package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// CreateVirtualCluster implements jobs.Store.
func (p *Postgres) CreateVirtualCluster(ctx context.Context, vc jobs.VirtualCluster, token jobs.Idempotency) (jobs.VirtualCluster, error) {
	doc, err := json.Marshal(vc)
	if err != nil {
		return jobs.VirtualCluster{}, fmt.Errorf("encode virtual cluster: %w", err)
	}
	out := vc
	var storedDoc []byte
	stored, err := p.createOnce(ctx, token,
		`INSERT INTO virtual_clusters (id, created_at, state, provider_id, provider_type, namespace, client_token, request_hash, doc)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (client_token) WHERE client_token IS NOT NULL DO NOTHING`,
		[]any{vc.ID, pgTime(vc.CreatedAt), string(vc.State), vc.ContainerProvider.ID, vc.ContainerProvider.Type, vc.ContainerProvider.Namespace(),
			nullable(token.Token), nullable(token.Hash), doc},
		func(ctx context.Context, c *pgxpool.Conn) (string, error) {
			return findByToken(ctx, c, `SELECT doc, request_hash FROM virtual_clusters WHERE client_token = $1`, []any{token.Token}, &storedDoc)
		})
	if constraint, ok := uniqueViolation(err); ok {
		if constraint == "virtual_clusters_running_namespace" {
			return jobs.VirtualCluster{}, fmt.Errorf("virtual cluster %s: namespace %q of %q is taken: %w", vc.ID, vc.ContainerProvider.Namespace(), vc.ContainerProvider.ID, jobs.ErrConflict)
		}
		return jobs.VirtualCluster{}, fmt.Errorf("virtual cluster %s: %s: %w", vc.ID, constraint, jobs.ErrConflict)
	}
	if errors.Is(err, jobs.ErrIdempotencyMismatch) {
		return jobs.VirtualCluster{}, err
	}
	if err != nil {
		return jobs.VirtualCluster{}, fmt.Errorf("insert virtual cluster %s: %w", vc.ID, err)
	}
	if stored {
		if err := json.Unmarshal(storedDoc, &out); err != nil {
			return jobs.VirtualCluster{}, fmt.Errorf("decode stored virtual cluster: %w", err)
		}
	}
	return out, nil
}

// findByToken reads the doc (into *doc) and the request hash of the row a lookup finds.
func findByToken(ctx context.Context, c *pgxpool.Conn, stmt string, args []any, doc *[]byte) (string, error) {
	var hash *string
	if err := c.QueryRow(ctx, stmt, args...).Scan(doc, &hash); err != nil {
		return "", err
	}
	if hash == nil {
		return "", nil
	}
	return *hash, nil
}

// GetVirtualCluster implements jobs.Store.
// It reads the settings in the same query (VirtualCluster.Settings).
func (p *Postgres) GetVirtualCluster(ctx context.Context, id string) (jobs.VirtualCluster, error) {
	var doc, settings []byte
	err := p.pool.QueryRow(ctx, `SELECT doc, settings FROM virtual_clusters WHERE id = $1`, id).Scan(&doc, &settings)
	return virtualClusterWithSettings(id, doc, settings, err, pgx.ErrNoRows)
}

// ListVirtualClusters implements jobs.Store.
func (p *Postgres) ListVirtualClusters(ctx context.Context, f jobs.VirtualClusterFilter) ([]jobs.VirtualCluster, string, error) {
	var q pgQuery
	if f.ContainerProviderID != "" {
		q.add("provider_id = " + q.arg(f.ContainerProviderID))
	}
	if f.ContainerProviderType != "" {
		q.add("provider_type = " + q.arg(f.ContainerProviderType))
	}
	pgIn(&q, "state", f.States)
	if err := q.time(f.TimeFilter); err != nil {
		return nil, "", err
	}
	return pgList(ctx, p, "virtual_clusters", &q, limitOf(f.Limit), decodeJSON[jobs.VirtualCluster]("virtual cluster"),
		func(v jobs.VirtualCluster) (time.Time, string) { return v.CreatedAt, v.ID })
}

// SetVirtualClusterState implements jobs.Store.
func (p *Postgres) SetVirtualClusterState(ctx context.Context, id string, state jobs.VirtualClusterState) (jobs.VirtualCluster, error) {
	var out jobs.VirtualCluster
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		doc, err := pgDoc(ctx, tx, "virtual_clusters", "virtual cluster", id, true)
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
		_, err = tx.Exec(ctx, `UPDATE virtual_clusters SET state = $1, doc = $2 WHERE id = $3`, string(state), doc, id)
		if _, ok := uniqueViolation(err); ok {
			return fmt.Errorf("virtual cluster %s: namespace is taken: %w", id, jobs.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("update virtual cluster %s: %w", id, err)
		}
		return nil
	})
	return out, err
}

// pgJobRunColumns are what jobRunRow decodes, in its order.
const pgJobRunColumns = "doc, version, attempt"

func pgScanJobRun(row rowScanner, id string) (jobs.JobRun, error) {
	var r jobRunRow
	err := row.Scan(&r.doc, &r.version, &r.extensions)
	if errors.Is(err, pgx.ErrNoRows) {
		return jobs.JobRun{}, jobs.NotFoundError("job run", id)
	}
	if err != nil {
		return jobs.JobRun{}, fmt.Errorf("read job run %s: %w", id, err)
	}
	return r.decode()
}

// CreateJobRun implements jobs.Store. The run is committed when it returns nil.
func (p *Postgres) CreateJobRun(ctx context.Context, run jobs.JobRun, token jobs.Idempotency) (jobs.JobRun, error) {
	run.Version = 1
	doc, att, err := encodeJobRun(run)
	if err != nil {
		return jobs.JobRun{}, err
	}
	var row jobRunRow
	stored, err := p.createOnce(ctx, token,
		`INSERT INTO job_runs (id, virtual_cluster_id, name, state, created_at, version, client_token, request_hash, doc, attempt)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (virtual_cluster_id, client_token) WHERE client_token IS NOT NULL DO NOTHING`,
		[]any{run.ID, run.VirtualClusterID, run.Name, string(run.State), pgTime(run.CreatedAt), run.Version,
			nullable(token.Token), nullable(token.Hash), doc, att},
		func(ctx context.Context, c *pgxpool.Conn) (string, error) {
			var hash *string
			err := c.QueryRow(ctx, `SELECT `+pgJobRunColumns+`, request_hash FROM job_runs WHERE virtual_cluster_id = $1 AND client_token = $2`,
				run.VirtualClusterID, token.Token).Scan(&row.doc, &row.version, &row.extensions, &hash)
			if err != nil || hash == nil {
				return "", err
			}
			return *hash, nil
		})
	if errors.Is(err, jobs.ErrIdempotencyMismatch) {
		return jobs.JobRun{}, err
	}
	if err != nil {
		return jobs.JobRun{}, fmt.Errorf("insert job run %s: %w", run.ID, err)
	}
	if stored {
		return row.decode()
	}
	return run, nil
}

// GetJobRun implements jobs.Store.
func (p *Postgres) GetJobRun(ctx context.Context, id string) (jobs.JobRun, error) {
	return pgScanJobRun(p.pool.QueryRow(ctx, `SELECT `+pgJobRunColumns+` FROM job_runs WHERE id = $1`, id), id)
}

// ListJobRuns implements jobs.Store.
func (p *Postgres) ListJobRuns(ctx context.Context, f jobs.JobRunFilter) ([]jobs.JobRun, string, error) {
	var q pgQuery
	q.add("virtual_cluster_id = " + q.arg(f.VirtualClusterID))
	if f.Name != "" {
		q.add("name = " + q.arg(f.Name))
	}
	pgIn(&q, "state", f.States)
	if f.CreatedBy != "" || len(f.Tags) > 0 {
		want, err := pgDocFilter(f.CreatedBy, f.Tags)
		if err != nil {
			return nil, "", err
		}
		q.add(pgSearchableDoc + " @> " + q.arg(want) + "::jsonb")
	}
	if err := q.time(f.TimeFilter); err != nil {
		return nil, "", err
	}
	limit := limitOf(f.Limit)
	rows, err := p.pool.Query(ctx, q.sql("job_runs", pgJobRunColumns, limit), q.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list job runs: %w", err)
	}
	defer rows.Close()
	out, err := collect(rows, func(row rowScanner) (jobs.JobRun, error) { return pgScanJobRun(row, "") }, "list job runs")
	if err != nil {
		return nil, "", err
	}
	out, next := page(out, limit, jobRunKey)
	return out, next, nil
}

// pgSearchableDoc is a job run's doc as jsonb, for the filters of ListJobRuns on what only
// the document holds. doc is json, kept as encoding/json wrote it, and may hold the escape
// \u0000 (a NUL in a string), which jsonb refuses and which even json's ->> fails on when it
// is anywhere in the document: one such run would fail every filtered list of its virtual
// cluster. So each \u0000 escape becomes \u2400 (␀, SYMBOL FOR NULL) first. A backslash that
// is escaped itself (\\) is set aside (as U+0001, which JSON text never holds raw) while
// that is done, so that the text \u0000 in a string, written \\u0000, is kept as it is.
const pgSearchableDoc = `replace(replace(replace(doc::text, '\\', chr(1)), '\u0000', '\u2400'), chr(1), '\\')::jsonb`

// pgDocFilter is the jsonb document a run's searchable doc (pgSearchableDoc) must contain to
// have createdBy (when not "") and every one of tags: containment (@>) compares strings
// exactly and lets the run have other tags. A NUL in a filter becomes ␀, as in the documents,
// so here (unlike in SQLite) a filter does not tell a NUL from a ␀; no principal ARN holds
// either, and a tag that does is a curiosity, not something to search by.
func pgDocFilter(createdBy string, tags map[string]string) (string, error) {
	nul := strings.NewReplacer("\x00", "\u2400")
	want := map[string]any{}
	if createdBy != "" {
		want["createdBy"] = nul.Replace(createdBy)
	}
	if len(tags) > 0 {
		t := make(map[string]string, len(tags))
		for k, v := range tags {
			t[nul.Replace(k)] = nul.Replace(v)
		}
		want["tags"] = t
	}
	b, err := json.Marshal(want)
	if err != nil {
		return "", fmt.Errorf("encode job run filter: %w", err)
	}
	return string(b), nil
}

// CountJobRuns implements jobs.Store, reading the virtual cluster's entries of the
// job_runs_list index.
func (p *Postgres) CountJobRuns(ctx context.Context, virtualClusterID string) (map[jobs.JobRunState]int, error) {
	rows, err := p.pool.Query(ctx, `SELECT state, count(*) FROM job_runs WHERE virtual_cluster_id = $1 GROUP BY state`, virtualClusterID)
	if err != nil {
		return nil, fmt.Errorf("count job runs: %w", err)
	}
	defer rows.Close()
	return countStates(rows)
}

// ListActiveJobRunIDs implements jobs.Store. Its condition is the job_runs_active index's
// predicate word for word, so the planner reads that partial index alone.
func (p *Postgres) ListActiveJobRunIDs(ctx context.Context, limit int) ([]string, error) {
	stmt := `SELECT id FROM job_runs WHERE state IN ('PENDING', 'SUBMITTED', 'RUNNING', 'CANCEL_PENDING') ORDER BY created_at, id`
	var args []any
	if limit > 0 {
		stmt += " LIMIT $1"
		args = append(args, limit)
	}
	rows, err := p.pool.Query(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("list active job runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list active job runs: %w", err)
	}
	return ids, nil
}

// UpdateJobRun implements jobs.Store. The row stays locked (FOR UPDATE) from the read to the
// write, so the version compared is the version replaced, and updates that skip the check
// (expectedVersion < 0) queue behind each other instead of losing one.
func (p *Postgres) UpdateJobRun(ctx context.Context, id string, expectedVersion int64, mutate func(*jobs.JobRun) error) (jobs.JobRun, error) {
	var out jobs.JobRun
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		run, err := pgScanJobRun(tx.QueryRow(ctx, `SELECT `+pgJobRunColumns+` FROM job_runs WHERE id = $1 FOR UPDATE`, id), id)
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
		doc, att, err := encodeJobRun(next)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE job_runs SET state = $1, name = $2, version = $3, doc = $4, attempt = $5, admitted = $6 WHERE id = $7`,
			string(next.State), next.Name, next.Version, doc, att, next.HoldsSlot(), id); err != nil {
			return fmt.Errorf("update job run %s: %w", id, err)
		}
		out = next
		return nil
	})
	return out, err
}

// pgCreateSimple inserts a row of a table with columns (id, created_at, client_token,
// request_hash, doc), honouring the clientToken.
func pgCreateSimple[T any](ctx context.Context, p *Postgres, table, kind string, v T, id string, createdAt time.Time, token jobs.Idempotency) (T, error) {
	var zero T
	doc, err := json.Marshal(v)
	var storedDoc []byte
	if err != nil {
		return zero, fmt.Errorf("encode %s: %w", kind, err)
	}
	stored, err := p.createOnce(ctx, token,
		`INSERT INTO `+table+` (id, created_at, client_token, request_hash, doc) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (client_token) WHERE client_token IS NOT NULL DO NOTHING`,
		[]any{id, pgTime(createdAt), nullable(token.Token), nullable(token.Hash), doc},
		func(ctx context.Context, c *pgxpool.Conn) (string, error) {
			return findByToken(ctx, c, `SELECT doc, request_hash FROM `+table+` WHERE client_token = $1`, []any{token.Token}, &storedDoc)
		})
	if errors.Is(err, jobs.ErrIdempotencyMismatch) {
		return zero, err
	}
	if err != nil {
		return zero, fmt.Errorf("insert %s %s: %w", kind, id, err)
	}
	if !stored {
		return v, nil
	}
	return decodeJSON[T](kind)(storedDoc)
}

// CreateJobTemplate implements jobs.Store.
func (p *Postgres) CreateJobTemplate(ctx context.Context, t jobs.JobTemplate, token jobs.Idempotency) (jobs.JobTemplate, error) {
	return pgCreateSimple(ctx, p, "job_templates", "job template", t, t.ID, t.CreatedAt, token)
}

// GetJobTemplate implements jobs.Store.
func (p *Postgres) GetJobTemplate(ctx context.Context, id string) (jobs.JobTemplate, error) {
	doc, err := pgDoc(ctx, p.pool, "job_templates", "job template", id, false)
	if err != nil {
		return jobs.JobTemplate{}, err
	}
	return decodeJSON[jobs.JobTemplate]("job template")(doc)
}

// ListJobTemplates implements jobs.Store.
func (p *Postgres) ListJobTemplates(ctx context.Context, f jobs.TimeFilter) ([]jobs.JobTemplate, string, error) {
	var q pgQuery
	if err := q.time(f); err != nil {
		return nil, "", err
	}
	return pgList(ctx, p, "job_templates", &q, limitOf(f.Limit), decodeJSON[jobs.JobTemplate]("job template"),
		func(v jobs.JobTemplate) (time.Time, string) { return v.CreatedAt, v.ID })
}

// DeleteJobTemplate implements jobs.Store.
func (p *Postgres) DeleteJobTemplate(ctx context.Context, id string) error {
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM job_templates WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete job template %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return jobs.NotFoundError("job template", id)
		}
		return nil
	})
}

// CreateSecurityConfiguration implements jobs.Store.
func (p *Postgres) CreateSecurityConfiguration(ctx context.Context, sc jobs.SecurityConfiguration, token jobs.Idempotency) (jobs.SecurityConfiguration, error) {
	return pgCreateSimple(ctx, p, "security_configurations", "security configuration", sc, sc.ID, sc.CreatedAt, token)
}

// GetSecurityConfiguration implements jobs.Store.
func (p *Postgres) GetSecurityConfiguration(ctx context.Context, id string) (jobs.SecurityConfiguration, error) {
	doc, err := pgDoc(ctx, p.pool, "security_configurations", "security configuration", id, false)
	if err != nil {
		return jobs.SecurityConfiguration{}, err
	}
	return decodeJSON[jobs.SecurityConfiguration]("security configuration")(doc)
}

// ListSecurityConfigurations implements jobs.Store.
func (p *Postgres) ListSecurityConfigurations(ctx context.Context, f jobs.TimeFilter) ([]jobs.SecurityConfiguration, string, error) {
	var q pgQuery
	if err := q.time(f); err != nil {
		return nil, "", err
	}
	return pgList(ctx, p, "security_configurations", &q, limitOf(f.Limit), decodeJSON[jobs.SecurityConfiguration]("security configuration"),
		func(v jobs.SecurityConfiguration) (time.Time, string) { return v.CreatedAt, v.ID })
}

// UpdateTags implements jobs.Store. The resource's row stays locked from the read to the
// write, so check sees the tags no concurrent call can change before this one commits: a
// limit it enforces holds. With nothing to set or remove it only reads.
func (p *Postgres) UpdateTags(ctx context.Context, ref jobs.ResourceRef, set map[string]string, remove []string, check func(map[string]string) error) (map[string]string, error) {
	t, ok := tables[ref.Kind]
	if !ok {
		return nil, fmt.Errorf("tags: unknown resource kind %q", ref.Kind)
	}
	if set == nil && remove == nil {
		doc, err := pgDoc(ctx, p.pool, t.table, t.kind, ref.ID, false)
		if err != nil {
			return nil, err
		}
		tags, _, err := retag(doc, t.kind, nil, nil, nil)
		return tags, err
	}
	var tags map[string]string
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		doc, err := pgDoc(ctx, tx, t.table, t.kind, ref.ID, true)
		if err != nil {
			return err
		}
		tags, doc, err = retag(doc, t.kind, set, remove, check)
		if err != nil {
			return err
		}
		stmt := `UPDATE ` + t.table + ` SET doc = $1 WHERE id = $2`
		if ref.Kind == jobs.KindJobRun {
			stmt = `UPDATE job_runs SET doc = $1, version = version + 1 WHERE id = $2`
		}
		if _, err := tx.Exec(ctx, stmt, doc, ref.ID); err != nil {
			return fmt.Errorf("update %s %s tags: %w", t.kind, ref.ID, err)
		}
		return nil
	})
	return tags, err
}

// ImportJobRuns inserts many job runs in one COPY, without clientTokens: all of them or, on
// error, none. It is meant for bulk loads (benchmarks, moving from SQLite), not for the
// request path.
func (p *Postgres) ImportJobRuns(ctx context.Context, runs []jobs.JobRun) error {
	rows := make([][]any, 0, len(runs))
	for _, run := range runs {
		if run.Version == 0 {
			run.Version = 1
		}
		doc, att, err := encodeJobRun(run)
		if err != nil {
			return err
		}
		rows = append(rows, []any{run.ID, run.VirtualClusterID, run.Name, string(run.State), pgTime(run.CreatedAt), run.Version, doc, att, run.HoldsSlot()})
	}
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.CopyFrom(ctx, pgx.Identifier{"job_runs"},
			[]string{"id", "virtual_cluster_id", "name", "state", "created_at", "version", "doc", "attempt", "admitted"}, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("import %d job runs: %w", len(runs), err)
		}
		return nil
	})
}
