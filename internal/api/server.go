package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	smithytime "github.com/aws/smithy-go/time"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// DefaultMaxBodyBytes is the largest request body accepted.
const DefaultMaxBodyBytes = 1 << 20

// Options tune a Server.
type Options struct {
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes); larger ones get 413.
	MaxBodyBytes int64
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
	// Cost, when set, answers the cost extension routes and adds the sparkplaneCost member to
	// DescribeJobRun; nil leaves both out.
	Cost *cost.Reporter
	// MetricsToken, when set, is the bearer token /metrics requires; empty serves it to anyone
	// who reaches the listener.
	MetricsToken string
	// TrustPolicies, when set, answers the trust-policy extension route
	// (GET /virtualclusters/{virtualClusterId}/trustpolicy); nil leaves the route out.
	TrustPolicies TrustPolicies
	// Registerer receives the request metrics and Gatherer is what /metrics serves; nil
	// leaves the metrics unregistered and /metrics out (404).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// Directory manages the IAM-style users the /iam routes serve; nil leaves those routes
	// answering that the server keeps no users.
	Directory *access.Directory
	// SparkUI, when set, answers the Spark UI extension route
	// (GET /virtualclusters/{virtualClusterId}/jobruns/{id}/ui); nil leaves it out.
	SparkUI SparkUI
	// Logs, when set, answers the logs extension route
	// (GET /virtualclusters/{virtualClusterId}/jobruns/{id}/logs); nil leaves it out.
	Logs Logs
	// LiveUI, when set, answers the live Spark UI extension route
	// (/virtualclusters/{virtualClusterId}/jobruns/{id}/sparkui/...); nil leaves it out.
	LiveUI LiveUI
	// Audit, when set, receives one event per call; nil records nothing. AuditStore answers
	// the audit listing route; nil leaves it answering that there is no audit log.
	Audit      *audit.Log
	AuditStore audit.Store
	// SparkConf, when set, answers the resolved Spark configuration route
	// (GET /virtualclusters/{virtualClusterId}/jobruns/{id}/sparkconf); nil leaves it out.
	SparkConf SparkConf
	// SignIn, when set, answers the console sign-in link route (POST /consolesignin); nil
	// leaves it out.
	SignIn SignInLinks
	// Ready reports whether the server can serve calls now: nil, or what it lacks (its
	// database does not answer). /readyz asks it on every request; nil leaves /readyz
	// answering as /healthz does.
	Ready func(ctx context.Context) error
}

// Server is the emr-containers HTTP handler.
type Server struct {
	svc     *jobs.Service
	auth    *Authenticator
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
	cost    *cost.Reporter
	// metricsToken guards /metrics when set.
	metricsToken string
	metrics      *metrics
	gatherer     prometheus.Gatherer
	trust        TrustPolicies
	dir          *access.Directory
	sparkUI      SparkUI
	logs         Logs
	liveUI       LiveUI
	signIn       SignInLinks
	sparkConf    SparkConf
	audit        *audit.Log
	auditStore   audit.Store
	ready        func(ctx context.Context) error
	// actions maps a route pattern to its action, for audit records of refused requests.
	actions map[string]string
	// tagCache keeps resources' tags for authorization.
	tagCache tagCache
}

// SparkUI reads what a Spark history server would show of a job run's attempt (0: the
// current one) from its event log (internal/sparkui); the answer is encoded as JSON as it is.
type SparkUI interface {
	JobRunUI(ctx context.Context, run jobs.JobRun, attempt int) (any, error)
}

// TrustPolicies writes IAM trust policies for execution roles (sparkplane execution-roles
// trust-policy). It lives outside this package because it needs to know how the controller
// names service accounts; the answer is encoded as JSON as it is.
type TrustPolicies interface {
	TrustPolicy(ctx context.Context, virtualClusterID string, query url.Values) (any, error)
}

// New returns the handler serving svc behind auth. It fails only when its metrics cannot be
// registered (a name already taken on the Registerer).
func New(svc *jobs.Service, auth *Authenticator, opts Options) (*Server, error) {
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("api metrics: %w", err)
	}
	s := &Server{svc: svc, auth: auth, log: opts.Logger, maxBody: opts.MaxBodyBytes, mux: http.NewServeMux(), cost: opts.Cost,
		metricsToken: opts.MetricsToken, metrics: m, gatherer: opts.Gatherer, trust: opts.TrustPolicies,
		dir: opts.Directory, audit: opts.Audit, auditStore: opts.AuditStore, sparkUI: opts.SparkUI, logs: opts.Logs,
		liveUI: opts.LiveUI, signIn: opts.SignIn, sparkConf: opts.SparkConf, ready: opts.Ready}
	if s.dir == nil {
		s.dir = access.NewDirectory(access.Options{})
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	s.routes()
	return s, nil
}

