package spark

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func minimalJob(ver string) Job {
	return Job{
		SparkVersion: ver, Image: "apache/spark:" + ver, Namespace: "team-a", AppName: "sparkpi",
		JobRunID: "0000000abcdefghijkl", Attempt: 1, VirtualClusterID: "vc1",
		Driver: Driver{Kind: DriverJVM, EntryPoint: "local:///opt/spark/examples/jars/spark-examples.jar",
			MainClass: "org.apache.spark.examples.SparkPi", Args: []string{"100"}},
		Conf: map[string]string{},
	}
}

func mustBuild(t *testing.T, j Job) *Objects {
	t.Helper()
	o, err := Build(j)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return o
}

func props(t *testing.T, o *Objects) map[string]string {
	t.Helper()
	return ReadProperties(o.ConfigMap.Data["spark.properties"])
}

func TestBuildDeterministic(t *testing.T) {
	j := minimalJob("3.5.3")
	a, b := mustBuild(t, j), mustBuild(t, j)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two builds of the same job differ")
	}
	j.Attempt = 2
	c := mustBuild(t, j)
	if c.DriverPod.Name == a.DriverPod.Name || c.AppID == a.AppID || c.ConfigMap.Name == a.ConfigMap.Name {
		t.Errorf("attempt 2 reuses attempt 1's names: %s %s", c.DriverPod.Name, c.AppID)
	}
	if !reAppID.MatchString(a.AppID) || len(a.AppID) != 38 {
		t.Errorf("app id %q is not spark-<32 hex>", a.AppID)
	}
	if !regexpFull(`sparkpi-[0-9a-f]{16}`, a.ResourcePrefix) {
		t.Errorf("prefix %q is not <appName>-<16 hex>", a.ResourcePrefix)
	}
}

func regexpFull(re, s string) bool {
	return reFull(re).MatchString(s)
}

func TestBuildDriverPod(t *testing.T) {
	j := minimalJob("3.5.3")
	j.ServiceAccount = "emr-role-sa"
	j.Labels = map[string]string{"team": "data"}
	j.ProxyUser = "alice"
	j.Conf = map[string]string{
		"spark.kubernetes.driver.label.tier":           "gold",
		"spark.kubernetes.driver.annotation.note":      "app {{APP_ID}}",
		"spark.kubernetes.container.image.pullSecrets": "regcred, other",
		"spark.kubernetes.driver.node.selector.pool":   "drivers",
		"spark.kubernetes.node.selector.zone":          "a",
		"spark.kubernetes.scheduler.name":              "volcano",
		"spark.kubernetes.driver.limit.cores":          "2",
		"spark.driver.resource.gpu.amount":             "1",
		"spark.driver.resource.gpu.vendor":             "nvidia.com",
		"spark.kubernetes.driver.container.image":      "my/driver:1",
		"spark.kubernetes.container.image.pullPolicy":  "Always",
		"spark.kubernetes.local.dirs.tmpfs":            "true",
		"spark.driver.host":                            "ignored.example.com",
	}
	o := mustBuild(t, j)
	pod := o.DriverPod
	want := map[string]string{
		"spark-app-selector": o.AppID, "spark-role": "driver", "spark-app-name": "sparkpi", "spark-version": "3.5.3",
		"tier": "gold",
		"team": "data", wellknown.LabelJobID: j.JobRunID, wellknown.LabelVirtualClusterID: "vc1", wellknown.LabelManagedBy: "sparkplane", wellknown.LabelAttempt: "1",
	}
	if !reflect.DeepEqual(pod.Labels, want) {
		t.Errorf("labels = %v, want %v", pod.Labels, want)
	}
	if !reflect.DeepEqual(o.Service.Spec.Selector, want) {
		t.Errorf("service selector = %v", o.Service.Spec.Selector)
	}
	if pod.Annotations["note"] != "app "+o.AppID {
		t.Errorf("annotation = %q", pod.Annotations["note"])
	}
	if pod.Spec.ServiceAccountName != "emr-role-sa" || pod.Spec.SchedulerName != "volcano" {
		t.Errorf("sa/scheduler = %q/%q", pod.Spec.ServiceAccountName, pod.Spec.SchedulerName)
	}
	if !reflect.DeepEqual(pod.Spec.NodeSelector, map[string]string{"pool": "drivers", "zone": "a"}) {
		t.Errorf("nodeSelector = %v", pod.Spec.NodeSelector)
	}
	if len(pod.Spec.ImagePullSecrets) != 2 || pod.Spec.ImagePullSecrets[1].Name != "other" {
		t.Errorf("pull secrets = %v", pod.Spec.ImagePullSecrets)
	}
	c := pod.Spec.Containers[0]
	if c.Image != "my/driver:1" || c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("image = %s %s", c.Image, c.ImagePullPolicy)
	}
	wantArgs := []string{"driver", "--proxy-user", "alice", "--properties-file", "/opt/spark/conf/spark.properties",
		"--class", "org.apache.spark.examples.SparkPi", "local:///opt/spark/examples/jars/spark-examples.jar", "100"}
	if !reflect.DeepEqual(c.Args, wantArgs) {
		t.Errorf("args = %q", c.Args)
	}
	if q := c.Resources.Limits["nvidia.com/gpu"]; q.String() != "1" {
		t.Errorf("gpu limit = %v", c.Resources.Limits)
	}
	if q := c.Resources.Limits[corev1.ResourceCPU]; q.String() != "2" {
		t.Errorf("cpu limit = %v", q.String())
	}
	var local *corev1.Volume
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == "spark-local-dir-1" {
			local = &pod.Spec.Volumes[i]
		}
	}
	if local == nil || local.EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Errorf("tmpfs local dir missing: %+v", local)
	}
	p := props(t, o)
	for k, v := range map[string]string{
		"spark.kubernetes.executor.label." + wellknown.LabelJobID:          j.JobRunID,
		"spark.kubernetes.executor.label.team":                             "data",
		"spark.kubernetes.driver.label." + wellknown.LabelVirtualClusterID: "vc1",
		"spark.kubernetes.namespace":                                       "team-a",
		"spark.kubernetes.authenticate.driver.serviceAccountName":          "emr-role-sa",
		"spark.driver.host":                                                o.Service.Name + ".team-a.svc",
		"spark.master":                                                     DefaultMaster,
		"spark.jars":                                                       "local:///opt/spark/examples/jars/spark-examples.jar",
		"spark.kubernetes.driver.pod.name":                                 pod.Name,
		"spark.kubernetes.container.image":                                 "apache/spark:3.5.3",
		"spark.app.id":                                                     o.AppID,
	} {
		if p[k] != v {
			t.Errorf("spark.properties %s = %q, want %q", k, p[k], v)
		}
	}
	if _, ok := p["spark.app.submitTime"]; ok {
		t.Error("zero SubmitTime should leave spark.app.submitTime out")
	}
}

