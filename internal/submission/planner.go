package submission

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/podpolicy"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/spark"
)

// Conf keys for pod templates.
const (
	confDriverTemplate   = "spark.kubernetes.driver.podTemplateFile"
	confExecutorTemplate = "spark.kubernetes.executor.podTemplateFile"
	confImage            = "spark.kubernetes.container.image"
)

// Defaults are an operator's settings for the job runs of some virtual clusters.
type Defaults struct {
	// VirtualClusters are ids or names; "*" matches every virtual cluster.
	VirtualClusters     []string
	SparkConf           map[string]string
	DriverPodTemplate   string
	ExecutorPodTemplate string
}

func (d Defaults) matches(vc jobs.VirtualCluster) bool {
	return slices.Contains(d.VirtualClusters, "*") || slices.Contains(d.VirtualClusters, vc.ID) || slices.Contains(d.VirtualClusters, vc.Name)
}

// Planner implements controller.Planner.
type Planner struct {
	Releases  *release.Catalog
	Templates *Templates
	// Defaults apply in order; a later entry wins over an earlier one for the same key.
	Defaults []Defaults
	// CreateNamespaces says, per container provider id, whether a missing namespace may be
	// created.
	CreateNamespaces map[string]bool
	// Now stamps spark.app.submitTime; nil means time.Now.
	Now func() time.Time
	// EventLogURI is where event logs of runs with persistentAppUI but no logUri go (an s3://
	// URI); empty: only runs with a logUri write event logs. See EventLogDir.
	EventLogURI string
	// LogShipping ships the container logs of runs with a logUri to S3.
	LogShipping LogShipping
}

var _ controller.Planner = (*Planner)(nil)

// Plan resolves the job run's input for one attempt and builds its driver objects.
func (p *Planner) Plan(ctx context.Context, run jobs.JobRun, vc jobs.VirtualCluster, settings jobs.VirtualClusterSettings, attempt int) (*controller.Plan, error) {
	job, err := p.resolve(run, vc, settings)
	if err != nil {
		return nil, err
	}
	job.Attempt = attempt
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	job.SubmitTime = now()
	if uri := job.Conf[confDriverTemplate]; uri != "" {
		if job.DriverPodTemplate, _, err = p.template(ctx, confDriverTemplate, uri); err != nil {
			return nil, err
		}
	}
	if uri := job.Conf[confExecutorTemplate]; uri != "" {
		if job.ExecutorPodTemplate, job.ExecutorPodTemplateText, err = p.template(ctx, confExecutorTemplate, uri); err != nil {
			return nil, err
		}
	}
	if err := checkTemplates(settings.PodPolicy, job); err != nil {
		return nil, err
	}
	logsNote, ship := p.LogShipping.note(run, vc.ContainerProvider.ID)
	if ship {
		if err := p.LogShipping.shipExecutorLogs(&job, run); err != nil {
			return nil, &controller.UserError{Message: fmt.Sprintf("cannot ship the executors' logs to the logUri: %v; no pod was created", err)}
		}
	}
	objs, err := spark.Build(job)
	if err != nil {
		return nil, toValidation("jobDriver", err)
	}
	if ship {
		if err := p.LogShipping.shipDriverLogs(objs, run); err != nil {
			return nil, &controller.UserError{Message: fmt.Sprintf("cannot ship the driver's logs to the logUri: %v; no pod was created", err)}
		}
	}
	if v := append(podpolicy.CheckPod(settings.PodPolicy, &objs.DriverPod.Spec), podpolicy.CheckConf(settings.PodPolicy, job.Conf)...); len(v) > 0 {
		return nil, &controller.UserError{Message: "the job's Spark configuration breaks the virtual cluster's podPolicy: " + violations(v) +
			"; no pod was created"}
	}
	return &controller.Plan{
		Namespace:       job.Namespace,
		CreateNamespace: p.CreateNamespaces[vc.ContainerProvider.ID],
		ServiceAccount:  job.ServiceAccount,
		RoleArn:         run.ExecutionRoleArn,
		Objects:         objs,
		LogsNote:        logsNote,
	}, nil
}

