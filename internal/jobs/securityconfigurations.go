package jobs

import (
	"context"
)

// CreateSecurityConfiguration stores a security configuration as given.
func (s *Service) CreateSecurityConfiguration(ctx context.Context, in CreateSecurityConfigurationInput, createdBy string) (SecurityConfiguration, error) {
	var e errs
	e.str("name", in.Name, true, 1, 64, reName)
	e.clientToken(in.ClientToken)
	e.tags("tags", in.Tags)
	if in.SecurityConfigurationData == nil {
		e.fail("securityConfigurationData", "is required")
	}
	if p := in.ContainerProvider; p != nil {
		if p.Type != ContainerProviderEKS {
			e.fail("containerProvider.type", "must be EKS, got %q", p.Type)
		}
		e.str("containerProvider.id", p.ID, true, 1, 100, reClusterID)
	}
	if err := e.result(); err != nil {
		return SecurityConfiguration{}, err
	}
	id := newID(securityConfigIDLen)
	sc := SecurityConfiguration{
		ID: id, Name: in.Name, ARN: s.arn("securityconfigurations/" + id), CreatedAt: s.now(),
		CreatedBy: createdBy, Tags: in.Tags, SecurityConfigurationData: *in.SecurityConfigurationData,
	}
	out, err := s.store.CreateSecurityConfiguration(ctx, sc, Idempotency{Token: in.ClientToken, Hash: requestHash(withoutToken(in))})
	if err != nil {
		return SecurityConfiguration{}, idempotencyError(err)
	}
	return out, nil
}

// DescribeSecurityConfiguration returns one security configuration.
func (s *Service) DescribeSecurityConfiguration(ctx context.Context, id string) (SecurityConfiguration, error) {
	if err := validateID("id", id); err != nil {
		return SecurityConfiguration{}, err
	}
	return s.store.GetSecurityConfiguration(ctx, id)
}

// ListSecurityConfigurations returns a page of security configurations, newest first.
func (s *Service) ListSecurityConfigurations(ctx context.Context, f TimeFilter) ([]SecurityConfiguration, string, error) {
	if err := validateTimeFilter(f); err != nil {
		return nil, "", err
	}
	f.Limit = pageSize(f.Limit)
	return s.store.ListSecurityConfigurations(ctx, f)
}