func TestBuildAppIDPlaceholder(t *testing.T) {
	for _, tt := range []struct {
		ver     string
		wantErr bool
	}{{"4.0.4", false}, {"3.5.3", true}} {
		j := minimalJob(tt.ver)
		j.Conf["spark.kubernetes.driver.label.app"] = "{{APP_ID}}"
		o, err := Build(j)
		if tt.wantErr {
			// Before 4.0 Spark puts the placeholder in the label verbatim, which Kubernetes refuses.
			if err == nil || !strings.Contains(err.Error(), "spark.kubernetes.driver.label.app") {
				t.Errorf("%s: error = %v", tt.ver, err)
			}
			continue
		}
		if err != nil || o.DriverPod.Labels["app"] != o.AppID {
			t.Errorf("%s: label = %q, err %v", tt.ver, o.DriverPod.Labels["app"], err)
		}
	}
}

func TestBuildMemory(t *testing.T) {
	tests := []struct {
		name string
		ver  string
		kind DriverKind
		conf map[string]string
		want string
	}{
		{"jvm default", "3.5.3", DriverJVM, nil, "1408Mi"},
		{"python factor 0.4", "3.5.3", DriverPython, nil, "1433Mi"},
		{"r factor 0.4", "4.0.4", DriverR, nil, "1433Mi"},
		{"sql is jvm", "4.0.4", DriverSQL, nil, "1408Mi"},
		{"4g jvm", "3.5.3", DriverJVM, map[string]string{"spark.driver.memory": "4g"}, "4505Mi"},
		{"plain number is MiB", "3.5.3", DriverJVM, map[string]string{"spark.driver.memory": "2048"}, "2432Mi"},
		{"explicit overhead", "3.5.3", DriverJVM, map[string]string{"spark.driver.memoryOverhead": "1g"}, "2048Mi"},
		{"driver factor", "3.5.3", DriverJVM, map[string]string{"spark.driver.memory": "10g", "spark.driver.memoryOverheadFactor": "0.2"}, "12288Mi"},
		{"k8s factor python", "3.5.3", DriverPython, map[string]string{"spark.kubernetes.memoryOverheadFactor": "0.5", "spark.driver.memory": "2g"}, "3072Mi"},
		{"min overhead 4.0", "4.0.4", DriverJVM, map[string]string{"spark.driver.minMemoryOverhead": "500m"}, "1524Mi"},
		{"min overhead ignored before 4.0", "3.5.3", DriverJVM, map[string]string{"spark.driver.minMemoryOverhead": "500m"}, "1408Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := minimalJob(tt.ver)
			j.Driver.Kind = tt.kind
			j.Driver.EntryPoint = map[DriverKind]string{DriverJVM: j.Driver.EntryPoint, DriverPython: "s3://b/pi.py", DriverR: "s3://b/x.R", DriverSQL: "s3://b/q.sql"}[tt.kind]
			for k, v := range tt.conf {
				j.Conf[k] = v
			}
			o := mustBuild(t, j)
			r := o.DriverPod.Spec.Containers[0].Resources
			// Quantities compare by value: resource.Quantity writes 2048Mi as 2Gi, which is the
			// same amount (and the form the API server stores either way).
			want := resource.MustParse(tt.want)
			if r.Requests.Memory().Cmp(want) != 0 || r.Limits.Memory().Cmp(want) != 0 {
				t.Errorf("memory = %s / %s, want %s", r.Requests.Memory(), r.Limits.Memory(), tt.want)
			}
		})
	}
}

