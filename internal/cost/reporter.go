package cost

import (
	"context"
	"fmt"
	"time"
)

// MaxRange is the longest time range a virtual cluster report covers.
const MaxRange = 366 * 24 * time.Hour

// Reporter answers cost questions from the recorded usage: what a job run cost, what a
// virtual cluster's job runs cost over a time range.
type Reporter struct {
	store   Store
	catalog *Catalog
	now     func() time.Time
}

// NewReporter returns a Reporter over store, pricing with catalog; now may be nil
// (time.Now).
func NewReporter(store Store, catalog *Catalog, now func() time.Time) *Reporter {
	if now == nil {
		now = time.Now
	}
	return &Reporter{store: store, catalog: catalog, now: now}
}

// JobRun reports what a job run's pods cost so far. A job run with no recorded pods (not yet
// scheduled, or unknown: the caller checks that the job run exists) costs zero.
func (r *Reporter) JobRun(ctx context.Context, jobRunID string) (JobReport, error) {
	if jobRunID == "" {
		return JobReport{}, invalid("jobRunId", "must not be empty")
	}
	pods, err := r.store.PodUsageByJobRun(ctx, jobRunID)
	if err != nil {
		return JobReport{}, fmt.Errorf("read pod usage of job run %s: %w", jobRunID, err)
	}
	nodes, err := r.store.NodeFacts(ctx, nodeKeys(pods))
	if err != nil {
		return JobReport{}, fmt.Errorf("read nodes of job run %s: %w", jobRunID, err)
	}
	return BuildJobReport(jobRunID, pods, nodes, r.catalog, r.now()), nil
}

// VirtualCluster reports what a virtual cluster's job runs cost within [from, to), per job
// run and per UTC day, with the idle cost of the nodes only it used. A zero to means now.
func (r *Reporter) VirtualCluster(ctx context.Context, virtualClusterID string, from, to time.Time) (VirtualClusterReport, error) {
	now := r.now()
	if to.IsZero() {
		to = now
	}
	switch {
	case virtualClusterID == "":
		return VirtualClusterReport{}, invalid("virtualClusterId", "must not be empty")
	case from.IsZero():
		return VirtualClusterReport{}, invalid("from", "must be given")
	case !from.Before(to):
		return VirtualClusterReport{}, invalid("from", "must be before to ("+to.UTC().Format(time.RFC3339)+")")
	case to.Sub(from) > MaxRange:
		return VirtualClusterReport{}, invalid("from", "must be at most 366 days before to")
	}
	pods, err := r.store.PodUsageByVirtualCluster(ctx, virtualClusterID, from, to)
	if err != nil {
		return VirtualClusterReport{}, fmt.Errorf("read pod usage of virtual cluster %s: %w", virtualClusterID, err)
	}
	keys := nodeKeys(pods)
	nodePods, err := r.store.PodUsageOnNodes(ctx, keys, from, to)
	if err != nil {
		return VirtualClusterReport{}, fmt.Errorf("read pods on the nodes of virtual cluster %s: %w", virtualClusterID, err)
	}
	nodes, err := r.store.NodeFacts(ctx, keys)
	if err != nil {
		return VirtualClusterReport{}, fmt.Errorf("read nodes of virtual cluster %s: %w", virtualClusterID, err)
	}
	return BuildVirtualClusterReport(virtualClusterID, from, to, pods, nodePods, nodes, r.catalog, now), nil
}

func nodeKeys(pods []PodUsage) []NodeKey {
	seen := map[NodeKey]bool{}
	var out []NodeKey
	for _, p := range pods {
		k := p.NodeKey()
		if p.NodeName != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
