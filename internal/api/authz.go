package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/iam"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// CodeAccessDenied is the error code of a call a policy refuses.
const CodeAccessDenied = "AccessDeniedException"

// ExtensionPrefix is the service prefix of the actions of sparkplane's own routes.
const ExtensionPrefix = "sparkplane"

// check is one authorization question a call asks: may the caller do action on resource,
// with these condition keys.
type check struct {
	action   string
	resource string
	context  map[string][]string
}

// authorizer returns the checks of a call; the first is the call's own action, which the
// audit log records. It may read the resources involved (their tags); it changes nothing.
type authorizer func(r *http.Request, body []byte, id *access.Identity) ([]check, error)

// route is one operation: its handler, how it is authorized, and whether it changes
// anything (its audit record is then written before the answer).
type route struct {
	action   string
	fn       handlerFunc
	authz    authorizer
	mutating bool
}

type identityKey struct{}

func identity(r *http.Request) *access.Identity {
	id, _ := r.Context().Value(identityKey{}).(*access.Identity)
	return id
}

// decide evaluates one check for the caller.
func decide(id *access.Identity, c check) (iam.Request, iam.Decision) {
	req := iam.Request{Principal: id.Principal, Action: c.action, Resource: c.resource, Context: c.context}
	if id.Admin {
		return req, iam.Decision{Allowed: true}
	}
	return req, iam.Evaluate(id.Policies, req)
}

// authorize answers every check of a call, and the first refused one as AccessDenied.
func authorize(id *access.Identity, checks []check) error {
	for _, c := range checks {
		if req, d := decide(id, c); !d.Allowed {
			return &apiError{http.StatusForbidden, CodeAccessDenied, iam.DeniedMessage(req, d)}
		}
	}
	return nil
}

// may reports whether the caller may do action on resource, a resource with tags; lists use it
// to leave out what the caller may not describe.
func may(id *access.Identity, action, resource string, tags map[string]string) bool {
	if id == nil {
		return false
	}
	if id.Admin {
		return true
	}
	_, d := decide(id, check{action, resource, resourceTags(nil, tags)})
	return d.Allowed
}

// resourceTags adds aws:ResourceTag/<key> for each tag to ctx (a new map when nil).
func resourceTags(ctx map[string][]string, tags map[string]string) map[string][]string {
	if len(tags) == 0 {
		return ctx
	}
	if ctx == nil {
		ctx = make(map[string][]string, len(tags))
	}
	for k, v := range tags {
		ctx["aws:ResourceTag/"+k] = []string{v}
	}
	return ctx
}

// requestTags adds aws:RequestTag/<key> for each tag and aws:TagKeys to ctx.
func requestTags(ctx map[string][]string, tags map[string]string) map[string][]string {
	if len(tags) == 0 {
		return ctx
	}
	if ctx == nil {
		ctx = make(map[string][]string, len(tags)+1)
	}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		ctx["aws:RequestTag/"+k] = []string{v}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ctx["aws:TagKeys"] = keys
	return ctx
}

// Resource ARNs.
func (s *Server) vcARN(id string) string { return s.svc.ARN("virtualclusters/" + id) }
func (s *Server) runARN(vc, id string) string {
	return s.svc.ARN("virtualclusters/" + vc + "/jobruns/" + id)
}

// tagsOf reads the tags of the resource an ARN names, when the caller's policies can depend on
// them; a resource that does not exist has none (the call then answers not found, if allowed).
func (s *Server) tagsOf(ctx context.Context, id *access.Identity, arn string) (map[string]string, error) {
	if !id.UsesResourceTags {
		return nil, nil
	}
	if tags, ok := s.tagCache.get(arn); ok {
		return tags, nil
	}
	tags, err := s.svc.ListTagsForResource(ctx, arn)
	if errors.Is(err, jobs.ErrNotFound) {
		return nil, nil // the call answers not found, if it is allowed at all
	}
	if err != nil {
		// Never decide without the tags: a Deny conditioned on them would be skipped.
		return nil, fmt.Errorf("read the tags of %s to authorize the call: %w", arn, err)
	}
	s.tagCache.put(arn, tags)
	return tags, nil
}

