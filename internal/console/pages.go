package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Page sizes.
const runsPerPage = 50

// clusterRow is one virtual cluster on the home page.
type clusterRow struct {
	VC                                jobs.VirtualCluster
	Namespace                         string
	Running, Queued, Finished, Failed int
	CountsErr                         *APIError
	Cost                              cost.VirtualClusterReport
	CostErr                           *APIError
}

// clustersPage lists the virtual clusters the user may describe, with their job runs by
// state and what they cost over the last 7 days.
func (c *Console) clustersPage(w http.ResponseWriter, r *http.Request, s *session) {
	var list struct {
		VirtualClusters []jobs.VirtualCluster `json:"virtualClusters"`
		NextToken       string                `json:"nextToken"`
	}
	data := struct {
		Clusters []clusterRow
		Err      *APIError
	}{}
	q := url.Values{"maxResults": {"100"}}
	for {
		list.NextToken = ""
		if err := c.call(r.Context(), r, s, http.MethodGet, "/virtualclusters", q, nil, &list); err != nil {
			data.Err = c.load(err)
			break
		}
		for _, vc := range list.VirtualClusters {
			if vc.State == jobs.VirtualClusterTerminated {
				continue
			}
			data.Clusters = append(data.Clusters, c.clusterRow(r.Context(), r, s, vc))
		}
		if list.NextToken == "" || len(data.Clusters) >= 500 {
			break
		}
		q.Set("nextToken", list.NextToken)
	}
	c.render(w, r, s, http.StatusOK, "clusters", data)
}

func (c *Console) clusterRow(ctx context.Context, r *http.Request, s *session, vc jobs.VirtualCluster) clusterRow {
	row := clusterRow{VC: vc, Namespace: vc.ContainerProvider.Namespace()}
	var counts struct {
		Counts map[jobs.JobRunState]int `json:"counts"`
	}
	if err := c.call(ctx, r, s, http.MethodGet, "/virtualclusters/"+url.PathEscape(vc.ID)+"/jobruncounts", nil, nil, &counts); err != nil {
		row.CountsErr = c.load(err)
	} else {
		for st, n := range counts.Counts {
			switch st {
			case jobs.StatePending:
				row.Queued += n
			case jobs.StateSubmitted, jobs.StateRunning, jobs.StateCancelPending:
				row.Running += n
			case jobs.StateFailed:
				row.Failed += n
				row.Finished += n
			default:
				row.Finished += n
			}
		}
	}
	if err := c.call(ctx, r, s, http.MethodGet, "/virtualclusters/"+url.PathEscape(vc.ID)+"/cost", nil, nil, &row.Cost); err != nil {
		row.CostErr = c.load(err)
	}
	return row
}

// runFilter is the job list's filter as the form holds it.
type runFilter struct {
	States                []string
	Name, After, Before   string
	CreatedBy, Tag, Token string
}

func readFilter(q url.Values) runFilter {
	return runFilter{States: q["state"], Name: q.Get("name"), After: q.Get("createdAfter"), Before: q.Get("createdBefore"),
		CreatedBy: q.Get("createdBy"), Tag: q.Get("tag"), Token: q.Get("nextToken")}
}

