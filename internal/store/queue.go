package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Queries of the per-virtual-cluster queue (jobs.Store.AdmitJobRun), shared by both backends:
// their conditions are the job_runs_queue index's predicate, so they read that index alone.
// SQLite binds ? and PostgreSQL $n; the texts differ only there and in the admitted literal.
const (
	holdingWhere = `virtual_cluster_id = %s AND admitted = %s AND state IN ('PENDING', 'SUBMITTED', 'RUNNING', 'CANCEL_PENDING')`
	aheadWhere   = `virtual_cluster_id = %s AND admitted = %s AND state = 'PENDING' AND (created_at < %s OR (created_at = %s AND id < %s))`
)

// admit applies the admission rule to counts read in the decision's transaction.
func admit(run jobs.JobRun, limit, holding, ahead int) jobs.Admission {
	return jobs.Admission{Admitted: holding+ahead < limit, Ahead: ahead, Holding: holding}
}

// AdmitJobRun implements jobs.Store. SQLite's single writer serializes the decisions.
func (s *SQLite) AdmitJobRun(ctx context.Context, id string, limit int, at time.Time) (jobs.JobRun, jobs.Admission, error) {
	var out jobs.JobRun
	var adm jobs.Admission
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		run, err := scanJobRun(tx.QueryRowContext(ctx, `SELECT `+jobRunColumns+` FROM job_runs WHERE id = ?`, id), id)
		if err != nil {
			return err
		}
		out = run
		if run.State != jobs.StatePending || run.HoldsSlot() {
			adm = jobs.Admission{Admitted: run.HoldsSlot()}
			return nil
		}
		var holding, ahead int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM job_runs WHERE `+fmt.Sprintf(holdingWhere, "?", "1"), run.VirtualClusterID).Scan(&holding); err != nil {
			return fmt.Errorf("count job runs holding a slot: %w", err)
		}
		created := micros(run.CreatedAt)
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM job_runs WHERE `+fmt.Sprintf(aheadWhere, "?", "0", "?", "?", "?"),
			run.VirtualClusterID, created, created, run.ID).Scan(&ahead); err != nil {
			return fmt.Errorf("count queued job runs: %w", err)
		}
		adm = admit(run, limit, holding, ahead)
		if !adm.Admitted {
			return nil
		}
		next := run
		next.Attempt.AdmittedAt = at.UTC()
		next.Version++
		doc, ext, err := encodeJobRun(next)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE job_runs SET version = ?, doc = ?, extensions = ?, admitted = 1 WHERE id = ?`, next.Version, doc, ext, id); err != nil {
			return fmt.Errorf("admit job run %s: %w", id, err)
		}
		out = next
		return nil
	})
	return out, adm, err
}

// ListQueuedJobRunIDs implements jobs.Store.
func (s *SQLite) ListQueuedJobRunIDs(ctx context.Context, virtualClusterID string, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM job_runs WHERE virtual_cluster_id = ? AND admitted = 0 AND state = 'PENDING' ORDER BY created_at, id LIMIT ?`,
		virtualClusterID, limitOf(limit))
	if err != nil {
		return nil, fmt.Errorf("list queued job runs: %w", err)
	}
	defer rows.Close()
	return collect(rows, func(row rowScanner) (id string, err error) { return id, row.Scan(&id) }, "list queued job runs")
}

// GetVirtualClusterSettings implements jobs.Store.
func (s *SQLite) GetVirtualClusterSettings(ctx context.Context, id string) (*jobs.VirtualClusterSettings, error) {
	var doc []byte
	err := s.read.QueryRowContext(ctx, `SELECT settings FROM virtual_clusters WHERE id = ?`, id).Scan(&doc)
	return decodeSettings(id, doc, err, sql.ErrNoRows)
}

// PutVirtualClusterSettings implements jobs.Store.
func (s *SQLite) PutVirtualClusterSettings(ctx context.Context, id string, settings *jobs.VirtualClusterSettings) error {
	doc, err := encodeSettings(settings)
	if err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE virtual_clusters SET settings = ? WHERE id = ?`, doc, id)
		if err != nil {
			return fmt.Errorf("store settings of virtual cluster %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return jobs.NotFoundError("virtual cluster", id)
		}
		return nil
	})
}

func encodeSettings(settings *jobs.VirtualClusterSettings) ([]byte, error) {
	if settings == nil {
		return nil, nil
	}
	doc, err := json.Marshal(settings)
	if err != nil {
		return nil, fmt.Errorf("encode virtual cluster settings: %w", err)
	}
	return doc, nil
}

func decodeSettings(id string, doc []byte, err, noRows error) (*jobs.VirtualClusterSettings, error) {
	if errors.Is(err, noRows) {
		return nil, jobs.NotFoundError("virtual cluster", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read settings of virtual cluster %s: %w", id, err)
	}
	if doc == nil {
		return nil, nil
	}
	var out jobs.VirtualClusterSettings
	if err := json.Unmarshal(doc, &out); err != nil {
		return nil, fmt.Errorf("decode settings of virtual cluster %s: %w", id, err)
	}
	return &out, nil
}
