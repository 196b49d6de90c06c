package console

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// logsData is the logs viewer's data.
type logsData struct {
	Run      describedRun
	Base     string
	API      string // the logs route under the console's API
	Executor string
	Tail     string
	Follow   bool
	Options  []logOption
	Text     string
	Err      *APIError
	Download string
	// Capped says the page shows the last maxPageLines lines of a longer request.
	Capped bool
}

// maxPageLines is the most lines the logs page shows.
const maxPageLines = 10000

type logOption struct {
	Value, Label string
	Selected     bool
}

// logsPage shows a pod's log: the driver's, one executor's or every executor's, its last
// lines or all of it, with a download link; with "follow", the page's script streams new
// lines in until the run ends.
func (c *Console) logsPage(w http.ResponseWriter, r *http.Request, s *session) {
	vc, id := r.PathValue("vc"), r.PathValue("id")
	runPath := "/virtualclusters/" + url.PathEscape(vc) + "/jobruns/" + url.PathEscape(id)
	var described struct {
		JobRun describedRun `json:"jobRun"`
	}
	runCrumb := crumb{Name: id, Href: "/console" + runPath}
	listCrumb := crumb{Name: vc, Href: "/console/virtualclusters/" + url.PathEscape(vc) + "/jobruns"}
	if err := c.call(r.Context(), r, s, http.MethodGet, runPath, nil, nil, &described); err != nil {
		c.fail(w, r, s, err, listCrumb, runCrumb, crumb{Name: "Logs"})
		return
	}
	q := r.URL.Query()
	d := logsData{Run: described.JobRun, Base: "/console" + runPath, API: APIPath + runPath + "/logs",
		Executor: q.Get("executor"), Tail: q.Get("tail"), Follow: q.Get("follow") == "true" && !described.JobRun.State.Terminal()}
	if _, ok := q["tail"]; !ok {
		d.Tail = "500"
	}
	if d.Run.Name != "" {
		runCrumb.Name = d.Run.Name
	}
	listCrumb.Name = c.vcName(r, s, vc)
	// The executors the run had: from its pods' cost records, which outlive the pods.
	var rep cost.JobReport
	execs := map[string]bool{}
	if err := c.call(r.Context(), r, s, http.MethodGet, runPath+"/cost", nil, nil, &rep); err == nil {
		for _, p := range pods(rep) {
			if p.Executor != "" {
				execs[p.Executor] = true
			}
		}
	}
	if d.Executor != "" && d.Executor != "all" {
		execs[d.Executor] = true
	}
	ids := make([]string, 0, len(execs))
	for e := range execs {
		ids = append(ids, e)
	}
	sort.Slice(ids, func(i, j int) bool { a, _ := strconv.Atoi(ids[i]); b, _ := strconv.Atoi(ids[j]); return a < b })
	d.Options = append(d.Options, logOption{"", "Driver", d.Executor == ""})
	for _, e := range ids {
		d.Options = append(d.Options, logOption{e, "Executor " + e, d.Executor == e})
	}
	d.Options = append(d.Options, logOption{"all", "All executors", d.Executor == "all"})
	query := url.Values{}
	if d.Executor != "" {
		query.Set("executor", d.Executor)
	}
	dl := url.Values{"download": {"1"}}
	if d.Executor != "" {
		dl.Set("executor", d.Executor)
	}
	d.Download = d.API + "?" + dl.Encode()
	// The page shows at most maxPageLines lines (and maxTextAnswer bytes): the whole log
	// is a download.
	if n, err := strconv.Atoi(d.Tail); d.Tail == "" || err == nil && n > maxPageLines {
		query.Set("tail", strconv.Itoa(maxPageLines))
		d.Capped = true
	} else {
		query.Set("tail", d.Tail)
	}
	status := http.StatusOK
	if !d.Follow {
		if err := c.call(r.Context(), r, s, http.MethodGet, runPath+"/logs", query, nil, &d.Text); err != nil {
			d.Err = c.load(err)
			if d.Err.Status == http.StatusBadRequest || d.Err.Denied() {
				status = d.Err.Status
			}
		}
	}
	c.render(w, r, s, status, "logs", d, listCrumb, runCrumb, crumb{Name: "Logs"})
}

