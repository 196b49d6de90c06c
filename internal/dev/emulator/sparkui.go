package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkplane/sparkplane/internal/dev/kwokforward"
	"github.com/sparkplane/sparkplane/internal/dev/sparksim"
	"github.com/sparkplane/sparkplane/internal/eventlog"
)

// The stand-in Spark UI: while the emulator plays a driver (and spark.ui.enabled is not
// false), a real HTTP server on 127.0.0.1 answers what the driver's Spark UI would, and the
// pod's kwok PortForward object sends the driver's spark.ui.port there, so that the API
// server's pods/portforward (and so sparkplane's live UI route) reaches it as it would reach
// the JVM's Jetty in a real pod. See doc.go.

// uiStopTimeout bounds the removal of a stopped UI's PortForward object; the garbage
// collector removes it with the pod anyway.
const uiStopTimeout = 5 * time.Second

// uiServer is the stand-in UI of one driver pod.
type uiServer struct {
	e    *Emulator
	ns   string
	name string
	uid  types.UID
	conf Conf
	// port is the driver's spark.ui.port; ln is where the server listens on this host.
	port int
	ln   net.Listener
	srv  *http.Server
	// forwarded is set once the pod's PortForward object sends port to ln; warned once the
	// emulator said it could not make it (it retries on every pass, quietly).
	forwarded, warned bool

	mu sync.Mutex
	// app and sim are the last application simulated; final is kept once the application's
	// end is known, as the logs keep theirs (podLogs.final), so that all agree.
	app   sparksim.App
	sim   *sparksim.Simulation
	final *sparksim.Simulation
}

// syncUI makes sure the stand-in UI of a driver the emulator plays runs and is forwarded to.
// It does nothing without Options.Dynamic (no PortForward objects can be made) or with
// spark.ui.enabled=false. A UI that cannot start is reported; the driver goes on, as Spark's
// does when its UI fails to bind.
func (e *Emulator) syncUI(ctx context.Context, driver *corev1.Pod, conf Conf) {
	if e.opts.Dynamic == nil {
		return
	}
	key := driver.Namespace + "/" + driver.Name
	on, err := conf.boolean("spark.ui.enabled", true)
	if err != nil || !on {
		e.stopUI(key)
		return
	}
	if e.uis == nil {
		e.uis = map[string]*uiServer{}
	}
	u := e.uis[key]
	if u != nil && u.uid != driver.UID {
		e.stopUI(key)
		u = nil
	}
	if u == nil {
		if u, err = e.startUI(driver, conf); err != nil {
			e.log.Warn("no stand-in Spark UI for this driver", "pod", key, "err", err)
			return
		}
		e.uis[key] = u
	}
	if !u.forwarded {
		target := u.ln.Addr().(*net.TCPAddr)
		if err := kwokforward.Forward(ctx, e.opts.Dynamic, driver, int32(u.port), target.IP.String(), int32(target.Port)); err != nil {
			if !u.warned {
				// A cluster made before kwok's PortForward CRD was enabled answers NotFound
				// until it is made again.
				e.log.Warn("stand-in Spark UI not forwarded (a sandbox cluster older than the PortForward CRD must be made again)", "pod", key, "err", err)
				u.warned = true
			}
			return
		}
		u.forwarded = true
		e.log.Info("stand-in Spark UI serving", "pod", key, "port", u.port, "at", target.String())
	}
}

// startUI starts the stand-in UI server of a driver on a free port of 127.0.0.1.
func (e *Emulator) startUI(driver *corev1.Pod, conf Conf) (*uiServer, error) {
	port, err := conf.integer("spark.ui.port", 4040)
	if err != nil {
		return nil, err
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("spark.ui.port=%d: the stand-in UI needs a fixed port from 1 to 65535", port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the stand-in Spark UI: %w", err)
	}
	u := &uiServer{e: e, ns: driver.Namespace, name: driver.Name, uid: driver.UID, conf: conf, port: port, ln: ln}
	u.srv = &http.Server{Handler: u.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = u.srv.Serve(ln) }()
	return u, nil
}

// stopUI stops a driver's stand-in UI, if it has one, and removes its PortForward object, so
// that the driver's port answers nothing, as a JVM that exited does.
func (e *Emulator) stopUI(key string) {
	u := e.uis[key]
	if u == nil {
		return
	}
	delete(e.uis, key)
	_ = u.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), uiStopTimeout)
	defer cancel()
	if err := kwokforward.Stop(ctx, e.opts.Dynamic, u.ns, u.name, u.uid); err != nil {
		e.log.Debug("stand-in Spark UI's PortForward not removed", "pod", key, "err", err)
	}
}

