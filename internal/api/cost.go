package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	smithytime "github.com/aws/smithy-go/time"

	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// DefaultCostRange is how far back a virtual cluster cost report reaches when the request
// names no start.
const DefaultCostRange = 7 * 24 * time.Hour

// CostMember is the extension member DescribeJobRun adds to its jobRun object. AWS SDKs and
// the aws CLI drop members their model does not know, so the AWS shape is unchanged for them.
const CostMember = "sparkplaneCost"

// JobRunCost is the short cost summary DescribeJobRun carries in its CostMember: what the job
// run's pods cost so far, split by role and by capacity type, and the prices used. The full
// breakdown (per pod, per price) is at GET /virtualclusters/{vc}/jobruns/{id}/cost.
type JobRunCost struct {
	Total              float64 `json:"total"`
	Driver             float64 `json:"driver"`
	Executors          float64 `json:"executors"`
	Other              float64 `json:"other,omitempty"`
	Spot               float64 `json:"spot"`
	OnDemand           float64 `json:"onDemand"`
	OnDemandEquivalent float64 `json:"onDemandEquivalent"`
	Savings            float64 `json:"savings"`
	Currency           string  `json:"currency"`
	// Running is true while a pod still holds a node: the amounts then grow.
	Running bool `json:"running"`
	// PriceSources lists each price used as "source: detail" (for example
	// "catalog-spot: us-west-2a c5a.4xlarge spot").
	PriceSources []string `json:"priceSources"`
	// UnpricedPods lists pods that could not be priced and why; they count as zero.
	UnpricedPods []string `json:"unpricedPods,omitempty"`
}

// Summary returns the DescribeJobRun summary of a job report.
func Summary(r cost.JobReport) JobRunCost {
	t := r.Totals
	s := JobRunCost{
		Total: t.Cost, Driver: t.Driver, Executors: t.Executors, Other: t.Other, Spot: t.Spot, OnDemand: t.OnDemand,
		OnDemandEquivalent: t.OnDemandEquivalent, Savings: t.Savings, Currency: r.Currency, Running: r.Running,
		PriceSources: make([]string, 0, len(r.Prices)), UnpricedPods: r.Unpriced,
	}
	for _, p := range r.Prices {
		s.PriceSources = append(s.PriceSources, fmt.Sprintf("%s: %s", p.Source, p.Detail))
	}
	return s
}

// jobRunWithCost is DescribeJobRun's jobRun object with the cost extension member beside
// the AWS members.
type jobRunWithCost struct {
	jobs.JobRun
	Cost *JobRunCost `json:"sparkplaneCost,omitempty"`
	// SparkVersion is the Spark version whose spark-submit rules built the current
	// attempt's driver objects, once they exist (extension member).
	SparkVersion string `json:"sparkplaneSparkVersion,omitempty"`
	// Timeline is when the run reached each step of its current attempt (extension member).
	Timeline []TimelineStep `json:"sparkplaneTimeline,omitempty"`
	// Attempt is the current attempt and its driver pod (extension member).
	Attempt *AttemptInfo `json:"sparkplaneAttempt,omitempty"`
}

// TimelineStep is one step of a job run's life: what happened and when.
type TimelineStep struct {
	Step string    `json:"step"`
	At   time.Time `json:"at"`
}

// AttemptInfo is a job run's current driver attempt, as DescribeJobRun's extension member
// shows it.
type AttemptInfo struct {
	Number    int    `json:"number"`
	Namespace string `json:"namespace,omitempty"`
	DriverPod string `json:"driverPod,omitempty"`
}

// timeline lists the steps a run has reached, in order: accepted, admitted to a concurrency
// slot, driver objects created, driver running, finished.
func timeline(run jobs.JobRun) []TimelineStep {
	a := run.Attempt
	steps := []TimelineStep{{"PENDING: accepted", run.CreatedAt}}
	if !a.AdmittedAt.IsZero() {
		steps = append(steps, TimelineStep{"admitted to a concurrency slot", a.AdmittedAt})
	}
	if !a.SubmittedAt.IsZero() {
		steps = append(steps, TimelineStep{fmt.Sprintf("SUBMITTED: attempt %d's driver created", a.Current()), a.SubmittedAt})
	}
	if !a.RunningAt.IsZero() {
		steps = append(steps, TimelineStep{"RUNNING: driver started", a.RunningAt})
	}
	if run.FinishedAt != nil {
		steps = append(steps, TimelineStep{string(run.State), *run.FinishedAt})
	}
	return steps
}

// withCost adds the cost summary to a described job run. Cost is an extension: when it cannot
// be read the job run is still described (without the member) and the failure is logged, so a
// cost problem never breaks the AWS operation. A job run with no recorded pod has no member.
func (s *Server) withCost(ctx context.Context, run jobs.JobRun) any {
	out := jobRunWithCost{JobRun: run, SparkVersion: run.Attempt.SparkVersion, Timeline: timeline(run),
		Attempt: &AttemptInfo{Number: run.Attempt.Current(), Namespace: run.Attempt.Namespace, DriverPod: run.Attempt.DriverPod}}
	if s.cost == nil {
		return out
	}
	rep, err := s.cost.JobRun(ctx, run.ID)
	if err != nil {
		s.log.Warn("describe job run: read cost", "job", run.ID, "virtualCluster", run.VirtualClusterID, "err", err)
		return out
	}
	if len(rep.Pods) > 0 {
		sum := Summary(rep)
		out.Cost = &sum
	}
	return out
}

