package spark

import (
	"fmt"
	"strings"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// basicDriverStep is BasicDriverFeatureStep: pod name, labels, annotations, restart policy,
// node selector, pull secrets, scheduler, the Spark container's image, env, ports and
// resources, and the properties it adds.
func (b *builder) basicDriverStep() error {
	c := b.c
	image := c.get("spark.kubernetes.driver.container.image", c.get("spark.kubernetes.container.image", ""))
	if image == "" {
		return &ConfError{Key: "spark.kubernetes.container.image", Rule: "must name the driver image"}
	}
	if err := b.driverLabels(); err != nil {
		return err
	}
	pod := b.pod
	pod.Name = b.podName
	pod.Labels = mergeStrings(pod.Labels, b.labels)
	// Spark 3.3 added the {{APP_ID}} substitution in driver annotations, the driver-only node
	// selector and the driver scheduler name; older drivers take the settings verbatim or not at
	// all, as their spark-submit did.
	annotations := c.withPrefix("spark.kubernetes.driver.annotation.")
	if b.v.atLeast(3, 3, 0) {
		annotations = b.substituteAppID(annotations, false)
	}
	pod.Annotations = mergeStrings(pod.Annotations, annotations)
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	pod.Spec.NodeSelector = mergeStrings(pod.Spec.NodeSelector, c.withPrefix("spark.kubernetes.node.selector."))
	if b.v.atLeast(3, 3, 0) {
		pod.Spec.NodeSelector = mergeStrings(pod.Spec.NodeSelector, c.withPrefix("spark.kubernetes.driver.node.selector."))
	}
	for _, s := range splitList(c.get("spark.kubernetes.container.image.pullSecrets", "")) {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	if s := c.get("spark.kubernetes.driver.scheduler.name", c.get("spark.kubernetes.scheduler.name", "")); s != "" && b.v.atLeast(3, 3, 0) {
		pod.Spec.SchedulerName = s
	}

	ctr := b.ctr
	if ctr.Name == "" {
		ctr.Name = DriverContainerName
	}
	ctr.Image = image
	ctr.ImagePullPolicy = corev1.PullPolicy(c.get("spark.kubernetes.container.image.pullPolicy", "IfNotPresent"))
	user := b.job.SparkUser
	if user == "" {
		user = DefaultSparkUser
	}
	ctr.Env = append(ctr.Env,
		corev1.EnvVar{Name: "SPARK_USER", Value: user},
		corev1.EnvVar{Name: "SPARK_APPLICATION_ID", Value: b.id.appID})
	env := c.withPrefix("spark.kubernetes.driverEnv.")
	for _, k := range sortedKeys(env) {
		ctr.Env = append(ctr.Env, corev1.EnvVar{Name: k, Value: env[k]})
	}
	ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "SPARK_DRIVER_BIND_ADDRESS", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}})
	if err := b.driverPorts(); err != nil {
		return err
	}
	if err := b.driverResources(); err != nil {
		return err
	}
	b.props["spark.kubernetes.submitInDriver"] = "true"
	return nil
}

// driverLabels are the user's driver labels with the preset labels, which a user may not
// reuse. Spark 3.3 added spark-version and spark-app-name to the two presets older versions
// set (spark-app-selector, spark-role); before 3.3 those two names are ordinary user labels.
// Spark 4.0 substitutes {{APP_ID}} in label values.
func (b *builder) driverLabels() error {
	user := b.c.withPrefix("spark.kubernetes.driver.label.")
	if b.v.atLeast(4, 0, 0) {
		user = b.substituteAppID(user, false)
	}
	preset := map[string]string{
		wellknown.LabelSparkAppSelector: b.id.appID,
		wellknown.LabelSparkRole:        wellknown.SparkRoleDriver,
	}
	if b.v.atLeast(3, 3, 0) {
		preset[wellknown.LabelSparkVersion] = b.job.SparkVersion
		preset[wellknown.LabelSparkAppName] = appNameLabel(b.appName)
	}
	for _, k := range sortedKeys(user) {
		if _, isPreset := preset[k]; isPreset || (sparkPresetLabel(k) && k != wellknown.LabelSparkVersion && k != wellknown.LabelSparkAppName) {
			return &ConfError{Key: "spark.kubernetes.driver.label." + k, Rule: fmt.Sprintf("label %q is reserved by Spark", k)}
		}
		if err := checkLabel("spark.kubernetes.driver.label."+k, k, user[k]); err != nil {
			return &ConfError{Key: "spark.kubernetes.driver.label." + k, Rule: err.(*JobError).Rule}
		}
	}
	b.labels = mergeStrings(user, preset)
	return nil
}

