package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparkplane/sparkplane/internal/cost"
)

// The PostgreSQL store keeps the cost recorder's pod usage and node facts (migration 0002),
// with the same queries as SQLite (podColumns, nodeColumns) and the same merge rules.
var _ cost.Store = (*Postgres)(nil)

// errPodRaced says another writer inserted the pod between this save's read and its insert.
var errPodRaced = errors.New("pod usage inserted concurrently")

func pgScanPod(row rowScanner) (cost.PodUsage, error) {
	var p cost.PodUsage
	var role string
	var start, end *time.Time
	err := row.Scan(&p.UID, &p.Cluster, &p.Namespace, &p.Name, &p.JobRunID, &p.VirtualClusterID,
		&role, &p.NodeName, &p.CPUMillis, &p.MemoryBytes, &p.CPUUsageMillis, &p.MemoryUsageBytes, &start, &end)
	p.Role = cost.Role(role)
	p.Start, p.End = fromPG(start), fromPG(end)
	return p, err
}

func pgScanNode(row rowScanner) (cost.NodeFacts, error) {
	var n cost.NodeFacts
	var ct string
	var created, deleted *time.Time
	err := row.Scan(&n.Cluster, &n.Name, &n.UID, &n.InstanceType, &ct, &n.Zone, &n.Region, &n.PriceLabel,
		&n.CPUMillis, &n.MemoryBytes, &created, &deleted)
	n.CapacityType = cost.CapacityType(ct)
	n.Created, n.Deleted = fromPG(created), fromPG(deleted)
	return n, err
}

// SavePodUsage upserts a pod's usage by UID, keeping a node, start and end already recorded.
// The stored row is locked from the read to the write, so concurrent saves of one pod merge
// one after the other and only one of them reports the end; a first save that meets another
// first save inserting the same pod starts over and merges with it.
func (p *Postgres) SavePodUsage(ctx context.Context, u cost.PodUsage) (cost.PodUsage, bool, error) {
	if u.UID == "" || u.JobRunID == "" {
		return cost.PodUsage{}, false, errors.New("save pod usage: uid and job run id are required")
	}
	for range 10 {
		stored, ended, err := p.savePodUsage(ctx, u)
		if !errors.Is(err, errPodRaced) {
			return stored, ended, err
		}
	}
	return cost.PodUsage{}, false, fmt.Errorf("save pod usage %s/%s: %w ten times in a row", u.Namespace, u.Name, errPodRaced)
}

func (p *Postgres) savePodUsage(ctx context.Context, u cost.PodUsage) (cost.PodUsage, bool, error) {
	var stored cost.PodUsage
	var ended bool
	err := p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		old, err := pgScanPod(tx.QueryRow(ctx, `SELECT `+podColumns+` FROM cost_pods p WHERE p.uid = $1 FOR UPDATE OF p`, u.UID))
		exists := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read pod usage %s: %w", u.UID, err)
		}
		merged := u
		if exists {
			merged = cost.MergePodUsage(old, u)
		}
		ended = !merged.End.IsZero() && (!exists || old.End.IsZero())
		conflict := `ON CONFLICT (uid) DO NOTHING`
		if exists {
			conflict = `ON CONFLICT (uid) DO UPDATE SET cluster = excluded.cluster, namespace = excluded.namespace,
			name = excluded.name, job_run_id = excluded.job_run_id, virtual_cluster_id = excluded.virtual_cluster_id,
			role = excluded.role, node_name = excluded.node_name, cpu_millis = excluded.cpu_millis,
			memory_bytes = excluded.memory_bytes, cpu_usage_millis = excluded.cpu_usage_millis,
			memory_usage_bytes = excluded.memory_usage_bytes, started_at = excluded.started_at,
			ended_at = excluded.ended_at, updated_at = excluded.updated_at`
		}
		tag, err := tx.Exec(ctx, `INSERT INTO cost_pods (uid, cluster, namespace, name, job_run_id,
			virtual_cluster_id, role, node_name, cpu_millis, memory_bytes, cpu_usage_millis, memory_usage_bytes,
			started_at, ended_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) `+conflict,
			merged.UID, merged.Cluster, merged.Namespace, merged.Name, merged.JobRunID, merged.VirtualClusterID,
			string(merged.Role), merged.NodeName, merged.CPUMillis, merged.MemoryBytes, merged.CPUUsageMillis,
			merged.MemoryUsageBytes, pgTime(merged.Start), pgTime(merged.End), pgTime(time.Now()))
		if err != nil {
			return fmt.Errorf("save pod usage %s/%s: %w", u.Namespace, u.Name, err)
		}
		if tag.RowsAffected() == 0 {
			return errPodRaced
		}
		stored = merged
		stored.Start, stored.End = asStored(merged.Start), asStored(merged.End)
		return nil
	})
	if err != nil {
		return cost.PodUsage{}, false, err
	}
	return stored, ended, nil
}