// startData is the start form's data.
type startData struct {
	VC        jobs.VirtualCluster
	Templates []jobs.JobTemplate
	Template  *jobs.JobTemplate
	Params    []paramField
	Name      string
	Token     string
	Err       *APIError
	// Field is the form field the API's validation error names, when it names one.
	Field    string
	ListErr  *APIError
	Started  string
	CSRF     string
	Selected string
}

type paramField struct {
	Name, Type, Value, Default string
	Invalid                    bool
}

// startPage shows the start form: pick a job template, then fill its parameters.
func (c *Console) startPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showStart(w, r, s, http.StatusOK, r.URL.Query().Get("template"), nil, "", nil)
}

// showStart renders the form for the chosen template, with the values given so far and the
// API's refusal, if any.
func (c *Console) showStart(w http.ResponseWriter, r *http.Request, s *session, status int, templateID string, values url.Values, token string, apiErr *APIError) {
	vc, listCrumb, ok := c.vcPage(w, r, s, "Start a job run")
	if !ok {
		return
	}
	d := startData{VC: vc, CSRF: s.csrf, Selected: templateID, Err: apiErr, Token: token, Name: values.Get("name")}
	if d.Token == "" {
		d.Token = clientToken()
	}
	var list struct {
		Templates []jobs.JobTemplate `json:"templates"`
	}
	if err := c.call(r.Context(), r, s, http.MethodGet, "/jobtemplates", url.Values{"maxResults": {"100"}}, nil, &list); err != nil {
		d.ListErr = c.load(err)
	}
	d.Templates = list.Templates
	if templateID != "" {
		var t struct {
			JobTemplate jobs.JobTemplate `json:"jobTemplate"`
		}
		if err := c.call(r.Context(), r, s, http.MethodGet, "/jobtemplates/"+url.PathEscape(templateID), nil, nil, &t); err != nil {
			if d.Err == nil {
				d.Err = c.load(err)
				status = d.Err.Status
			}
		} else {
			d.Template = &t.JobTemplate
			names := make([]string, 0, len(t.JobTemplate.JobTemplateData.ParameterConfiguration))
			for n := range t.JobTemplate.JobTemplateData.ParameterConfiguration {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				pc := t.JobTemplate.JobTemplateData.ParameterConfiguration[n]
				f := paramField{Name: n, Type: pc.Type, Value: values.Get("param." + n)}
				if pc.DefaultValue != nil {
					f.Default = *pc.DefaultValue
				}
				if f.Type == "" {
					f.Type = jobs.ParameterString
				}
				f.Invalid = apiErr != nil && strings.Contains(apiErr.Message, "jobTemplateParameters."+n)
				d.Params = append(d.Params, f)
			}
		}
	}
	if apiErr != nil {
		if field, _, ok := strings.Cut(apiErr.Message, ":"); ok && !strings.Contains(field, " ") {
			d.Field = field
		}
	}
	c.render(w, r, s, status, "start", d, listCrumb, crumb{Name: "Start a job run"})
}

// clientToken is the start form's idempotency token: a form sent twice starts one run.
func clientToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "console-" + hex.EncodeToString(b)
}