// tagCacheTTL is how long the tags read for authorization are reused. Tags change through
// this server's TagResource and UntagResource, which drop the entry at once; a change made
// through another replica applies here within the TTL, as access keys and policies do.
const tagCacheTTL = 5 * time.Second

// tagCache keeps resources' tags for authorization, so that callers whose policies test
// aws:ResourceTag do not cost a store read on every call.
type tagCache struct {
	mu      sync.Mutex
	entries map[string]tagEntry
}

type tagEntry struct {
	tags    map[string]string
	expires time.Time
}

func (c *tagCache) get(arn string) (map[string]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[arn]
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return e.tags, true
}

func (c *tagCache) put(arn string, tags map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= 10000 {
		c.entries = map[string]tagEntry{}
	}
	c.entries[arn] = tagEntry{tags, time.Now().Add(tagCacheTTL)}
}

// forget drops a resource's entry after a change made here.
func (c *tagCache) forget(arn string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, arn)
}

// on authorizes an action on the resource the path names (arn builds it from the request),
// with that resource's tags.
func (s *Server) on(action string, arn func(r *http.Request) string) authorizer {
	return func(r *http.Request, _ []byte, id *access.Identity) ([]check, error) {
		a := arn(r)
		tags, err := s.tagsOf(r.Context(), id, a)
		if err != nil {
			return nil, err
		}
		return []check{{action, a, resourceTags(nil, tags)}}, nil
	}
}

// anywhere authorizes an action that has no resource type: IAM asks about "*".
func anywhere(action string) authorizer {
	return func(*http.Request, []byte, *access.Identity) ([]check, error) {
		return []check{{action, "*", nil}}, nil
	}
}

