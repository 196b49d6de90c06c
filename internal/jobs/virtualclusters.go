package jobs

import (
	"context"
	"errors"
)

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