func TestBuildDriverKinds(t *testing.T) {
	j := minimalJob("4.0.4")
	j.Driver = Driver{Kind: DriverSQL, EntryPoint: "s3://bucket/q.sql", Args: []string{"--hivevar", "d=1"}}
	o := mustBuild(t, j)
	want := []string{"driver", "--properties-file", "/opt/spark/conf/spark.properties", "--class", SQLCLIDriverClass, "spark-internal", "--hivevar", "d=1", "-f", "s3://bucket/q.sql"}
	if got := o.DriverPod.Spec.Containers[0].Args; !reflect.DeepEqual(got, want) {
		t.Errorf("sql args = %q", got)
	}
	p := props(t, o)
	if _, ok := p["spark.jars"]; !ok || p["spark.jars"] != "" {
		// spark-internal is not a jar; spark.jars holds only --jars (none here).
		if p["spark.jars"] != "" {
			t.Errorf("sql spark.jars = %q", p["spark.jars"])
		}
	}
	if p["spark.kubernetes.resource.type"] != "java" {
		t.Errorf("resource.type = %q", p["spark.kubernetes.resource.type"])
	}

	j.Driver = DriverFor("s3://bucket/job.py", "", []string{"a b"})
	j.AppName = ""
	j.Conf = map[string]string{"spark.pyspark.driver.python": "python3.11", "spark.submit.pyFiles": "s3://b/dep.zip"}
	o = mustBuild(t, j)
	c := o.DriverPod.Spec.Containers[0]
	if c.Args[4] != PythonRunnerClass || c.Args[5] != "s3://bucket/job.py" || c.Args[6] != "a b" {
		t.Errorf("python args = %q", c.Args)
	}
	if o.DriverPod.Labels[wellknown.LabelSparkAppName] != "job-py" {
		t.Errorf("default app name label = %q, want job-py (from the file name)", o.DriverPod.Labels[wellknown.LabelSparkAppName])
	}
	var names []string
	for _, e := range c.Env {
		names = append(names, e.Name)
	}
	if strings.Contains(strings.Join(names, ","), "PYSPARK_PYTHON,") || !strings.Contains(strings.Join(names, ","), "PYSPARK_DRIVER_PYTHON") {
		t.Errorf("python env = %v (PYSPARK_PYTHON unset, driver python set)", names)
	}
	if p := props(t, o); p["spark.submit.pyFiles"] != "s3://b/dep.zip" || p["spark.kubernetes.resource.type"] != "python" {
		t.Errorf("python props = %v", p)
	}
	if DriverFor("s3://b/x.R", "", nil).Kind != DriverR || DriverFor("s3://b/x.jar", "C", nil).Kind != DriverJVM {
		t.Error("DriverFor misclassifies")
	}
}