func (b *builder) substituteAppID(m map[string]string, keepEmpty bool) map[string]string {
	for k, v := range m {
		v = strings.ReplaceAll(v, "{{APP_ID}}", b.id.appID)
		m[k] = strings.ReplaceAll(v, "{{EXECUTOR_ID}}", "")
	}
	if len(m) == 0 && !keepEmpty {
		return nil
	}
	return m
}

type namedPort struct {
	name        string
	port        int
	appProtocol string
}

// servicePorts are the driver ports in Spark's order; blockManagerFallback says whether the
// blockmanager port falls back to spark.blockManager.port (the container does from 3.1.2 on,
// SPARK-35493; the Service never does).
func (b *builder) servicePorts(blockManagerFallback bool) ([]namedPort, error) {
	c := b.c
	drv, err := c.int("spark.driver.port", defaultDriverPort)
	if err != nil {
		return nil, err
	}
	bmDefault := defaultBlockMgrPort
	if blockManagerFallback && b.v.atLeast(3, 1, 2) {
		if bmDefault, err = c.int("spark.blockManager.port", defaultBlockMgrPort); err != nil {
			return nil, err
		}
	}
	bm, err := c.int("spark.driver.blockManager.port", bmDefault)
	if err != nil {
		return nil, err
	}
	ui, err := c.int("spark.ui.port", defaultUIPort)
	if err != nil {
		return nil, err
	}
	ports := []namedPort{{"driver-rpc-port", drv, ""}, {"blockmanager", bm, ""}, {"spark-ui", ui, ""}}
	if b.v.atLeast(4, 1, 0) {
		cp, err := c.int("spark.connect.grpc.binding.port", defaultConnectPort)
		if err != nil {
			return nil, err
		}
		ports = append(ports, namedPort{"spark-connect", cp, "grpc"})
	}
	return ports, nil
}

func (b *builder) driverPorts() error {
	ports, err := b.servicePorts(true)
	if err != nil {
		return err
	}
	for _, p := range ports {
		b.ctr.Ports = append(b.ctr.Ports, corev1.ContainerPort{Name: p.name, ContainerPort: int32(p.port), Protocol: corev1.ProtocolTCP})
	}
	return nil
}

// driverResources sets cpu and memory the way BasicDriverFeatureStep does, including the
// memory overhead rules (factor 0.1, or 0.4 for Python and R; at least 384 MiB).
func (b *builder) driverResources() error {
	c := b.c
	cpu := c.get("spark.kubernetes.driver.request.cores", "")
	cpuKey := "spark.kubernetes.driver.request.cores"
	if cpu == "" {
		n, err := c.int("spark.driver.cores", 1)
		if err != nil {
			return err
		}
		if n < 1 {
			return &ConfError{Key: "spark.driver.cores", Rule: "must be 1 or more"}
		}
		cpu, cpuKey = fmt.Sprint(n), "spark.driver.cores"
	}
	cpuQ, err := resource.ParseQuantity(cpu)
	if err != nil {
		return &ConfError{Key: cpuKey, Rule: fmt.Sprintf("%q is not a CPU quantity", cpu)}
	}
	memMiB, err := b.driverMemoryMiB()
	if err != nil {
		return err
	}
	memQ := resource.MustParse(fmt.Sprintf("%dMi", memMiB))
	r := &b.ctr.Resources
	if r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	if r.Limits == nil {
		r.Limits = corev1.ResourceList{}
	}
	r.Requests[corev1.ResourceCPU] = cpuQ
	r.Requests[corev1.ResourceMemory] = memQ
	r.Limits[corev1.ResourceMemory] = memQ
	if l := c.get("spark.kubernetes.driver.limit.cores", ""); l != "" {
		q, err := resource.ParseQuantity(l)
		if err != nil {
			return &ConfError{Key: "spark.kubernetes.driver.limit.cores", Rule: fmt.Sprintf("%q is not a CPU quantity", l)}
		}
		r.Limits[corev1.ResourceCPU] = q
	}
	return b.customResources()
}

