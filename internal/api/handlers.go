package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Response shapes of the operations whose output is not a single resource.
type (
	idNameARN struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
		ARN  string `json:"arn,omitempty"`
	}
	startJobRunOutput struct {
		ID               string `json:"id"`
		Name             string `json:"name,omitempty"`
		ARN              string `json:"arn"`
		VirtualClusterID string `json:"virtualClusterId"`
	}
	createJobTemplateOutput struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		ARN       string    `json:"arn"`
		CreatedAt time.Time `json:"createdAt"`
	}
	cancelJobRunOutput struct {
		ID               string `json:"id"`
		VirtualClusterID string `json:"virtualClusterId"`
	}
	deleteOutput struct {
		ID string `json:"id"`
	}
)

func (s *Server) createVirtualCluster(r *http.Request, body []byte) (any, error) {
	var in jobs.CreateVirtualClusterInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	vc, err := s.svc.CreateVirtualCluster(r.Context(), in)
	if err != nil {
		return nil, err
	}
	return idNameARN{vc.ID, vc.Name, vc.ARN}, nil
}

func (s *Server) describeVirtualCluster(r *http.Request, _ []byte) (any, error) {
	vc, err := s.svc.DescribeVirtualCluster(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"virtualCluster": vc}, nil
}

func (s *Server) listVirtualClusters(r *http.Request, _ []byte) (any, error) {
	tf, err := timeFilter(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobs.VirtualClusterFilter{
		ContainerProviderID: q.Get("containerProviderId"), ContainerProviderType: q.Get("containerProviderType"),
		States: states[jobs.VirtualClusterState](r), TimeFilter: tf,
	}
	list, next, err := s.svc.ListVirtualClusters(r.Context(), f)
	if err != nil {
		return nil, err
	}
	// Only what the caller may describe, as EMR lists; a page may come back shorter than
	// maxResults, and nextToken still leads on.
	id := identity(r)
	visible := list[:0]
	for _, vc := range list {
		if may(id, "emr-containers:DescribeVirtualCluster", vc.ARN, vc.Tags) {
			visible = append(visible, vc)
		}
	}
	return page("virtualClusters", visible, next), nil
}

// page builds a list response; nextToken is omitted on the last page.
func page[T any](key string, items []T, next string) map[string]any {
	if items == nil {
		items = []T{}
	}
	out := map[string]any{key: items}
	if next != "" {
		out["nextToken"] = next
	}
	return out
}

func (s *Server) deleteVirtualCluster(r *http.Request, _ []byte) (any, error) {
	id, err := s.svc.DeleteVirtualCluster(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return deleteOutput{id}, nil
}

func (s *Server) startJobRun(r *http.Request, body []byte) (any, error) {
	in, ok := decodedAs[jobs.StartJobRunInput](r)
	if !ok {
		in = &jobs.StartJobRunInput{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
		in.VirtualClusterID = r.PathValue("virtualClusterId")
	}
	run, err := s.svc.StartJobRun(r.Context(), *in, principal(r))
	if err != nil {
		return nil, err
	}
	return startJobRunOutput{run.ID, run.Name, run.ARN, run.VirtualClusterID}, nil
}

func (s *Server) describeJobRun(r *http.Request, _ []byte) (any, error) {
	run, err := s.svc.DescribeJobRun(r.Context(), r.PathValue("virtualClusterId"), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"jobRun": s.withCost(r.Context(), run)}, nil
}

func (s *Server) listJobRuns(r *http.Request, _ []byte) (any, error) {
	tf, err := timeFilter(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	f := jobs.JobRunFilter{
		VirtualClusterID: r.PathValue("virtualClusterId"), Name: q.Get("name"),
		States: states[jobs.JobRunState](r), TimeFilter: tf,
		// Extensions (sparkplane only): the runs one principal started, and runs by tag.
		CreatedBy: q.Get("createdBy"),
	}
	for _, t := range q["tag"] {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, &jobs.ValidationError{Field: "tag", Rule: fmt.Sprintf("must be key=value, such as team=analytics, got %s", quoteShort(t))}
		}
		if f.Tags == nil {
			f.Tags = map[string]string{}
		}
		if prev, dup := f.Tags[k]; dup && prev != v {
			return nil, &jobs.ValidationError{Field: "tag", Rule: fmt.Sprintf("names the key %s twice with different values", quoteShort(k))}
		}
		f.Tags[k] = v
	}
	list, next, err := s.svc.ListJobRuns(r.Context(), f)
	if err != nil {
		return nil, err
	}
	id := identity(r)
	visible := list[:0]
	for _, run := range list {
		if may(id, "emr-containers:DescribeJobRun", run.ARN, run.Tags) {
			visible = append(visible, run)
		}
	}
	return page("jobRuns", visible, next), nil
}

func (s *Server) cancelJobRun(r *http.Request, _ []byte) (any, error) {
	run, err := s.svc.CancelJobRun(r.Context(), r.PathValue("virtualClusterId"), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return cancelJobRunOutput{run.ID, run.VirtualClusterID}, nil
}

func (s *Server) createJobTemplate(r *http.Request, body []byte) (any, error) {
	var in jobs.CreateJobTemplateInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	t, err := s.svc.CreateJobTemplate(r.Context(), in, principal(r))
	if err != nil {
		return nil, err
	}
	return createJobTemplateOutput{t.ID, t.Name, t.ARN, t.CreatedAt}, nil
}

func (s *Server) describeJobTemplate(r *http.Request, _ []byte) (any, error) {
	t, err := s.svc.DescribeJobTemplate(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"jobTemplate": t}, nil
}

func (s *Server) listJobTemplates(r *http.Request, _ []byte) (any, error) {
	tf, err := timeFilter(r)
	if err != nil {
		return nil, err
	}
	list, next, err := s.svc.ListJobTemplates(r.Context(), tf)
	if err != nil {
		return nil, err
	}
	return page("templates", list, next), nil
}

func (s *Server) deleteJobTemplate(r *http.Request, _ []byte) (any, error) {
	id, err := s.svc.DeleteJobTemplate(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return deleteOutput{id}, nil
}

func (s *Server) createSecurityConfiguration(r *http.Request, body []byte) (any, error) {
	var in jobs.CreateSecurityConfigurationInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	sc, err := s.svc.CreateSecurityConfiguration(r.Context(), in, principal(r))
	if err != nil {
		return nil, err
	}
	return idNameARN{sc.ID, sc.Name, sc.ARN}, nil
}

func (s *Server) describeSecurityConfiguration(r *http.Request, _ []byte) (any, error) {
	sc, err := s.svc.DescribeSecurityConfiguration(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"securityConfiguration": sc}, nil
}

func (s *Server) listSecurityConfigurations(r *http.Request, _ []byte) (any, error) {
	tf, err := timeFilter(r)
	if err != nil {
		return nil, err
	}
	list, next, err := s.svc.ListSecurityConfigurations(r.Context(), tf)
	if err != nil {
		return nil, err
	}
	return page("securityConfigurations", list, next), nil
}

func (s *Server) tagResource(r *http.Request, body []byte) (any, error) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	defer s.tagCache.forget(r.PathValue("resourceArn"))
	return struct{}{}, s.svc.TagResource(r.Context(), r.PathValue("resourceArn"), in.Tags)
}

func (s *Server) untagResource(r *http.Request, _ []byte) (any, error) {
	defer s.tagCache.forget(r.PathValue("resourceArn"))
	return struct{}{}, s.svc.UntagResource(r.Context(), r.PathValue("resourceArn"), r.URL.Query()["tagKeys"])
}

func (s *Server) listTags(r *http.Request, _ []byte) (any, error) {
	tags, err := s.svc.ListTagsForResource(r.Context(), r.PathValue("resourceArn"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": tags}, nil
}