// TestBuildRulesPerLine builds the same job for one release of every supported Spark line
// and checks the bits that differ between lines. Each column names the Spark change behind it
// (see doc.go for where each rule was read).
func TestBuildRulesPerLine(t *testing.T) {
	conf := map[string]string{
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.mount.path":           "/data",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.claimName":    "OnDemand",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.storageClass": "gp3",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.data.options.sizeLimit":    "10Gi",
		"spark.kubernetes.driver.annotation.app":                                          "{{APP_ID}}",
		"spark.kubernetes.driver.node.selector.pool":                                      "drivers",
		"spark.kubernetes.node.selector.zone":                                             "a",
		"spark.kubernetes.scheduler.name":                                                 "volcano",
		"spark.kubernetes.hadoop.configMapName":                                           "hadoop",
		"spark.driver.memoryOverheadFactor":                                               "0.5",
		"spark.driver.minMemoryOverhead":                                                  "600m",
	}
	tests := []struct {
		ver string
		// 3.2: ConfigMaps immutable, Service and on-demand PVC labelled with the app id,
		// resource names keep '_' as '-' instead of dropping it.
		immutable, svcLabel, pvcLabel bool
		prefix                        string
		// 3.3: spark-version and spark-app-name labels, namespace in the spark.properties
		// ConfigMap, spark.app.submitTime, driver scheduler name and node selector,
		// {{APP_ID}} in annotations, spark.driver.memoryOverheadFactor.
		v33Labels, cmNamespace, submitTime, scheduler, driverSelector, annotationAppID bool
		memory                                                                         string
		// 3.4: Service IP families; 3.4.3/3.5.1: ReadWriteOncePod; 3.5: executor Hadoop
		// ConfigMap name; 4.1: Spark Connect port; 4.2: NetworkPolicy.
		ipFamily    bool
		accessMode  corev1.PersistentVolumeAccessMode
		hadoopExec  bool
		connectPort bool
		netpol      bool
	}{
		{"3.1.2", false, false, false, "myapp-v2-", false, false, false, false, false, false, "1408Mi", false, corev1.ReadWriteOnce, false, false, false},
		{"3.2.1", true, true, true, "my-app-v2-", false, false, false, false, false, false, "1408Mi", false, corev1.ReadWriteOnce, false, false, false},
		{"3.3.0", true, true, true, "my-app-v2-", true, true, true, true, true, true, "1536Mi", false, corev1.ReadWriteOnce, false, false, false},
		{"3.4.4", true, true, true, "my-app-v2-", true, true, true, true, true, true, "1536Mi", true, corev1.ReadWriteOncePod, false, false, false},
		{"3.5.6", true, true, true, "my-app-v2-", true, true, true, true, true, true, "1536Mi", true, corev1.ReadWriteOncePod, true, false, false},
		{"4.0.4", true, true, true, "my-app-v2-", true, true, true, true, true, true, "1624Mi", true, corev1.ReadWriteOncePod, true, false, false},
		{"4.1.0", true, true, true, "my-app-v2-", true, true, true, true, true, true, "1624Mi", true, corev1.ReadWriteOncePod, true, true, false},
		{"4.2.0", true, true, true, "my-app-v2-", true, true, true, true, true, true, "1624Mi", true, corev1.ReadWriteOncePod, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.ver, func(t *testing.T) {
			j := minimalJob(tt.ver)
			j.AppName = "My_App.v2"
			j.SubmitTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
			for k, v := range conf {
				j.Conf[k] = v
			}
			o := mustBuild(t, j)
			pod := o.DriverPod
			if o.SparkVersion != tt.ver {
				t.Errorf("Objects.SparkVersion = %q, want %q", o.SparkVersion, tt.ver)
			}
			if !strings.HasPrefix(o.ResourcePrefix, tt.prefix) || !strings.HasPrefix(pod.Name, tt.prefix) {
				t.Errorf("prefix = %q, pod %q, want %s<16 hex>", o.ResourcePrefix, pod.Name, tt.prefix)
			}
			if got := o.ConfigMap.Immutable != nil && *o.ConfigMap.Immutable; got != tt.immutable {
				t.Errorf("spark.properties ConfigMap immutable = %v", o.ConfigMap.Immutable)
			}
			if got := o.Service.Labels[wellknown.LabelSparkAppSelector] == o.AppID; got != tt.svcLabel {
				t.Errorf("Service labels = %v", o.Service.Labels)
			}
			if len(o.PVCs) != 1 {
				t.Fatalf("PVCs = %+v", o.PVCs)
			}
			if got := o.PVCs[0].Labels[wellknown.LabelSparkAppSelector] == o.AppID; got != tt.pvcLabel {
				t.Errorf("PVC labels = %v", o.PVCs[0].Labels)
			}
			if o.PVCs[0].Spec.AccessModes[0] != tt.accessMode {
				t.Errorf("PVC access mode = %v, want %v", o.PVCs[0].Spec.AccessModes, tt.accessMode)
			}
			_, hasVersion := pod.Labels[wellknown.LabelSparkVersion]
			_, hasName := pod.Labels[wellknown.LabelSparkAppName]
			if hasVersion != tt.v33Labels || hasName != tt.v33Labels {
				t.Errorf("driver labels = %v, want spark-version/spark-app-name %v", pod.Labels, tt.v33Labels)
			}
			if tt.v33Labels && (pod.Labels[wellknown.LabelSparkVersion] != tt.ver || pod.Labels[wellknown.LabelSparkAppName] != "my-app-v2") {
				t.Errorf("driver labels = %v", pod.Labels)
			}
			if !reflect.DeepEqual(o.Service.Spec.Selector, pod.Labels) {
				t.Errorf("Service selector %v is not the driver labels %v", o.Service.Spec.Selector, pod.Labels)
			}
			_, nsKey := o.ConfigMap.Data["spark.kubernetes.namespace"]
			if got := nsKey && o.ConfigMap.Namespace == "team-a"; got != tt.cmNamespace || nsKey != tt.cmNamespace {
				t.Errorf("ConfigMap namespace %q, data key %v, want %v", o.ConfigMap.Namespace, nsKey, tt.cmNamespace)
			}
			p := props(t, o)
			if _, got := p["spark.app.submitTime"]; got != tt.submitTime {
				t.Errorf("spark.app.submitTime written = %v", got)
			}
			if got := pod.Spec.SchedulerName == "volcano"; got != tt.scheduler {
				t.Errorf("schedulerName = %q", pod.Spec.SchedulerName)
			}
			wantSel := map[string]string{"zone": "a"}
			if tt.driverSelector {
				wantSel["pool"] = "drivers"
			}
			if !reflect.DeepEqual(pod.Spec.NodeSelector, wantSel) {
				t.Errorf("nodeSelector = %v, want %v", pod.Spec.NodeSelector, wantSel)
			}
			wantAnn := "{{APP_ID}}"
			if tt.annotationAppID {
				wantAnn = o.AppID
			}
			if pod.Annotations["app"] != wantAnn {
				t.Errorf("annotation = %q, want %q", pod.Annotations["app"], wantAnn)
			}
			ctr := pod.Spec.Containers[0]
			if q := resource.MustParse(tt.memory); ctr.Resources.Limits.Memory().Cmp(q) != 0 {
				t.Errorf("memory = %s, want %s", ctr.Resources.Limits.Memory(), tt.memory)
			}
			if got := o.Service.Spec.IPFamilyPolicy != nil; got != tt.ipFamily {
				t.Errorf("ipFamilyPolicy set = %v", got)
			}
			if _, got := p["spark.kubernetes.executor.hadoopConfigMapName"]; got != tt.hadoopExec {
				t.Errorf("executor hadoop ConfigMap name written = %v", got)
			}
			if got := ctr.Ports[len(ctr.Ports)-1].Name == "spark-connect"; got != tt.connectPort {
				t.Errorf("connect port = %v", got)
			}
			if got := o.NetworkPolicy != nil; got != tt.netpol {
				t.Errorf("network policy = %v", got)
			}
		})
	}
}

