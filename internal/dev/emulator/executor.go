package emulator

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExecutorContainerName is the executor's container name when no template names one.
const ExecutorContainerName = "spark-kubernetes-executor"

// ExecutorPrefix returns the name prefix of a driver's executors:
// spark.kubernetes.executor.podNamePrefix, else the driver pod's name without "-driver".
// Spark itself draws a fresh random prefix when the conf is unset; the emulator derives one
// from the driver so that a restarted emulator finds the executors it created.
func ExecutorPrefix(driver *corev1.Pod, conf Conf) string {
	if p, ok := conf.firstSet("spark.kubernetes.executor.podNamePrefix"); ok {
		return p
	}
	return strings.TrimSuffix(driver.Name, "-driver")
}

var nonLabelChars = regexp.MustCompile(`[^a-z0-9\-]`)
var dashes = regexp.MustCompile(`-+`)

// appNameLabel is Spark's spark-app-name label value: lowercased, non-[a-z0-9-] to '-',
// runs of '-' collapsed, cut to 63 characters, leading and trailing '-' removed.
func appNameLabel(name string) string {
	s := dashes.ReplaceAllString(nonLabelChars.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-")
}

// BuildExecutor returns executor pod number id (from 1) of a driver, as Spark's
// BasicExecutorFeatureStep builds it on top of the executor pod template (nil for none).
func BuildExecutor(driver *corev1.Pod, conf Conf, template *corev1.Pod, id int) (*corev1.Pod, error) {
	appID, ok := conf.firstSet("spark.app.id")
	if !ok {
		appID = driver.Labels[wellknown.LabelSparkAppSelector]
	}
	if appID == "" {
		return nil, fmt.Errorf("spark.app.id: not set, and the driver has no %s label", wellknown.LabelSparkAppSelector)
	}
	image, ok := conf.firstSet("spark.kubernetes.executor.container.image", "spark.kubernetes.container.image")
	if !ok {
		return nil, fmt.Errorf("spark.kubernetes.container.image: must be set")
	}
	memMiB, err := conf.ExecutorMemoryMiB()
	if err != nil {
		return nil, err
	}
	cores := conf.get("spark.executor.cores", "1")
	if n, err := strconv.Atoi(cores); err != nil || n < 1 {
		return nil, fmt.Errorf("spark.executor.cores=%q: must be a whole number >= 1", cores)
	}
	cpuReq := conf.get("spark.kubernetes.executor.request.cores", cores)
	cpu, err := resource.ParseQuantity(cpuReq)
	if err != nil {
		return nil, fmt.Errorf("spark.kubernetes.executor.request.cores=%q: must be a Kubernetes cpu quantity", cpuReq)
	}
	mem := resource.MustParse(strconv.FormatInt(memMiB, 10) + "Mi")

	pod := &corev1.Pod{}
	if template != nil {
		pod = template.DeepCopy()
	}
	pod.TypeMeta = metav1.TypeMeta{}
	name := fmt.Sprintf("%s-exec-%d", ExecutorPrefix(driver, conf), id)
	pod.ObjectMeta = metav1.ObjectMeta{
		Name:            name,
		Namespace:       driver.Namespace,
		Labels:          pod.Labels,
		Annotations:     pod.Annotations,
		OwnerReferences: pod.OwnerReferences,
	}

	// Labels and annotations: the template's, then the user's, then Spark's own, each winning.
	labels := map[string]string{}
	maps.Copy(labels, pod.Labels)
	maps.Copy(labels, conf.prefixed("spark.kubernetes.executor.label."))
	maps.Copy(labels, map[string]string{
		wellknown.LabelSparkRole:            wellknown.SparkRoleExecutor,
		wellknown.LabelSparkAppSelector:     appID,
		wellknown.LabelSparkExecID:          strconv.Itoa(id),
		wellknown.LabelSparkResourceProfile: "0",
	})
	// Spark 3.3 (SPARK-36566) added spark-app-name to executors, together with spark-version
	// on the driver: a driver without that label is an older Spark, whose executors lack it.
	if _, since33 := driver.Labels[wellknown.LabelSparkVersion]; since33 {
		labels[wellknown.LabelSparkAppName] = appNameLabel(conf.get("spark.app.name", "spark"))
	}
	pod.Labels = labels
	annotations := map[string]string{}
	maps.Copy(annotations, pod.Annotations)
	maps.Copy(annotations, conf.prefixed("spark.kubernetes.executor.annotation."))
	if len(annotations) > 0 {
		pod.Annotations = annotations
	} else {
		pod.Annotations = nil
	}
	controller := true
	pod.OwnerReferences = append(pod.OwnerReferences, metav1.OwnerReference{
		APIVersion: "v1", Kind: "Pod", Name: driver.Name, UID: driver.UID, Controller: &controller,
	})

	spec := &pod.Spec
	spec.RestartPolicy = corev1.RestartPolicyNever
	spec.Hostname = truncate(name, 63)
	selectors := map[string]string{}
	maps.Copy(selectors, spec.NodeSelector)
	maps.Copy(selectors, conf.prefixed("spark.kubernetes.node.selector."))
	maps.Copy(selectors, conf.prefixed("spark.kubernetes.executor.node.selector."))
	if len(selectors) > 0 {
		spec.NodeSelector = selectors
	}
	if sa, ok := conf.firstSet("spark.kubernetes.authenticate.executor.serviceAccountName"); ok {
		spec.ServiceAccountName = sa
	}
	if s, ok := conf.firstSet("spark.kubernetes.executor.scheduler.name", "spark.kubernetes.scheduler.name"); ok {
		spec.SchedulerName = s
	}
	if secrets, ok := conf.firstSet("spark.kubernetes.container.image.pullSecrets"); ok {
		for _, s := range strings.Split(secrets, ",") {
			if s = strings.TrimSpace(s); s != "" {
				spec.ImagePullSecrets = append(spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
			}
		}
	}

	// The spark container: the template's container of the configured name, else its first,
	// else an empty one; Spark puts it last among the containers.
	var c corev1.Container
	want := conf.get("spark.kubernetes.executor.podTemplateContainerName", ExecutorContainerName)
	idx := -1
	for i := range spec.Containers {
		if spec.Containers[i].Name == want {
			idx = i
			break
		}
	}
	if idx < 0 && len(spec.Containers) > 0 {
		idx = 0
	}
	if idx >= 0 {
		c = spec.Containers[idx]
		spec.Containers = append(spec.Containers[:idx:idx], spec.Containers[idx+1:]...)
	}
	if c.Name == "" {
		c.Name = ExecutorContainerName
	}
	c.Image = image
	c.ImagePullPolicy = corev1.PullPolicy(conf.get("spark.kubernetes.container.image.pullPolicy", string(corev1.PullIfNotPresent)))
	c.Args = append(c.Args, "executor")
	driverURL := fmt.Sprintf("spark://CoarseGrainedScheduler@%s:%s",
		conf.get("spark.driver.host", driver.Status.PodIP), conf.get("spark.driver.port", "7078"))
	env := []corev1.EnvVar{
		{Name: "SPARK_USER", Value: conf.get("spark.kubernetes.executor.sparkUser", "spark")},
		{Name: "SPARK_DRIVER_URL", Value: driverURL},
		{Name: "SPARK_EXECUTOR_CORES", Value: cores},
		{Name: "SPARK_EXECUTOR_MEMORY", Value: conf.get("spark.executor.memory", "1g")},
		{Name: "SPARK_APPLICATION_ID", Value: appID},
		{Name: "SPARK_CONF_DIR", Value: "/opt/spark/conf"},
		{Name: "SPARK_EXECUTOR_ID", Value: strconv.Itoa(id)},
		{Name: "SPARK_RESOURCE_PROFILE_ID", Value: "0"},
		{Name: "SPARK_EXECUTOR_POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
		{Name: "SPARK_EXECUTOR_POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
	}
	for _, k := range sortedKeys(conf.prefixed("spark.executorEnv.")) {
		env = append(env, corev1.EnvVar{Name: k, Value: conf["spark.executorEnv."+k]})
	}
	c.Env = append(c.Env, env...)
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	c.Resources.Requests[corev1.ResourceCPU] = cpu
	c.Resources.Requests[corev1.ResourceMemory] = mem
	c.Resources.Limits[corev1.ResourceMemory] = mem
	if lim, ok := conf.firstSet("spark.kubernetes.executor.limit.cores"); ok {
		q, err := resource.ParseQuantity(lim)
		if err != nil {
			return nil, fmt.Errorf("spark.kubernetes.executor.limit.cores=%q: must be a Kubernetes cpu quantity", lim)
		}
		c.Resources.Limits[corev1.ResourceCPU] = q
	}
	spec.Containers = append(spec.Containers, c)
	return pod, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return strings.TrimRight(s[:n], "-.")
	}
	return s
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
