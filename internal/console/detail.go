package console

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/spark"
	"github.com/sparkplane/sparkplane/internal/sparkui"
)

// describedRun is DescribeJobRun's jobRun with sparkplane's extension members.
type describedRun struct {
	jobs.JobRun
	Cost         *api.JobRunCost    `json:"sparkplaneCost"`
	SparkVersion string             `json:"sparkplaneSparkVersion"`
	Timeline     []api.TimelineStep `json:"sparkplaneTimeline"`
	Attempt      *api.AttemptInfo   `json:"sparkplaneAttempt"`
}

// podRow is one pod of the run: where it ran and what it cost.
type podRow struct {
	cost.PodCost
	Name     string
	Executor string // executor id; "" for the driver
}

// nodeRow is one node the run's pods ran on: the question "where did my executors run".
type nodeRow struct {
	Node, CapacityType, InstanceType, Zone string
	Driver                                 bool
	Executors                              []string
	Cost                                   float64
}

// nodes groups the run's pods by node, the driver's node first, then by pods.
func nodes(pods []podRow) []nodeRow {
	var out []nodeRow
	at := map[string]int{}
	for _, p := range pods {
		i, ok := at[p.Node]
		if !ok {
			i = len(out)
			at[p.Node] = i
			out = append(out, nodeRow{Node: p.Node, CapacityType: string(p.CapacityType), InstanceType: p.InstanceType, Zone: p.Zone})
		}
		n := &out[i]
		if p.Role == cost.RoleDriver {
			n.Driver = true
		} else if p.Executor != "" {
			n.Executors = append(n.Executors, p.Executor)
		}
		n.Cost += p.Charge.Cost
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Driver != out[j].Driver {
			return out[i].Driver
		}
		return len(out[i].Executors) > len(out[j].Executors)
	})
	return out
}

// timelineRow is a step of the run's timeline and how long after the one before it came.
type timelineRow struct {
	api.TimelineStep
	After string
}

// confRow is one resolved Spark setting.
type confRow struct{ Key, Value string }

// jobRunData is the job run page's data.
type jobRunData struct {
	Run      describedRun
	Base     string // the run's console path
	APIBase  string // the run's path under the console's API
	Request  map[string]any
	Cost     section[cost.JobReport]
	Pods     []podRow
	Nodes    []nodeRow
	Timeline []timelineRow
	CostBars []chartBlock
	Conf     section[[]confRow]
	UI       section[*sparkui.UI]
	Stages   chartBlock
	Attempts []int
	// ShownAttempt is the attempt whose Spark summary is shown.
	ShownAttempt int
	DriverTail   section[string]
	LiveUI       string
	CSRF, Self   string
}

type chartBlock struct {
	Title string
	SVG   any
	Parts []barPart
}

// jobRunPage shows one job run: state and timeline, why it failed, the request and the
// resolved Spark configuration, attempts, where its pods ran and what they cost, the end of
// the driver's log, the Spark application's summary and, while it runs, the live Spark UI.
// Each part comes from its own API call: one the user may not make shows IAM's message in
// its place and the rest of the page still shows.
func (c *Console) jobRunPage(w http.ResponseWriter, r *http.Request, s *session) {
	vc, id := r.PathValue("vc"), r.PathValue("id")
	runPath := "/virtualclusters/" + url.PathEscape(vc) + "/jobruns/" + url.PathEscape(id)
	listCrumb := crumb{Name: vc, Href: "/console/virtualclusters/" + url.PathEscape(vc) + "/jobruns"}
	var described struct {
		JobRun describedRun `json:"jobRun"`
	}
	if err := c.call(r.Context(), r, s, http.MethodGet, runPath, nil, nil, &described); err != nil {
		c.fail(w, r, s, err, listCrumb, crumb{Name: id})
		return
	}
	run := described.JobRun
	listCrumb.Name = c.vcName(r, s, vc)
	d := jobRunData{Run: run, Base: "/console" + runPath, APIBase: APIPath + runPath, Request: maskedRequest(run.JobRun),
		CSRF: s.csrf, Self: r.URL.RequestURI()}
	for i, step := range run.Timeline {
		row := timelineRow{TimelineStep: step}
		if i > 0 {
			row.After = "+" + humanDuration(step.At.Sub(run.Timeline[i-1].At))
		}
		d.Timeline = append(d.Timeline, row)
	}
	current := 1
	if run.Attempt != nil && run.Attempt.Number > 0 {
		current = run.Attempt.Number
	}
	for a := 1; a <= current; a++ {
		d.Attempts = append(d.Attempts, a)
	}
	d.ShownAttempt = current
	if a, err := strconv.Atoi(r.URL.Query().Get("attempt")); err == nil && a >= 1 && a <= current {
		d.ShownAttempt = a
	}
	if err := c.call(r.Context(), r, s, http.MethodGet, runPath+"/cost", nil, nil, &d.Cost.Data); err != nil {
		d.Cost.Err = c.load(err)
	} else {
		d.Cost.OK = true
		d.Pods = pods(d.Cost.Data)
		d.Nodes = nodes(d.Pods)
		t := d.Cost.Data.Totals
		role := []barPart{{"Driver", "driver", t.Driver}, {"Executors", "executors", t.Executors + t.Other}}
		capacity := []barPart{{"Spot", "spot", t.Spot}, {"On-demand", "ondemand", t.OnDemand}}
		d.CostBars = []chartBlock{
			{Title: "By role", SVG: stackedBar("Cost by role: driver and executors", role, d.Cost.Data.Currency), Parts: role},
			{Title: "By capacity type", SVG: stackedBar("Cost by capacity type: spot and on-demand", capacity, d.Cost.Data.Currency), Parts: capacity},
		}
	}
	var conf struct {
		SparkConf map[string]string `json:"sparkConf"`
	}
	if err := c.call(r.Context(), r, s, http.MethodGet, runPath+"/sparkconf", nil, nil, &conf); err != nil {
		d.Conf.Err = c.load(err)
	} else {
		d.Conf.OK = true
		for k, v := range conf.SparkConf {
			d.Conf.Data = append(d.Conf.Data, confRow{k, v})
		}
		sort.Slice(d.Conf.Data, func(i, j int) bool { return d.Conf.Data[i].Key < d.Conf.Data[j].Key })
	}
	if run.State != jobs.StatePending {
		if err := c.call(r.Context(), r, s, http.MethodGet, runPath+"/ui", url.Values{"attempt": {strconv.Itoa(d.ShownAttempt)}}, nil, &d.UI.Data); err != nil {
			d.UI.Err = c.load(err)
		} else if d.UI.Data != nil && d.UI.Data.Summary != nil {
			d.UI.OK = true
			d.Stages = chartBlock{Title: "Stage timeline", SVG: stageTimeline(d.UI.Data.Summary)}
		}
		if err := c.call(r.Context(), r, s, http.MethodGet, runPath+"/logs", url.Values{"tail": {"40"}}, nil, &d.DriverTail.Data); err != nil {
			d.DriverTail.Err = c.load(err)
		} else {
			d.DriverTail.OK = true
		}
	}
	if run.State == jobs.StateRunning {
		d.LiveUI = d.Base + "/sparkui"
	}
	name := run.Name
	if name == "" {
		name = run.ID
	}
	c.render(w, r, s, http.StatusOK, "jobrun", d, listCrumb, crumb{Name: name})
}

