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

// admission is one backend's reads and write for an admission decision, inside the
// transaction that serializes decisions on a virtual cluster.
type admission struct {
	// read returns the run as stored.
	read func() (jobs.JobRun, error)
	// count returns how many runs of the virtual cluster hold a slot, and how many queued
	// runs were created before run.
	count func(run jobs.JobRun) (holding, ahead int, err error)
	// admit stores next, the run with its admission, marked as holding a slot.
	admit func(next jobs.JobRun) error
}

// decide is the admission rule, shared by both backends (jobs.Store.AdmitJobRun): a PENDING
// run that holds no slot is admitted when the runs holding one plus the queued runs ahead of
// it are fewer than limit.
func (a admission) decide(limit int, at time.Time) (jobs.JobRun, jobs.Admission, error) {
	run, err := a.read()
	if err != nil {
		return run, jobs.Admission{}, err
	}
	if run.State != jobs.StatePending || run.HoldsSlot() {
		return run, jobs.Admission{Admitted: run.HoldsSlot()}, nil
	}
	holding, ahead, err := a.count(run)
	if err != nil {
		return run, jobs.Admission{}, err
	}
	adm := jobs.Admission{Admitted: holding+ahead < limit, Ahead: ahead, Holding: holding}
	if !adm.Admitted {
		return run, adm, nil
	}
	next := run
	next.Attempt.AdmittedAt = at.UTC()
	next.Version++
	if err := a.admit(next); err != nil {
		return run, jobs.Admission{}, fmt.Errorf("admit job run %s: %w", run.ID, err)
	}
	return next, adm, nil
}

// AdmitJobRun implements jobs.Store. SQLite's single writer serializes the decisions.
func (s *SQLite) AdmitJobRun(ctx context.Context, id string, limit int, at time.Time) (jobs.JobRun, jobs.Admission, error) {
	var out jobs.JobRun
	var adm jobs.Admission
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, adm, err = admission{
			read: func() (jobs.JobRun, error) {
				return scanJobRun(tx.QueryRowContext(ctx, `SELECT `+jobRunColumns+` FROM job_runs WHERE id = ?`, id), id)
			},
			count: func(run jobs.JobRun) (holding, ahead int, err error) {
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM job_runs WHERE `+fmt.Sprintf(holdingWhere, "?", "1"), run.VirtualClusterID).Scan(&holding); err != nil {
					return 0, 0, fmt.Errorf("count job runs holding a slot: %w", err)
				}
				created := micros(run.CreatedAt)
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM job_runs WHERE `+fmt.Sprintf(aheadWhere, "?", "0", "?", "?", "?"),
					run.VirtualClusterID, created, created, run.ID).Scan(&ahead); err != nil {
					return 0, 0, fmt.Errorf("count queued job runs: %w", err)
				}
				return holding, ahead, nil
			},
			admit: func(next jobs.JobRun) error {
				doc, ext, err := encodeJobRun(next)
				if err != nil {
					return err
				}
				_, err = tx.ExecContext(ctx, `UPDATE job_runs SET version = ?, doc = ?, extensions = ?, admitted = 1 WHERE id = ?`, next.Version, doc, ext, id)
				return err
			},
		}.decide(limit, at)
		return err
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
