package spark

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// OwnedObject is an object Build creates besides the driver pod: a Kubernetes object with
// metadata (the same method set as controller-runtime's client.Object).
type OwnedObject interface {
	metav1.Object
	runtime.Object
}

// Paths and names inside the driver pod that the stock image and Spark agree on.
const (
	sparkConfDir          = "/opt/spark/conf"
	sparkPropertiesFile   = "spark.properties"
	sparkConfVolume       = "spark-conf-volume-driver"
	podTemplateVolume     = "pod-template-volume"
	podTemplateMountPath  = "/opt/spark/pod-template"
	podTemplateFileName   = "pod-spec-template.yml"
	podTemplateKey        = "podspec-configmap-key"
	executorTemplatePath  = podTemplateMountPath + "/" + podTemplateFileName
	hadoopConfVolume      = "hadoop-properties"
	hadoopConfDir         = "/opt/hadoop/conf"
	localDirVolumePrefix  = "spark-local-dir-"
	defaultDriverPort     = 7078
	defaultBlockMgrPort   = 7079
	defaultUIPort         = 4040
	defaultConnectPort    = 15002
	defaultMinOverheadMiB = 384
)

// builder carries one Build through Spark's feature steps. Each step edits pod (the pod
// without the Spark container), ctr (the Spark container) and props (the system properties
// that become spark.properties), and may add objects.
type builder struct {
	job     Job
	v       version
	c       conf // the configuration the steps read (user conf plus forced keys)
	props   map[string]string
	id      identity
	appName string
	prefix  string
	podName string
	svcName string
	cmName  string
	labels  map[string]string // driver pod labels, also the Service selector
	pod     *corev1.Pod
	ctr     *corev1.Container
	owner   metav1.OwnerReference
	objs    *Objects
}

// Build returns the objects spark-submit would create for job. It fails with a *JobError or
// *ConfError (both errors.Is ErrInvalid) on input Spark would refuse or sparkplane cannot
// honour, naming the field or key and the rule.
func Build(job Job) (*Objects, error) {
	b, err := newBuilder(job)
	if err != nil {
		return nil, err
	}
	steps := []func() error{
		b.basicDriverStep,
		b.driverCredentialsStep,
		b.driverServiceStep,
		b.mountSecretsStep,
		b.envSecretsStep,
		b.mountVolumesStep,
		b.driverCommandStep,
		b.hadoopConfStep,
		b.podTemplateConfigMapStep,
		b.localDirsStep,
		b.networkPolicyStep,
		b.attachConfMap, // Client.run
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	b.pod.Spec.Containers = append(b.pod.Spec.Containers, *b.ctr)
	b.objs.DriverPod = b.pod
	return b.objs, nil
}

func newBuilder(job Job) (*builder, error) {
	v, err := parseVersion(job.SparkVersion)
	if err != nil {
		return nil, err
	}
	if err := validateJob(job); err != nil {
		return nil, err
	}
	b := &builder{job: job, v: v, id: deriveIdentity(job.JobRunID, job.Attempt)}
	b.c = conf{}
	for k, val := range job.Conf {
		b.c[k] = val
	}
	if err := b.resolveConf(); err != nil {
		return nil, err
	}
	b.prefix = resourceNamePrefix(b.appName, b.id.uniqueID, v)
	b.podName = job.DriverPodName
	if b.podName == "" {
		b.podName = b.prefix + "-driver"
	}
	b.svcName = driverServiceName(b.prefix, b.id.uniqueID)
	b.cmName = configMapNameDriver(b.id.uniqueID)
	b.owner = metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: b.podName, Controller: ptr(true)}
	b.objs = &Objects{Namespace: job.Namespace, AppID: b.id.appID, ResourcePrefix: b.prefix, SparkVersion: v.String()}
	b.c["spark.kubernetes.driver.pod.name"] = b.podName
	b.c["spark.app.id"] = b.id.appID
	b.props = map[string]string{}
	for k, val := range b.c {
		b.props[k] = val
	}
	if err := b.initialPod(); err != nil {
		return nil, err
	}
	return b, nil
}