// SaveNodeFacts upserts a node by cluster and name. The same node (same UID) keeps its
// recorded deletion time; a new UID under the name replaces the old node entirely. The one
// statement is atomic, so concurrent saves need no lock of their own.
func (p *Postgres) SaveNodeFacts(ctx context.Context, n cost.NodeFacts) error {
	if n.Name == "" {
		return errors.New("save node facts: name is required")
	}
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO cost_nodes (`+nodeColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (cluster, name) DO UPDATE SET uid = excluded.uid, instance_type = excluded.instance_type,
			capacity_type = excluded.capacity_type, zone = excluded.zone, region = excluded.region,
			price_label = excluded.price_label, cpu_millis = excluded.cpu_millis, memory_bytes = excluded.memory_bytes,
			created_at = excluded.created_at,
			deleted_at = CASE WHEN cost_nodes.uid = excluded.uid THEN COALESCE(cost_nodes.deleted_at, excluded.deleted_at)
				ELSE excluded.deleted_at END`,
			n.Cluster, n.Name, n.UID, n.InstanceType, string(n.CapacityType), n.Zone, n.Region, n.PriceLabel,
			n.CPUMillis, n.MemoryBytes, pgTime(n.Created), pgTime(n.Deleted))
		if err != nil {
			return fmt.Errorf("save node facts %s: %w", n.Name, err)
		}
		return nil
	})
}

// podOrder sorts pods as SQLite does: by start, pods never started (NULL) first, then by UID.
const podOrder = ` ORDER BY p.started_at NULLS FIRST, p.uid`

// PodUsageByJobRun returns every recorded pod of a job run, ordered by start.
func (p *Postgres) PodUsageByJobRun(ctx context.Context, jobRunID string) ([]cost.PodUsage, error) {
	return p.queryPods(ctx, `SELECT `+podColumns+` FROM cost_pods p WHERE p.job_run_id = $1`+podOrder, jobRunID)
}

// PodUsageByVirtualCluster returns the pods of the virtual cluster's job runs that held a node
// within [from, to).
func (p *Postgres) PodUsageByVirtualCluster(ctx context.Context, virtualClusterID string, from, to time.Time) ([]cost.PodUsage, error) {
	return p.queryPods(ctx, `SELECT `+podColumns+` FROM cost_pods p
		WHERE p.job_run_id IN (SELECT DISTINCT job_run_id FROM cost_pods WHERE virtual_cluster_id = $1)
		AND p.started_at < $2 AND (p.ended_at IS NULL OR p.ended_at > $3)`+podOrder, virtualClusterID, pgTime(to), pgTime(from))
}

// PodUsageOnNodes returns the pods that held one of the nodes within [from, to): those of the
// first node, then the second's, and so on, as SQLite answers, in one query.
func (p *Postgres) PodUsageOnNodes(ctx context.Context, nodes []cost.NodeKey, from, to time.Time) ([]cost.PodUsage, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	clusters, names := make([]string, len(nodes)), make([]string, len(nodes))
	for i, k := range nodes {
		clusters[i], names[i] = k.Cluster, k.Name
	}
	return p.queryPods(ctx, `SELECT `+podColumns+` FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(cluster, name, i)
		JOIN cost_pods p ON p.cluster = k.cluster AND p.node_name = k.name
		WHERE p.started_at < $3 AND (p.ended_at IS NULL OR p.ended_at > $4)
		ORDER BY k.i, p.started_at, p.uid`, clusters, names, pgTime(to), pgTime(from))
}

// OpenPodUsage returns the pods of a cluster recorded as still holding their node.
func (p *Postgres) OpenPodUsage(ctx context.Context, cluster string) ([]cost.PodUsage, error) {
	return p.queryPods(ctx, `SELECT `+podColumns+` FROM cost_pods p WHERE p.cluster = $1 AND p.ended_at IS NULL`+podOrder, cluster)
}

// NodeFacts returns the recorded nodes among keys, in one query.
func (p *Postgres) NodeFacts(ctx context.Context, keys []cost.NodeKey) (map[cost.NodeKey]cost.NodeFacts, error) {
	out := make(map[cost.NodeKey]cost.NodeFacts, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	clusters, names := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		clusters[i], names[i] = k.Cluster, k.Name
	}
	rows, err := p.pool.Query(ctx, `SELECT `+nodeColumns+` FROM cost_nodes
		WHERE (cluster, name) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, clusters, names)
	if err != nil {
		return nil, fmt.Errorf("read node facts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		n, err := pgScanNode(rows)
		if err != nil {
			return nil, fmt.Errorf("read node facts: %w", err)
		}
		out[n.Key()] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read node facts: %w", err)
	}
	return out, nil
}

// OpenNodes returns the nodes of a cluster not recorded as deleted.
func (p *Postgres) OpenNodes(ctx context.Context, cluster string) ([]cost.NodeFacts, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+nodeColumns+` FROM cost_nodes WHERE cluster = $1 AND deleted_at IS NULL ORDER BY name`, cluster)
	if err != nil {
		return nil, fmt.Errorf("list open nodes: %w", err)
	}
	defer rows.Close()
	return collect(rows, pgScanNode, "list open nodes")
}

func (p *Postgres) queryPods(ctx context.Context, stmt string, args ...any) ([]cost.PodUsage, error) {
	rows, err := p.pool.Query(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("read pod usage: %w", err)
	}
	defer rows.Close()
	return collect(rows, pgScanPod, "read pod usage")
}