type principalKey struct{}

// decoded holds a request body an authorizer decoded, for the handler.
type decoded struct{ v any }

type decodedKey struct{}

// decodedAs returns the body the authorizer decoded into a *T, if it did.
func decodedAs[T any](r *http.Request) (*T, bool) {
	d, _ := r.Context().Value(decodedKey{}).(*decoded)
	if d == nil {
		return nil, false
	}
	v, ok := d.v.(*T)
	return v, ok
}

// keepDecoded leaves v, decoded from the request's body, for the handler.
func keepDecoded(r *http.Request, v any) {
	if d, _ := r.Context().Value(decodedKey{}).(*decoded); d != nil {
		d.v = v
	}
}

// handlerFunc is an operation: it returns the response body or an error.
type handlerFunc func(r *http.Request, body []byte) (any, error)

func (s *Server) routes() {
	vc := s.pathVC
	run := s.pathRun
	template := func(r *http.Request) string { return s.svc.ARN("jobtemplates/" + r.PathValue("id")) }
	secconf := func(r *http.Request) string { return s.svc.ARN("securityconfigurations/" + r.PathValue("id")) }
	vcByID := func(r *http.Request) string { return s.vcARN(r.PathValue("id")) }
	ec := func(op string) string { return "emr-containers:" + op }
	sp := func(op string) string { return ExtensionPrefix + ":" + op }
	h := map[string]route{
		"POST /virtualclusters":                                   {ec("CreateVirtualCluster"), s.createVirtualCluster, creating(ec("CreateVirtualCluster")), true},
		"GET /virtualclusters":                                    {ec("ListVirtualClusters"), s.listVirtualClusters, anywhere(ec("ListVirtualClusters")), false},
		"GET /virtualclusters/{id}":                               {ec("DescribeVirtualCluster"), s.describeVirtualCluster, s.on(ec("DescribeVirtualCluster"), vcByID), false},
		"DELETE /virtualclusters/{id}":                            {ec("DeleteVirtualCluster"), s.deleteVirtualCluster, s.on(ec("DeleteVirtualCluster"), vcByID), true},
		"POST /virtualclusters/{virtualClusterId}/jobruns":        {ec("StartJobRun"), s.startJobRun, s.startJobRunAuthz, true},
		"GET /virtualclusters/{virtualClusterId}/jobruns":         {ec("ListJobRuns"), s.listJobRuns, s.on(ec("ListJobRuns"), vc), false},
		"GET /virtualclusters/{virtualClusterId}/jobruns/{id}":    {ec("DescribeJobRun"), s.describeJobRun, s.on(ec("DescribeJobRun"), run), false},
		"DELETE /virtualclusters/{virtualClusterId}/jobruns/{id}": {ec("CancelJobRun"), s.cancelJobRun, s.on(ec("CancelJobRun"), run), true},
		"POST /jobtemplates":                                      {ec("CreateJobTemplate"), s.createJobTemplate, creating(ec("CreateJobTemplate")), true},
		"GET /jobtemplates":                                       {ec("ListJobTemplates"), s.listJobTemplates, anywhere(ec("ListJobTemplates")), false},
		"GET /jobtemplates/{id}":                                  {ec("DescribeJobTemplate"), s.describeJobTemplate, s.on(ec("DescribeJobTemplate"), template), false},
		"DELETE /jobtemplates/{id}":                               {ec("DeleteJobTemplate"), s.deleteJobTemplate, s.on(ec("DeleteJobTemplate"), template), true},
		"POST /securityconfigurations":                            {ec("CreateSecurityConfiguration"), s.createSecurityConfiguration, creating(ec("CreateSecurityConfiguration")), true},
		"GET /securityconfigurations":                             {ec("ListSecurityConfigurations"), s.listSecurityConfigurations, anywhere(ec("ListSecurityConfigurations")), false},
		"GET /securityconfigurations/{id}":                        {ec("DescribeSecurityConfiguration"), s.describeSecurityConfiguration, s.on(ec("DescribeSecurityConfiguration"), secconf), false},
		"POST /tags/{resourceArn...}":                             {ec("TagResource"), s.tagResource, s.tagAuthz(ec("TagResource")), true},
		"DELETE /tags/{resourceArn...}":                           {ec("UntagResource"), s.untagResource, s.tagAuthz(ec("UntagResource")), true},
		"GET /tags/{resourceArn...}":                              {ec("ListTagsForResource"), s.listTags, s.tagAuthz(ec("ListTagsForResource")), false},
		"/virtualclusters/{virtualClusterId}/endpoints":           {ec("ListManagedEndpoints"), s.managedEndpoints, s.endpointAuthz, true},
		"/virtualclusters/{virtualClusterId}/endpoints/{id...}":   {ec("DescribeManagedEndpoint"), s.managedEndpoints, s.endpointAuthz, true},

		// Extensions (sparkplane only, not in the AWS model), authorized as sparkplane:<Action>.
		"GET /virtualclusters/{virtualClusterId}/jobruns/{id}/cost": {sp("GetJobRunCost"), s.jobRunCost, s.on(sp("GetJobRunCost"), run), false},
		"GET /virtualclusters/{virtualClusterId}/cost":              {sp("GetVirtualClusterCost"), s.virtualClusterCost, s.on(sp("GetVirtualClusterCost"), vc), false},
		"GET /virtualclusters/{virtualClusterId}/settings":          {sp("GetVirtualClusterSettings"), s.getSettings, s.on(sp("GetVirtualClusterSettings"), vc), false},
		"PUT /virtualclusters/{virtualClusterId}/settings":          {sp("PutVirtualClusterSettings"), s.putSettings, s.on(sp("PutVirtualClusterSettings"), vc), true},
		"DELETE /virtualclusters/{virtualClusterId}/settings":       {sp("DeleteVirtualClusterSettings"), s.deleteSettings, s.on(sp("DeleteVirtualClusterSettings"), vc), true},
		"GET /virtualclusters/{virtualClusterId}/jobruncounts":      {ec("ListJobRuns"), s.jobRunCounts, s.on(ec("ListJobRuns"), vc), false},
		"GET /audit/events": {sp("ListAuditEvents"), s.listAuditEvents, anywhere(sp("ListAuditEvents")), false},
	}
	if s.sparkUI != nil {
		h["GET /virtualclusters/{virtualClusterId}/jobruns/{id}/ui"] = route{sp("DescribeJobRunUI"), s.jobRunUI, s.on(sp("DescribeJobRunUI"), run), false}
	}
	if s.logs != nil {
		h["GET /virtualclusters/{virtualClusterId}/jobruns/{id}/logs"] = route{sp("GetJobRunLogs"), s.jobRunLogs, s.on(sp("GetJobRunLogs"), run), false}
	}
	if s.liveUI != nil {
		// Every method reaches the handler, which refuses all but GET and HEAD by name: the
		// proxied UI is read-only.
		live := route{sp("AccessJobRunLiveUI"), s.jobRunLiveUI, s.on(sp("AccessJobRunLiveUI"), run), false}
		h["/virtualclusters/{virtualClusterId}/jobruns/{id}/sparkui"] = live
		h["/virtualclusters/{virtualClusterId}/jobruns/{id}/sparkui/{path...}"] = live
	}
	if s.sparkConf != nil {
		h["GET /virtualclusters/{virtualClusterId}/jobruns/{id}/sparkconf"] = route{sp("DescribeJobRunSparkConf"), s.jobRunSparkConf, s.on(sp("DescribeJobRunSparkConf"), run), false}
	}
	if s.signIn != nil {
		h["POST /consolesignin"] = route{sp("CreateConsoleSignInLink"), s.createSignInLink, anywhere(sp("CreateConsoleSignInLink")), true}
	}
	if s.trust != nil {
		h["GET /virtualclusters/{virtualClusterId}/trustpolicy"] = route{sp("GetTrustPolicy"), func(r *http.Request, _ []byte) (any, error) {
			return s.trust.TrustPolicy(r.Context(), r.PathValue("virtualClusterId"), r.URL.Query())
		}, s.on(sp("GetTrustPolicy"), vc), false}
	}
	s.iamRoutes(h)
	for pattern, rt := range h {
		s.mux.Handle(pattern, s.operation(rt))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, &apiError{http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("no emr-containers operation at %s %s", r.Method, r.URL.Path)})
	})
	s.actions = make(map[string]string, len(h))
	for pattern, rt := range h {
		s.actions[pattern] = rt.action
	}
}