func validateJob(job Job) error {
	if errs := validation.IsDNS1123Label(job.Namespace); len(errs) > 0 {
		return &JobError{Field: "Namespace", Rule: fmt.Sprintf("%q must be a Kubernetes namespace name: %s", job.Namespace, strings.Join(errs, "; "))}
	}
	if job.JobRunID == "" {
		return &JobError{Field: "JobRunID", Rule: "must not be empty: it seeds every generated name"}
	}
	if job.Attempt < 1 {
		return &JobError{Field: "Attempt", Rule: fmt.Sprintf("%d must be 1 or more", job.Attempt)}
	}
	if job.DriverPodName != "" {
		if errs := validation.IsDNS1123Subdomain(job.DriverPodName); len(errs) > 0 {
			return &JobError{Field: "DriverPodName", Rule: fmt.Sprintf("%q must be a Kubernetes object name: %s", job.DriverPodName, strings.Join(errs, "; "))}
		}
	}
	d := job.Driver
	switch d.Kind {
	case DriverJVM, DriverPython, DriverR, DriverSQL:
	default:
		return &JobError{Field: "Driver.Kind", Rule: fmt.Sprintf("%q must be one of jvm, python, r, sql", d.Kind)}
	}
	if d.EntryPoint == "" {
		return &JobError{Field: "entryPoint", Rule: "must not be empty"}
	}
	if err := checkFetchable("entryPoint", d.EntryPoint); err != nil {
		return err
	}
	if d.Kind == DriverJVM && d.MainClass == "" {
		return &JobError{Field: "sparkSubmitParameters", Rule: "--class is required for a JAR entry point"}
	}
	return nil
}

// checkFetchable refuses paths on the submitting machine: spark-submit uploads those through
// spark.kubernetes.file.upload.path, and the sparkplane server has no files of the user's.
func checkFetchable(field, uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return &JobError{Field: field, Rule: fmt.Sprintf("%q is not a URI: %v", uri, err)}
	}
	if u.Scheme == "" || u.Scheme == "file" {
		return &JobError{Field: field, Rule: fmt.Sprintf("%q is a path on the submitting machine; use a URI the driver can fetch (local:// for files in the image, s3a://, s3://, https://)", uri)}
	}
	return nil
}

// resolveConf applies what SparkSubmit.prepareSubmitEnvironment does to the configuration
// and sets the keys the service forces.
func (b *builder) resolveConf() error {
	job := b.job
	b.appName = job.AppName
	if b.appName == "" {
		b.appName = b.c.get("spark.app.name", "")
	}
	if b.appName == "" {
		b.appName = defaultAppName(job.Driver)
	}
	master := job.Master
	if master == "" {
		master = DefaultMaster
	}
	if !strings.HasPrefix(master, "k8s://") {
		return &JobError{Field: "Master", Rule: fmt.Sprintf("%q must start with k8s://", master)}
	}
	if img := b.c.get("spark.kubernetes.container.image", ""); img == "" {
		if job.Image == "" {
			return &JobError{Field: "Image", Rule: "the release has no image and spark.kubernetes.container.image is not set"}
		}
		b.c["spark.kubernetes.container.image"] = job.Image
	}
	if _, ok := b.c["spark.driver.bindAddress"]; ok {
		return &ConfError{Key: "spark.driver.bindAddress", Rule: "is set by the driver pod's entrypoint and must not be set"}
	}
	delete(b.c, "spark.driver.host") // SparkSubmit drops it in cluster mode
	if err := b.checkUnsupported(); err != nil {
		return err
	}
	for _, key := range []string{"spark.jars", "spark.files", "spark.archives", "spark.submit.pyFiles"} {
		for _, uri := range splitList(b.c.get(key, "")) {
			if err := checkFetchable(key, strings.SplitN(uri, "#", 2)[0]); err != nil {
				return &ConfError{Key: key, Rule: err.(*JobError).Rule}
			}
		}
	}
	if err := b.templateConf(); err != nil {
		return err
	}

	b.c["spark.master"] = master
	b.c["spark.submit.deployMode"] = "cluster"
	b.c["spark.app.name"] = b.appName
	b.c["spark.kubernetes.namespace"] = job.Namespace
	// SparkSubmit records the submit time from 3.3.0 on (SPARK-37863); older drivers never
	// see the key, so writing it would put a setting in spark.properties their spark-submit
	// never wrote.
	if !job.SubmitTime.IsZero() && b.v.atLeast(3, 3, 0) {
		b.c["spark.app.submitTime"] = strconv.FormatInt(job.SubmitTime.UnixMilli(), 10)
	}
	if job.ServiceAccount != "" {
		b.c["spark.kubernetes.authenticate.driver.serviceAccountName"] = job.ServiceAccount
	} else {
		delete(b.c, "spark.kubernetes.authenticate.driver.serviceAccountName")
	}
	if job.Driver.Kind == DriverJVM {
		jars := splitList(b.c.get("spark.jars", ""))
		b.c["spark.jars"] = strings.Join(append(jars, job.Driver.EntryPoint), ",")
	}
	b.c["spark.submit.pyFiles"] = strings.Join(splitList(b.c.get("spark.submit.pyFiles", "")), ",")
	return b.addSparkplaneLabels()
}

