package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

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

	candidate, err := s.resolveStart(ctx, in)
	if err != nil {
		return JobRun{}, err
	}
	if err := candidate.ValidateInput(); err != nil {
		return JobRun{}, err
	}
	vc, err := s.store.GetVirtualCluster(ctx, in.VirtualClusterID)
	if err != nil {
		return JobRun{}, err
	}
	if vc.State != VirtualClusterRunning {
		return JobRun{}, invalid("virtualClusterId", "virtual cluster %s is %s; job runs can only start on a RUNNING virtual cluster", vc.ID, vc.State)
	}
	if s.cfg.CheckJob != nil {
		if err := s.cfg.CheckJob(candidate, s.effective(vc.Settings)); err != nil {
			return JobRun{}, err
		}
	}
	if err := s.cfg.Releases.Check(candidate.ReleaseLabel); err != nil {
		return JobRun{}, &ValidationError{Field: "releaseLabel", Rule: strings.TrimPrefix(err.Error(), "releaseLabel ")}
	}
	if !s.cfg.Roles.Allowed(candidate.ExecutionRoleArn, vc.ID) {
		return JobRun{}, invalid("executionRoleArn", "%q is not an execution role registered for virtual cluster %s", candidate.ExecutionRoleArn, vc.ID)
	}

	id := newID(jobRunIDLen)
	run := JobRun{
		ID: id, Name: in.Name, ARN: s.arn("virtualclusters/" + vc.ID + "/jobruns/" + id),
		VirtualClusterID: vc.ID, ClientToken: in.ClientToken, State: StatePending,
		ExecutionRoleArn: candidate.ExecutionRoleArn, ReleaseLabel: candidate.ReleaseLabel, JobDriver: candidate.JobDriver,
		ConfigurationOverrides: candidate.ConfigurationOverrides, CreatedAt: s.now(), CreatedBy: createdBy, Tags: candidate.Tags,
		JobTemplateID: in.JobTemplateID, RetryPolicyConfiguration: in.RetryPolicyConfiguration,
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

// resolveStart merges a StartJobRun request with the job template it names (request members
// win) into the run's input, unvalidated.
func (s *Service) resolveStart(ctx context.Context, in StartJobRunInput) (JobRun, error) {
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
	return candidate, nil
}

// ResolveStartJobRun returns the execution role and the tags a StartJobRun request runs with
// once its job template is applied, for the authorizer's emr-containers:ExecutionRoleArn,
// aws:RequestTag and aws:TagKeys conditions. A request that does not resolve returns what it
// names itself.
func (s *Service) ResolveStartJobRun(ctx context.Context, in StartJobRunInput) (role string, tags map[string]string) {
	if in.JobTemplateID == "" {
		return in.ExecutionRoleArn, in.Tags
	}
	run, err := s.resolveStart(ctx, in)
	if err != nil {
		return in.ExecutionRoleArn, in.Tags
	}
	return run.ExecutionRoleArn, run.Tags
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
	if err := validateJobRunFilter(f); err != nil {
		return nil, "", err
	}
	if _, err := s.store.GetVirtualCluster(ctx, f.VirtualClusterID); err != nil {
		return nil, "", err
	}
	f.Limit = pageSize(f.Limit)
	return s.store.ListJobRuns(ctx, f)
}

// validateJobRunFilter checks every filter of ListJobRuns: the API's (virtualClusterId, name,
// states, the time window and page) and the web console's (createdBy, and tags, which follow
// the rules of a job run's own tags).
func validateJobRunFilter(f JobRunFilter) error {
	if err := validateID("virtualClusterId", f.VirtualClusterID); err != nil {
		return err
	}
	if err := validateTimeFilter(f.TimeFilter); err != nil {
		return err
	}
	var e errs
	e.str("name", f.Name, false, 1, 64, reName)
	for _, st := range f.States {
		if !ValidJobRunState(st) {
			e.fail("states", "must be one of PENDING, SUBMITTED, RUNNING, FAILED, CANCELLED, CANCEL_PENDING, COMPLETED, got %q", st)
		}
	}
	e.str("createdBy", f.CreatedBy, false, 1, 2048, nil)
	e.tags("tags", f.Tags)
	return e.result()
}

// CountJobRuns returns how many job runs of a virtual cluster are in each state; a state no
// run is in is absent. A virtual cluster that does not exist is not found.
func (s *Service) CountJobRuns(ctx context.Context, virtualClusterID string) (map[JobRunState]int, error) {
	if err := validateID("virtualClusterId", virtualClusterID); err != nil {
		return nil, err
	}
	if _, err := s.store.GetVirtualCluster(ctx, virtualClusterID); err != nil {
		return nil, err
	}
	return s.store.CountJobRuns(ctx, virtualClusterID)
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

// ListActiveJobRunIDs returns the ids of every non-terminal job run, oldest first (limit <= 0:
// all); the controller's resync reads them, then each run as it reconciles it.
func (s *Service) ListActiveJobRunIDs(ctx context.Context, limit int) ([]string, error) {
	return s.store.ListActiveJobRunIDs(ctx, limit)
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