// creating authorizes a create call with resource "*", its request tags as conditions, and
// emr-containers:TagResource when it carries tags.
func creating(action string) authorizer {
	return func(_ *http.Request, body []byte, _ *access.Identity) ([]check, error) {
		var in struct {
			Tags map[string]string `json:"tags"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		checks := []check{{action, "*", requestTags(nil, in.Tags)}}
		if len(in.Tags) > 0 {
			checks = append(checks, check{"emr-containers:TagResource", "*", requestTags(nil, in.Tags)})
		}
		return checks, nil
	}
}

func (s *Server) pathVC(r *http.Request) string { return s.vcARN(r.PathValue("virtualClusterId")) }
func (s *Server) pathRun(r *http.Request) string {
	return s.runARN(r.PathValue("virtualClusterId"), r.PathValue("id"))
}

// startJobRunAuthz is StartJobRun's authorization, per the Service Authorization Reference: the
// action on the virtual cluster with the execution role (after the job template is applied),
// the job template and the request's tags as conditions; DescribeJobTemplate on the template
// it names; TagResource when it carries tags.
func (s *Server) startJobRunAuthz(r *http.Request, body []byte, id *access.Identity) ([]check, error) {
	if id.Admin {
		// Allowed whatever the conditions say: skip decoding and resolving the request.
		return []check{{"emr-containers:StartJobRun", s.vcARN(r.PathValue("virtualClusterId")), nil}}, nil
	}
	var in jobs.StartJobRunInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	in.VirtualClusterID = r.PathValue("virtualClusterId")
	keepDecoded(r, &in)
	vc := s.vcARN(in.VirtualClusterID)
	vcTags, err := s.tagsOf(r.Context(), id, vc)
	if err != nil {
		return nil, err
	}
	// The run's tags are the request's merged over its job template's jobTags.
	role, tags := s.svc.ResolveStartJobRun(r.Context(), in)
	ctx := requestTags(resourceTags(nil, vcTags), tags)
	if ctx == nil {
		ctx = map[string][]string{}
	}
	if role != "" {
		ctx[iam.KeyExecutionRoleArn] = []string{role}
	}
	var template string
	if in.JobTemplateID != "" {
		template = s.svc.ARN("jobtemplates/" + in.JobTemplateID)
		ctx[iam.KeyJobTemplateArn] = []string{template}
	}
	checks := []check{{"emr-containers:StartJobRun", vc, ctx}}
	if template != "" {
		templateTags, err := s.tagsOf(r.Context(), id, template)
		if err != nil {
			return nil, err
		}
		checks = append(checks, check{"emr-containers:DescribeJobTemplate", template, resourceTags(nil, templateTags)})
	}
	if len(tags) > 0 {
		// The run does not exist yet: the question is asked about the job runs of the cluster.
		checks = append(checks, check{"emr-containers:TagResource", vc + "/jobruns/*", requestTags(nil, tags)})
	}
	return checks, nil
}

// tagAuthz authorizes TagResource, UntagResource and ListTagsForResource on the ARN in the
// path, with the resource's tags and, for the first two, the tags or keys of the request.
func (s *Server) tagAuthz(action string) authorizer {
	return func(r *http.Request, body []byte, id *access.Identity) ([]check, error) {
		arn := r.PathValue("resourceArn")
		tags, err := s.tagsOf(r.Context(), id, arn)
		if err != nil {
			return nil, err
		}
		ctx := resourceTags(nil, tags)
		switch action {
		case "emr-containers:TagResource":
			var in struct {
				Tags map[string]string `json:"tags"`
			}
			if err := decode(body, &in); err != nil {
				return nil, err
			}
			ctx = requestTags(ctx, in.Tags)
		case "emr-containers:UntagResource":
			if keys := r.URL.Query()["tagKeys"]; len(keys) > 0 {
				if ctx == nil {
					ctx = map[string][]string{}
				}
				ctx["aws:TagKeys"] = keys
			}
		}
		return []check{{action, arn, ctx}}, nil
	}
}

// endpointAuthz names the managed-endpoint action a call would need; sparkplane answers them
// all as unsupported, after authorization, as AWS would.
func (s *Server) endpointAuthz(r *http.Request, _ []byte, _ *access.Identity) ([]check, error) {
	vc := r.PathValue("virtualClusterId")
	id := r.PathValue("id")
	action := "emr-containers:ListManagedEndpoints"
	res := s.vcARN(vc)
	switch {
	case r.Method == http.MethodPost:
		action = "emr-containers:CreateManagedEndpoint"
	case id != "" && r.Method == http.MethodDelete:
		action, res = "emr-containers:DeleteManagedEndpoint", s.svc.ARN("virtualclusters/"+vc+"/endpoints/"+id)
	case id != "":
		action, res = "emr-containers:DescribeManagedEndpoint", s.svc.ARN("virtualclusters/"+vc+"/endpoints/"+id)
	}
	return []check{{action, res, nil}}, nil
}

// userAuthz authorizes a sparkplane IAM action on the user the path (or body) names.
func (s *Server) userAuthz(action string) authorizer {
	return func(r *http.Request, body []byte, _ *access.Identity) ([]check, error) {
		name := r.PathValue("userName")
		if name == "" {
			var in struct {
				UserName string `json:"userName"`
			}
			if err := decode(body, &in); err != nil {
				return nil, err
			}
			name = in.UserName
		}
		return []check{{action, s.dir.UserARN(name), nil}}, nil
	}
}

// accessKeyID reads the access key id a request claims, for the audit record of a request
// that did not authenticate.
func accessKeyID(r *http.Request) string {
	h, ok := parseAuthorization(r.Header.Get("Authorization"))
	if !ok || !reAccessKeyID.MatchString(h.accessKey) {
		return "" // not an access key's shape: an unsigned request must not write what it likes into the log
	}
	return h.accessKey
}

var reAccessKeyID = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// SourceAddress is the client's address without its port, as the audit log records it.
func SourceAddress(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