// TestBuildExecutorTemplatePerLine checks the executor pod-template ConfigMap, whose name,
// key, volume and mount path are the same in every line; only Immutable arrived in 3.2.
func TestBuildExecutorTemplatePerLine(t *testing.T) {
	tmpl := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x"}}}}
	for _, tt := range []struct {
		ver       string
		immutable bool
	}{{"3.1.2", false}, {"3.2.1", true}, {"3.3.0", true}, {"4.2.0", true}} {
		j := minimalJob(tt.ver)
		j.ExecutorPodTemplate = tmpl
		j.Conf["spark.kubernetes.executor.podTemplateFile"] = "s3://b/exec.yaml"
		o := mustBuild(t, j)
		cm := o.ExecutorTemplate
		if cm == nil || cm.Name != o.ResourcePrefix+"-driver-podspec-conf-map" || cm.Data[podTemplateKey] == "" {
			t.Fatalf("%s: executor template ConfigMap = %+v", tt.ver, cm)
		}
		if got := cm.Immutable != nil && *cm.Immutable; got != tt.immutable {
			t.Errorf("%s: template ConfigMap immutable = %v, want %v", tt.ver, got, tt.immutable)
		}
		if got := o.ConfigMap.Immutable != nil && *o.ConfigMap.Immutable; got != tt.immutable {
			t.Errorf("%s: spark.properties ConfigMap immutable = %v, want %v", tt.ver, got, tt.immutable)
		}
		var mounted bool
		for _, m := range o.DriverPod.Spec.Containers[0].VolumeMounts {
			mounted = mounted || (m.Name == podTemplateVolume && m.MountPath == "/opt/spark/pod-template")
		}
		if !mounted || props(t, o)["spark.kubernetes.executor.podTemplateFile"] != "/opt/spark/pod-template/pod-spec-template.yml" {
			t.Errorf("%s: template not mounted where the driver reads it", tt.ver)
		}
	}
}

