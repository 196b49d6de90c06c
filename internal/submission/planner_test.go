package submission

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
)

func jarRun(params string, classes ...jobs.Configuration) jobs.JobRun {
	r := jobs.JobRun{ID: "0000000000000000001", Name: "nightly", ExecutionRoleArn: "arn:aws:iam::000000000000:role/Spark_Jobs",
		ReleaseLabel: "emr-6.15.0-latest",
		JobDriver: jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{
			EntryPoint: "local:///opt/spark/examples/jars/spark-examples.jar", SparkSubmitParameters: params}}}
	if len(classes) > 0 {
		r.ConfigurationOverrides = &jobs.ConfigurationOverrides{ApplicationConfiguration: classes}
	}
	return r
}

func TestResolvePrecedence(t *testing.T) {
	vc := jobs.VirtualCluster{ID: "vc1", Name: "analytics", ContainerProvider: jobs.ContainerProvider{
		Type: "EKS", ID: "sandbox", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "spark"}}}}
	rel, err := release.Default().Lookup("emr-6.15.0-latest")
	if err != nil {
		t.Fatal(err)
	}
	defaults := []Defaults{
		{VirtualClusters: []string{"*"}, SparkConf: map[string]string{"spark.executor.memory": "1g", "spark.a": "all"}},
		{VirtualClusters: []string{"analytics"}, SparkConf: map[string]string{"spark.a": "vc", "spark.b": "vc", "spark.c": "vc"},
			ExecutorPodTemplate: "s3://ops/executor.yaml"},
		{VirtualClusters: []string{"other"}, SparkConf: map[string]string{"spark.a": "other"}},
	}
	run := jarRun("--class org.example.Main --conf spark.c=params --executor-memory 4g",
		jobs.Configuration{Classification: "spark-defaults", Properties: map[string]string{"spark.b": "defaults", "spark.c": "defaults"}})
	job, err := Resolve(run, vc, rel, defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"spark.a":               "vc",       // virtual cluster defaults over "*" defaults
		"spark.b":               "defaults", // spark-defaults over virtual cluster defaults
		"spark.c":               "params",   // sparkSubmitParameters over spark-defaults
		"spark.executor.memory": "4g",       // --executor-memory over operator defaults
		confExecutorTemplate:    "s3://ops/executor.yaml",
	}
	for k, v := range want {
		if job.Conf[k] != v {
			t.Errorf("conf %s = %q, want %q", k, job.Conf[k], v)
		}
	}
	if job.Namespace != "spark" || job.SparkVersion != rel.SparkVersion || job.Image != rel.Image || job.Driver.MainClass != "org.example.Main" {
		t.Errorf("job = %+v", job)
	}
	if job.AppName != "nightly" || job.ServiceAccount != ServiceAccountName(run.ExecutionRoleArn) {
		t.Errorf("app name %q, service account %q", job.AppName, job.ServiceAccount)
	}
}

func TestCheckRefusesBadSparkInput(t *testing.T) {
	tests := []struct {
		name  string
		run   jobs.JobRun
		field string
		rule  string
	}{
		{"master", jarRun("--master yarn"), "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters", "--master"},
		{"quote", jarRun(`--conf "spark.a=1`), "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters", "quote"},
		{"forced key", jarRun("--conf spark.kubernetes.namespace=other"), "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters", "cannot be overridden"},
		{"another role's account", jarRun("--conf spark.kubernetes.authenticate.executor.serviceAccountName=other-role"),
			"jobDriver.sparkSubmitJobDriver.sparkSubmitParameters", "another role's credentials"},
		{"forced in defaults", jarRun("", jobs.Configuration{Classification: "spark-defaults", Properties: map[string]string{"spark.master": "local"}}),
			"configurationOverrides.applicationConfiguration", "cannot be overridden"},
		{"unknown classification", jarRun("", jobs.Configuration{Classification: "yarn-site"}), "configurationOverrides.applicationConfiguration[0]", "yarn-site"},
		{"no class", func() jobs.JobRun {
			r := jarRun("")
			r.JobDriver.SparkSubmitJobDriver.EntryPoint = "s3://bucket/app"
			return r
		}(), "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters", "--class is required"},
		{"sql without file", jobs.JobRun{JobDriver: jobs.JobDriver{SparkSQLJobDriver: &jobs.SparkSQLJobDriver{}}}, "jobDriver.sparkSqlJobDriver.entryPoint", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.run, jobs.VirtualClusterSettings{})
			var verr *jobs.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Check = %v, want a *jobs.ValidationError", err)
			}
			if !strings.HasPrefix(verr.Field, tt.field) || !strings.Contains(verr.Field+" "+verr.Rule, tt.rule) {
				t.Errorf("Check = %q / %q, want field %q and a rule mentioning %q", verr.Field, verr.Rule, tt.field, tt.rule)
			}
		})
	}
	if err := Check(jarRun("--class org.example.Main --conf spark.executor.instances=50 --num-executors 3"), jobs.VirtualClusterSettings{}); err != nil {
		t.Errorf("Check(valid) = %v", err)
	}
}

