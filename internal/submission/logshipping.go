package submission

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/logship"
	"github.com/sparkplane/sparkplane/internal/spark"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// The names and paths log shipping adds to a job's pods (docs/design/logs.md).
const (
	// LogVolume is the emptyDir the Spark container's output and the wrapper binary share.
	LogVolume = "sparkplane-logs"
	// LogMountPath is where LogVolume is mounted in every container that uses it.
	LogMountPath = "/opt/sparkplane"
	// LogInstallContainer copies sparkplane's binary into LogVolume before anything runs.
	LogInstallContainer = "sparkplane-log-init"
	// LogShipperContainer is the native sidecar that ships the output to S3.
	LogShipperContainer = wellknown.LogShipperContainer

	logBinary = LogMountPath + "/bin/sparkplane"
	logDir    = LogMountPath + "/logs"
)

// LogShipping is how a server ships the stdout and stderr of the drivers and executors of runs
// with a logUri. The zero value ships nothing.
type LogShipping struct {
	// Enabled turns shipping on.
	Enabled bool
	// Image runs the install container and the sidecar: sparkplane's own image.
	Image           string
	ImagePullPolicy corev1.PullPolicy
	// Entrypoints are the paths the Spark image's entrypoint may have; the wrapper runs the
	// first one present in the container (the Apache images' /opt/entrypoint.sh, EMR's
	// /usr/bin/entrypoint.sh).
	Entrypoints []string
	// Endpoint, Region and PathStyle address the S3 store the sidecar writes to; empty
	// Endpoint is AWS S3.
	Endpoint  string
	Region    string
	PathStyle bool
	// CredentialsSecret, when set, names a Secret in the job's namespace whose
	// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY the sidecar uses; empty means the pod's own
	// credentials, which on EKS are the execution role's (IRSA).
	CredentialsSecret string
	// Resources of the two added containers.
	Resources corev1.ResourceRequirements
	// Unsupported says, by container provider id, why a cluster cannot run the sidecar (a
	// Kubernetes before 1.29 has no native sidecar containers): runs there are not shipped.
	Unsupported map[string]string
}

// note is what the stateDetails of an attempt of run on the container provider say of its
// container logs, and whether they are shipped.
func (l LogShipping) note(run jobs.JobRun, providerID string) (string, bool) {
	uri := run.LogURI()
	switch {
	case uri == "":
		return "", false
	case !l.Enabled:
		return "driver and executor logs are not shipped to the logUri: log shipping is disabled on this server; the Spark event log is written under it", false
	case l.Unsupported[providerID] != "":
		return "driver and executor logs are not shipped to the logUri: " + l.Unsupported[providerID] + "; the Spark event log is written under it", false
	}
	return "driver and executor logs go to " + logship.ContainersURI(uri, run.VirtualClusterID, run.ID) + "/", true
}

// DefaultLogShippingResources are the added containers' resources when none are configured.
func DefaultLogShippingResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
	}
}

// rotation is a run's containerLogRotationConfiguration, or the defaults.
func rotation(run jobs.JobRun) (size string, files int) {
	if o := run.ConfigurationOverrides; o != nil && o.MonitoringConfiguration != nil {
		if r := o.MonitoringConfiguration.ContainerLogRotationConfiguration; r != nil {
			return r.RotationSize, int(r.MaxFilesToKeep)
		}
	}
	return logship.DefaultRotationSize, logship.DefaultMaxFiles
}