// stopUIs stops every stand-in UI, when the emulator stops.
func (e *Emulator) stopUIs() {
	for key := range e.uis {
		e.stopUI(key)
	}
}

// simulation returns the driver's application as the emulator simulates it now: built by
// buildApp from the driver pod and its executors as the emulator's cache has them, the way
// reconcile builds it for the logs. A driver that is gone keeps its last one.
func (u *uiServer) simulation() (*sparksim.Simulation, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.final != nil {
		return u.final, nil
	}
	driver, err := u.e.pods.Pods(u.ns).Get(u.name)
	if err != nil || driver.UID != u.uid {
		if u.sim != nil {
			return u.sim, nil
		}
		return nil, fmt.Errorf("driver pod %s/%s is gone", u.ns, u.name)
	}
	r, err := u.e.runOf(driver, u.conf)
	if err != nil {
		return nil, err
	}
	app := buildApp(driver, u.conf, r)
	if u.sim != nil && reflect.DeepEqual(app, u.app) {
		return u.sim, nil
	}
	sim, err := app.Simulate()
	if err != nil {
		return nil, fmt.Errorf("simulate application %s: %w", app.AppID, err)
	}
	u.app, u.sim = app, sim
	if !r.end.IsZero() {
		u.final = sim
	}
	return sim, nil
}

// runOf is what the emulator knows of a driver's run now (see reconcile).
func (e *Emulator) runOf(driver *corev1.Pod, conf Conf) (run, error) {
	hold, err := conf.Duration()
	if err != nil {
		return run{}, err
	}
	code, err := conf.ExitCode()
	if err != nil {
		return run{}, err
	}
	count, err := conf.ExecutorCount()
	if err != nil {
		return run{}, err
	}
	r := run{hold: hold, count: count, code: code}
	if since := driver.Annotations[AnnotationRunningSince]; since != "" {
		start, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			return run{}, fmt.Errorf("annotation %s=%q: %w", AnnotationRunningSince, since, err)
		}
		r.end = start.Add(hold)
		if r.executors, err = e.executors(driver, conf); err != nil {
			return run{}, err
		}
	}
	return r, nil
}

// uiState is what one page shows: the application's summary as its event log stands now, the
// way Spark's UI shows the listener's state as the events came.
type uiState struct {
	App     sparksim.App
	Summary *eventlog.Summary
	Now     time.Time
}

func (u *uiServer) state() (uiState, error) {
	sim, err := u.simulation()
	if err != nil {
		return uiState{}, err
	}
	now := u.e.now()
	var buf bytes.Buffer
	if err := sparksim.WriteLines(&buf, sparksim.Until(sim.EventLog(), now)); err != nil {
		return uiState{}, err
	}
	var b eventlog.Builder
	if _, err := b.ReadFrom(&buf); err != nil {
		return uiState{}, err
	}
	return uiState{App: sim.App(), Summary: b.Summary(), Now: now}, nil
}

// uiRoot is UIUtils.uiRoot: the base of every link. Spark takes it from the
// spark.ui.proxyBase system property, then the APPLICATION_WEB_PROXY_BASE environment
// variable, then the X-Forwarded-Context header; a pod sets neither of the first two.
func uiRoot(r *http.Request) string { return r.Header.Get("X-Forwarded-Context") }