// start starts a job run from the chosen template with the form's parameters, through
// StartJobRun: its validation is the API's, and a refusal shows the field and the rule next
// to the form as filled in.
func (c *Console) start(w http.ResponseWriter, r *http.Request, s *session) {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	if err := r.ParseForm(); err != nil {
		c.render(w, r, s, http.StatusBadRequest, "error", errorPage{Title: "Not started", Message: "the form could not be read: " + err.Error()})
		return
	}
	vcID := r.PathValue("vc")
	templateID := r.PostFormValue("template")
	in := jobs.StartJobRunInput{Name: r.PostFormValue("name"), ClientToken: r.PostFormValue("clientToken"), JobTemplateID: templateID}
	if in.ClientToken == "" {
		in.ClientToken = clientToken()
	}
	for k, v := range r.PostForm {
		if n, ok := strings.CutPrefix(k, "param."); ok && len(v) > 0 && v[0] != "" {
			if in.JobTemplateParameters == nil {
				in.JobTemplateParameters = map[string]string{}
			}
			in.JobTemplateParameters[n] = v[0]
		}
	}
	if templateID == "" {
		c.showStart(w, r, s, http.StatusBadRequest, "", r.PostForm, in.ClientToken,
			&APIError{Status: http.StatusBadRequest, Code: "ValidationException", Message: "jobTemplateId: is required: choose a job template"})
		return
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.call(r.Context(), r, s, http.MethodPost, "/virtualclusters/"+url.PathEscape(vcID)+"/jobruns", nil, in, &out); err != nil {
		e := c.load(err)
		c.showStart(w, r, s, e.Status, templateID, r.PostForm, in.ClientToken, e)
		return
	}
	http.Redirect(w, r, "/console/virtualclusters/"+url.PathEscape(vcID)+"/jobruns/"+url.PathEscape(out.ID), http.StatusSeeOther)
}

// costData is the cost page's data.
type costData struct {
	VC       jobs.VirtualCluster
	From, To string
	Report   cost.VirtualClusterReport
	Chart    any
	Err      *APIError
	Jobs     []cost.JobTotal
}

// costPage shows what a virtual cluster cost per day over a range (the last 7 days unless
// the form says), spot against on-demand, what spot saved, and idle nodes.
func (c *Console) costPage(w http.ResponseWriter, r *http.Request, s *session) {
	vc, listCrumb, ok := c.vcPage(w, r, s, "Cost")
	if !ok {
		return
	}
	vcID := vc.ID
	q := r.URL.Query()
	now := c.now().UTC()
	d := costData{VC: vc, From: q.Get("from"), To: q.Get("to")}
	if d.To == "" {
		d.To = now.Format(time.DateOnly)
	}
	if d.From == "" {
		d.From = now.AddDate(0, 0, -6).Format(time.DateOnly)
	}
	// The form's "to" is a day, included whole.
	query := url.Values{"since": {d.From}}
	if t, err := time.Parse(time.DateOnly, d.To); err == nil {
		query.Set("until", t.AddDate(0, 0, 1).Format(time.DateOnly))
	} else {
		query.Set("until", d.To)
	}
	status := http.StatusOK
	if err := c.call(r.Context(), r, s, http.MethodGet, "/virtualclusters/"+url.PathEscape(vcID)+"/cost", query, nil, &d.Report); err != nil {
		d.Err = c.load(err)
		status = d.Err.Status
	} else {
		d.Chart = dailyCostChart(everyDay(d.Report.Days, d.From, d.To), d.Report.Currency)
		d.Jobs = d.Report.Jobs
		sort.Slice(d.Jobs, func(i, j int) bool { return d.Jobs[i].Totals.Cost > d.Jobs[j].Totals.Cost })
		if len(d.Jobs) > 20 {
			d.Jobs = d.Jobs[:20]
		}
	}
	c.render(w, r, s, status, "cost", d, listCrumb, crumb{Name: "Cost"})
}

// everyDay puts the report's days on every day of the range, so that a day without cost
// shows as one on the chart; a range it cannot read keeps the report's days.
func everyDay(days []cost.DayTotal, from, to string) []cost.DayTotal {
	start, err1 := time.Parse(time.DateOnly, from)
	end, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || end.Before(start) || end.Sub(start) > 400*24*time.Hour {
		return days
	}
	have := make(map[string]cost.DayTotal, len(days))
	for _, d := range days {
		have[d.Day] = d
	}
	var out []cost.DayTotal
	for t := start; !t.After(end); t = t.AddDate(0, 0, 1) {
		day := t.Format(time.DateOnly)
		d, ok := have[day]
		if !ok {
			d = cost.DayTotal{Day: day}
		}
		out = append(out, d)
	}
	return out
}