func (b *builder) driverMemoryMiB() (int64, error) {
	c := b.c
	mem, err := c.mebibytes("spark.driver.memory", 1024)
	if err != nil {
		return 0, err
	}
	nonJVM := b.job.Driver.Kind == DriverPython || b.job.Driver.Kind == DriverR
	def, set, err := c.float("spark.kubernetes.memoryOverheadFactor")
	if err != nil {
		return 0, err
	}
	if !set {
		def = 0.1
		if nonJVM {
			def = 0.4
		}
	}
	// Before 3.3 the factor had to stay below 1, and spark.driver.memoryOverheadFactor did
	// not exist (SPARK-38194 added it), so the Kubernetes-wide factor is the driver's.
	if set && def >= 1 && !b.v.atLeast(3, 3, 0) {
		return 0, &ConfError{Key: "spark.kubernetes.memoryOverheadFactor", Rule: fmt.Sprintf("%s must be below 1.0 before Spark 3.3", javaDouble(def))}
	}
	factor := def
	if b.v.atLeast(3, 3, 0) {
		f, set, err := c.float("spark.driver.memoryOverheadFactor")
		if err != nil {
			return 0, err
		}
		if set {
			factor = f
		}
	}
	b.props["spark.kubernetes.memoryOverheadFactor"] = javaDouble(def)
	var overhead int64
	if c.has("spark.driver.memoryOverhead") {
		if overhead, err = c.mebibytes("spark.driver.memoryOverhead", 0); err != nil {
			return 0, err
		}
	} else {
		minOverhead := int64(defaultMinOverheadMiB)
		if b.v.atLeast(4, 0, 0) {
			if minOverhead, err = c.mebibytes("spark.driver.minMemoryOverhead", defaultMinOverheadMiB); err != nil {
				return 0, err
			}
		}
		overhead = max(int64(factor*float64(mem)), minOverhead)
	}
	if mem <= 0 {
		return 0, &ConfError{Key: "spark.driver.memory", Rule: "must be at least 1m"}
	}
	return mem + overhead, nil
}

// customResources adds spark.driver.resource.<name>.amount as a "<vendor>/<name>" limit
// (KubernetesUtils.buildResourcesQuantities).
func (b *builder) customResources() error {
	res := b.c.withPrefix("spark.driver.resource.")
	for _, k := range sortedKeys(res) {
		name, ok := strings.CutSuffix(k, ".amount")
		if !ok {
			continue
		}
		vendor := res[name+".vendor"]
		if vendor == "" {
			return &ConfError{Key: "spark.driver.resource." + name + ".vendor", Rule: "must be set when spark.driver.resource." + name + ".amount is (e.g. nvidia.com)"}
		}
		q, err := resource.ParseQuantity(res[k])
		if err != nil {
			return &ConfError{Key: "spark.driver.resource." + k, Rule: fmt.Sprintf("%q is not a quantity", res[k])}
		}
		b.ctr.Resources.Limits[corev1.ResourceName(vendor+"/"+name)] = q
	}
	return nil
}

