package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// AdmitJobRun implements jobs.Store. The virtual cluster's row is locked (FOR UPDATE) for the
// decision, so decisions on one virtual cluster, from any replica, happen one at a time.
func (p *Postgres) AdmitJobRun(ctx context.Context, id string, limit int, at time.Time) (jobs.JobRun, jobs.Admission, error) {
	var out jobs.JobRun
	var adm jobs.Admission
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		out, adm, err = admission{
			read: func() (jobs.JobRun, error) {
				run, err := pgScanJobRun(tx.QueryRow(ctx, `SELECT `+pgJobRunColumns+` FROM job_runs WHERE id = $1`, id), id)
				if err != nil {
					return run, err
				}
				if _, err := tx.Exec(ctx, `SELECT 1 FROM virtual_clusters WHERE id = $1 FOR UPDATE`, run.VirtualClusterID); err != nil {
					return run, fmt.Errorf("lock virtual cluster %s: %w", run.VirtualClusterID, err)
				}
				// Read again under the lock: another replica may have admitted or moved it.
				return pgScanJobRun(tx.QueryRow(ctx, `SELECT `+pgJobRunColumns+` FROM job_runs WHERE id = $1 FOR UPDATE`, id), id)
			},
			count: func(run jobs.JobRun) (holding, ahead int, err error) {
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE `+fmt.Sprintf(holdingWhere, "$1", "true"), run.VirtualClusterID).Scan(&holding); err != nil {
					return 0, 0, fmt.Errorf("count job runs holding a slot: %w", err)
				}
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE `+fmt.Sprintf(aheadWhere, "$1", "false", "$2", "$2", "$3"),
					run.VirtualClusterID, pgTime(run.CreatedAt), run.ID).Scan(&ahead); err != nil {
					return 0, 0, fmt.Errorf("count queued job runs: %w", err)
				}
				return holding, ahead, nil
			},
			admit: func(next jobs.JobRun) error {
				doc, att, err := encodeJobRun(next)
				if err != nil {
					return err
				}
				_, err = tx.Exec(ctx, `UPDATE job_runs SET version = $1, doc = $2, attempt = $3, admitted = true WHERE id = $4`, next.Version, doc, att, id)
				return err
			},
		}.decide(limit, at)
		return err
	})
	return out, adm, err
}

// ListQueuedJobRunIDs implements jobs.Store.
func (p *Postgres) ListQueuedJobRunIDs(ctx context.Context, virtualClusterID string, limit int) ([]string, error) {
	rows, err := p.pool.Query(ctx, `SELECT id FROM job_runs WHERE virtual_cluster_id = $1 AND admitted = false AND state = 'PENDING' ORDER BY created_at, id LIMIT $2`,
		virtualClusterID, limitOf(limit))
	if err != nil {
		return nil, fmt.Errorf("list queued job runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list queued job runs: %w", err)
	}
	return ids, nil
}

// GetVirtualClusterSettings implements jobs.Store.
func (p *Postgres) GetVirtualClusterSettings(ctx context.Context, id string) (*jobs.VirtualClusterSettings, error) {
	var doc []byte
	err := p.pool.QueryRow(ctx, `SELECT settings FROM virtual_clusters WHERE id = $1`, id).Scan(&doc)
	return decodeSettings(id, doc, err, pgx.ErrNoRows)
}

// PutVirtualClusterSettings implements jobs.Store.
func (p *Postgres) PutVirtualClusterSettings(ctx context.Context, id string, settings *jobs.VirtualClusterSettings) error {
	doc, err := encodeSettings(settings)
	if err != nil {
		return err
	}
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `UPDATE virtual_clusters SET settings = $1 WHERE id = $2`, doc, id)
		if err != nil {
			return fmt.Errorf("store settings of virtual cluster %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return jobs.NotFoundError("virtual cluster", id)
		}
		return nil
	})
}