// resolve applies the configuration precedence with the virtual cluster's settings and the
// server's event log location; it does no I/O.
func (p *Planner) resolve(run jobs.JobRun, vc jobs.VirtualCluster, settings jobs.VirtualClusterSettings) (spark.Job, error) {
	rel, err := p.Releases.Lookup(run.ReleaseLabel)
	if err != nil {
		return spark.Job{}, &jobs.ValidationError{Field: "releaseLabel", Rule: err.Error()}
	}
	defaults := p.Defaults
	if d := settings.JobDefaults; d != nil {
		// The virtual cluster's own defaults replace the configuration file's.
		defaults = []Defaults{{VirtualClusters: []string{"*"}, SparkConf: d.SparkConf, DriverPodTemplate: d.DriverPodTemplate, ExecutorPodTemplate: d.ExecutorPodTemplate}}
	}
	job, err := Resolve(run, vc, rel, defaults)
	if err != nil {
		return spark.Job{}, err
	}
	eventLogConf(job.Conf, EventLogDir(run, p.EventLogURI))
	return job, nil
}

// SparkConf is the Spark configuration a run's driver gets, as the precedence resolves it
// today (release defaults < the virtual cluster's defaults < spark-defaults < the job's
// sparkSubmitParameters, then the event log settings), values of secret keys redacted as
// Spark redacts them (spark.Redact). Settings changed since the run started are read as
// they are now.
func (p *Planner) SparkConf(run jobs.JobRun, vc jobs.VirtualCluster, settings jobs.VirtualClusterSettings) (map[string]string, error) {
	job, err := p.resolve(run, vc, settings)
	if err != nil {
		return nil, err
	}
	return spark.Redact(job.Conf), nil
}

// checkTemplates checks the fetched pod templates themselves against the pod policy, so a
// refusal names the template that asks for the privilege rather than the merged pod.
func checkTemplates(policy jobs.PodPolicy, job spark.Job) error {
	for _, t := range []struct {
		key string
		pod *corev1.Pod
	}{{confDriverTemplate, job.DriverPodTemplate}, {confExecutorTemplate, job.ExecutorPodTemplate}} {
		if t.pod == nil {
			continue
		}
		if sa := cmp.Or(t.pod.Spec.ServiceAccountName, t.pod.Spec.DeprecatedServiceAccount); sa != "" && sa != job.ServiceAccount {
			// Spark keeps a template's service account for the executors: they would run with
			// another execution role's credentials than the one the run was authorized for.
			return &controller.UserError{Message: fmt.Sprintf("pod template %s (%s) sets serviceAccountName %q: the pods of a job run use the service account of its execution role (%s); remove it; no pod was created",
				job.Conf[t.key], t.key, sa, job.ServiceAccount)}
		}
		if v := podpolicy.CheckPod(policy, &t.pod.Spec); len(v) > 0 {
			return &controller.UserError{Message: fmt.Sprintf("pod template %s (%s) breaks the virtual cluster's podPolicy: %s; no pod was created",
				job.Conf[t.key], t.key, violations(v))}
		}
	}
	return nil
}

// violations joins policy violations for a stateDetails.
func violations(v []podpolicy.Violation) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = x.Error()
	}
	return strings.Join(s, "; ")
}

func (p *Planner) template(ctx context.Context, field, uri string) (*corev1.Pod, string, error) {
	if p.Templates == nil {
		return nil, "", &jobs.ValidationError{Field: field, Rule: "pod templates are not configured on this server"}
	}
	data, err := p.Templates.Fetch(ctx, field, uri)
	if err != nil {
		return nil, "", err
	}
	pod, err := ParsePodTemplate(field, data)
	if err != nil {
		return nil, "", err
	}
	return pod, string(data), nil
}