// driverCommandStep is DriverCommandFeatureStep: the entrypoint's "driver" arguments, the
// resource type and, for Python, the interpreter env.
func (b *builder) driverCommandStep() error {
	d := b.job.Driver
	mainClass, resourceType, primary := d.MainClass, "java", d.EntryPoint
	args := d.Args
	switch d.Kind {
	case DriverPython:
		mainClass, resourceType = PythonRunnerClass, "python"
	case DriverR:
		mainClass, resourceType = RRunnerClass, "r"
	case DriverSQL:
		mainClass, primary = SQLCLIDriverClass, "spark-internal"
		args = append(append([]string{}, d.Args...), "-f", d.EntryPoint)
	}
	ctr := b.ctr
	ctr.Args = append(ctr.Args, "driver")
	if b.job.ProxyUser != "" {
		ctr.Args = append(ctr.Args, "--proxy-user", b.job.ProxyUser)
	}
	ctr.Args = append(ctr.Args, "--properties-file", sparkConfDir+"/"+sparkPropertiesFile, "--class", mainClass, primary)
	ctr.Args = append(ctr.Args, args...)
	b.props["spark.kubernetes.resource.type"] = resourceType
	if d.Kind == DriverPython {
		py := b.c.get("spark.pyspark.python", "")
		drv := b.c.get("spark.pyspark.driver.python", py)
		if py != "" {
			ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "PYSPARK_PYTHON", Value: py})
		}
		if drv != "" {
			ctr.Env = append(ctr.Env, corev1.EnvVar{Name: "PYSPARK_DRIVER_PYTHON", Value: drv})
		}
	}
	return nil
}

// driverServiceStep is DriverServiceFeatureStep: the headless Service and the driver address
// properties.
func (b *builder) driverServiceStep() error {
	ports, err := b.servicePorts(false)
	if err != nil {
		return err
	}
	svc := &corev1.Service{}
	svc.APIVersion, svc.Kind = "v1", "Service"
	svc.Name = b.svcName
	svc.OwnerReferences = b.ownerRefs()
	// Spark 3.2 labelled the Service with the app id; 3.1 left it without labels.
	if b.v.atLeast(3, 2, 0) {
		svc.Labels = map[string]string{wellknown.LabelSparkAppSelector: b.id.appID}
	}
	if b.v.atLeast(3, 4, 0) {
		svc.Labels = mergeStrings(b.c.withPrefix("spark.kubernetes.driver.service.label."), svc.Labels)
	}
	if a := b.c.withPrefix("spark.kubernetes.driver.service.annotation."); len(a) > 0 {
		svc.Annotations = a
	}
	svc.Spec.ClusterIP = corev1.ClusterIPNone
	if b.v.atLeast(3, 4, 0) {
		p := corev1.IPFamilyPolicy(b.c.get("spark.kubernetes.driver.service.ipFamilyPolicy", "SingleStack"))
		svc.Spec.IPFamilyPolicy = &p
		for _, f := range splitList(b.c.get("spark.kubernetes.driver.service.ipFamilies", "IPv4")) {
			svc.Spec.IPFamilies = append(svc.Spec.IPFamilies, corev1.IPFamily(f))
		}
	}
	svc.Spec.Selector = mergeStrings(nil, b.labels)
	for _, p := range ports {
		sp := corev1.ServicePort{Name: p.name, Port: int32(p.port), TargetPort: intstr.FromInt32(int32(p.port))}
		if p.appProtocol != "" {
			sp.AppProtocol = ptr(p.appProtocol)
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	b.objs.Service = svc
	b.props["spark.driver.host"] = fmt.Sprintf("%s.%s.svc", b.svcName, b.job.Namespace)
	b.props["spark.driver.port"] = fmt.Sprint(ports[0].port)
	b.props["spark.driver.blockManager.port"] = fmt.Sprint(ports[1].port)
	return nil
}

// mountSecretsStep is MountSecretsFeatureStep: spark.kubernetes.driver.secrets.<name>=<path>.
func (b *builder) mountSecretsStep() error {
	secrets := b.c.withPrefix("spark.kubernetes.driver.secrets.")
	for _, name := range sortedKeys(secrets) {
		vol := name + "-volume"
		b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: vol,
			VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}})
		b.ctr.VolumeMounts = append(b.ctr.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: secrets[name]})
	}
	return nil
}

