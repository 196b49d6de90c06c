package jobs

import (
	"context"
	"fmt"
	"strings"
)

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
	// The limit is checked inside the store's transaction: two concurrent calls cannot both
	// pass it on the same old count.
	_, err = s.store.UpdateTags(ctx, ref, tags, nil, func(after map[string]string) error {
		if len(after) > maxTags {
			return invalid("tags", "a resource can carry at most %d tags; this would make %d", maxTags, len(after))
		}
		return nil
	})
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
	_, err = s.store.UpdateTags(ctx, ref, nil, keys, nil)
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
	tags, err := s.store.UpdateTags(ctx, ref, nil, nil, nil)
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