// Resolve applies the configuration precedence to a job run and returns the spark.Job for its
// first attempt (the caller sets Attempt and SubmitTime). It does no I/O: pod templates stay
// URIs in the conf.
func Resolve(run jobs.JobRun, vc jobs.VirtualCluster, rel release.Release, defaults []Defaults) (spark.Job, error) {
	in, err := parseInput(run)
	if err != nil {
		return spark.Job{}, err
	}
	conf := map[string]string{}
	for _, d := range defaults {
		if !d.matches(vc) {
			continue
		}
		for k, v := range d.SparkConf {
			conf[k] = v
		}
		if d.DriverPodTemplate != "" {
			conf[confDriverTemplate] = d.DriverPodTemplate
		}
		if d.ExecutorPodTemplate != "" {
			conf[confExecutorTemplate] = d.ExecutorPodTemplate
		}
	}
	for k, v := range in.classified.Conf {
		conf[k] = v
	}
	for k, v := range in.params.Conf {
		conf[k] = v
	}
	// Release-label defaults sit below everything else, so they fill only the keys no other
	// level set. They come last because which apply depends on the image the levels above
	// chose.
	driverImage, executorImage := effectiveImages(conf, rel.Image)
	for k, v := range S3ADefaults(rel.SparkVersion, driverImage, executorImage) {
		if _, set := conf[k]; !set {
			conf[k] = v
		}
	}
	job := spark.Job{
		SparkVersion:     rel.SparkVersion,
		Image:            rel.Image,
		Namespace:        vc.ContainerProvider.Namespace(),
		AppName:          conf["spark.app.name"],
		JobRunID:         run.ID,
		Attempt:          1,
		VirtualClusterID: vc.ID,
		ServiceAccount:   ServiceAccountName(run.ExecutionRoleArn),
		ProxyUser:        in.params.ProxyUser,
		Driver:           in.driver,
		Conf:             conf,
		ConfFiles:        in.classified.ConfFiles,
	}
	if job.AppName == "" && run.Name != "" {
		job.AppName = run.Name
	}
	return job, nil
}

// input is a job run's Spark input, parsed.
type input struct {
	driver     spark.Driver
	params     spark.Params
	classified spark.Classified
}

func parseInput(run jobs.JobRun) (input, error) {
	var in input
	var err error
	switch d := run.JobDriver; {
	case d.SparkSubmitJobDriver != nil:
		sd := d.SparkSubmitJobDriver
		if in.params, err = spark.ParseSubmitParameters(sd.SparkSubmitParameters); err != nil {
			return in, toValidation("jobDriver.sparkSubmitJobDriver.sparkSubmitParameters", err)
		}
		in.driver = spark.DriverFor(sd.EntryPoint, in.params.MainClass, sd.EntryPointArguments)
		if in.driver.Kind == spark.DriverJVM && in.driver.MainClass == "" && !strings.HasSuffix(sd.EntryPoint, ".jar") {
			return in, &jobs.ValidationError{Field: "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters",
				Rule: "--class is required when the entry point is not a .jar, .py or .R file"}
		}
	case d.SparkSQLJobDriver != nil:
		sd := d.SparkSQLJobDriver
		if in.params, err = spark.ParseSQLParameters(sd.SparkSQLParameters); err != nil {
			return in, toValidation("jobDriver.sparkSqlJobDriver.sparkSqlParameters", err)
		}
		if sd.EntryPoint == "" {
			return in, &jobs.ValidationError{Field: "jobDriver.sparkSqlJobDriver.entryPoint", Rule: "is required: the URI of the SQL file to run"}
		}
		in.driver = spark.Driver{Kind: spark.DriverSQL, EntryPoint: sd.EntryPoint, MainClass: spark.SQLCLIDriverClass, Args: in.params.SQLArgs}
	default:
		return in, &jobs.ValidationError{Field: "jobDriver", Rule: "must hold sparkSubmitJobDriver or sparkSqlJobDriver"}
	}
	var classes []spark.Classification
	if run.ConfigurationOverrides != nil {
		classes = classifications(run.ConfigurationOverrides.ApplicationConfiguration)
	}
	if in.classified, err = spark.ApplyClassifications(classes); err != nil {
		return in, toValidation("configurationOverrides.applicationConfiguration", err)
	}
	if err := spark.CheckUserConf(in.classified.Conf); err != nil {
		return in, toValidation("configurationOverrides.applicationConfiguration", err)
	}
	if err := spark.CheckUserConf(in.params.Conf); err != nil {
		return in, toValidation("jobDriver.sparkSubmitJobDriver.sparkSubmitParameters", err)
	}
	return in, nil
}

