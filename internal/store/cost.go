package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkplane/sparkplane/internal/cost"
)

// The SQLite store keeps the cost recorder's pod usage and node facts (migration 0002).
var _ cost.Store = (*SQLite)(nil)

// podColumns reads a cost_pods row (aliased p). A pod recorded without the virtual cluster
// label takes its job run's virtual cluster from the job's other pods.
const podColumns = `p.uid, p.cluster, p.namespace, p.name, p.job_run_id,
	COALESCE(NULLIF(p.virtual_cluster_id, ''), (SELECT q.virtual_cluster_id FROM cost_pods q
		WHERE q.job_run_id = p.job_run_id AND q.virtual_cluster_id != '' LIMIT 1), ''),
	p.role, p.node_name, p.cpu_millis, p.memory_bytes, p.cpu_usage_millis, p.memory_usage_bytes,
	p.started_at, p.ended_at`

const nodeColumns = `cluster, name, uid, instance_type, capacity_type, zone, region, price_label,
	cpu_millis, memory_bytes, created_at, deleted_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanPod(row rowScanner) (cost.PodUsage, error) {
	var p cost.PodUsage
	var role string
	var start, end sql.NullInt64
	err := row.Scan(&p.UID, &p.Cluster, &p.Namespace, &p.Name, &p.JobRunID, &p.VirtualClusterID,
		&role, &p.NodeName, &p.CPUMillis, &p.MemoryBytes, &p.CPUUsageMillis, &p.MemoryUsageBytes, &start, &end)
	p.Role = cost.Role(role)
	p.Start, p.End = fromMicros(start), fromMicros(end)
	return p, err
}

func scanNode(row rowScanner) (cost.NodeFacts, error) {
	var n cost.NodeFacts
	var ct string
	var created, deleted sql.NullInt64
	err := row.Scan(&n.Cluster, &n.Name, &n.UID, &n.InstanceType, &ct, &n.Zone, &n.Region, &n.PriceLabel,
		&n.CPUMillis, &n.MemoryBytes, &created, &deleted)
	n.CapacityType = cost.CapacityType(ct)
	n.Created, n.Deleted = fromMicros(created), fromMicros(deleted)
	return n, err
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// asStored is t as it reads back from the store: UTC, whole microseconds.
func asStored(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMicro(micros(t)).UTC()
}

func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// SavePodUsage upserts a pod's usage by UID, keeping a node, start and end already recorded.
func (s *SQLite) SavePodUsage(ctx context.Context, p cost.PodUsage) (cost.PodUsage, bool, error) {
	if p.UID == "" || p.JobRunID == "" {
		return cost.PodUsage{}, false, errors.New("save pod usage: uid and job run id are required")
	}
	var stored cost.PodUsage
	var ended bool
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		old, err := scanPod(tx.QueryRowContext(ctx, `SELECT `+podColumns+` FROM cost_pods p WHERE p.uid = ?`, p.UID))
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read pod usage %s: %w", p.UID, err)
		}
		merged := p
		if exists {
			merged = cost.MergePodUsage(old, p)
		}
		ended = !merged.End.IsZero() && (!exists || old.End.IsZero())
		_, err = tx.ExecContext(ctx, `INSERT INTO cost_pods (uid, cluster, namespace, name, job_run_id,
			virtual_cluster_id, role, node_name, cpu_millis, memory_bytes, cpu_usage_millis, memory_usage_bytes,
			started_at, ended_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (uid) DO UPDATE SET cluster = excluded.cluster, namespace = excluded.namespace,
			name = excluded.name, job_run_id = excluded.job_run_id, virtual_cluster_id = excluded.virtual_cluster_id,
			role = excluded.role, node_name = excluded.node_name, cpu_millis = excluded.cpu_millis,
			memory_bytes = excluded.memory_bytes, cpu_usage_millis = excluded.cpu_usage_millis,
			memory_usage_bytes = excluded.memory_usage_bytes, started_at = excluded.started_at,
			ended_at = excluded.ended_at, updated_at = excluded.updated_at`,
			merged.UID, merged.Cluster, merged.Namespace, merged.Name, merged.JobRunID, merged.VirtualClusterID,
			string(merged.Role), merged.NodeName, merged.CPUMillis, merged.MemoryBytes, merged.CPUUsageMillis,
			merged.MemoryUsageBytes, nullMicros(merged.Start), nullMicros(merged.End), micros(time.Now()))
		if err != nil {
			return fmt.Errorf("save pod usage %s/%s: %w", p.Namespace, p.Name, err)
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
// recorded deletion time; a new UID under the name replaces the old node entirely.
func (s *SQLite) SaveNodeFacts(ctx context.Context, n cost.NodeFacts) error {
	if n.Name == "" {
		return errors.New("save node facts: name is required")
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cost_nodes (`+nodeColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (cluster, name) DO UPDATE SET uid = excluded.uid, instance_type = excluded.instance_type,
			capacity_type = excluded.capacity_type, zone = excluded.zone, region = excluded.region,
			price_label = excluded.price_label, cpu_millis = excluded.cpu_millis, memory_bytes = excluded.memory_bytes,
			created_at = excluded.created_at,
			deleted_at = CASE WHEN cost_nodes.uid = excluded.uid THEN COALESCE(cost_nodes.deleted_at, excluded.deleted_at)
				ELSE excluded.deleted_at END`,
			n.Cluster, n.Name, n.UID, n.InstanceType, string(n.CapacityType), n.Zone, n.Region, n.PriceLabel,
			n.CPUMillis, n.MemoryBytes, nullMicros(n.Created), nullMicros(n.Deleted))
		if err != nil {
			return fmt.Errorf("save node facts %s: %w", n.Name, err)
		}
		return nil
	})
}

// PodUsageByJobRun returns every recorded pod of a job run, ordered by start.
func (s *SQLite) PodUsageByJobRun(ctx context.Context, jobRunID string) ([]cost.PodUsage, error) {
	return s.queryPods(ctx, `SELECT `+podColumns+` FROM cost_pods p WHERE p.job_run_id = ?
		ORDER BY p.started_at, p.uid`, jobRunID)
}

// PodUsageByVirtualCluster returns the pods of the virtual cluster's job runs that held a node
// within [from, to).
func (s *SQLite) PodUsageByVirtualCluster(ctx context.Context, virtualClusterID string, from, to time.Time) ([]cost.PodUsage, error) {
	return s.queryPods(ctx, `SELECT `+podColumns+` FROM cost_pods p
		WHERE p.job_run_id IN (SELECT DISTINCT job_run_id FROM cost_pods WHERE virtual_cluster_id = ?)
		AND p.started_at < ? AND (p.ended_at IS NULL OR p.ended_at > ?)
		ORDER BY p.started_at, p.uid`, virtualClusterID, micros(to), micros(from))
}

// PodUsageOnNodes returns the pods that held one of the nodes within [from, to).
func (s *SQLite) PodUsageOnNodes(ctx context.Context, nodes []cost.NodeKey, from, to time.Time) ([]cost.PodUsage, error) {
	var out []cost.PodUsage
	for _, k := range nodes {
		pods, err := s.queryPods(ctx, `SELECT `+podColumns+` FROM cost_pods p
			WHERE p.cluster = ? AND p.node_name = ? AND p.started_at < ? AND (p.ended_at IS NULL OR p.ended_at > ?)
			ORDER BY p.started_at, p.uid`, k.Cluster, k.Name, micros(to), micros(from))
		if err != nil {
			return nil, err
		}
		out = append(out, pods...)
	}
	return out, nil
}

// OpenPodUsage returns the pods of a cluster recorded as still holding their node.
func (s *SQLite) OpenPodUsage(ctx context.Context, cluster string) ([]cost.PodUsage, error) {
	return s.queryPods(ctx, `SELECT `+podColumns+` FROM cost_pods p WHERE p.cluster = ? AND p.ended_at IS NULL
		ORDER BY p.started_at, p.uid`, cluster)
}

// NodeFacts returns the recorded nodes among keys.
func (s *SQLite) NodeFacts(ctx context.Context, keys []cost.NodeKey) (map[cost.NodeKey]cost.NodeFacts, error) {
	out := make(map[cost.NodeKey]cost.NodeFacts, len(keys))
	for _, k := range keys {
		n, err := scanNode(s.read.QueryRowContext(ctx, `SELECT `+nodeColumns+` FROM cost_nodes WHERE cluster = ? AND name = ?`, k.Cluster, k.Name))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read node facts %s: %w", k.Name, err)
		}
		out[k] = n
	}
	return out, nil
}

// OpenNodes returns the nodes of a cluster not recorded as deleted.
func (s *SQLite) OpenNodes(ctx context.Context, cluster string) ([]cost.NodeFacts, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+nodeColumns+` FROM cost_nodes WHERE cluster = ? AND deleted_at IS NULL ORDER BY name`, cluster)
	if err != nil {
		return nil, fmt.Errorf("list open nodes: %w", err)
	}
	defer rows.Close()
	return collect(rows, scanNode, "list open nodes")
}

func (s *SQLite) queryPods(ctx context.Context, stmt string, args ...any) ([]cost.PodUsage, error) {
	rows, err := s.read.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("read pod usage: %w", err)
	}
	defer rows.Close()
	return collect(rows, scanPod, "read pod usage")
}