// pods lists the report's pods, the driver first, then executors by their number.
func pods(rep cost.JobReport) []podRow {
	out := make([]podRow, 0, len(rep.Pods))
	for _, p := range rep.Pods {
		row := podRow{PodCost: p, Name: p.Pod}
		if _, name, ok := strings.Cut(p.Pod, "/"); ok {
			row.Name = name
		}
		if p.Role == cost.RoleExecutor {
			row.Executor = executorID(row.Name)
		}
		out = append(out, row)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Role == cost.RoleDriver) != (b.Role == cost.RoleDriver) {
			return a.Role == cost.RoleDriver
		}
		ai, _ := strconv.Atoi(a.Executor)
		bi, _ := strconv.Atoi(b.Executor)
		return ai < bi
	})
	return out
}

var reExecutor = regexp.MustCompile(`-exec-(\d+)$`)

// executorID reads an executor's id from its pod name (<prefix>-exec-<id>, as Spark names
// them).
func executorID(pod string) string {
	if m := reExecutor.FindStringSubmatch(pod); m != nil {
		return m[1]
	}
	return ""
}

// maskedRequest is the run's request as submitted, for display, with the values of secret
// Spark settings redacted as Spark redacts them: in the configuration's properties and in
// sparkSubmitParameters' --conf key=value pairs.
func maskedRequest(run jobs.JobRun) map[string]any {
	req := map[string]any{"executionRoleArn": run.ExecutionRoleArn, "releaseLabel": run.ReleaseLabel}
	if run.Name != "" {
		req["name"] = run.Name
	}
	if run.JobTemplateID != "" {
		req["jobTemplateId"] = run.JobTemplateID
	}
	if len(run.Tags) > 0 {
		req["tags"] = run.Tags
	}
	if run.RetryPolicyConfiguration != nil {
		req["retryPolicyConfiguration"] = run.RetryPolicyConfiguration
	}
	driver := run.JobDriver
	if sd := driver.SparkSubmitJobDriver; sd != nil {
		cp := *sd
		cp.SparkSubmitParameters = maskParameters(cp.SparkSubmitParameters)
		driver.SparkSubmitJobDriver = &cp
	}
	if sd := driver.SparkSQLJobDriver; sd != nil {
		cp := *sd
		cp.SparkSQLParameters = maskParameters(cp.SparkSQLParameters)
		driver.SparkSQLJobDriver = &cp
	}
	req["jobDriver"] = driver
	if o := run.ConfigurationOverrides; o != nil {
		cp := *o
		cp.ApplicationConfiguration = maskConfigurations(o.ApplicationConfiguration)
		req["configurationOverrides"] = cp
	}
	return req
}

func maskConfigurations(in []jobs.Configuration) []jobs.Configuration {
	out := make([]jobs.Configuration, len(in))
	for i, c := range in {
		c.Properties = spark.Redact(c.Properties)
		c.Configurations = maskConfigurations(c.Configurations)
		out[i] = c
	}
	return out
}

var reConfArg = regexp.MustCompile(`(--conf\s+|-c\s+)(["']?)([^=\s"']+)=("[^"]*"|'[^']*'|[^\s"']*)`)

// maskParameters redacts the values of secret keys in --conf key=value arguments.
func maskParameters(params string) string {
	return reConfArg.ReplaceAllStringFunc(params, func(m string) string {
		sub := reConfArg.FindStringSubmatch(m)
		if spark.Redact(map[string]string{sub[3]: "x"})[sub[3]] == "x" {
			return m
		}
		return sub[1] + sub[2] + sub[3] + "=" + spark.Redacted
	})
}