// routes are the stand-in's pages: the tabs sparkplane users open most (jobs, stages,
// executors), their detail pages, and the REST API's application, jobs, stages and
// executors. The kill links Spark shows for running jobs and stages lead nowhere here: the
// emulator simulates no kill.
func (u *uiServer) routes() http.Handler {
	mux := http.NewServeMux()
	// JettyUtils.createRedirectHandler("/", "/jobs/"): an absolute URL on the host the
	// request named, without uiRoot; and Jetty's redirect of a context path without its slash.
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/jobs/", http.StatusFound)
	})
	for _, tab := range []string{"jobs", "stages", "executors"} {
		mux.HandleFunc("GET /"+tab, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://"+r.Host+"/"+tab+"/", http.StatusFound)
		})
	}
	mux.HandleFunc("GET /jobs/{$}", u.page("Spark Jobs", "jobs", jobsPage))
	mux.HandleFunc("GET /jobs/job/{$}", u.page("Details for Job", "jobs", jobPage))
	mux.HandleFunc("GET /stages/{$}", u.page("Stages for All Jobs", "stages", stagesPage))
	mux.HandleFunc("GET /stages/stage/{$}", u.page("Details for Stage", "stages", stagePage))
	mux.HandleFunc("GET /executors/{$}", u.page("Executors", "executors", executorsPage))
	mux.HandleFunc("GET /static/webui.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, webUICSS)
	})
	mux.HandleFunc("GET /api/v1/applications", u.api(func(s uiState, _ *http.Request) (any, bool) {
		return []any{applicationInfo(s)}, true
	}))
	mux.HandleFunc("GET /api/v1/applications/{app}", u.api(func(s uiState, r *http.Request) (any, bool) {
		return applicationInfo(s), r.PathValue("app") == s.App.AppID
	}))
	mux.HandleFunc("GET /api/v1/applications/{app}/jobs", u.api(func(s uiState, r *http.Request) (any, bool) {
		return s.Summary.Jobs, r.PathValue("app") == s.App.AppID
	}))
	mux.HandleFunc("GET /api/v1/applications/{app}/stages", u.api(func(s uiState, r *http.Request) (any, bool) {
		return s.Summary.Stages, r.PathValue("app") == s.App.AppID
	}))
	mux.HandleFunc("GET /api/v1/applications/{app}/executors", u.api(func(s uiState, r *http.Request) (any, bool) {
		return executorsOf(s.App, s.Summary), r.PathValue("app") == s.App.AppID
	}))
	return mux
}