// ServeHTTP answers /healthz and /readyz without authentication and everything else after
// checking the body size and the signature.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		switch r.URL.Path {
		case "/healthz":
			// Liveness: the process serves HTTP. It does not depend on the database, so a
			// database outage does not get every replica restarted.
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "ok")
			return
		case "/readyz":
			s.readyz(w, r)
			return
		case "/metrics":
			if s.gatherer == nil {
				break
			}
			// Prometheus scrapes without AWS signatures; the metrics carry counts, durations
			// and costs, never request contents or keys. A configured token guards them.
			if s.metricsToken != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+s.metricsToken)) != 1 {
				w.Header().Set("WWW-Authenticate", "Bearer")
				http.Error(w, "a bearer token is required", http.StatusUnauthorized)
				return
			}
			promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}).ServeHTTP(w, r)
			return
		}
	}
	w.Header().Set("X-Amzn-Requestid", RequestID())
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	id, err := s.auth.Verify(r.Context(), r, body)
	if err != nil {
		s.log.Debug("request rejected", "method", r.Method, "path", r.URL.Path, "reason", err.Error())
		sw := &statusWriter{ResponseWriter: w}
		writeError(sw, r, s.log, err)
		s.metrics.authFailures.WithLabelValues(strconv.Itoa(sw.status)).Inc()
		// Recorded without waiting: a flood of unsigned requests must not hold the log up.
		s.record(r, w.Header(), nil, s.actionOf(r), "", sw.status, false)
		return
	}
	s.serve(w, r, body, id)
}