// form is the filter as the page's own query (without the page token).
func (f runFilter) form() url.Values {
	v := url.Values{}
	for _, st := range f.States {
		v.Add("state", st)
	}
	for k, val := range map[string]string{"name": f.Name, "createdAfter": f.After, "createdBefore": f.Before, "createdBy": f.CreatedBy, "tag": f.Tag} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// apiQuery is the filter as ListJobRuns takes it. The form's times have no zone (a
// datetime-local input): they are UTC, as the page says.
func (f runFilter) apiQuery() url.Values {
	v := url.Values{"maxResults": {fmt.Sprint(runsPerPage)}}
	for _, st := range f.States {
		v.Add("states", st)
	}
	if f.Name != "" {
		v.Set("name", f.Name)
	}
	for name, t := range map[string]string{"createdAfter": f.After, "createdBefore": f.Before} {
		if t == "" {
			continue
		}
		if len(t) == len("2006-01-02T15:04") {
			t += ":00Z"
		} else if len(t) == len("2006-01-02T15:04:05") {
			t += "Z"
		}
		v.Set(name, t)
	}
	if f.CreatedBy != "" {
		v.Set("createdBy", f.CreatedBy)
	}
	if f.Tag != "" {
		v.Set("tag", f.Tag)
	}
	if f.Token != "" {
		v.Set("nextToken", f.Token)
	}
	return v
}

// rowsData is what the rows of the job list need.
type rowsData struct {
	Runs []jobs.JobRun
	CSRF string
	// Self is the page to come back to after a cancel.
	Self string
}

type stateOption struct {
	Name string
	On   bool
}

// listRuns reads one page of the filtered list.
func (c *Console) listRuns(ctx context.Context, r *http.Request, s *session, vc string, f runFilter) ([]jobs.JobRun, string, error) {
	var out struct {
		JobRuns   []jobs.JobRun `json:"jobRuns"`
		NextToken string        `json:"nextToken"`
	}
	err := c.call(ctx, r, s, http.MethodGet, "/virtualclusters/"+url.PathEscape(vc)+"/jobruns", f.apiQuery(), nil, &out)
	return out.JobRuns, out.NextToken, err
}

// jobRunsPage lists a virtual cluster's job runs, newest first, filtered and a page at a
// time; the rows update live (jobRunsLive).
func (c *Console) jobRunsPage(w http.ResponseWriter, r *http.Request, s *session) {
	vcID := r.PathValue("vc")
	vc, err := c.describeVC(r, s, vcID)
	if err != nil {
		c.fail(w, r, s, err, crumb{Name: vcID})
		return
	}
	f := readFilter(r.URL.Query())
	base := "/console/virtualclusters/" + url.PathEscape(vcID) + "/jobruns"
	data := struct {
		VC                         jobs.VirtualCluster
		Filter                     runFilter
		States                     []stateOption
		Rows                       rowsData
		Err                        *APIError
		Token                      string
		Active                     int
		FirstURL, NextURL, LiveURL string
	}{VC: vc, Filter: f, Token: f.Token, Rows: rowsData{CSRF: s.csrf, Self: r.URL.RequestURI()}}
	for _, st := range []jobs.JobRunState{jobs.StatePending, jobs.StateSubmitted, jobs.StateRunning, jobs.StateCancelPending,
		jobs.StateCompleted, jobs.StateFailed, jobs.StateCancelled} {
		on := false
		for _, x := range f.States {
			on = on || x == string(st)
		}
		data.States = append(data.States, stateOption{string(st), on})
	}
	data.Active = len(f.form())
	status := http.StatusOK
	runs, next, err := c.listRuns(r.Context(), r, s, vcID, f)
	if e, ok := err.(*APIError); ok && e.Denied() {
		// A list the user may not read is not an empty list: the page is the refusal.
		c.fail(w, r, s, err, crumb{Name: vc.Name, Href: base})
		return
	}
	if err != nil {
		data.Err = c.load(err)
		status = data.Err.Status
	}
	data.Rows.Runs = runs
	form := f.form()
	data.FirstURL = base + "?" + form.Encode()
	if next != "" {
		form.Set("nextToken", next)
		data.NextURL = base + "?" + form.Encode()
	}
	live := f.form()
	if f.Token != "" {
		live.Set("nextToken", f.Token)
	}
	data.LiveURL = base + "/live?" + live.Encode()
	c.render(w, r, s, status, "jobruns", data, crumb{Name: vc.Name, Href: base})
}

// jobRunsLive sends the rows of a job list page as server-sent events whenever they change:
// the same query as the page (the same filter and page token), read every LiveInterval as
// the signed-in user, for as long as the page is open and the session is valid. The session
// is checked again on every read: signing out, an expired session or a deleted key ends the
// stream, and a changed policy applies at once. The repeated reads are not audited one by
// one (the page's own read was); a refusal is, and ends the stream.
func (c *Console) jobRunsLive(w http.ResponseWriter, r *http.Request, s *session) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported", http.StatusInternalServerError)
		return
	}
	vcID := r.PathValue("vc")
	f := readFilter(r.URL.Query())
	page := "/console/virtualclusters/" + url.PathEscape(vcID) + "/jobruns?" + r.URL.RawQuery
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n\n")
	fl.Flush()
	t := c.pages["jobruns"]
	tick := time.NewTicker(c.live)
	defer tick.Stop()
	quiet := api.Quiet(r.Context())
	last, lastWrite := "", c.now()
	for {
		cur, ok := c.session(r)
		if !ok {
			fmt.Fprint(w, "event: signedout\ndata: the session has ended\n\n")
			fl.Flush()
			return
		}
		runs, _, err := c.listRuns(quiet, r, cur, vcID, f)
		switch {
		case r.Context().Err() != nil:
			return
		case err != nil:
			e := c.load(err)
			if e.Denied() || e.Status == http.StatusNotFound || e.Status == http.StatusBadRequest {
				// It will not get better by asking again: the page stops listening.
				fmt.Fprintf(w, "event: stopped\ndata: %s\n\n", oneLine(e.Message))
				fl.Flush()
				return
			}
			fmt.Fprintf(w, "event: failed\ndata: %s\n\n", oneLine(e.Message))
			lastWrite = c.now()
		default:
			var b strings.Builder
			if err := t.ExecuteTemplate(&b, "runrows", rowsData{Runs: runs, CSRF: cur.csrf, Self: page}); err != nil {
				c.log.Error("live rows not rendered", "err", err)
				return
			}
			if b.String() == last {
				if c.now().Sub(lastWrite) >= 15*time.Second {
					lastWrite = c.now()
					fmt.Fprint(w, ": keep-alive\n\n")
				}
				break
			}
			// The rows differ: a run came, changed state or details, or a running run's
			// duration passed another second.
			last, lastWrite = b.String(), c.now()
			fmt.Fprint(w, "event: rows\n")
			// A carriage return ends an event-stream line as a newline does: one in a tag
			// must not end the data early. In HTML it is the same as its reference.
			for _, line := range strings.Split(strings.TrimSpace(strings.ReplaceAll(last, "\r", "&#13;")), "\n") {
				fmt.Fprintf(w, "data: %s\n", line)
			}
			fmt.Fprint(w, "\n")
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-c.stop:
			return
		case <-tick.C:
		}
	}
}