// TestBuildPatchRules pins rules that changed within a release line.
func TestBuildPatchRules(t *testing.T) {
	tests := []struct {
		name string
		ver  string
		conf map[string]string
		// blockManager is the driver container's blockmanager port; the Service only follows
		// spark.driver.blockManager.port.
		blockManager int32
		wantErr      string
	}{
		// SPARK-35493 (3.1.2): the driver container falls back to spark.blockManager.port.
		{"3.1.1 ignores spark.blockManager.port", "3.1.1", map[string]string{"spark.blockManager.port": "9000"}, 7079, ""},
		{"3.1.2 falls back to spark.blockManager.port", "3.1.2", map[string]string{"spark.blockManager.port": "9000"}, 9000, ""},
		{"3.2.1 falls back to spark.blockManager.port", "3.2.1", map[string]string{"spark.blockManager.port": "9000"}, 9000, ""},
		{"driver port wins", "3.1.1", map[string]string{"spark.blockManager.port": "9000", "spark.driver.blockManager.port": "9100"}, 9100, ""},
		// Before 3.3 spark.kubernetes.memoryOverheadFactor had to be below 1.
		{"3.2 factor 1.5 refused", "3.2.1", map[string]string{"spark.kubernetes.memoryOverheadFactor": "1.5"}, 0, "below 1.0"},
		{"3.3 factor 1.5 accepted", "3.3.0", map[string]string{"spark.kubernetes.memoryOverheadFactor": "1.5"}, 7079, ""},
		// Before 3.3 spark-version and spark-app-name were not reserved driver labels.
		{"3.1 user spark-version label", "3.1.2", map[string]string{"spark.kubernetes.driver.label.spark-version": "mine"}, 7079, ""},
		{"3.3 reserves spark-version", "3.3.0", map[string]string{"spark.kubernetes.driver.label.spark-version": "mine"}, 0, "reserved"},
		{"3.1 reserves spark-role", "3.1.2", map[string]string{"spark.kubernetes.driver.label.spark-role": "x"}, 0, "reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := minimalJob(tt.ver)
			for k, v := range tt.conf {
				j.Conf[k] = v
			}
			o, err := Build(j)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Build error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := o.DriverPod.Spec.Containers[0].Ports[1]; got.Name != "blockmanager" || got.ContainerPort != tt.blockManager {
				t.Errorf("container blockmanager port = %+v, want %d", got, tt.blockManager)
			}
			svcPort := int32(7079)
			if tt.conf["spark.driver.blockManager.port"] != "" {
				svcPort = tt.blockManager
			}
			if got := o.Service.Spec.Ports[1]; got.Port != svcPort {
				t.Errorf("Service blockmanager port = %d, want %d", got.Port, svcPort)
			}
			if v, ok := tt.conf["spark.kubernetes.driver.label.spark-version"]; ok && o.DriverPod.Labels[wellknown.LabelSparkVersion] != v {
				t.Errorf("user spark-version label lost: %v", o.DriverPod.Labels)
			}
		})
	}
}

func TestResourceNamePrefix(t *testing.T) {
	tests := []struct{ app, ver, want string }{
		{"SparkPi", "3.5.3", "sparkpi-0123456789abcdef"},
		{"My_App.v2  ", "3.5.3", "my-app-v2-0123456789abcdef"},
		{"9lives", "3.3.2", "9lives-0123456789abcdef"},
		{"9lives", "3.3.3", "xlives-0123456789abcdef"},
		{"-dash", "3.3.1", "-dash-0123456789abcdef"},
		{"-dash", "3.3.2", "dash-0123456789abcdef"},
		{"a//b", "4.0.4", "a-b-0123456789abcdef"},
		// Spark 3.1 dropped what 3.2 turns into '-', after mapping whitespace runs
		// (Java's \s, vertical tab included) and dots to '-'.
		{"My_App.v2  ", "3.1.2", "myapp-v2-0123456789abcdef"},
		{"My_App.v2  ", "3.2.1", "my-app-v2-0123456789abcdef"},
		{"a b\t\vc", "3.1.1", "a-b-c-0123456789abcdef"},
		{"ünï/code", "3.1.2", "ncode-0123456789abcdef"},
		{"ünï/code", "3.2.1", "-n-code-0123456789abcdef"},
		{"-dash", "3.1.2", "-dash-0123456789abcdef"},
	}
	for _, tt := range tests {
		v, err := parseVersion(tt.ver)
		if err != nil {
			t.Fatal(err)
		}
		if got := resourceNamePrefix(tt.app, "0123456789abcdef", v); got != tt.want {
			t.Errorf("resourceNamePrefix(%q, %s) = %q, want %q", tt.app, tt.ver, got, tt.want)
		}
	}
	long := strings.Repeat("x", 60)
	if got := driverServiceName(long+"-0123456789abcdef", "0123456789abcdef"); got != "spark-0123456789abcdef-driver-svc" {
		t.Errorf("long service name = %q", got)
	}
	if got := appNameLabel("--" + strings.Repeat("Ab_", 30)); len(got) > 63 || strings.HasPrefix(got, "-") || strings.HasSuffix(got, "-") {
		t.Errorf("appNameLabel = %q", got)
	}
}

