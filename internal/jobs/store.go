package jobs

import (
	"context"
	"time"
)

// Store is the persistence the domain needs. SQLite (internal/store) and later PostgreSQL
// implement it and share one conformance suite (internal/store/storetest).
//
// Create methods take the clientToken and a hash of the request it came with: when the token
// was already used in the same scope (the virtual cluster for job runs, the account for the
// rest), they return the stored resource if the hash matches and ErrIdempotencyMismatch if not,
// and store nothing. Get and update methods return an error wrapping ErrNotFound for an
// unknown id.
type Store interface {
	// CreateVirtualCluster fails with ErrConflict when another RUNNING virtual cluster uses the
	// same container provider id and namespace.
	CreateVirtualCluster(ctx context.Context, vc VirtualCluster, token Idempotency) (VirtualCluster, error)
	GetVirtualCluster(ctx context.Context, id string) (VirtualCluster, error)
	ListVirtualClusters(ctx context.Context, f VirtualClusterFilter) ([]VirtualCluster, string, error)
	// SetVirtualClusterState moves a virtual cluster to state and returns it.
	SetVirtualClusterState(ctx context.Context, id string, state VirtualClusterState) (VirtualCluster, error)

	// CreateJobRun stores a new job run; it is durable when the call returns nil.
	CreateJobRun(ctx context.Context, run JobRun, token Idempotency) (JobRun, error)
	GetJobRun(ctx context.Context, id string) (JobRun, error)
	ListJobRuns(ctx context.Context, f JobRunFilter) ([]JobRun, string, error)
	// CountJobRuns returns how many job runs of a virtual cluster are in each state; a state
	// no run is in is absent. An unknown virtual cluster has no runs.
	CountJobRuns(ctx context.Context, virtualClusterID string) (map[JobRunState]int, error)
	// ListActiveJobRunIDs returns the ids of the non-terminal job runs of every virtual
	// cluster, oldest first, at most limit (all when limit <= 0).
	ListActiveJobRunIDs(ctx context.Context, limit int) ([]string, error)
	// UpdateJobRun reads the run, fails with ErrConflict if its Version is not
	// expectedVersion (skip the check with a negative expectedVersion), applies mutate, and
	// stores the result with Version+1. An error from mutate aborts and is returned.
	UpdateJobRun(ctx context.Context, id string, expectedVersion int64, mutate func(*JobRun) error) (JobRun, error)

	// AdmitJobRun decides whether a PENDING run may take one of its virtual cluster's limit
	// slots, first in first out: it may when the runs holding a slot plus the queued runs
	// created before it are fewer than limit. When it may, the run's Attempt.AdmittedAt is set
	// to at (and its Version moves on). Decisions on one virtual cluster are serialized, so
	// concurrent callers (and replicas) never admit more than limit. The run is returned as
	// stored afterwards; a run that is no longer PENDING, or already admitted, is returned
	// unchanged with Admitted telling whether it holds a slot.
	AdmitJobRun(ctx context.Context, id string, limit int, at time.Time) (JobRun, Admission, error)
	// ListQueuedJobRunIDs returns the ids of a virtual cluster's queued runs (PENDING, holding
	// no slot), oldest first, at most limit.
	ListQueuedJobRunIDs(ctx context.Context, virtualClusterID string, limit int) ([]string, error)
	// GetVirtualClusterSettings returns the operator's settings of a virtual cluster, or nil
	// when none were put.
	GetVirtualClusterSettings(ctx context.Context, id string) (*VirtualClusterSettings, error)
	// PutVirtualClusterSettings stores (nil: removes) a virtual cluster's settings.
	PutVirtualClusterSettings(ctx context.Context, id string, s *VirtualClusterSettings) error

	CreateJobTemplate(ctx context.Context, t JobTemplate, token Idempotency) (JobTemplate, error)
	GetJobTemplate(ctx context.Context, id string) (JobTemplate, error)
	ListJobTemplates(ctx context.Context, f TimeFilter) ([]JobTemplate, string, error)
	DeleteJobTemplate(ctx context.Context, id string) error

	CreateSecurityConfiguration(ctx context.Context, sc SecurityConfiguration, token Idempotency) (SecurityConfiguration, error)
	GetSecurityConfiguration(ctx context.Context, id string) (SecurityConfiguration, error)
	ListSecurityConfigurations(ctx context.Context, f TimeFilter) ([]SecurityConfiguration, string, error)

	// UpdateTags adds set and removes remove on the resource, returning its tags afterwards.
	// check, when not nil, sees the tags as they would be, in the same transaction, and an
	// error from it aborts the change: a limit it enforces holds against concurrent calls.
	UpdateTags(ctx context.Context, ref ResourceRef, set map[string]string, remove []string, check func(after map[string]string) error) (map[string]string, error)
}

// Idempotency binds a clientToken to the hash of the request it came with. A zero Token
// disables the check.
type Idempotency struct {
	Token string
	Hash  string
}

// Page is the pagination part of every list query. Token is the opaque nextToken of the
// previous page ("" for the first); Limit is the page size.
type Page struct {
	Limit int
	Token string
}

// TimeFilter restricts a list to resources created in [CreatedAfter, CreatedBefore]; zero
// times mean no bound.
type TimeFilter struct {
	CreatedAfter  time.Time
	CreatedBefore time.Time
	Page
}

// VirtualClusterFilter holds every filter of ListVirtualClusters.
type VirtualClusterFilter struct {
	ContainerProviderID   string
	ContainerProviderType string
	States                []VirtualClusterState
	TimeFilter
}

// JobRunFilter holds every filter of ListJobRuns. Every filter that is set must hold.
type JobRunFilter struct {
	VirtualClusterID string
	Name             string
	States           []JobRunState
	// CreatedBy keeps the runs whose createdBy (the ARN of the principal that started them)
	// is exactly this; "" keeps every run.
	CreatedBy string
	// Tags keeps the runs that have every one of these tags with exactly its value (other
	// tags may be there too); empty keeps every run.
	Tags map[string]string
	TimeFilter
}

// ResourceKind names what an ARN points at.
type ResourceKind string

// Resource kinds that carry tags.
const (
	KindVirtualCluster        ResourceKind = "virtualclusters"
	KindJobRun                ResourceKind = "jobruns"
	KindJobTemplate           ResourceKind = "jobtemplates"
	KindSecurityConfiguration ResourceKind = "securityconfigurations"
)

// ResourceRef identifies a taggable resource.
type ResourceRef struct {
	Kind ResourceKind
	ID   string
}
