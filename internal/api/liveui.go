package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/liveui"
)

// LiveUI reaches the Spark UI of running drivers, for the live UI route
// (/virtualclusters/{virtualClusterId}/jobruns/{id}/sparkui/...). It lives outside this
// package because it needs the per-cluster clients.
type LiveUI interface {
	// Driver returns the driver pod of run's current attempt: where it is, its phase, and
	// what its Spark conf says of the UI (spark.ui.enabled, spark.ui.port). A pod that is gone
	// wraps jobs.ErrNotFound.
	Driver(ctx context.Context, run jobs.JobRun) (liveui.Driver, error)
	// Transport sends requests to the drivers' UIs (a *liveui.Transport).
	Transport() http.RoundTripper
}

// raw is a handler's answer that writes itself whole, status and headers included:
// operation() runs it instead of encoding JSON.
type raw func(w http.ResponseWriter)

// liveUIPrefix is the path a job run's live Spark UI is served under.
func liveUIPrefix(virtualClusterID, jobRunID string) string {
	return "/virtualclusters/" + url.PathEscape(virtualClusterID) + "/jobruns/" + url.PathEscape(jobRunID) + "/sparkui"
}

// jobRunLiveUI proxies a request to the Spark UI of a running job run's driver, under
// liveUIPrefix; the bare prefix redirects to the prefix with a slash, the UI's root. Only
// reads are forwarded (see liveui.Refuse), and only while the run and its driver run.
func (s *Server) jobRunLiveUI(r *http.Request, _ []byte) (any, error) {
	vc, id := r.PathValue("virtualClusterId"), r.PathValue("id")
	prefix := liveUIPrefix(vc, id)
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok {
		return nil, &apiError{http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("no emr-containers operation at %s %s", r.Method, r.URL.Path)}
	}
	if err := liveui.Refuse(r.Method, "/"+strings.TrimPrefix(rest, "/")); err != nil {
		return s.liveUIFailure(r, err), nil
	}
	run, err := s.svc.DescribeJobRun(r.Context(), vc, id)
	if err != nil {
		return nil, err
	}
	if err := liveUIRunning(run); err != nil {
		return nil, err
	}
	if rest == "" {
		to := mount(r) + prefix + "/"
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		return raw(func(w http.ResponseWriter) { http.Redirect(w, r, to, http.StatusFound) }), nil
	}
	d, err := s.liveUI.Driver(r.Context(), run)
	if err != nil {
		return nil, err
	}
	switch {
	case d.Phase != "Running":
		return nil, &apiError{http.StatusBadRequest, CodeValidation, fmt.Sprintf(
			"the driver pod %s/%s of job run %s is %s: the live Spark UI exists only while the driver runs", d.Namespace, d.Name, run.ID, d.Phase)}
	case !d.UIEnabled:
		return nil, &apiError{http.StatusBadRequest, CodeValidation, fmt.Sprintf(
			"job run %s runs with spark.ui.enabled=false, so its driver serves no Spark UI; "+
				"`sparkplane jobs ui` shows the application's summary from its event log once the run ends", run.ID)}
	case d.Port <= 0:
		return nil, &apiError{http.StatusBadRequest, CodeValidation, fmt.Sprintf(
			"job run %s runs with spark.ui.port=%d: Spark binds its UI to a port it picks, which sparkplane cannot know; "+
				"leave spark.ui.port unset (4040) or give a port", run.ID, d.Port)}
	}
	if m := mount(r); m != "" {
		// Passed on by the console: the browser sees the UI under the console's path, which
		// is where Spark must write its links and the proxy its redirects.
		prefix = m + prefix
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = m+r.URL.Path, m+r.URL.EscapedPath()
	}
	proxy := &liveui.Proxy{Transport: s.liveUI.Transport(), Pod: d.Pod, Prefix: prefix,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { s.liveUIFailure(r, err)(w) }}
	return raw(func(w http.ResponseWriter) { proxy.ServeHTTP(w, r) }), nil
}

// liveUIRunning says why a run has no live UI: it runs only while the run is RUNNING.
func liveUIRunning(run jobs.JobRun) error {
	switch {
	case run.State == jobs.StateRunning:
		return nil
	case run.State.Terminal():
		return &apiError{http.StatusBadRequest, CodeValidation, fmt.Sprintf(
			"job run %s is %s: the live Spark UI exists only while the run's driver runs; "+
				"`sparkplane jobs ui` shows the application's summary from its event log", run.ID, run.State)}
	case run.State == jobs.StateCancelPending:
		return &apiError{http.StatusBadRequest, CodeValidation, fmt.Sprintf(
			"job run %s is %s: it is being cancelled, and the live Spark UI exists only while the run's driver runs", run.ID, run.State)}
	default:
		return &apiError{http.StatusBadRequest, CodeValidation, fmt.Sprintf(
			"job run %s is %s: its driver does not run yet, and the live Spark UI exists only while it runs (state RUNNING)", run.ID, run.State)}
	}
}

// liveUIFailure answers a request the proxy refused or could not forward in AWS's error
// shape: a method other than a read 405 (with Allow), a kill link 403, a UI that did not
// answer 502.
func (s *Server) liveUIFailure(r *http.Request, err error) raw {
	var (
		refused     *liveui.RefusedError
		unreachable *liveui.UnreachableError
	)
	return func(w http.ResponseWriter) {
		switch {
		case errors.As(err, &refused) && refused.Method != "":
			w.Header().Set("Allow", "GET, HEAD")
			err = &apiError{http.StatusMethodNotAllowed, CodeValidation, err.Error()}
		case errors.As(err, &refused):
			err = &apiError{http.StatusForbidden, CodeAccessDenied, err.Error()}
		case errors.As(err, &unreachable) && r.Context().Err() == nil:
			s.log.Warn("live Spark UI did not answer", "path", r.URL.Path, "pod", unreachable.Pod.String(), "err", unreachable.Err)
			err = &apiError{http.StatusBadGateway, CodeInternal, err.Error()}
		}
		writeError(w, r, s.log, err)
	}
}
