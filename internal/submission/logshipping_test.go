package submission

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/podpolicy"
	"github.com/sparkplane/sparkplane/internal/release"
)

func shippingPlanner(t *testing.T) (*Planner, string) {
	t.Helper()
	dir := t.TempDir()
	return &Planner{Releases: release.Default(), Templates: &Templates{AllowedDirs: []string{dir}},
		LogShipping: LogShipping{Enabled: true, Image: "registry.example/sparkplane:1.2.3", ImagePullPolicy: corev1.PullIfNotPresent,
			Entrypoints: []string{"/opt/entrypoint.sh", "/usr/bin/entrypoint.sh"}, Endpoint: "http://minio.example:9000", PathStyle: true,
			Resources: DefaultLogShippingResources()}}, dir
}

func withLogURI(run jobs.JobRun, uri string, rot *jobs.ContainerLogRotationConfiguration) jobs.JobRun {
	if run.ConfigurationOverrides == nil {
		run.ConfigurationOverrides = &jobs.ConfigurationOverrides{}
	}
	run.ConfigurationOverrides.MonitoringConfiguration = &jobs.MonitoringConfiguration{
		S3MonitoringConfiguration: &jobs.S3MonitoringConfiguration{LogURI: uri}, ContainerLogRotationConfiguration: rot}
	return run
}

var shipVC = jobs.VirtualCluster{ID: "vc1", ContainerProvider: jobs.ContainerProvider{ID: "c", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "ns"}}}}

func shipRun(params string) jobs.JobRun {
	run := jarRun("--class org.example.Main " + params)
	run.ID, run.VirtualClusterID = "job1", "vc1"
	return run
}