// api answers a REST API route with JSON, or 404 for another application, as Spark does.
func (u *uiServer) api(answer func(uiState, *http.Request) (any, bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := u.state()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		v, ok := answer(s, r)
		if !ok {
			http.Error(w, "unknown app: "+r.PathValue("app"), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
}

// sparkDate is the REST API's date format (JacksonMessageWriter's "yyyy-MM-dd'T'HH:mm:ss.SSS'GMT'").
const sparkDate = "2006-01-02T15:04:05.000GMT"

// applicationInfo is the REST API's ApplicationInfo of a live UI (SparkUI.getApplicationInfoList):
// one attempt, not completed, ending at -1.
func applicationInfo(s uiState) map[string]any {
	start := s.App.Start.UTC()
	return map[string]any{"id": s.App.AppID, "name": s.App.AppName, "attempts": []map[string]any{{
		"startTime": start.Format(sparkDate), "endTime": time.UnixMilli(-1).UTC().Format(sparkDate),
		"lastUpdated": start.Format(sparkDate), "duration": s.Now.Sub(start).Milliseconds(),
		"sparkUser": s.App.User, "completed": false, "appSparkVersion": s.App.SparkVersion,
		"startTimeEpoch": start.UnixMilli(), "endTimeEpoch": -1, "lastUpdatedEpoch": start.UnixMilli(),
	}}}
}

// uiExecutor is a row of the executors tab and of the REST API's executors.
type uiExecutor struct {
	ID             string `json:"id"`
	HostPort       string `json:"hostPort"`
	IsActive       bool   `json:"isActive"`
	TotalCores     int    `json:"totalCores"`
	CompletedTasks int64  `json:"completedTasks"`
	FailedTasks    int64  `json:"failedTasks"`
	AddTime        string `json:"addTime"`
	RemoveReason   string `json:"removeReason,omitempty"`
}

// executorsOf lists the driver, then the executors in the order they were added.
func executorsOf(app sparksim.App, summary *eventlog.Summary) []uiExecutor {
	host := app.DriverHost
	if host == "" {
		host = app.DriverIP
	}
	out := []uiExecutor{{ID: "driver", HostPort: host + ":7079", IsActive: true, AddTime: app.Start.UTC().Format(sparkDate)}}
	for _, x := range summary.Executors {
		out = append(out, uiExecutor{ID: x.ID, HostPort: x.Host, IsActive: x.RemoveTime.IsZero(), TotalCores: x.TotalCores,
			CompletedTasks: x.Tasks.Completed, FailedTasks: x.Tasks.Failed, AddTime: x.AddTime.UTC().Format(sparkDate), RemoveReason: x.RemovedReason})
	}
	return out
}

// pageData is what the page templates see.
type pageData struct {
	uiState
	Root, Title, Tab string
	// Job and Stage are the detail pages' subject.
	Job   *eventlog.Job
	Stage *eventlog.Stage
}

// page renders one of the HTML pages; a detail page whose id is unknown is a 404 with
// Spark's wording.
func (u *uiServer) page(title, tab string, body *template.Template) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := u.state()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		d := pageData{uiState: s, Root: uiRoot(r), Title: title, Tab: tab}
		switch body {
		case jobPage:
			id, err := strconv.Atoi(r.URL.Query().Get("id"))
			i := slices.IndexFunc(s.Summary.Jobs, func(j eventlog.Job) bool { return j.ID == id })
			if err != nil || i < 0 {
				http.Error(w, "Missing id parameter or no job "+r.URL.Query().Get("id"), http.StatusNotFound)
				return
			}
			d.Job = &s.Summary.Jobs[i]
			d.Title = fmt.Sprintf("Details for Job %d", id)
		case stagePage:
			id, err := strconv.Atoi(r.URL.Query().Get("id"))
			attempt, _ := strconv.Atoi(r.URL.Query().Get("attempt"))
			i := slices.IndexFunc(s.Summary.Stages, func(st eventlog.Stage) bool { return st.StageID == id && st.AttemptID == attempt })
			if err != nil || i < 0 {
				http.Error(w, "Missing id parameter or no stage "+r.URL.Query().Get("id"), http.StatusNotFound)
				return
			}
			d.Stage = &s.Summary.Stages[i]
			d.Title = fmt.Sprintf("Details for Stage %d (Attempt %d)", id, attempt)
		}
		var buf bytes.Buffer
		if err := body.ExecuteTemplate(&buf, "page", d); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
		_, _ = buf.WriteTo(w)
	}
}

var uiFuncs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006/01/02 15:04:05")
	},
	"duration":  formatDuration,
	"since":     func(t, now time.Time) string { return formatDuration(now.Sub(t).Milliseconds()) },
	"executors": executorsOf,
	"jobsWith": func(jobs []eventlog.Job, status string) []eventlog.Job {
		return slices.DeleteFunc(slices.Clone(jobs), func(j eventlog.Job) bool { return j.Status != status })
	},
	"stagesWith": func(stages []eventlog.Stage, status string) []eventlog.Stage {
		return slices.DeleteFunc(slices.Clone(stages), func(s eventlog.Stage) bool { return s.Status != status })
	},
	"stagesOf": func(stages []eventlog.Stage, job *eventlog.Job) []eventlog.Stage {
		return slices.DeleteFunc(slices.Clone(stages), func(s eventlog.Stage) bool { return !slices.Contains(s.JobIDs, job.ID) })
	},
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<30:
			return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d B", n)
	},
}

// formatDuration is UIUtils.formatDuration.
func formatDuration(ms int64) string {
	switch s := float64(ms) / 1000; {
	case ms < 100:
		return fmt.Sprintf("%d ms", ms)
	case s < 1:
		return fmt.Sprintf("%.1f s", s)
	case s < 60:
		return fmt.Sprintf("%.0f s", s)
	case s < 600:
		return fmt.Sprintf("%.1f min", s/60)
	case s < 3600:
		return fmt.Sprintf("%.0f min", s/60)
	default:
		return fmt.Sprintf("%.1f h", s/3600)
	}
}