// envSecretsStep is EnvSecretsFeatureStep: spark.kubernetes.driver.secretKeyRef.<ENV>=<secret>:<key>.
func (b *builder) envSecretsStep() error {
	refs := b.c.withPrefix("spark.kubernetes.driver.secretKeyRef.")
	for _, env := range sortedKeys(refs) {
		name, key, ok := strings.Cut(refs[env], ":")
		if !ok || name == "" || key == "" {
			return &ConfError{Key: "spark.kubernetes.driver.secretKeyRef." + env, Rule: fmt.Sprintf("%q must be <secret name>:<key>", refs[env])}
		}
		b.ctr.Env = append(b.ctr.Env, corev1.EnvVar{Name: env, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}}})
	}
	return nil
}

// hadoopConfStep is HadoopConfDriverFeatureStep for an existing ConfigMap
// (spark.kubernetes.hadoop.configMapName); a submitter's HADOOP_CONF_DIR does not exist here.
func (b *builder) hadoopConfStep() error {
	cm := b.c.get("spark.kubernetes.hadoop.configMapName", "")
	if cm == "" {
		return nil
	}
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: hadoopConfVolume,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}})
	b.ctr.VolumeMounts = append(b.ctr.VolumeMounts, corev1.VolumeMount{Name: hadoopConfVolume, MountPath: hadoopConfDir})
	b.ctr.Env = append(b.ctr.Env, corev1.EnvVar{Name: "HADOOP_CONF_DIR", Value: hadoopConfDir})
	if b.v.atLeast(3, 5, 0) {
		b.props["spark.kubernetes.executor.hadoopConfigMapName"] = cm
	}
	return nil
}

// localDirsStep is LocalDirsFeatureStep: scratch space for shuffle and spills.
func (b *builder) localDirsStep() error {
	var dirs []string
	for _, m := range b.ctr.VolumeMounts {
		if strings.HasPrefix(m.Name, localDirVolumePrefix) {
			dirs = append(dirs, m.MountPath)
		}
	}
	if len(dirs) == 0 {
		dirs = splitList(b.c.get("spark.local.dir", ""))
		if len(dirs) == 0 {
			dirs = []string{"/var/data/" + b.id.localDir}
		}
		tmpfs, err := b.c.bool("spark.kubernetes.local.dirs.tmpfs", false)
		if err != nil {
			return err
		}
		for i, d := range dirs {
			name := fmt.Sprintf("%s%d", localDirVolumePrefix, i+1)
			ed := &corev1.EmptyDirVolumeSource{}
			if tmpfs {
				ed.Medium = corev1.StorageMediumMemory
			}
			b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: ed}})
			b.ctr.VolumeMounts = append(b.ctr.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: d})
		}
	}
	b.ctr.Env = append(b.ctr.Env, corev1.EnvVar{Name: "SPARK_LOCAL_DIRS", Value: strings.Join(dirs, ",")})
	return nil
}

// mergeStrings returns base with over's entries on top; nil when both are empty.
func mergeStrings(base, over map[string]string) map[string]string {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// driverCredentialsStep is DriverKubernetesCredentialsFeatureStep without uploaded credentials
// (CheckUserConf and Build refuse those): it sets the driver's service account.
func (b *builder) driverCredentialsStep() error {
	if sa := b.c.get("spark.kubernetes.authenticate.driver.serviceAccountName", ""); sa != "" {
		b.pod.Spec.ServiceAccountName = sa
		b.pod.Spec.DeprecatedServiceAccount = sa
	}
	return nil
}