// TestPlanShipsLogs plans a run with a logUri: the driver pod and the executor template both
// get the install container, the shipper sidecar (a native sidecar writing to EMR's key
// layout) and the wrapped Spark container; everything else is what spark-submit builds.
func TestPlanShipsLogs(t *testing.T) {
	p, _ := shippingPlanner(t)
	run := withLogURI(shipRun(""), "s3://team-logs/emr/", &jobs.ContainerLogRotationConfiguration{RotationSize: "2KB", MaxFilesToKeep: 3})
	plan, err := p.Plan(t.Context(), run, shipVC, jobs.VirtualClusterSettings{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, spec corev1.PodSpec, sparkName string, wantArgs []string) {
		t.Helper()
		if len(spec.InitContainers) < 2 || spec.InitContainers[0].Name != LogInstallContainer || spec.InitContainers[1].Name != LogShipperContainer {
			t.Fatalf("%s init containers = %v, want the install container and the shipper first", what, names(spec.InitContainers))
		}
		install, shipper := spec.InitContainers[0], spec.InitContainers[1]
		if install.RestartPolicy != nil || !reflect.DeepEqual(install.Args, []string{"log-wrap", "--install", "/opt/sparkplane/bin/sparkplane"}) {
			t.Errorf("%s install container = %+v", what, install)
		}
		if shipper.RestartPolicy == nil || *shipper.RestartPolicy != corev1.ContainerRestartPolicyAlways {
			t.Errorf("%s shipper is not a native sidecar (restartPolicy Always): %v", what, shipper.RestartPolicy)
		}
		wantDest := "s3://team-logs/emr/vc1/jobs/job1/containers/$(SPARK_APPLICATION_ID)/$(POD_NAME)"
		if !reflect.DeepEqual(shipper.Args, []string{"log-shipper", "--dir", "/opt/sparkplane/logs", "--dest", wantDest}) {
			t.Errorf("%s shipper args = %q, want the destination %s", what, shipper.Args, wantDest)
		}
		env := map[string]corev1.EnvVar{}
		for _, e := range shipper.Env {
			env[e.Name] = e
		}
		if f := env["SPARK_APPLICATION_ID"].ValueFrom; f == nil || f.FieldRef.FieldPath != "metadata.labels['spark-app-selector']" {
			t.Errorf("%s SPARK_APPLICATION_ID = %+v, want the spark-app-selector label", what, env["SPARK_APPLICATION_ID"])
		}
		if f := env["POD_NAME"].ValueFrom; f == nil || f.FieldRef.FieldPath != "metadata.name" {
			t.Errorf("%s POD_NAME = %+v", what, env["POD_NAME"])
		}
		if env["AWS_ENDPOINT_URL_S3"].Value != "http://minio.example:9000" || env["SPARKPLANE_S3_PATH_STYLE"].Value != "true" {
			t.Errorf("%s endpoint env = %+v", what, env)
		}
		if _, ok := env["AWS_ACCESS_KEY_ID"]; ok {
			t.Errorf("%s: the sidecar got static credentials without credentialsSecret; it must use the pod's (IRSA)", what)
		}
		i := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == sparkName })
		if i < 0 {
			t.Fatalf("%s has no container %s", what, sparkName)
		}
		c := spec.Containers[i]
		wantCmd := []string{"/opt/sparkplane/bin/sparkplane", "log-wrap", "--dir", "/opt/sparkplane/logs", "--rotation-size", "2KB", "--max-files", "3",
			"--entrypoint", "/opt/entrypoint.sh,/usr/bin/entrypoint.sh", "--"}
		if !reflect.DeepEqual(c.Command, wantCmd) {
			t.Errorf("%s command = %q, want %q", what, c.Command, wantCmd)
		}
		if wantArgs != nil && !reflect.DeepEqual(c.Args[:len(wantArgs)], wantArgs) {
			t.Errorf("%s args = %q, want them to start %q", what, c.Args, wantArgs)
		}
		for _, ctr := range []corev1.Container{install, shipper, c} {
			if !slices.ContainsFunc(ctr.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == LogVolume && m.MountPath == LogMountPath }) {
				t.Errorf("%s container %s does not mount %s", what, ctr.Name, LogVolume)
			}
		}
		if !slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == LogVolume && v.EmptyDir != nil }) {
			t.Errorf("%s has no emptyDir %s", what, LogVolume)
		}
		if v := podpolicy.CheckPod(jobs.PodPolicy{}, &spec); len(v) > 0 {
			t.Errorf("%s with log shipping breaks the strictest pod policy: %v", what, v)
		}
	}
	check("driver pod", plan.Objects.DriverPod.Spec, "spark-kubernetes-driver", []string{"driver", "--properties-file"})
	if plan.Objects.ExecutorTemplate == nil {
		t.Fatal("no executor pod template ConfigMap: the executors' logs would not be shipped")
	}
	var tmpl corev1.Pod
	if err := yaml.Unmarshal([]byte(firstValue(plan.Objects.ExecutorTemplate.Data)), &tmpl); err != nil {
		t.Fatal(err)
	}
	check("executor template", tmpl.Spec, "spark-kubernetes-executor", nil)

	// Without a logUri, or with shipping off, the objects are spark-submit's.
	plain, err := p.Plan(t.Context(), shipRun(""), shipVC, jobs.VirtualClusterSettings{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	off := *p
	off.LogShipping.Enabled = false
	notShipped, err := off.Plan(t.Context(), run, shipVC, jobs.VirtualClusterSettings{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	old := *p
	old.LogShipping.Unsupported = map[string]string{"c": "Kubernetes v1.28.5 has no native sidecar containers (1.29 and later have)"}
	oldCluster, err := old.Plan(t.Context(), run, shipVC, jobs.VirtualClusterSettings{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for what, tc := range map[string]struct {
		pl   *controller.Plan
		note string
	}{
		"no logUri":      {plain, ""},
		"shipping off":   {notShipped, "not shipped to the logUri: log shipping is disabled on this server"},
		"old Kubernetes": {oldCluster, "not shipped to the logUri: Kubernetes v1.28.5 has no native sidecar containers"},
	} {
		pl := tc.pl
		if len(pl.Objects.DriverPod.Spec.InitContainers) != 0 || pl.Objects.ExecutorTemplate != nil || pl.Objects.DriverPod.Spec.Containers[0].Command != nil {
			t.Errorf("%s: the driver objects were changed: %+v", what, pl.Objects.DriverPod.Spec)
		}
		if tc.note == "" && pl.LogsNote != "" || !strings.Contains(pl.LogsNote, tc.note) {
			t.Errorf("%s: logs note %q, want %q", what, pl.LogsNote, tc.note)
		}
	}
	if want := "driver and executor logs go to s3://team-logs/emr/vc1/jobs/job1/containers/"; plan.LogsNote != want {
		t.Errorf("logs note %q, want %q", plan.LogsNote, want)
	}
}

// TestPlanShipsLogsWithTemplates keeps what the job's templates say (their init containers
// after sparkplane's, their own command wrapped) and refuses a template that takes one of log
// shipping's names.
func TestPlanShipsLogsWithTemplates(t *testing.T) {
	p, dir := shippingPlanner(t)
	write := func(name, spec string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("apiVersion: v1\nkind: Pod\nspec:\n"+spec), 0o644); err != nil {
			t.Fatal(err)
		}
		return "file://" + path
	}
	exec := write("exec.yaml", "  initContainers:\n  - name: warm-cache\n    image: busybox\n  containers:\n  - name: side\n    image: busybox\n  - name: spark\n    command: [\"/custom/start\"]\n")
	run := withLogURI(shipRun("--conf spark.kubernetes.executor.podTemplateFile="+exec+" --conf spark.kubernetes.executor.podTemplateContainerName=spark"), "s3://logs", nil)
	plan, err := p.Plan(t.Context(), run, shipVC, jobs.VirtualClusterSettings{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl corev1.Pod
	if err := yaml.Unmarshal([]byte(firstValue(plan.Objects.ExecutorTemplate.Data)), &tmpl); err != nil {
		t.Fatal(err)
	}
	if got := names(tmpl.Spec.InitContainers); !reflect.DeepEqual(got, []string{LogInstallContainer, LogShipperContainer, "warm-cache"}) {
		t.Errorf("executor init containers = %v", got)
	}
	spark := tmpl.Spec.Containers[1]
	want := []string{"/opt/sparkplane/bin/sparkplane", "log-wrap", "--dir", "/opt/sparkplane/logs", "--rotation-size", "64MB", "--max-files", "10", "--", "/custom/start"}
	if !reflect.DeepEqual(spark.Command, want) {
		t.Errorf("the named Spark container's command = %q, want the template's wrapped: %q", spark.Command, want)
	}
	if tmpl.Spec.Containers[0].Command != nil {
		t.Errorf("the other container was wrapped: %q", tmpl.Spec.Containers[0].Command)
	}

	clash := write("clash.yaml", "  volumes:\n  - name: sparkplane-logs\n    emptyDir: {}\n")
	run = withLogURI(shipRun("--conf spark.kubernetes.executor.podTemplateFile="+clash), "s3://logs", nil)
	var uerr *controller.UserError
	if _, err := p.Plan(t.Context(), run, shipVC, jobs.VirtualClusterSettings{}, 1); !errors.As(err, &uerr) ||
		!strings.Contains(uerr.Message, `volume name "sparkplane-logs"`) {
		t.Errorf("template taking the log volume's name: %v, want a UserError naming it", err)
	}
}

func names(cs []corev1.Container) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func firstValue(m map[string]string) string {
	for _, v := range m {
		return v
	}
	return ""
}
