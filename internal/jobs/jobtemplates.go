package jobs

import (
	"context"
	"regexp"
	"strings"
)

// CreateJobTemplate stores a parameterised StartJobRun input. Placeholders (${name}) may appear
// in any string member; every one must be declared in parameterConfiguration. The members are
// checked fully only after substitution, at StartJobRun.
func (s *Service) CreateJobTemplate(ctx context.Context, in CreateJobTemplateInput, createdBy string) (JobTemplate, error) {
	var e errs
	e.str("name", in.Name, true, 1, 64, reName)
	e.clientToken(in.ClientToken)
	e.tags("tags", in.Tags)
	e.str("kmsKeyArn", in.KMSKeyArn, false, 3, 2048, reKMSKeyArn)
	if in.JobTemplateData == nil {
		e.fail("jobTemplateData", "is required")
		return JobTemplate{}, e.result()
	}
	d := in.JobTemplateData
	const f = "jobTemplateData"
	e.parametric(f+".executionRoleArn", d.ExecutionRoleArn, 20, 2048, reRoleArn)
	e.parametric(f+".releaseLabel", d.ReleaseLabel, 1, 64, reReleaseLabel)
	switch {
	case d.JobDriver.SparkSubmitJobDriver == nil && d.JobDriver.SparkSQLJobDriver == nil:
		e.fail(f+".jobDriver", "must set exactly one of sparkSubmitJobDriver or sparkSqlJobDriver")
	case d.JobDriver.SparkSubmitJobDriver != nil && d.JobDriver.SparkSQLJobDriver != nil:
		e.fail(f+".jobDriver", "must set exactly one of sparkSubmitJobDriver or sparkSqlJobDriver, not both")
	case d.JobDriver.SparkSubmitJobDriver != nil:
		e.required(f+".jobDriver.sparkSubmitJobDriver.entryPoint", d.JobDriver.SparkSubmitJobDriver.EntryPoint)
	}
	if o := d.ConfigurationOverrides; o != nil {
		e.configurations(f+".configurationOverrides.applicationConfiguration", o.ApplicationConfiguration, 1)
		if m := o.MonitoringConfiguration; m != nil && !strings.Contains(m.PersistentAppUI, "${") {
			e.enabledDisabled(f+".configurationOverrides.monitoringConfiguration.persistentAppUI", m.PersistentAppUI)
		}
	}
	e.tags(f+".jobTags", d.JobTags)
	if len(d.ParameterConfiguration) > maxTemplateParams {
		e.fail(f+".parameterConfiguration", "must have at most %d entries, got %d", maxTemplateParams, len(d.ParameterConfiguration))
	}
	for name, pc := range d.ParameterConfiguration {
		e.str(f+".parameterConfiguration key", name, true, 1, 512, reParameterName)
		if pc.Type != "" && pc.Type != ParameterString && pc.Type != ParameterNumber {
			e.fail(f+".parameterConfiguration."+name+".type", "must be STRING or NUMBER, got %q", pc.Type)
		}
		if pc.DefaultValue != nil {
			e.str(f+".parameterConfiguration."+name+".defaultValue", *pc.DefaultValue, true, 1, 1024, nil)
		}
	}
	if err := e.result(); err != nil {
		return JobTemplate{}, err
	}
	refs, err := templateReferences(*d)
	if err != nil {
		return JobTemplate{}, err
	}
	for _, r := range refs {
		if _, ok := d.ParameterConfiguration[r]; !ok {
			return JobTemplate{}, invalid(f+".parameterConfiguration", "must declare parameter %q, which the template uses as ${%s}", r, r)
		}
	}
	id := newID(templateIDLen)
	t := JobTemplate{
		ID: id, Name: in.Name, ARN: s.arn("jobtemplates/" + id), CreatedAt: s.now(), CreatedBy: createdBy,
		Tags: in.Tags, JobTemplateData: *d, KMSKeyArn: in.KMSKeyArn,
	}
	out, err := s.store.CreateJobTemplate(ctx, t, Idempotency{Token: in.ClientToken, Hash: requestHash(withoutToken(in))})
	if err != nil {
		return JobTemplate{}, idempotencyError(err)
	}
	return out, nil
}

// parametric checks a template member that may be a placeholder: with a ${...} only its length
// is checked now, the pattern after substitution.
func (e *errs) parametric(field, v string, minLen, maxLen int, re *regexp.Regexp) {
	if strings.Contains(v, "${") {
		e.str(field, v, true, 1, maxLen, nil)
		return
	}
	e.str(field, v, true, minLen, maxLen, re)
}

// DescribeJobTemplate returns one job template.
func (s *Service) DescribeJobTemplate(ctx context.Context, id string) (JobTemplate, error) {
	if err := validateID("id", id); err != nil {
		return JobTemplate{}, err
	}
	return s.store.GetJobTemplate(ctx, id)
}

// ListJobTemplates returns a page of job templates, newest first.
func (s *Service) ListJobTemplates(ctx context.Context, f TimeFilter) ([]JobTemplate, string, error) {
	if err := validateTimeFilter(f); err != nil {
		return nil, "", err
	}
	f.Limit = pageSize(f.Limit)
	return s.store.ListJobTemplates(ctx, f)
}

// DeleteJobTemplate removes a job template; runs started from it keep their resolved input.
func (s *Service) DeleteJobTemplate(ctx context.Context, id string) (string, error) {
	if err := validateID("id", id); err != nil {
		return "", err
	}
	return id, s.store.DeleteJobTemplate(ctx, id)
}
