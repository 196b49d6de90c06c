package jobs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Releases tells which release labels the server can run (internal/release's catalog).
type Releases interface {
	Known(label string) bool
}

// Roles tells whether an execution role is registered and may be used on a virtual cluster.
type Roles interface {
	Allowed(roleArn, virtualClusterID string) bool
}

// ContainerProviders tells whether a container provider (Kubernetes cluster) id is configured,
// and which of its namespaces virtual clusters may use.
type ContainerProviders interface {
	Known(id string) bool
	// NamespaceAllowed returns "" when virtual clusters of provider id may use namespace, else
	// the rule that refuses it.
	NamespaceAllowed(id, namespace string) string
}

// Config holds what Service needs beside its store.
type Config struct {
	// Region and AccountID go into every ARN.
	Region    string
	AccountID string
	// Releases, Roles and ContainerProviders check references to server configuration.
	// Each must be set.
	Releases           Releases
	Roles              Roles
	ContainerProviders ContainerProviders
	// CheckJob validates a job run's Spark input (sparkSubmitParameters, classifications, keys
	// the service owns) before it is stored; a *ValidationError refuses the request. Nil checks
	// nothing beyond the API model.
	CheckJob func(JobRun) error
	// Notify is told the id of every job run that was accepted or asked to cancel, so the
	// lifecycle controller acts at once instead of at its next resync. Nil does nothing.
	Notify func(jobRunID string)
	// Logger receives one line per state change; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service carries out the emr-containers operations on the domain. It is safe for concurrent
// use; all state lives in the Store.
type Service struct {
	store Store
	cfg   Config
	log   *slog.Logger
}

// NewService returns a Service over store. It fails when a required part of cfg is missing.
func NewService(store Store, cfg Config) (*Service, error) {
	if store == nil || cfg.Releases == nil || cfg.Roles == nil || cfg.ContainerProviders == nil {
		return nil, errors.New("jobs.NewService: store, Releases, Roles and ContainerProviders are required")
	}
	if cfg.Region == "" || cfg.AccountID == "" {
		return nil, errors.New("jobs.NewService: Region and AccountID are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, cfg: cfg, log: log}, nil
}

// Input types. Their JSON tags are the request members of the emr-containers API.

// CreateVirtualClusterInput is the body of CreateVirtualCluster.
type CreateVirtualClusterInput struct {
	Name                    string             `json:"name"`
	ContainerProvider       *ContainerProvider `json:"containerProvider"`
	ClientToken             string             `json:"clientToken"`
	Tags                    map[string]string  `json:"tags,omitempty"`
	SecurityConfigurationID string             `json:"securityConfigurationId,omitempty"`
}

// StartJobRunInput is the body of StartJobRun plus the virtual cluster id from the path.
type StartJobRunInput struct {
	VirtualClusterID         string                    `json:"-"`
	Name                     string                    `json:"name,omitempty"`
	ClientToken              string                    `json:"clientToken"`
	ExecutionRoleArn         string                    `json:"executionRoleArn,omitempty"`
	ReleaseLabel             string                    `json:"releaseLabel,omitempty"`
	JobDriver                *JobDriver                `json:"jobDriver,omitempty"`
	ConfigurationOverrides   *ConfigurationOverrides   `json:"configurationOverrides,omitempty"`
	Tags                     map[string]string         `json:"tags,omitempty"`
	JobTemplateID            string                    `json:"jobTemplateId,omitempty"`
	JobTemplateParameters    map[string]string         `json:"jobTemplateParameters,omitempty"`
	RetryPolicyConfiguration *RetryPolicyConfiguration `json:"retryPolicyConfiguration,omitempty"`
}

// CreateJobTemplateInput is the body of CreateJobTemplate.
type CreateJobTemplateInput struct {
	Name            string            `json:"name"`
	ClientToken     string            `json:"clientToken"`
	JobTemplateData *JobTemplateData  `json:"jobTemplateData"`
	Tags            map[string]string `json:"tags,omitempty"`
	KMSKeyArn       string            `json:"kmsKeyArn,omitempty"`
}

// CreateSecurityConfigurationInput is the body of CreateSecurityConfiguration.
type CreateSecurityConfigurationInput struct {
	Name                      string                     `json:"name"`
	ClientToken               string                     `json:"clientToken"`
	SecurityConfigurationData *SecurityConfigurationData `json:"securityConfigurationData"`
	Tags                      map[string]string          `json:"tags,omitempty"`
	ContainerProvider         *ContainerProvider         `json:"containerProvider,omitempty"`
}

// requestHash fingerprints a request (without its clientToken) for idempotency checks.
func requestHash(v any) string {
	raw, _ := json.Marshal(v) // the inputs are plain data; Marshal cannot fail on them
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// newID returns n random lowercase alphanumeric characters, the API's ID format.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	// The first character is a letter-or-digit like the rest; AWS ids start with a digit or letter.
	return string(b)
}

// ID lengths follow what AWS returns.
const (
	virtualClusterIDLen = 25
	jobRunIDLen         = 19
	templateIDLen       = 19
	securityConfigIDLen = 19
)

func (s *Service) arn(resource string) string {
	return fmt.Sprintf("arn:aws:emr-containers:%s:%s:/%s", s.cfg.Region, s.cfg.AccountID, resource)
}

func (s *Service) now() time.Time { return truncateTime(s.cfg.Now()) }

func validateID(field, id string) error {
	var e errs
	e.str(field, id, true, 1, 64, reResourceID)
	return e.result()
}

// CreateVirtualCluster registers a namespace of a configured Kubernetes cluster.
func (s *Service) CreateVirtualCluster(ctx context.Context, in CreateVirtualClusterInput) (VirtualCluster, error) {
	var e errs
	e.str("name", in.Name, true, 1, 64, reName)
	e.clientToken(in.ClientToken)
	if in.ContainerProvider == nil {
		e.fail("containerProvider", "is required")
	} else {
		p := in.ContainerProvider
		if p.Type != ContainerProviderEKS {
			e.fail("containerProvider.type", "must be EKS, got %q", p.Type)
		}
		e.str("containerProvider.id", p.ID, true, 1, 100, reClusterID)
		if p.Info != nil && p.Info.EKSInfo != nil {
			e.str("containerProvider.info.eksInfo.namespace", p.Info.EKSInfo.Namespace, false, 1, 63, reNamespace)
		}
	}
	e.tags("tags", in.Tags)
	e.str("securityConfigurationId", in.SecurityConfigurationID, false, 1, 64, reResourceID)
	if err := e.result(); err != nil {
		return VirtualCluster{}, err
	}
	if !s.cfg.ContainerProviders.Known(in.ContainerProvider.ID) {
		return VirtualCluster{}, invalid("containerProvider.id", "%q is not a container provider in the server configuration", in.ContainerProvider.ID)
	}
	if in.SecurityConfigurationID != "" {
		if _, err := s.store.GetSecurityConfiguration(ctx, in.SecurityConfigurationID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return VirtualCluster{}, invalid("securityConfigurationId", "security configuration %s does not exist", in.SecurityConfigurationID)
			}
			return VirtualCluster{}, err
		}
	}
	provider := *in.ContainerProvider
	if provider.Namespace() == "" {
		provider.Info = &ContainerInfo{EKSInfo: &EKSInfo{Namespace: "default"}}
	}
	if rule := s.cfg.ContainerProviders.NamespaceAllowed(provider.ID, provider.Namespace()); rule != "" {
		return VirtualCluster{}, invalid("containerProvider.info.eksInfo.namespace", "%s", rule)
	}
	hash := requestHash(withoutToken(in))
	id := newID(virtualClusterIDLen)
	vc := VirtualCluster{
		ID: id, Name: in.Name, ARN: s.arn("virtualclusters/" + id), State: VirtualClusterRunning,
		ContainerProvider: provider, CreatedAt: s.now(), Tags: in.Tags,
		SecurityConfigurationID: in.SecurityConfigurationID,
	}
	out, err := s.store.CreateVirtualCluster(ctx, vc, Idempotency{Token: in.ClientToken, Hash: hash})
	if err != nil {
		if errors.Is(err, ErrConflict) && !errors.Is(err, ErrIdempotencyMismatch) {
			// A namespace hosts at most one running virtual cluster, as on EMR on EKS.
			return VirtualCluster{}, invalid("containerProvider.info.eksInfo.namespace", "namespace %q of container provider %q already has a running virtual cluster", provider.Namespace(), provider.ID)
		}
		return VirtualCluster{}, idempotencyError(err)
	}
	if out.ID == id {
		s.log.Info("virtual cluster created", "virtualCluster", id, "containerProvider", provider.ID, "namespace", provider.Namespace())
	}
	return out, nil
}

func withoutToken[T any](in T) T {
	switch v := any(&in).(type) {
	case *CreateVirtualClusterInput:
		v.ClientToken = ""
	case *StartJobRunInput:
		v.ClientToken = ""
	case *CreateJobTemplateInput:
		v.ClientToken = ""
	case *CreateSecurityConfigurationInput:
		v.ClientToken = ""
	}
	return in
}

func idempotencyError(err error) error {
	if errors.Is(err, ErrIdempotencyMismatch) {
		return invalid("clientToken", "was already used with a different request; use a new clientToken")
	}
	return err
}

func (s *Service) notify(id string) {
	if s.cfg.Notify != nil {
		s.cfg.Notify(id)
	}
}

// DescribeVirtualCluster returns one virtual cluster.
func (s *Service) DescribeVirtualCluster(ctx context.Context, id string) (VirtualCluster, error) {
	if err := validateID("id", id); err != nil {
		return VirtualCluster{}, err
	}
	return s.store.GetVirtualCluster(ctx, id)
}

// ListVirtualClusters returns a page of virtual clusters, newest first, and the next token.
func (s *Service) ListVirtualClusters(ctx context.Context, f VirtualClusterFilter) ([]VirtualCluster, string, error) {
	if err := validateTimeFilter(f.TimeFilter); err != nil {
		return nil, "", err
	}
	var e errs
	if f.ContainerProviderType != "" && f.ContainerProviderType != ContainerProviderEKS {
		e.fail("containerProviderType", "must be EKS, got %q", f.ContainerProviderType)
	}
	for _, st := range f.States {
		switch st {
		case VirtualClusterRunning, VirtualClusterTerminating, VirtualClusterTerminated, VirtualClusterArrested:
		default:
			e.fail("states", "must be RUNNING, TERMINATING, TERMINATED or ARRESTED, got %q", st)
		}
	}
	if err := e.result(); err != nil {
		return nil, "", err
	}
	f.Limit = pageSize(f.Limit)
	return s.store.ListVirtualClusters(ctx, f)
}

// DeleteVirtualCluster terminates a virtual cluster and asks for its unfinished job runs to be
// cancelled. Deleting a terminated cluster again succeeds.
func (s *Service) DeleteVirtualCluster(ctx context.Context, id string) (string, error) {
	if err := validateID("id", id); err != nil {
		return "", err
	}
	vc, err := s.store.GetVirtualCluster(ctx, id)
	if err != nil {
		return "", err
	}
	if vc.State == VirtualClusterTerminated || vc.State == VirtualClusterTerminating {
		return id, nil
	}
	for {
		runs, _, err := s.store.ListJobRuns(ctx, JobRunFilter{VirtualClusterID: id,
			States: []JobRunState{StatePending, StateSubmitted, StateRunning}, TimeFilter: TimeFilter{Page: Page{Limit: 500}}})
		if err != nil {
			return "", err
		}
		if len(runs) == 0 {
			break
		}
		for _, r := range runs {
			if _, err := s.cancel(ctx, r.ID, "virtual cluster deleted"); err != nil && !errors.Is(err, ErrConflict) {
				return "", err
			}
			s.notify(r.ID)
		}
	}
	// With runs still being cancelled the cluster is TERMINATING; the controller settles it
	// to TERMINATED when the last one has ended (SettleVirtualCluster).
	state := VirtualClusterTerminated
	cancelling, _, err := s.store.ListJobRuns(ctx, JobRunFilter{VirtualClusterID: id,
		States: []JobRunState{StateCancelPending}, TimeFilter: TimeFilter{Page: Page{Limit: 1}}})
	if err != nil {
		return "", err
	}
	if len(cancelling) > 0 {
		state = VirtualClusterTerminating
	}
	if _, err := s.store.SetVirtualClusterState(ctx, id, state); err != nil {
		return "", err
	}
	s.log.Info("virtual cluster deleted", "virtualCluster", id, "state", state)
	return id, nil
}

// SettleVirtualCluster moves a TERMINATING virtual cluster to TERMINATED once none of its job
// runs is unfinished; the controller calls it after a run of such a cluster ends.
func (s *Service) SettleVirtualCluster(ctx context.Context, id string) error {
	vc, err := s.store.GetVirtualCluster(ctx, id)
	if err != nil || vc.State != VirtualClusterTerminating {
		return err
	}
	active, _, err := s.store.ListJobRuns(ctx, JobRunFilter{VirtualClusterID: id, States: NonTerminalStates,
		TimeFilter: TimeFilter{Page: Page{Limit: 1}}})
	if err != nil || len(active) > 0 {
		return err
	}
	if _, err := s.store.SetVirtualClusterState(ctx, id, VirtualClusterTerminated); err != nil {
		return err
	}
	s.log.Info("virtual cluster terminated", "virtualCluster", id)
	return nil
}

// StartJobRun validates, resolves (job template substitution) and durably stores a job run in
// state PENDING. A retry with the same clientToken and body returns the stored run.
func (s *Service) StartJobRun(ctx context.Context, in StartJobRunInput, createdBy string) (JobRun, error) {
	var e errs
	e.str("virtualClusterId", in.VirtualClusterID, true, 1, 64, reResourceID)
	e.clientToken(in.ClientToken)
	e.str("name", in.Name, false, 1, 64, reName)
	e.str("jobTemplateId", in.JobTemplateID, false, 1, 64, reResourceID)
	if in.JobTemplateID == "" && in.JobTemplateParameters != nil {
		e.fail("jobTemplateParameters", "may only be given with jobTemplateId")
	}
	if len(in.JobTemplateParameters) > maxTemplateParams {
		e.fail("jobTemplateParameters", "must have at most %d entries, got %d", maxTemplateParams, len(in.JobTemplateParameters))
	}
	for k, v := range in.JobTemplateParameters {
		e.str("jobTemplateParameters key", k, true, 1, 512, reParameterName)
		e.str("jobTemplateParameters."+k, v, true, 1, 1024, nil)
		if v != "" {
			e.nonBlank("jobTemplateParameters."+k, v)
		}
	}
	if err := e.result(); err != nil {
		return JobRun{}, err
	}
	hash := requestHash(withoutToken(in))

	role, label, tags := in.ExecutionRoleArn, in.ReleaseLabel, in.Tags
	var driver JobDriver
	if in.JobDriver != nil {
		driver = *in.JobDriver
	}
	overrides := in.ConfigurationOverrides
	if in.JobTemplateID != "" {
		t, err := s.store.GetJobTemplate(ctx, in.JobTemplateID)
		if err != nil {
			return JobRun{}, err
		}
		values, err := resolveParameters(t, in.JobTemplateParameters)
		if err != nil {
			return JobRun{}, err
		}
		r, err := substitute(t.JobTemplateData, values)
		if err != nil {
			return JobRun{}, err
		}
		// Members given in the request take precedence over the template's.
		if role == "" {
			role = r.ExecutionRoleArn
		}
		if label == "" {
			label = r.ReleaseLabel
		}
		if in.JobDriver == nil {
			driver = r.JobDriver
		}
		if overrides == nil {
			overrides = r.ConfigurationOverrides
		}
		if len(r.JobTags) > 0 {
			merged := make(map[string]string, len(r.JobTags)+len(tags))
			for k, v := range r.JobTags {
				merged[k] = v
			}
			for k, v := range tags {
				merged[k] = v
			}
			tags = merged
		}
	}
	if in.JobDriver == nil && in.JobTemplateID == "" {
		return JobRun{}, invalid("jobDriver", "is required")
	}
	candidate := JobRun{ExecutionRoleArn: role, ReleaseLabel: label, JobDriver: driver, ConfigurationOverrides: overrides,
		Tags: tags, RetryPolicyConfiguration: in.RetryPolicyConfiguration}
	if err := candidate.ValidateInput(); err != nil {
		return JobRun{}, err
	}
	if s.cfg.CheckJob != nil {
		if err := s.cfg.CheckJob(candidate); err != nil {
			return JobRun{}, err
		}
	}

	vc, err := s.store.GetVirtualCluster(ctx, in.VirtualClusterID)
	if err != nil {
		return JobRun{}, err
	}
	if vc.State != VirtualClusterRunning {
		return JobRun{}, invalid("virtualClusterId", "virtual cluster %s is %s; job runs can only start on a RUNNING virtual cluster", vc.ID, vc.State)
	}
	if !s.cfg.Releases.Known(label) {
		return JobRun{}, invalid("releaseLabel", "%q is not a release label in the release catalog", label)
	}
	if !s.cfg.Roles.Allowed(role, vc.ID) {
		return JobRun{}, invalid("executionRoleArn", "%q is not an execution role registered for virtual cluster %s", role, vc.ID)
	}

	id := newID(jobRunIDLen)
	run := JobRun{
		ID: id, Name: in.Name, ARN: s.arn("virtualclusters/" + vc.ID + "/jobruns/" + id),
		VirtualClusterID: vc.ID, ClientToken: in.ClientToken, State: StatePending,
		ExecutionRoleArn: role, ReleaseLabel: label, JobDriver: driver, ConfigurationOverrides: overrides,
		CreatedAt: s.now(), CreatedBy: createdBy, Tags: tags, JobTemplateID: in.JobTemplateID,
		RetryPolicyConfiguration: in.RetryPolicyConfiguration, StateDetails: "",
	}
	if run.RetryPolicyConfiguration != nil {
		run.RetryPolicyExecution = &RetryPolicyExecution{CurrentAttemptCount: 1}
	}
	out, err := s.store.CreateJobRun(ctx, run, Idempotency{Token: in.ClientToken, Hash: hash})
	if err != nil {
		return JobRun{}, idempotencyError(err)
	}
	if out.ID == id {
		s.log.Debug("job run accepted", "job", id, "virtualCluster", vc.ID)
	}
	s.notify(out.ID)
	return out, nil
}

// ValidateInput checks the resolved input of a job run (role, release label, driver,
// configuration overrides, tags, retry policy) against the API model. Every stored run passes.
func (r JobRun) ValidateInput() error {
	var e errs
	e.str("executionRoleArn", r.ExecutionRoleArn, true, 20, 2048, reRoleArn)
	e.str("releaseLabel", r.ReleaseLabel, true, 1, 64, reReleaseLabel)
	e.jobDriver("jobDriver", r.JobDriver)
	e.overrides("configurationOverrides", r.ConfigurationOverrides)
	e.tags("tags", r.Tags)
	e.str("name", r.Name, false, 1, 64, reName)
	if p := r.RetryPolicyConfiguration; p != nil && (p.MaxAttempts < 1 || p.MaxAttempts > 10) {
		e.fail("retryPolicyConfiguration.maxAttempts", "must be between 1 and 10, got %d", p.MaxAttempts)
	}
	return e.result()
}

// DescribeJobRun returns one job run of a virtual cluster.
func (s *Service) DescribeJobRun(ctx context.Context, virtualClusterID, id string) (JobRun, error) {
	if err := validateID("virtualClusterId", virtualClusterID); err != nil {
		return JobRun{}, err
	}
	if err := validateID("id", id); err != nil {
		return JobRun{}, err
	}
	run, err := s.store.GetJobRun(ctx, id)
	if err != nil {
		return JobRun{}, err
	}
	if run.VirtualClusterID != virtualClusterID {
		return JobRun{}, notFound("job run", id)
	}
	return run, nil
}

// ListJobRuns returns a page of a virtual cluster's job runs, newest first.
func (s *Service) ListJobRuns(ctx context.Context, f JobRunFilter) ([]JobRun, string, error) {
	if err := validateID("virtualClusterId", f.VirtualClusterID); err != nil {
		return nil, "", err
	}
	if err := validateTimeFilter(f.TimeFilter); err != nil {
		return nil, "", err
	}
	var e errs
	e.str("name", f.Name, false, 1, 64, reName)
	for _, st := range f.States {
		if !ValidJobRunState(st) {
			e.fail("states", "must be one of PENDING, SUBMITTED, RUNNING, FAILED, CANCELLED, CANCEL_PENDING, COMPLETED, got %q", st)
		}
	}
	if err := e.result(); err != nil {
		return nil, "", err
	}
	if _, err := s.store.GetVirtualCluster(ctx, f.VirtualClusterID); err != nil {
		return nil, "", err
	}
	f.Limit = pageSize(f.Limit)
	return s.store.ListJobRuns(ctx, f)
}

// CancelJobRun asks for a job run to be cancelled: it moves to CANCEL_PENDING and the
// controller finishes it. Cancelling a run already in CANCEL_PENDING succeeds again.
func (s *Service) CancelJobRun(ctx context.Context, virtualClusterID, id string) (JobRun, error) {
	if _, err := s.DescribeJobRun(ctx, virtualClusterID, id); err != nil {
		return JobRun{}, err
	}
	run, err := s.cancel(ctx, id, "cancelled by user")
	if err == nil {
		s.notify(id)
	}
	if errors.Is(err, ErrConflict) {
		return JobRun{}, invalid("id", "job run %s is %s and can no longer be cancelled", id, run.State)
	}
	return run, err
}

func (s *Service) cancel(ctx context.Context, id, why string) (JobRun, error) {
	var last JobRun
	run, err := s.store.UpdateJobRun(ctx, id, -1, func(r *JobRun) error {
		last = *r
		if r.State == StateCancelPending {
			return nil
		}
		if !CanTransition(r.State, StateCancelPending) {
			return fmt.Errorf("job run %s is %s: %w", id, r.State, ErrConflict)
		}
		r.State = StateCancelPending
		r.StateDetails = why
		return nil
	})
	if err != nil {
		return last, err
	}
	s.log.Info("job run cancel requested", "job", id, "virtualCluster", run.VirtualClusterID)
	return run, nil
}

// GetJobRun returns a job run by id alone; the lifecycle controller uses it.
func (s *Service) GetJobRun(ctx context.Context, id string) (JobRun, error) {
	return s.store.GetJobRun(ctx, id)
}

// ListActiveJobRuns returns every non-terminal job run, oldest first (limit <= 0: all).
func (s *Service) ListActiveJobRuns(ctx context.Context, limit int) ([]JobRun, error) {
	return s.store.ListActiveJobRuns(ctx, limit)
}

// UpdateJobRun is the controller's compare-and-set: mutate sees the stored run with version
// expectedVersion (negative: any) and may change State, StateDetails, FailureReason,
// FinishedAt, RetryPolicyExecution and Extensions. The change is refused (ErrConflict) when the
// version moved or the state machine forbids the transition. Entering a terminal state sets
// FinishedAt when mutate left it empty.
func (s *Service) UpdateJobRun(ctx context.Context, id string, expectedVersion int64, mutate func(*JobRun) error) (JobRun, error) {
	return s.store.UpdateJobRun(ctx, id, expectedVersion, func(r *JobRun) error {
		before := *r
		if err := mutate(r); err != nil {
			return err
		}
		if err := checkTransition(&before, r); err != nil {
			return err
		}
		if r.State.Terminal() && r.FinishedAt == nil {
			t := s.now()
			r.FinishedAt = &t
		}
		if r.State != before.State {
			s.log.Info("job run state changed", "job", id, "virtualCluster", r.VirtualClusterID, "from", before.State, "to", r.State)
		}
		return nil
	})
}

// pageSize applies the default and the upper bound to maxResults.
func pageSize(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

// ParseARN splits an emr-containers ARN of this server into the resource it names.
func (s *Service) ParseARN(arn string) (ResourceRef, error) {
	var e errs
	e.str("resourceArn", arn, true, 60, 500, nil)
	if err := e.result(); err != nil {
		return ResourceRef{}, err
	}
	prefix := fmt.Sprintf("arn:aws:emr-containers:%s:%s:/", s.cfg.Region, s.cfg.AccountID)
	if !strings.HasPrefix(arn, prefix) {
		return ResourceRef{}, invalid("resourceArn", "must be an ARN of the form arn:aws:emr-containers:%s:%s:/<resource>/<id>", s.cfg.Region, s.cfg.AccountID)
	}
	parts := strings.Split(strings.TrimPrefix(arn, prefix), "/")
	var ref ResourceRef
	switch {
	case len(parts) == 2 && (parts[0] == string(KindVirtualCluster) || parts[0] == string(KindJobTemplate) || parts[0] == string(KindSecurityConfiguration)):
		ref = ResourceRef{Kind: ResourceKind(parts[0]), ID: parts[1]}
	case len(parts) == 4 && parts[0] == string(KindVirtualCluster) && parts[2] == string(KindJobRun):
		ref = ResourceRef{Kind: KindJobRun, ID: parts[3]}
		if err := validateID("resourceArn", parts[1]); err != nil {
			return ResourceRef{}, err
		}
	default:
		return ResourceRef{}, invalid("resourceArn", "does not name a virtual cluster, job run, job template or security configuration")
	}
	if err := validateID("resourceArn", ref.ID); err != nil {
		return ResourceRef{}, err
	}
	return ref, nil
}

// TagResource adds or replaces tags on the resource an ARN names.
func (s *Service) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	ref, err := s.ParseARN(arn)
	if err != nil {
		return err
	}
	var e errs
	if len(tags) == 0 {
		e.fail("tags", "is required and must not be empty")
	}
	e.tags("tags", tags)
	if err := e.result(); err != nil {
		return err
	}
	if err := s.checkARNOwner(ctx, ref, arn); err != nil {
		return err
	}
	current, err := s.store.UpdateTags(ctx, ref, nil, nil)
	if err != nil {
		return err
	}
	n := len(current)
	for k := range tags {
		if _, ok := current[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return invalid("tags", "a resource can carry at most %d tags; this would make %d", maxTags, n)
	}
	_, err = s.store.UpdateTags(ctx, ref, tags, nil)
	return err
}

// UntagResource removes tag keys from the resource an ARN names; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	ref, err := s.ParseARN(arn)
	if err != nil {
		return err
	}
	var e errs
	if len(keys) == 0 {
		e.fail("tagKeys", "is required and must not be empty")
	}
	for _, k := range keys {
		e.str("tagKeys", k, true, 1, 128, nil)
	}
	if err := e.result(); err != nil {
		return err
	}
	if err := s.checkARNOwner(ctx, ref, arn); err != nil {
		return err
	}
	_, err = s.store.UpdateTags(ctx, ref, nil, keys)
	return err
}

// ListTagsForResource returns the tags of the resource an ARN names.
func (s *Service) ListTagsForResource(ctx context.Context, arn string) (map[string]string, error) {
	ref, err := s.ParseARN(arn)
	if err != nil {
		return nil, err
	}
	if err := s.checkARNOwner(ctx, ref, arn); err != nil {
		return nil, err
	}
	tags, err := s.store.UpdateTags(ctx, ref, nil, nil)
	if tags == nil && err == nil {
		tags = map[string]string{}
	}
	return tags, err
}

// checkARNOwner makes a job run ARN with the wrong virtual cluster id not found.
func (s *Service) checkARNOwner(ctx context.Context, ref ResourceRef, arn string) error {
	if ref.Kind != KindJobRun {
		return nil
	}
	run, err := s.store.GetJobRun(ctx, ref.ID)
	if err != nil {
		return err
	}
	if run.ARN != arn {
		return notFound("job run", ref.ID)
	}
	return nil
}