// TestCheckPodPolicy checks that the hostPath volumes a request's Spark settings mount are
// refused at StartJobRun unless the virtual cluster's pod policy allows their path, naming
// the request member that set them.
func TestCheckPodPolicy(t *testing.T) {
	const hostPath = "--class org.example.Main --conf spark.kubernetes.executor.volumes.hostPath.x.mount.path=/data --conf spark.kubernetes.executor.volumes.hostPath.x.options.path="
	local := jobs.VirtualClusterSettings{PodPolicy: jobs.PodPolicy{AllowedHostPaths: []string{"/pv-disks/local"}}}
	tests := []struct {
		name     string
		run      jobs.JobRun
		settings jobs.VirtualClusterSettings
		field    string // "" when allowed
	}{
		{"root refused by default", jarRun(hostPath + "/"), jobs.VirtualClusterSettings{}, "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters"},
		{"allowed path", jarRun(hostPath + "/pv-disks/local"), local, ""},
		{"below allowed path", jarRun(hostPath + "/pv-disks/local/a"), local, ""},
		{"escape by dot-dot", jarRun(hostPath + "/pv-disks/local/../../etc"), local, "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters"},
		{"driver volume in a classification", jarRun("--class org.example.Main", jobs.Configuration{Classification: "spark-defaults",
			Properties: map[string]string{"spark.kubernetes.driver.volumes.hostPath.r.mount.path": "/host", "spark.kubernetes.driver.volumes.hostPath.r.options.path": "/"}}),
			local, "configurationOverrides.applicationConfiguration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.run, tt.settings)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Check = %v, want allowed", err)
				}
				return
			}
			var verr *jobs.ValidationError
			if !errors.As(err, &verr) || verr.Field != tt.field || !strings.Contains(verr.Rule, "podPolicy") {
				t.Fatalf("Check = %v, want a ValidationError on %s naming the podPolicy", err, tt.field)
			}
		})
	}
}

func TestServiceAccountName(t *testing.T) {
	a := ServiceAccountName("arn:aws:iam::000000000000:role/Spark_Jobs")
	b := ServiceAccountName("arn:aws:iam::111111111111:role/Spark_Jobs")
	long := ServiceAccountName("arn:aws:iam::000000000000:role/" + strings.Repeat("x", 200))
	if !strings.HasPrefix(a, "sparkplane-spark-jobs-") || a == b || len(long) > 63 {
		t.Errorf("names %q %q %q", a, b, long)
	}
}