// errCostDisabled answers the cost routes of a server built without a cost reporter.
var errCostDisabled = &apiError{http.StatusNotFound, "UnknownOperationException", "cost reporting is not enabled on this server"}

// jobRunCost answers GET /virtualclusters/{virtualClusterId}/jobruns/{id}/cost with the full
// cost.JobReport of the job run.
func (s *Server) jobRunCost(r *http.Request, _ []byte) (any, error) {
	if s.cost == nil {
		return nil, errCostDisabled
	}
	if err := onlyParams(r); err != nil {
		return nil, err
	}
	run, err := s.svc.DescribeJobRun(r.Context(), r.PathValue("virtualClusterId"), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	rep, err := s.cost.JobRun(r.Context(), run.ID)
	if err != nil {
		return nil, fmt.Errorf("cost of job run %s: %w", run.ID, err)
	}
	if rep.VirtualClusterID == "" {
		rep.VirtualClusterID = run.VirtualClusterID
	}
	return rep, nil
}

// virtualClusterCost answers GET /virtualclusters/{virtualClusterId}/cost with the
// cost.VirtualClusterReport over [createdAfter, createdBefore) (aliases since and until),
// ISO-8601 times; the range defaults to the DefaultCostRange before now.
func (s *Server) virtualClusterCost(r *http.Request, _ []byte) (any, error) {
	if s.cost == nil {
		return nil, errCostDisabled
	}
	if err := onlyParams(r, "createdAfter", "createdBefore", "since", "until"); err != nil {
		return nil, err
	}
	from, to, err := costRange(r, time.Now())
	if err != nil {
		return nil, err
	}
	vcID := r.PathValue("virtualClusterId")
	if _, err := s.svc.DescribeVirtualCluster(r.Context(), vcID); err != nil {
		var ve *jobs.ValidationError
		if errors.As(err, &ve) && ve.Field == "id" {
			return nil, &jobs.ValidationError{Field: "virtualClusterId", Rule: ve.Rule}
		}
		return nil, err
	}
	rep, err := s.cost.VirtualCluster(r.Context(), vcID, from, to)
	if err != nil {
		return nil, fmt.Errorf("cost of virtual cluster %s: %w", vcID, err)
	}
	return rep, nil
}

// costRange reads the report range from the query: createdAfter (or since) and createdBefore
// (or until), each an ISO-8601 date-time or a date (midnight UTC). The end defaults to now,
// the start to DefaultCostRange before the end.
func costRange(r *http.Request, now time.Time) (from, to time.Time, err error) {
	q := r.URL.Query()
	read := func(name, alias string) (time.Time, string, error) {
		a, b := q.Get(name), q.Get(alias)
		switch {
		case a != "" && b != "":
			return time.Time{}, name, &jobs.ValidationError{Field: name, Rule: "must not be given together with " + alias + ", its alias"}
		case a == "" && b == "":
			return time.Time{}, name, nil
		case b != "":
			name, a = alias, b
		}
		if len(q[name]) > 1 {
			return time.Time{}, name, &jobs.ValidationError{Field: name, Rule: "must be given at most once"}
		}
		t, err := parseCostTime(a)
		if err != nil {
			return time.Time{}, name, &jobs.ValidationError{Field: name, Rule: "must be an ISO-8601 date-time such as 2026-11-01T00:00:00Z or a date such as 2026-11-01, got " + quoteShort(a)}
		}
		return t, name, nil
	}
	from, fromName, err := read("createdAfter", "since")
	if err != nil {
		return from, to, err
	}
	to, toName, err := read("createdBefore", "until")
	if err != nil {
		return from, to, err
	}
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-DefaultCostRange)
	}
	switch {
	case !from.Before(to):
		return from, to, &jobs.ValidationError{Field: fromName, Rule: fmt.Sprintf("must be before %s (%s)", toName, to.UTC().Format(time.RFC3339))}
	case to.Sub(from) > cost.MaxRange:
		return from, to, &jobs.ValidationError{Field: fromName, Rule: fmt.Sprintf("must be at most %d days before %s", int(cost.MaxRange.Hours()/24), toName)}
	}
	return from.UTC(), to.UTC(), nil
}

// parseCostTime parses an ISO-8601 date-time (as the AWS list operations take it) or a plain
// date, which means midnight UTC.
func parseCostTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return smithytime.ParseDateTime(v)
}

// onlyParams rejects query parameters the extension routes do not take, so a misspelt one is
// reported rather than silently ignored.
func onlyParams(r *http.Request, allowed ...string) error {
	var unknown []string
	for k := range r.URL.Query() {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	rule := "is not a parameter of this operation"
	if len(allowed) > 0 {
		rule += "; it takes " + strings.Join(allowed, ", ")
	} else {
		rule += "; it takes none"
	}
	return &jobs.ValidationError{Field: quoteShort(unknown[0]), Rule: rule}
}

// quoteShort quotes a user-supplied value for an error message, cut to 64 bytes.
func quoteShort(v string) string {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("%q", v)
}