// layout is UIUtils.headerSparkPage, reduced: every link starts with uiRoot.
const layout = `{{define "page"}}<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-type" content="text/html; charset=utf-8"/>
<link rel="stylesheet" href="{{.Root}}/static/webui.css" type="text/css"/>
<title>{{.App.AppName}} - {{.Title}}</title>
</head>
<body>
<div class="navbar">
<a class="brand" href="{{.Root}}/"><span class="version">{{.App.SparkVersion}}</span></a>
<ul class="nav">
<li{{if eq .Tab "jobs"}} class="active"{{end}}><a href="{{.Root}}/jobs/">Jobs</a></li>
<li{{if eq .Tab "stages"}} class="active"{{end}}><a href="{{.Root}}/stages/">Stages</a></li>
<li{{if eq .Tab "executors"}} class="active"{{end}}><a href="{{.Root}}/executors/">Executors</a></li>
</ul>
<p class="navbar-text"><strong title="{{.App.AppName}}">{{.App.AppName}}</strong> application UI</p>
</div>
<h3>{{.Title}}</h3>
{{template "body" .}}
</body>
</html>{{end}}
{{define "jobrows"}}{{$root := .Root}}{{range .Jobs}}<tr>
<td>{{.ID}}</td>
<td><a href="{{$root}}/jobs/job/?id={{.ID}}">{{.Name}}</a>{{if eq .Status "RUNNING"}} <a href="{{$root}}/jobs/job/kill/?id={{.ID}}" class="kill-link">(kill)</a>{{end}}</td>
<td>{{date .SubmissionTime}}</td><td>{{duration .DurationMs}}</td>
<td>{{.NumCompletedStages}}/{{len .StageIDs}}</td><td>{{.NumCompletedTasks}}/{{.NumTasks}}</td>
</tr>
{{end}}{{end}}
{{define "stagerows"}}{{$root := .Root}}{{range .Stages}}<tr>
<td>{{.StageID}}</td>
<td><a href="{{$root}}/stages/stage/?id={{.StageID}}&amp;attempt={{.AttemptID}}">{{.Name}}</a>{{if eq .Status "ACTIVE"}} <a href="{{$root}}/stages/stage/kill/?id={{.StageID}}" class="kill-link">(kill)</a>{{end}}</td>
<td>{{date .SubmissionTime}}</td><td>{{duration .DurationMs}}</td>
<td>{{.Tasks.Completed}}/{{.NumTasks}}{{if .Tasks.Failed}} ({{.Tasks.Failed}} failed){{end}}</td>
<td>{{bytes .Metrics.InputBytes}}</td><td>{{bytes .Metrics.OutputBytes}}</td>
<td>{{bytes .Metrics.ShuffleReadBytes}}</td><td>{{bytes .Metrics.ShuffleWriteBytes}}</td>
</tr>
{{end}}{{end}}`

// tables are the job and stage tables the pages share.
const tables = `{{define "jobs"}}<table class="table" id="{{.ID}}"><thead><tr><th>Job Id</th><th>Description</th><th>Submitted</th><th>Duration</th><th>Stages: Succeeded/Total</th><th>Tasks: Succeeded/Total</th></tr></thead>
<tbody>{{template "jobrows" .}}</tbody></table>{{end}}
{{define "stages"}}<table class="table" id="{{.ID}}"><thead><tr><th>Stage Id</th><th>Description</th><th>Submitted</th><th>Duration</th><th>Tasks: Succeeded/Total</th><th>Input</th><th>Output</th><th>Shuffle Read</th><th>Shuffle Write</th></tr></thead>
<tbody>{{template "stagerows" .}}</tbody></table>{{end}}`

func uiTemplate(body string) *template.Template {
	return template.Must(template.Must(template.Must(template.New("page").Funcs(uiFuncs).Parse(layout)).Parse(tables)).Parse(body))
}

// jobsTable and stagesTable feed the shared tables.
type jobsTable struct {
	Root, ID string
	Jobs     []eventlog.Job
}

type stagesTable struct {
	Root, ID string
	Stages   []eventlog.Stage
}

