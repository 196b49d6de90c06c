package api

import (
	"context"
	"net/http"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// SignInLinks makes one-time sign-in links for the web console (internal/console); the
// console-sign-in route answers with them.
type SignInLinks interface {
	// SignInLink returns the path (with its query) of a link that signs its holder in to the
	// console once, as id, until expires.
	SignInLink(ctx context.Context, id access.Identity) (path string, expires time.Time, err error)
}

// signInLinkOutput is the answer of POST /consolesignin.
type signInLinkOutput struct {
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// createSignInLink answers POST /consolesignin: a one-time link to the console for the
// caller's own access key (sparkplane console prints it).
func (s *Server) createSignInLink(r *http.Request, _ []byte) (any, error) {
	if mount(r) != "" {
		// A console session may not make itself new sessions: a stolen cookie would never
		// expire.
		return nil, &apiError{http.StatusForbidden, CodeAccessDenied, "sign-in links are made with a signed request (sparkplane console), not from a console session"}
	}
	id := identity(r)
	path, expires, err := s.signIn.SignInLink(r.Context(), *id)
	if err != nil {
		return nil, err
	}
	return signInLinkOutput{Path: path, ExpiresAt: expires.UTC()}, nil
}

type mountKey struct{}

// mount is the path the API is served under for this request: "" when it is served at the
// root, the console's API path when the console passes the request on (ServeAs).
func mount(r *http.Request) string {
	m, _ := r.Context().Value(mountKey{}).(string)
	return m
}

// ServeAs answers r as the caller id, whom the web console authenticated by its session
// rather than by a signature: r then goes through the same authorization, validation and
// audit as a signed call. mount is the path prefix the console serves the API under, which
// r's path no longer carries ("/console/api"); answers that hold paths (the live Spark UI's
// redirects and links) are written under it.
func (s *Server) ServeAs(w http.ResponseWriter, r *http.Request, id access.Identity, mountPath string) {
	w.Header().Set("X-Amzn-Requestid", RequestID())
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	if mountPath != "" {
		r = r.WithContext(context.WithValue(r.Context(), mountKey{}, mountPath))
	}
	s.serve(w, r, body, id)
}

// SparkConf resolves the Spark configuration of job runs, for the resolved-configuration
// route; it lives outside this package because it needs the planner's settings.
type SparkConf interface {
	// SparkConf returns run's configuration after precedence, secret values redacted.
	SparkConf(ctx context.Context, run jobs.JobRun) (map[string]string, error)
}

// jobRunSparkConf answers GET /virtualclusters/{virtualClusterId}/jobruns/{id}/sparkconf.
func (s *Server) jobRunSparkConf(r *http.Request, _ []byte) (any, error) {
	if err := onlyParams(r); err != nil {
		return nil, err
	}
	run, err := s.svc.DescribeJobRun(r.Context(), r.PathValue("virtualClusterId"), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	conf, err := s.sparkConf.SparkConf(r.Context(), run)
	if err != nil {
		return nil, err
	}
	return map[string]any{"jobRunId": run.ID, "sparkConf": conf}, nil
}

// jobRunCounts answers GET /virtualclusters/{virtualClusterId}/jobruncounts: how many of the
// virtual cluster's job runs are in each state. It is authorized as ListJobRuns on the
// virtual cluster, and counts every run of it, also runs a policy hides from the caller's
// ListJobRuns (one that refuses DescribeJobRun on some runs by their tags).
func (s *Server) jobRunCounts(r *http.Request, _ []byte) (any, error) {
	if err := onlyParams(r); err != nil {
		return nil, err
	}
	counts, err := s.svc.CountJobRuns(r.Context(), r.PathValue("virtualClusterId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"counts": counts}, nil
}

type quietKey struct{}

// Quiet marks a context whose calls repeat a read the caller already made and had audited
// (the console's live job list reads its page every few seconds): those that succeed are
// not audited again. Refusals and failures are, and calls that change anything always are.
func Quiet(ctx context.Context) context.Context { return context.WithValue(ctx, quietKey{}, true) }

func quiet(r *http.Request) bool {
	q, _ := r.Context().Value(quietKey{}).(bool)
	return q
}