// readBody reads a request's body whole, up to the size limit; on false the answer is
// written.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > s.maxBody {
		writeError(w, r, s.log, &apiError{http.StatusRequestEntityTooLarge, CodeValidation, fmt.Sprintf("request body: must be at most %d bytes", s.maxBody)})
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, s.log, &apiError{http.StatusRequestEntityTooLarge, CodeValidation, fmt.Sprintf("request body: must be at most %d bytes", s.maxBody)})
			return nil, false
		}
		writeError(w, r, s.log, &apiError{http.StatusBadRequest, CodeValidation, "request body could not be read"})
		return nil, false
	}
	return body, true
}

// serve runs an authenticated request (its body read) through the operations.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte, id access.Identity) {
	ctx := context.WithValue(r.Context(), principalKey{}, id.Principal)
	ctx = context.WithValue(ctx, identityKey{}, &id)
	r = r.WithContext(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mux.ServeHTTP(w, r)
}

// readyzTimeout bounds the check behind /readyz.
const readyzTimeout = 2 * time.Second

// readyz answers 200 "ok" when the server can serve calls, else 503 and what it lacks. The
// answer names no address or driver error (it is unauthenticated); the server log does.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			s.log.Debug("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			what := "not ready: see the server log"
			if errors.Is(err, jobs.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
				what = "database: unreachable"
			}
			io.WriteString(w, what+"\n")
			return
		}
	}
	io.WriteString(w, "ok")
}

// RequestID is a new request id, as X-Amzn-Requestid and the audit log carry it.
func RequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func principal(r *http.Request) string {
	p, _ := r.Context().Value(principalKey{}).(string)
	return p
}

// operation runs one call: authorization (before any domain call; a refusal changes
// nothing), the handler, the answer, and the call's audit record, which a call that changes
// something, or was refused, waits for.
func (s *Server) operation(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // already buffered by ServeHTTP
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		w = sw
		defer func() { s.metrics.observe(r.Pattern, sw.status, start) }()
		id := identity(r)
		// The authorizer may leave the decoded body for the handler, which would decode the
		// same bytes into the same type again.
		r = r.WithContext(context.WithValue(r.Context(), decodedKey{}, &decoded{}))
		checks, err := rt.authz(r, body, id)
		resource := ""
		if len(checks) > 0 {
			resource = checks[0].resource
		}
		if err == nil {
			err = authorize(id, checks)
		}
		var out any
		var pending *audit.Pending
		if err == nil {
			if rt.mutating && s.audit != nil {
				// The store may commit the call's audit event with the write it makes
				// (StartJobRun on SQLite), sparing the call a second commit.
				var ctx context.Context
				ctx, pending = audit.WithPending(r.Context(), s.event(r, w.Header(), id, rt.action, resource))
				r = r.WithContext(ctx)
			}
			out, err = rt.fn(r, body)
		}
		if answer, ok := out.(raw); ok && err == nil {
			answer(w)
		} else if st, ok := out.(stream); ok && err == nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			if err = st(w); err != nil {
				if sw.status == 0 {
					w.Header().Del("X-Content-Type-Options")
					writeError(w, r, s.log, err)
				} else {
					// The answer has begun: its status is sent and cannot change.
					s.log.Warn("stream response", "path", r.URL.Path, "err", err)
				}
			}
		} else if err != nil {
			writeError(w, r, s.log, err)
		} else {
			w.Header().Set("Content-Type", "application/json")
			if err := json.NewEncoder(w).Encode(out); err != nil {
				s.log.Warn("write response", "path", r.URL.Path, "err", err)
			}
		}
		// A quiet read that succeeded repeats one already audited (Quiet).
		repeat := quiet(r) && !rt.mutating && sw.status == http.StatusOK
		if (!pending.Written() || sw.status != http.StatusOK) && !repeat {
			// A call the database was not there for is not held up to record it in that same
			// database: its record is queued for the audit writer, whose retries store it if
			// the database is back within seconds (the log says when they do not).
			wait := rt.mutating && !errors.Is(err, jobs.ErrUnavailable) || sw.status == http.StatusForbidden
			s.record(r, w.Header(), id, rt.action, resource, sw.status, wait)
		}
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "duration", time.Since(start))
	})
}