func init() {
	uiFuncs["jobsTable"] = func(root, id string, jobs []eventlog.Job) jobsTable { return jobsTable{root, id, jobs} }
	uiFuncs["stagesTable"] = func(root, id string, stages []eventlog.Stage) stagesTable { return stagesTable{root, id, stages} }
	jobsPage = uiTemplate(`{{define "body"}}{{$root := .Root}}
<ul class="unstyled">
<li><strong>User:</strong> {{.App.User}}</li>
<li><strong>Total Uptime:</strong> {{since .App.Start .Now}}</li>
<li><strong>Scheduling Mode:</strong> FIFO</li>
</ul>
{{with jobsWith .Summary.Jobs "RUNNING"}}<h4 id="active">Active Jobs ({{len .}})</h4>{{template "jobs" (jobsTable $root "activeJob-table" .)}}{{end}}
{{with jobsWith .Summary.Jobs "SUCCEEDED"}}<h4 id="completed">Completed Jobs ({{len .}})</h4>{{template "jobs" (jobsTable $root "completedJob-table" .)}}{{end}}
{{with jobsWith .Summary.Jobs "FAILED"}}<h4 id="failed">Failed Jobs ({{len .}})</h4>{{template "jobs" (jobsTable $root "failedJob-table" .)}}{{end}}
{{end}}`)
	jobPage = uiTemplate(`{{define "body"}}{{$root := .Root}}
<ul class="unstyled">
<li><strong>Status:</strong> {{.Job.Status}}</li>
<li><strong>Submitted:</strong> {{date .Job.SubmissionTime}}</li>
<li><strong>Duration:</strong> {{duration .Job.DurationMs}}</li>
{{with .Job.FailureReason}}<li><strong>Failure Reason:</strong> {{.}}</li>{{end}}
</ul>
<h4>Stages ({{len .Job.StageIDs}})</h4>{{template "stages" (stagesTable $root "stage-table" (stagesOf .Summary.Stages .Job))}}
{{end}}`)
	stagesPage = uiTemplate(`{{define "body"}}{{$root := .Root}}
{{with stagesWith .Summary.Stages "ACTIVE"}}<h4 id="active">Active Stages ({{len .}})</h4>{{template "stages" (stagesTable $root "activeStage-table" .)}}{{end}}
{{with stagesWith .Summary.Stages "COMPLETE"}}<h4 id="completed">Completed Stages ({{len .}})</h4>{{template "stages" (stagesTable $root "completedStage-table" .)}}{{end}}
{{with stagesWith .Summary.Stages "FAILED"}}<h4 id="failed">Failed Stages ({{len .}})</h4>{{template "stages" (stagesTable $root "failedStage-table" .)}}{{end}}
{{end}}`)
	stagePage = uiTemplate(`{{define "body"}}{{$root := .Root}}
<ul class="unstyled">
<li><strong>Status:</strong> {{.Stage.Status}}</li>
<li><strong>Jobs:</strong> {{range .Stage.JobIDs}}<a href="{{$root}}/jobs/job/?id={{.}}">{{.}}</a> {{end}}</li>
<li><strong>Tasks:</strong> {{.Stage.Tasks.Completed}} succeeded, {{.Stage.Tasks.Failed}} failed, {{.Stage.Tasks.Killed}} killed of {{.Stage.NumTasks}}</li>
<li><strong>Executor Run Time:</strong> {{duration .Stage.Metrics.ExecutorRunTimeMs}}</li>
<li><strong>Shuffle Read:</strong> {{bytes .Stage.Metrics.ShuffleReadBytes}}, <strong>Shuffle Write:</strong> {{bytes .Stage.Metrics.ShuffleWriteBytes}}</li>
<li><strong>Spill (Memory):</strong> {{bytes .Stage.Metrics.MemoryBytesSpilled}}, <strong>Spill (Disk):</strong> {{bytes .Stage.Metrics.DiskBytesSpilled}}</li>
{{with .Stage.FailureReason}}<li><strong>Failure Reason:</strong> {{.}}</li>{{end}}
</ul>
{{end}}`)
	executorsPage = uiTemplate(`{{define "body"}}
<table class="table" id="active-executors-table"><thead><tr><th>Executor ID</th><th>Address</th><th>Status</th><th>Cores</th><th>Completed Tasks</th><th>Failed Tasks</th><th>Add Time</th></tr></thead>
<tbody>{{range executors .App .Summary}}<tr><td>{{.ID}}</td><td>{{.HostPort}}</td><td>{{if .IsActive}}Active{{else}}Dead{{end}}</td><td>{{.TotalCores}}</td><td>{{.CompletedTasks}}</td><td>{{.FailedTasks}}</td><td>{{.AddTime}}</td></tr>
{{end}}</tbody></table>
{{end}}`)
}

// The pages, parsed once (init).
var jobsPage, jobPage, stagesPage, stagePage, executorsPage *template.Template

// webUICSS is a stand-in for Spark's static/webui.css, so that the pages' stylesheet link
// leads somewhere.
const webUICSS = `body { font-family: sans-serif; margin: 0 1em; }
.navbar { border-bottom: 1px solid #ccc; padding: 0.5em 0; }
.nav { display: inline; padding: 0; } .nav li { display: inline; margin-right: 1em; } .nav li.active a { font-weight: bold; }
.table { border-collapse: collapse; } .table th, .table td { border: 1px solid #ddd; padding: 2px 6px; }
.kill-link { color: #b00; font-size: 80%; }
`