// describeVC reads a virtual cluster as the user.
func (c *Console) describeVC(r *http.Request, s *session, id string) (jobs.VirtualCluster, error) {
	var out struct {
		VirtualCluster jobs.VirtualCluster `json:"virtualCluster"`
	}
	err := c.call(r.Context(), r, s, http.MethodGet, "/virtualclusters/"+url.PathEscape(id), nil, nil, &out)
	return out.VirtualCluster, err
}

// vcPage reads the virtual cluster a page (titled page) is about, and its breadcrumb; false
// when it could not, and the page is then the failure.
func (c *Console) vcPage(w http.ResponseWriter, r *http.Request, s *session, page string) (jobs.VirtualCluster, crumb, bool) {
	id := r.PathValue("vc")
	list := crumb{Name: id, Href: "/console/virtualclusters/" + url.PathEscape(id) + "/jobruns"}
	vc, err := c.describeVC(r, s, id)
	if err != nil {
		c.fail(w, r, s, err, list, crumb{Name: page})
		return vc, list, false
	}
	list.Name = vc.Name
	return vc, list, true
}

// vcName is a virtual cluster's name for the breadcrumbs, its id when it cannot be read.
func (c *Console) vcName(r *http.Request, s *session, id string) string {
	if vc, err := c.describeVC(r, s, id); err == nil && vc.Name != "" {
		return vc.Name
	}
	return id
}

func oneLine(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r", " "), "\n", " ") }

// cancel cancels a job run and returns to the page it was cancelled from; a script on that
// page asks for JSON instead and shows the outcome in place.
func (c *Console) cancel(w http.ResponseWriter, r *http.Request, s *session) {
	vc, id := r.PathValue("vc"), r.PathValue("id")
	err := c.call(r.Context(), r, s, http.MethodDelete, "/virtualclusters/"+url.PathEscape(vc)+"/jobruns/"+url.PathEscape(id), nil, nil, nil)
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		if err != nil {
			e := c.load(err)
			writeJSONError(w, e.Status, e.Code, e.Message)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"state":"CANCEL_PENDING"}`, id)
		return
	}
	back := safeNext(r.PostFormValue("next"))
	if err != nil {
		e := c.load(err)
		title := "Job run not cancelled"
		c.render(w, r, s, e.Status, "error", errorPage{Title: title, Message: e.Message, Denied: e.Denied(), Back: back})
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