// actionOf names the action of the route a request would reach, for the audit record of a
// request that did not authenticate.
func (s *Server) actionOf(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	return s.actions[pattern]
}

// event is the audit event of a call, without its time and outcome.
func (s *Server) event(r *http.Request, h http.Header, id *access.Identity, action, resource string) audit.Event {
	e := audit.Event{RequestID: h.Get("X-Amzn-Requestid"), Source: SourceAddress(r), Action: action, Resource: resource}
	if id != nil {
		e.Principal, e.AccessKeyID = id.Principal, id.AccessKeyID
	} else {
		e.AccessKeyID = accessKeyID(r)
	}
	return e
}

// record writes the audit event of a call. Events are written after the answer's headers but
// before the handler returns, so with wait the client sees its answer only once the event is
// stored: nothing that changed state goes unrecorded.
func (s *Server) record(r *http.Request, h http.Header, id *access.Identity, action, resource string, status int, wait bool) {
	if s.audit == nil {
		return
	}
	if status == 0 {
		status = http.StatusOK
	}
	e := s.event(r, h, id, action, resource)
	e.Time, e.Status, e.Outcome = time.Now().UTC(), status, audit.Allowed
	switch code := h.Get("X-Amzn-Errortype"); {
	case status == http.StatusForbidden:
		e.Outcome, e.ErrorCode = audit.Denied, code
	case status >= 400:
		e.Outcome, e.ErrorCode = audit.Failed, code
	}
	if err := s.audit.Record(r.Context(), e, wait); err != nil {
		s.log.Error("audit record not stored", "requestId", e.RequestID, "action", action, "err", err)
	}
}

// decode reads a JSON request body into v; type errors name the member.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "body"
			}
			return &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("must be a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)}
		}
		return &jobs.ValidationError{Field: "body", Rule: "must be a valid JSON object: " + err.Error()}
	}
	if dec.More() {
		return &jobs.ValidationError{Field: "body", Rule: "must hold exactly one JSON object"}
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int32", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	default:
		return "object"
	}
}

// timeFilter reads createdAfter, createdBefore, maxResults and nextToken from the query.
func timeFilter(r *http.Request) (jobs.TimeFilter, error) {
	q := r.URL.Query()
	var f jobs.TimeFilter
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"createdAfter", &f.CreatedAfter}, {"createdBefore", &f.CreatedBefore}} {
		if v := q.Get(p.name); v != "" {
			t, err := smithytime.ParseDateTime(v)
			if err != nil {
				return f, &jobs.ValidationError{Field: p.name, Rule: "must be an ISO-8601 date-time such as 2024-01-31T12:00:00Z"}
			}
			*p.dst = t
		}
	}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, &jobs.ValidationError{Field: "maxResults", Rule: "must be a positive integer"}
		}
		f.Limit = n
	}
	f.Token = q.Get("nextToken")
	return f, nil
}

func states[T ~string](r *http.Request) []T {
	var out []T
	for _, v := range r.URL.Query()["states"] {
		out = append(out, T(v))
	}
	return out
}

func (s *Server) managedEndpoints(*http.Request, []byte) (any, error) {
	return nil, &jobs.ValidationError{Field: "virtualClusterId", Rule: "managed endpoints are not supported by sparkplane yet"}
}