func TestBuildPodTemplate(t *testing.T) {
	tmpl, err := ParsePodTemplate([]byte(`
apiVersion: v1
kind: Pod
metadata:
  labels: {team: x, spark-role: template-loses}
  namespace: elsewhere
spec:
  restartPolicy: Always
  nodeSelector: {disk: ssd}
  serviceAccountName: template-sa
  tolerations: [{key: spot, operator: Exists}]
  initContainers: [{name: init, image: busybox}]
  containers:
  - name: sidecar
    image: fluent-bit
  - name: main
    args: [--first]
    env: [{name: FROM_TEMPLATE, value: "1"}]
    resources:
      limits: {ephemeral-storage: 5Gi}
`))
	if err != nil {
		t.Fatal(err)
	}
	j := minimalJob("4.0.4")
	j.DriverPodTemplate = tmpl
	j.ExecutorPodTemplate = tmpl
	j.Conf["spark.kubernetes.driver.podTemplateFile"] = "s3://b/driver.yaml"
	j.Conf["spark.kubernetes.driver.podTemplateContainerName"] = "main"
	j.Conf["spark.kubernetes.executor.podTemplateFile"] = "s3://b/exec.yaml"
	o := mustBuild(t, j)
	pod := o.DriverPod
	if pod.Namespace != "" || pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.Spec.ServiceAccountName != "template-sa" {
		t.Errorf("namespace %q, restartPolicy %q, sa %q", pod.Namespace, pod.Spec.RestartPolicy, pod.Spec.ServiceAccountName)
	}
	if pod.Labels["team"] != "x" || pod.Labels["spark-role"] != "driver" || pod.Spec.NodeSelector["disk"] != "ssd" || len(pod.Spec.Tolerations) != 1 || len(pod.Spec.InitContainers) != 1 {
		t.Errorf("template fields lost: %+v", pod.ObjectMeta.Labels)
	}
	cs := pod.Spec.Containers
	if len(cs) != 2 || cs[0].Name != "sidecar" || cs[1].Name != "main" {
		t.Fatalf("containers = %v", cs)
	}
	main := cs[1]
	if main.Args[0] != "--first" || main.Args[1] != "driver" || main.Env[0].Name != "FROM_TEMPLATE" {
		t.Errorf("template args/env not kept first: %q %v", main.Args, main.Env[0])
	}
	if q := main.Resources.Limits["ephemeral-storage"]; q.String() != "5Gi" {
		t.Errorf("template resource lost: %v", main.Resources.Limits)
	}
	p := props(t, o)
	if _, ok := p["spark.kubernetes.driver.podTemplateFile"]; ok {
		t.Error("driver template path should not reach spark.properties")
	}
	if p["spark.kubernetes.executor.podTemplateFile"] != executorTemplatePath {
		t.Errorf("executor template path = %q", p["spark.kubernetes.executor.podTemplateFile"])
	}
	back, err := ParsePodTemplate([]byte(o.ExecutorTemplate.Data[podTemplateKey]))
	if err != nil || !reflect.DeepEqual(back.Spec, tmpl.Spec) {
		t.Errorf("executor template does not round-trip: %v", err)
	}
	if tmpl.Spec.Containers[1].Args[0] != "--first" || len(tmpl.Spec.Containers[1].Args) != 1 {
		t.Error("Build modified the caller's template")
	}
}