func classifications(list []jobs.Configuration) []spark.Classification {
	out := make([]spark.Classification, len(list))
	for i, c := range list {
		out[i] = spark.Classification{Classification: c.Classification, Properties: c.Properties, Configurations: classifications(c.Configurations)}
	}
	return out
}

// Check validates a job run's Spark input without I/O: the API calls it before it stores a
// run, so a bad sparkSubmitParameters, a forced key or an unknown classification is a
// ValidationException and never a job.
//
// It also checks the Spark settings of the request against the virtual cluster's pod policy:
// the hostPath volumes spark.kubernetes.{driver,executor}.volumes.hostPath.* would mount are
// known before any template is fetched, so a refused one is a ValidationException naming the
// request member that set it. What pod templates ask for is checked when the run is planned.
func Check(run jobs.JobRun, settings jobs.VirtualClusterSettings) error {
	in, err := parseInput(run)
	if err != nil {
		return err
	}
	params := "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters"
	if run.JobDriver.SparkSQLJobDriver != nil {
		params = "jobDriver.sparkSqlJobDriver.sparkSqlParameters"
	}
	for _, src := range []struct {
		field string
		conf  map[string]string
	}{{params, in.params.Conf}, {"configurationOverrides.applicationConfiguration", in.classified.Conf}} {
		if v := podpolicy.CheckConf(settings.PodPolicy, src.conf); len(v) > 0 {
			return &jobs.ValidationError{Field: src.field, Rule: violations(v)}
		}
	}
	return nil
}

// toValidation turns the spark package's input errors into a *jobs.ValidationError on field.
func toValidation(field string, err error) error {
	var verr *jobs.ValidationError
	if errors.As(err, &verr) {
		return err
	}
	if !errors.Is(err, spark.ErrInvalid) {
		return err
	}
	var pe *spark.ParamError
	var ce *spark.ClassificationError
	switch {
	case errors.As(err, &pe):
		rule := pe.Rule
		if pe.Option != "" {
			rule = pe.Option + ": " + pe.Rule
		}
		return &jobs.ValidationError{Field: field, Rule: rule}
	case errors.As(err, &ce):
		return &jobs.ValidationError{Field: "configurationOverrides." + ce.Path, Rule: fmt.Sprintf("classification %q: %s", ce.Classification, ce.Rule)}
	}
	return &jobs.ValidationError{Field: field, Rule: err.Error()}
}

var reNotName = regexp.MustCompile(`[^a-z0-9-]+`)

// ServiceAccountName is the service account an execution role maps to: readable (it carries
// the role's name) and unique (a hash of the whole ARN), within a DNS label's 63 characters.
func ServiceAccountName(roleArn string) string {
	sum := sha256.Sum256([]byte(roleArn))
	name := roleArn
	if i := strings.LastIndex(roleArn, "/"); i >= 0 {
		name = roleArn[i+1:]
	}
	name = strings.Trim(reNotName.ReplaceAllString(strings.ToLower(name), "-"), "-")
	const prefix = "sparkplane-"
	suffix := "-" + hex.EncodeToString(sum[:4])
	if max := 63 - len(prefix) - len(suffix); len(name) > max {
		name = strings.TrimRight(name[:max], "-")
	}
	return prefix + name + suffix
}