// shipLogs adds log shipping to a pod spec: the shared volume, the install container and the
// sidecar first among the init containers, and the wrapper around the Spark container's
// command. spark names the Spark container.
func (l LogShipping) shipLogs(spec *corev1.PodSpec, sparkName string, run jobs.JobRun) error {
	idx := slices.IndexFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == sparkName })
	if idx < 0 {
		return fmt.Errorf("the pod has no container %q to ship the logs of", sparkName)
	}
	for _, name := range []string{LogInstallContainer, LogShipperContainer} {
		if slices.ContainsFunc(spec.InitContainers, func(c corev1.Container) bool { return c.Name == name }) ||
			slices.ContainsFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == name }) {
			return fmt.Errorf("container name %q is sparkplane's log shipping's; rename the template's container", name)
		}
	}
	if slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool { return v.Name == LogVolume }) {
		return fmt.Errorf("volume name %q is sparkplane's log shipping's; rename the template's volume", LogVolume)
	}
	mount := corev1.VolumeMount{Name: LogVolume, MountPath: LogMountPath}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: LogVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})

	always := corev1.ContainerRestartPolicyAlways
	noPrivileges := &corev1.SecurityContext{AllowPrivilegeEscalation: new(bool), ReadOnlyRootFilesystem: ptrTo(true),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	install := corev1.Container{
		Name: LogInstallContainer, Image: l.Image, ImagePullPolicy: l.ImagePullPolicy,
		Args:      []string{"log-wrap", "--install", logBinary},
		Resources: l.Resources, VolumeMounts: []corev1.VolumeMount{mount}, SecurityContext: noPrivileges,
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}
	dest := logship.ContainersURI(run.LogURI(), run.VirtualClusterID, run.ID) + "/$(SPARK_APPLICATION_ID)/$(POD_NAME)"
	env := []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "SPARK_APPLICATION_ID", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			FieldPath: "metadata.labels['" + wellknown.LabelSparkAppSelector + "']"}}},
	}
	if l.Endpoint != "" {
		env = append(env, corev1.EnvVar{Name: "AWS_ENDPOINT_URL_S3", Value: l.Endpoint})
	}
	if l.Region != "" {
		env = append(env, corev1.EnvVar{Name: "AWS_REGION", Value: l.Region})
	}
	if l.PathStyle {
		env = append(env, corev1.EnvVar{Name: "SPARKPLANE_S3_PATH_STYLE", Value: "true"})
	}
	if l.CredentialsSecret != "" {
		for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
			env = append(env, corev1.EnvVar{Name: k, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: l.CredentialsSecret}, Key: k}}})
		}
	}
	shipper := corev1.Container{
		Name: LogShipperContainer, Image: l.Image, ImagePullPolicy: l.ImagePullPolicy, RestartPolicy: &always,
		Args:      []string{"log-shipper", "--dir", logDir, "--dest", dest},
		Env:       env,
		Resources: l.Resources, VolumeMounts: []corev1.VolumeMount{mount}, SecurityContext: noPrivileges,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
	spec.InitContainers = append([]corev1.Container{install, shipper}, spec.InitContainers...)

	size, files := rotation(run)
	c := &spec.Containers[idx]
	wrap := []string{logBinary, "log-wrap", "--dir", logDir, "--rotation-size", size, "--max-files", strconv.Itoa(files)}
	if len(c.Command) == 0 {
		// The image's entrypoint runs with Spark's arguments (driver ..., executor): the
		// wrapper finds it in the container.
		wrap = append(wrap, "--entrypoint", strings.Join(l.Entrypoints, ","), "--")
	} else {
		wrap = append(append(wrap, "--"), c.Command...)
	}
	c.Command = wrap
	c.VolumeMounts = append(c.VolumeMounts, mount)
	return nil
}

// shipDriverLogs adds log shipping to the driver pod spark.Build made.
func (l LogShipping) shipDriverLogs(objs *spark.Objects, run jobs.JobRun) error {
	spec := &objs.DriverPod.Spec
	// The Spark container is the one spark-submit gave the "driver" argument.
	name := ""
	for _, c := range spec.Containers {
		if len(c.Args) > 0 && c.Args[0] == "driver" {
			name = c.Name
		}
	}
	return l.shipLogs(spec, name, run)
}

// shipExecutorLogs adds log shipping to the executor pod template, making one when the job has
// none: Spark keeps a template's init containers, volumes and command and appends "executor"
// to the Spark container's arguments.
func (l LogShipping) shipExecutorLogs(job *spark.Job, run jobs.JobRun) error {
	name := job.Conf["spark.kubernetes.executor.podTemplateContainerName"]
	t := job.ExecutorPodTemplate
	if t == nil {
		t = &corev1.Pod{}
		t.APIVersion, t.Kind = "v1", "Pod"
	} else {
		t = t.DeepCopy()
	}
	if len(t.Spec.Containers) == 0 {
		t.Spec.Containers = []corev1.Container{{Name: executorContainerName}}
	}
	if name == "" || !slices.ContainsFunc(t.Spec.Containers, func(c corev1.Container) bool { return c.Name == name }) {
		// Spark's KubernetesUtils.selectSparkContainer: the named container, else the first.
		name = t.Spec.Containers[0].Name
		if name == "" {
			t.Spec.Containers[0].Name = executorContainerName
			name = executorContainerName
		}
	}
	if err := l.shipLogs(&t.Spec, name, run); err != nil {
		return err
	}
	job.ExecutorPodTemplate = t
	// The template is serialized again from the changed object.
	job.ExecutorPodTemplateText = ""
	return nil
}

// executorContainerName is the container name Spark gives executors when no template names one.
const executorContainerName = "spark-kubernetes-executor"

func ptrTo[T any](v T) *T { return &v }