func TestBuildVolumesSecretsConfFiles(t *testing.T) {
	j := minimalJob("4.0.4")
	j.Conf = map[string]string{
		"spark.kubernetes.driver.volumes.hostPath.spark-local-dir-1.mount.path":        "/nvme",
		"spark.kubernetes.driver.volumes.hostPath.spark-local-dir-1.options.path":      "/mnt/nvme",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.ckpt.mount.path":        "/ckpt",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.ckpt.mount.readOnly":    "true",
		"spark.kubernetes.driver.volumes.persistentVolumeClaim.ckpt.options.claimName": "existing",
		"spark.kubernetes.driver.secrets.db":                                           "/etc/db",
		"spark.kubernetes.driver.secretKeyRef.PASSWORD":                                "db:password",
		"spark.kubernetes.hadoop.configMapName":                                        "hadoop",
	}
	j.ConfFiles = map[string]string{"log4j2.properties": "rootLogger.level=warn\n"}
	o := mustBuild(t, j)
	c := o.DriverPod.Spec.Containers[0]
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name)
	}
	want := "SPARK_USER,SPARK_APPLICATION_ID,SPARK_DRIVER_BIND_ADDRESS,PASSWORD,HADOOP_CONF_DIR,SPARK_LOCAL_DIRS,SPARK_CONF_DIR"
	if strings.Join(env, ",") != want {
		t.Errorf("env order = %s, want %s", strings.Join(env, ","), want)
	}
	if c.Env[5].Value != "/nvme" {
		t.Errorf("SPARK_LOCAL_DIRS = %q, want the user's spark-local-dir mount", c.Env[5].Value)
	}
	if len(o.PVCs) != 0 {
		t.Errorf("existing claim must not create a PVC")
	}
	var items []string
	for _, v := range o.DriverPod.Spec.Volumes {
		if v.Name == sparkConfVolume {
			for _, it := range v.ConfigMap.Items {
				items = append(items, it.Key)
			}
		}
		if v.Name == "ckpt" && (v.PersistentVolumeClaim.ClaimName != "existing" || !v.PersistentVolumeClaim.ReadOnly) {
			t.Errorf("ckpt volume = %+v", v.PersistentVolumeClaim)
		}
	}
	if strings.Join(items, ",") != "log4j2.properties,spark.properties" {
		t.Errorf("conf items = %v", items)
	}
	if o.ConfigMap.Data["log4j2.properties"] == "" {
		t.Error("conf file not shipped")
	}
	o.SetDriverUID("u-1")
	deps := o.Dependents()
	if len(deps) != 2 {
		t.Fatalf("dependents = %d", len(deps))
	}
	for _, d := range deps {
		if d.GetOwnerReferences()[0].UID != "u-1" || !*d.GetOwnerReferences()[0].Controller {
			t.Errorf("%s owner = %+v", d.GetName(), d.GetOwnerReferences())
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Job)
		want string
	}{
		{"spark 3.0", func(j *Job) { j.SparkVersion = "3.0.1" }, "SparkVersion|3.1.1 up to 4.2.x"},
		{"spark 3.1.0", func(j *Job) { j.SparkVersion = "3.1.0" }, "3.1.1 up to 4.2.x"},
		{"spark 4.3", func(j *Job) { j.SparkVersion = "4.3.0" }, "3.1.1 up to 4.2.x"},
		{"bad version", func(j *Job) { j.SparkVersion = "3.5" }, "MAJOR.MINOR.PATCH"},
		{"namespace", func(j *Job) { j.Namespace = "Bad_NS" }, "Namespace"},
		{"no job id", func(j *Job) { j.JobRunID = "" }, "JobRunID"},
		{"attempt 0", func(j *Job) { j.Attempt = 0 }, "Attempt"},
		{"local entry point", func(j *Job) { j.Driver.EntryPoint = "/home/me/app.jar" }, "entryPoint"},
		{"file entry point", func(j *Job) { j.Driver.EntryPoint = "file:///home/me/app.jar" }, "submitting machine"},
		{"no class", func(j *Job) { j.Driver.MainClass = "" }, "--class"},
		{"no kind", func(j *Job) { j.Driver.Kind = "scala" }, "Driver.Kind"},
		{"no image", func(j *Job) { j.Image = "" }, "Image"},
		{"local jars", func(j *Job) { j.Conf["spark.jars"] = "s3://b/a.jar,/tmp/b.jar" }, `"spark.jars"`},
		{"bind address", func(j *Job) { j.Conf["spark.driver.bindAddress"] = "0.0.0.0" }, "spark.driver.bindAddress"},
		{"kerberos", func(j *Job) { j.Conf["spark.kerberos.keytab"] = "s3://k" }, "Kerberos"},
		{"oauth", func(j *Job) { j.Conf["spark.kubernetes.authenticate.driver.oauthToken"] = "x" }, "credentials"},
		{"reserved label", func(j *Job) { j.Conf["spark.kubernetes.driver.label.spark-role"] = "x" }, "reserved"},
		{"bad label value", func(j *Job) { j.Labels = map[string]string{"team": "has space"} }, "Labels"},
		{"bad secret ref", func(j *Job) { j.Conf["spark.kubernetes.driver.secretKeyRef.X"] = "nokey" }, "secretKeyRef.X"},
		{"no mount path", func(j *Job) { j.Conf["spark.kubernetes.driver.volumes.emptyDir.x.options.medium"] = "Memory" }, "mount.path"},
		{"volume type", func(j *Job) { j.Conf["spark.kubernetes.driver.volumes.csi.x.mount.path"] = "/x" }, "not supported"},
		{"tiny size", func(j *Job) {
			j.Conf["spark.kubernetes.driver.volumes.emptyDir.x.mount.path"] = "/x"
			j.Conf["spark.kubernetes.driver.volumes.emptyDir.x.options.sizeLimit"] = "500"
		}, "1KiB"},
		{"bad memory", func(j *Job) { j.Conf["spark.driver.memory"] = "lots" }, "spark.driver.memory"},
		{"bad cores", func(j *Job) { j.Conf["spark.kubernetes.driver.request.cores"] = "one" }, "request.cores"},
		{"gpu without vendor", func(j *Job) { j.Conf["spark.driver.resource.gpu.amount"] = "1" }, "vendor"},
		{"template not fetched", func(j *Job) { j.Conf["spark.kubernetes.driver.podTemplateFile"] = "s3://b/t.yaml" }, "DriverPodTemplate"},
		{"executor template not fetched", func(j *Job) { j.Conf["spark.kubernetes.executor.podTemplateFile"] = "s3://b/t.yaml" }, "ExecutorPodTemplate"},
		{"conf file name", func(j *Job) { j.ConfFiles = map[string]string{"../x": "y"} }, "ConfFiles"},
		{"conf files too big", func(j *Job) { j.ConfFiles = map[string]string{"big": strings.Repeat("x", 1<<20)} }, "maxSize"},
		{"driver pod name", func(j *Job) { j.DriverPodName = "Not_Valid" }, "DriverPodName"},
		{"master", func(j *Job) { j.Master = "yarn" }, "k8s://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := minimalJob("4.0.4")
			tt.edit(&j)
			_, err := Build(j)
			if err == nil {
				t.Fatalf("Build succeeded, want error containing %q", tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, want := range strings.Split(tt.want, "|") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}