// templateConf checks that the pod templates the configuration names were handed over, and
// drops the driver template's path: it names a file the driver pod does not have.
func (b *builder) templateConf() error {
	if _, ok := b.c["spark.kubernetes.driver.podTemplateFile"]; ok && b.job.DriverPodTemplate == nil {
		return &JobError{Field: "DriverPodTemplate", Rule: "spark.kubernetes.driver.podTemplateFile is set but the template was not fetched and passed in"}
	}
	if _, ok := b.c["spark.kubernetes.executor.podTemplateFile"]; ok && b.job.ExecutorPodTemplate == nil && b.job.ExecutorPodTemplateText == "" {
		return &JobError{Field: "ExecutorPodTemplate", Rule: "spark.kubernetes.executor.podTemplateFile is set but the template was not fetched and passed in"}
	}
	delete(b.c, "spark.kubernetes.driver.podTemplateFile")
	return nil
}

// checkUnsupported refuses settings that need state on a submitting machine.
func (b *builder) checkUnsupported() error {
	for k := range b.c {
		if reason, ok := unsupportedConf(k); ok {
			return &ConfError{Key: k, Rule: reason}
		}
	}
	return nil
}

func defaultAppName(d Driver) string {
	switch d.Kind {
	case DriverPython, DriverR:
		ep := d.EntryPoint
		if i := strings.LastIndex(ep, "/"); i >= 0 {
			ep = ep[i+1:]
		}
		return ep
	case DriverSQL:
		return SQLCLIDriverClass
	}
	return d.MainClass
}

// addSparkplaneLabels puts the EMR and sparkplane labels on the driver and the executors the
// way a user would with Spark: through spark.kubernetes.{driver,executor}.label.* .
func (b *builder) addSparkplaneLabels() error {
	l := map[string]string{}
	for k, v := range b.job.Labels {
		l[k] = v
	}
	l[wellknown.LabelJobID] = b.job.JobRunID
	if b.job.VirtualClusterID != "" {
		l[wellknown.LabelVirtualClusterID] = b.job.VirtualClusterID
	}
	l[wellknown.LabelManagedBy] = wellknown.ManagedBy
	l[wellknown.LabelAttempt] = strconv.Itoa(b.job.Attempt)
	for _, k := range sortedKeys(l) {
		if err := checkLabel("Labels", k, l[k]); err != nil {
			return err
		}
		b.c["spark.kubernetes.driver.label."+k] = l[k]
		b.c["spark.kubernetes.executor.label."+k] = l[k]
	}
	return nil
}

func checkLabel(field, k, v string) error {
	if errs := validation.IsQualifiedName(k); len(errs) > 0 {
		return &JobError{Field: field, Rule: fmt.Sprintf("label key %q: %s", k, strings.Join(errs, "; "))}
	}
	if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
		return &JobError{Field: field, Rule: fmt.Sprintf("label %q value %q: %s", k, v, strings.Join(errs, "; "))}
	}
	return nil
}

// initialPod is SparkPod.initialPod or the driver pod template with its Spark container
// taken out (KubernetesUtils.selectSparkContainer).
func (b *builder) initialPod() error {
	b.pod = &corev1.Pod{}
	b.ctr = &corev1.Container{}
	if t := b.job.DriverPodTemplate; t != nil {
		b.pod = t.DeepCopy()
		b.pod.Status = corev1.PodStatus{}
		b.pod.Namespace = ""
		cs := b.pod.Spec.Containers
		idx := -1
		if name, ok := b.c["spark.kubernetes.driver.podTemplateContainerName"]; ok {
			for i := range cs {
				if cs[i].Name == name {
					idx = i
					break
				}
			}
		}
		if idx < 0 && len(cs) > 0 {
			idx = 0
		}
		if idx >= 0 {
			c := cs[idx]
			b.ctr = &c
			b.pod.Spec.Containers = append(append([]corev1.Container{}, cs[:idx]...), cs[idx+1:]...)
		}
		if len(b.pod.Spec.Containers) == 0 {
			b.pod.Spec.Containers = nil
		}
	}
	b.pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	return nil
}

func ptr[T any](v T) *T { return &v }