// TestEventLogDir checks where event logs go: beside the logs in EMR's layout when the run
// names a logUri, under the server's location for runs with persistentAppUI (EMR's default)
// otherwise, and nowhere when neither applies; the job's own spark.eventLog.* settings win.
func TestEventLogDir(t *testing.T) {
	run := func(persistent, logURI string) jobs.JobRun {
		m := &jobs.MonitoringConfiguration{PersistentAppUI: persistent}
		if logURI != "" {
			m.S3MonitoringConfiguration = &jobs.S3MonitoringConfiguration{LogURI: logURI}
		}
		return jobs.JobRun{ID: "job1", VirtualClusterID: "vc1", ConfigurationOverrides: &jobs.ConfigurationOverrides{MonitoringConfiguration: m}}
	}
	tests := []struct {
		run        jobs.JobRun
		defaultURI string
		want       string
	}{
		{run("", "s3://logs/emr/"), "", "s3://logs/emr/vc1/jobs/job1/sparklogs"},
		{run("DISABLED", "s3://logs"), "s3://server", "s3://logs/vc1/jobs/job1/sparklogs"},
		{run("ENABLED", ""), "s3://server/ui", "s3://server/ui/vc1/jobs/job1/sparklogs"},
		{jobs.JobRun{ID: "job1", VirtualClusterID: "vc1"}, "s3://server/ui", "s3://server/ui/vc1/jobs/job1/sparklogs"},
		{run("DISABLED", ""), "s3://server/ui", ""},
		{run("ENABLED", ""), "", ""},
	}
	for i, tt := range tests {
		if got := EventLogDir(tt.run, tt.defaultURI); got != tt.want {
			t.Errorf("%d: EventLogDir = %q, want %q", i, got, tt.want)
		}
	}
	conf := map[string]string{}
	eventLogConf(conf, "s3://logs/vc1/jobs/job1/sparklogs")
	if conf["spark.eventLog.enabled"] != "true" || conf["spark.eventLog.dir"] != "s3a://logs/vc1/jobs/job1/sparklogs" {
		t.Errorf("event log conf = %v", conf)
	}
	own := map[string]string{"spark.eventLog.enabled": "false"}
	eventLogConf(own, "s3://logs/x")
	if len(own) != 1 {
		t.Errorf("the job's own spark.eventLog.enabled=false was overridden: %v", own)
	}
}

// TestPlanRefusesTemplates plans runs whose pod templates ask for what the virtual cluster
// does not allow: a privilege its pod policy refuses, and an executor service account other
// than the execution role's (Spark keeps a template's, so the executors would run with another
// role's credentials). Each fails the run as USER_ERROR naming the template.
func TestPlanRefusesTemplates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, spec string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Pod\nspec:\n"+spec), 0o644); err != nil {
			t.Fatal(err)
		}
		return "file://" + path
	}
	p := &Planner{Releases: release.Default(), Templates: &Templates{AllowedDirs: []string{dir}}}
	vc := jobs.VirtualCluster{ID: "vc1", ContainerProvider: jobs.ContainerProvider{ID: "c", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "ns"}}}}
	plan := func(conf string, settings jobs.VirtualClusterSettings) error {
		run := jarRun("--class org.example.Main --conf " + conf)
		run.ID, run.VirtualClusterID, run.ExecutionRoleArn, run.ReleaseLabel = "job1", "vc1", "arn:aws:iam::000000000000:role/team-a", "emr-6.15.0-latest"
		_, err := p.Plan(t.Context(), run, vc, settings, 1)
		return err
	}
	other := write("other-sa.yaml", "  serviceAccountName: sparkplane-team-b-0123456789\n")
	var uerr *controller.UserError
	if err := plan("spark.kubernetes.executor.podTemplateFile="+other, jobs.VirtualClusterSettings{}); !errors.As(err, &uerr) ||
		!strings.Contains(uerr.Message, "sets serviceAccountName \"sparkplane-team-b-0123456789\"") || !strings.Contains(uerr.Message, other) {
		t.Errorf("executor template with another service account: %v, want a UserError naming it", err)
	}
	priv := write("priv.yaml", "  containers:\n  - name: spark-kubernetes-executor\n    securityContext:\n      privileged: true\n")
	if err := plan("spark.kubernetes.executor.podTemplateFile="+priv, jobs.VirtualClusterSettings{}); !errors.As(err, &uerr) ||
		!strings.Contains(uerr.Message, "spec.containers[0].securityContext.privileged") {
		t.Errorf("privileged executor template: %v, want a UserError naming the field", err)
	}
	if err := plan("spark.kubernetes.executor.podTemplateFile="+priv, jobs.VirtualClusterSettings{PodPolicy: jobs.PodPolicy{AllowPrivileged: true}}); err != nil {
		t.Errorf("privileged executor template where the policy allows it: %v", err)
	}
}
