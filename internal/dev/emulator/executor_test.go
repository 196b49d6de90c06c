package emulator

import (
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExecutorMemoryMiB(t *testing.T) {
	tests := []struct {
		name    string
		conf    Conf
		want    int64
		wantErr string
	}{
		{"defaults: 1g + 384 minimum", Conf{}, 1024 + 384, ""},
		{"JVM factor 0.1", Conf{"spark.executor.memory": "8g"}, 8192 + 819, ""},
		{"python factor 0.4", Conf{"spark.executor.memory": "4g", "spark.kubernetes.resource.type": "python"}, 4096 + 1638, ""},
		{"kubernetes factor as spark-submit writes it", Conf{"spark.executor.memory": "2048m", "spark.kubernetes.memoryOverheadFactor": "0.4"}, 2048 + 819, ""},
		{"executor factor wins", Conf{"spark.executor.memory": "10g", "spark.executor.memoryOverheadFactor": "0.2", "spark.kubernetes.memoryOverheadFactor": "0.4"}, 10240 + 2048, ""},
		{"explicit overhead", Conf{"spark.executor.memory": "4g", "spark.executor.memoryOverhead": "1g"}, 4096 + 1024, ""},
		{"bare number is MiB", Conf{"spark.executor.memory": "3000", "spark.executor.memoryOverhead": "500"}, 3500, ""},
		{"pyspark and off-heap memory added", Conf{"spark.executor.memory": "1g", "spark.executor.pyspark.memory": "512m", "spark.memory.offHeap.enabled": "true", "spark.memory.offHeap.size": "1g"}, 1024 + 384 + 512 + 1024, ""},
		{"bad size", Conf{"spark.executor.memory": "lots"}, 0, `spark.executor.memory="lots": must be a size`},
		{"bad unit", Conf{"spark.executor.memory": "4q"}, 0, `unknown size unit "q"`},
		{"bad factor", Conf{"spark.executor.memoryOverheadFactor": "-1"}, 0, "spark.executor.memoryOverheadFactor=\"-1\": must be a number > 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.conf.ExecutorMemoryMiB()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ExecutorMemoryMiB = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestExecutorCountDurationExitCode(t *testing.T) {
	tests := []struct {
		name     string
		conf     Conf
		count    int
		duration time.Duration
		exit     int
		wantErr  string
	}{
		{"defaults", Conf{}, 2, 30 * time.Second, 0, ""},
		{"static", Conf{"spark.executor.instances": "5", ConfDuration: "90s", ConfExitCode: "3"}, 5, 90 * time.Second, 3, ""},
		{"seconds", Conf{ConfDuration: "2.5"}, 2, 2500 * time.Millisecond, 0, ""},
		{"dynamic: largest of min, initial, instances", Conf{"spark.dynamicAllocation.enabled": "true", "spark.dynamicAllocation.minExecutors": "1", "spark.dynamicAllocation.initialExecutors": "4"}, 4, 30 * time.Second, 0, ""},
		{"dynamic with nothing set starts none", Conf{"spark.dynamicAllocation.enabled": "true"}, 0, 30 * time.Second, 0, ""},
		{"bad instances", Conf{"spark.executor.instances": "-1"}, 0, 0, 0, `spark.executor.instances="-1": must be a whole number >= 0`},
		{"bad duration", Conf{ConfDuration: "soon"}, 0, 0, 0, ConfDuration + `="soon": must be a Go duration`},
		{"exit code out of range", Conf{ConfExitCode: "256"}, 0, 0, 0, ConfExitCode + `="256": must be a whole number from 0 to 255`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err1 := tt.conf.ExecutorCount()
			d, err2 := tt.conf.Duration()
			c, err3 := tt.conf.ExitCode()
			for _, err := range []error{err1, err2, err3} {
				if err != nil {
					if tt.wantErr == "" || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("error = %v, want %q", err, tt.wantErr)
					}
					return
				}
			}
			if tt.wantErr != "" {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			if n != tt.count || d != tt.duration || c != tt.exit {
				t.Fatalf("count, duration, exit = %d, %s, %d; want %d, %s, %d", n, d, c, tt.count, tt.duration, tt.exit)
			}
		})
	}
}

// TestBuildExecutorBefore33: a Spark 3.1 or 3.2 driver (no spark-version label) gives its
// executors no spark-app-name label, as those versions did not.
func TestBuildExecutorBefore33(t *testing.T) {
	driver := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pi-driver", Namespace: "spark", UID: "u",
		Labels: map[string]string{wellknown.LabelSparkAppSelector: "spark-abc"}}}
	p, err := BuildExecutor(driver, Conf{"spark.app.id": "spark-abc", "spark.app.name": "pi",
		"spark.kubernetes.container.image": "apache/spark:v3.1.3"}, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Labels[wellknown.LabelSparkAppName]; ok {
		t.Errorf("a 3.1 executor got spark-app-name %q", v)
	}
}

func TestBuildExecutor(t *testing.T) {
	driver := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "pi-0123456789abcdef-driver", Namespace: "spark", UID: "uid-1",
		Labels: map[string]string{wellknown.LabelSparkAppSelector: "spark-abc", wellknown.LabelSparkVersion: "3.5.3"},
	}}
	base := Conf{
		"spark.app.id": "spark-abc", "spark.app.name": "Spark Pi!",
		"spark.kubernetes.container.image": "apache/spark:3.5.3",
		"spark.executor.cores":             "2", "spark.executor.memory": "4g",
		"spark.driver.host": "pi-svc.spark.svc", "spark.driver.port": "7078",
	}
	with := func(extra Conf) Conf {
		c := Conf{}
		for k, v := range base {
			c[k] = v
		}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	template := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"from": "template", wellknown.LabelSparkRole: "overridden"}},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"topology.kubernetes.io/zone": "us-west-2a", "app": "template"},
			Tolerations:  []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{
				{Name: "sidecar", Image: "fluentbit"},
				{Name: "spark-kubernetes-executor", Env: []corev1.EnvVar{{Name: "FROM_TEMPLATE", Value: "1"}},
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}}},
			},
		},
	}
	tests := []struct {
		name     string
		conf     Conf
		template *corev1.Pod
		check    func(t *testing.T, p *corev1.Pod)
		wantErr  string
	}{
		{
			name: "plain",
			conf: with(Conf{"spark.kubernetes.executor.label.team": "data", "spark.kubernetes.executor.annotation.note": "x"}),
			check: func(t *testing.T, p *corev1.Pod) {
				if p.Name != "pi-0123456789abcdef-exec-3" || p.Namespace != "spark" {
					t.Errorf("name = %s/%s", p.Namespace, p.Name)
				}
				want := map[string]string{wellknown.LabelSparkRole: "executor", wellknown.LabelSparkAppSelector: "spark-abc", wellknown.LabelSparkExecID: "3",
					wellknown.LabelSparkAppName: "spark-pi", wellknown.LabelSparkResourceProfile: "0", "team": "data"}
				for k, v := range want {
					if p.Labels[k] != v {
						t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
					}
				}
				if p.Annotations["note"] != "x" {
					t.Errorf("annotations = %v", p.Annotations)
				}
				if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != "uid-1" || !*p.OwnerReferences[0].Controller {
					t.Errorf("owner references = %+v", p.OwnerReferences)
				}
				c := p.Spec.Containers[0]
				if c.Name != ExecutorContainerName || c.Image != "apache/spark:3.5.3" || c.Args[0] != "executor" {
					t.Errorf("container = %s %s %v", c.Name, c.Image, c.Args)
				}
				if cpu := c.Resources.Requests.Cpu(); cpu.String() != "2" {
					t.Errorf("cpu request = %s", cpu)
				}
				if mem := c.Resources.Requests.Memory(); mem.String() != "4505Mi" || c.Resources.Limits.Memory().String() != "4505Mi" {
					t.Errorf("memory = %s / %s, want 4505Mi", mem, c.Resources.Limits.Memory())
				}
				if p.Spec.RestartPolicy != corev1.RestartPolicyNever {
					t.Errorf("restartPolicy = %s", p.Spec.RestartPolicy)
				}
				if env := envOf(c, "SPARK_DRIVER_URL"); env != "spark://CoarseGrainedScheduler@pi-svc.spark.svc:7078" {
					t.Errorf("SPARK_DRIVER_URL = %q", env)
				}
			},
		},
		{
			name: "prefix, request cores, limit cores and node selectors",
			conf: with(Conf{
				"spark.kubernetes.executor.podNamePrefix":                            "custom",
				"spark.kubernetes.executor.request.cores":                            "1500m",
				"spark.kubernetes.executor.limit.cores":                              "2",
				"spark.kubernetes.node.selector.app":                                 "demo",
				"spark.kubernetes.executor.node.selector.karpenter.sh/capacity-type": "spot",
			}),
			check: func(t *testing.T, p *corev1.Pod) {
				if p.Name != "custom-exec-3" {
					t.Errorf("name = %s", p.Name)
				}
				c := p.Spec.Containers[0]
				if c.Resources.Requests.Cpu().String() != "1500m" || c.Resources.Limits.Cpu().String() != "2" {
					t.Errorf("cpu = %s / %s", c.Resources.Requests.Cpu(), c.Resources.Limits.Cpu())
				}
				if p.Spec.NodeSelector["app"] != "demo" || p.Spec.NodeSelector["karpenter.sh/capacity-type"] != "spot" {
					t.Errorf("nodeSelector = %v", p.Spec.NodeSelector)
				}
			},
		},
		{
			name:     "template is the base",
			conf:     with(Conf{"spark.kubernetes.node.selector.app": "demo"}),
			template: template,
			check: func(t *testing.T, p *corev1.Pod) {
				if p.Labels["from"] != "template" || p.Labels[wellknown.LabelSparkRole] != "executor" {
					t.Errorf("labels = %v", p.Labels)
				}
				if len(p.Spec.Tolerations) != 1 {
					t.Errorf("tolerations = %v", p.Spec.Tolerations)
				}
				if p.Spec.NodeSelector["topology.kubernetes.io/zone"] != "us-west-2a" || p.Spec.NodeSelector["app"] != "demo" {
					t.Errorf("nodeSelector = %v", p.Spec.NodeSelector)
				}
				if len(p.Spec.Containers) != 2 || p.Spec.Containers[0].Name != "sidecar" || p.Spec.Containers[1].Name != ExecutorContainerName {
					t.Fatalf("containers = %v", p.Spec.Containers)
				}
				c := p.Spec.Containers[1]
				if envOf(c, "FROM_TEMPLATE") != "1" || envOf(c, "SPARK_EXECUTOR_ID") != "3" {
					t.Errorf("env = %v", c.Env)
				}
				if _, ok := c.Resources.Limits["example.com/gpu"]; !ok {
					t.Errorf("template resource dropped: %v", c.Resources.Limits)
				}
				if template.Spec.Containers[1].Image != "" {
					t.Error("BuildExecutor changed the template")
				}
			},
		},
		{name: "no image", conf: Conf{"spark.app.id": "a"}, wantErr: "spark.kubernetes.container.image: must be set"},
		{name: "bad cores", conf: with(Conf{"spark.executor.cores": "0"}), wantErr: `spark.executor.cores="0": must be a whole number >= 1`},
		{name: "bad request cores", conf: with(Conf{"spark.kubernetes.executor.request.cores": "many"}), wantErr: "spark.kubernetes.executor.request.cores=\"many\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := BuildExecutor(driver, tt.conf, tt.template, 3)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func envOf(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestEMRImageSparkVersion: a driver older than Spark 3.3 has no spark-version label, and
// an EMR-based image (the seed's eks-spark-benchmark:emr6.5) carries that release's Spark, so
// the simulated driver says the Spark version the job would really run.
func TestEMRImageSparkVersion(t *testing.T) {
	for image, want := range map[string]string{
		"000000000000.dkr.ecr.us-east-1.amazonaws.com/eks-spark-benchmark:emr6.5": "3.1.2",
		"public.ecr.aws/emr-on-eks/spark/emr-6.15.0:latest":                       "",
		"registry.example:5000/spark:emr-7.2.0-latest":                            "3.5.1",
		"apache/spark:3.5.1":   "",
		"example/spark:emr9.9": "",
	} {
		if got := emrSparkVersion(image); got != want {
			t.Errorf("emrSparkVersion(%q) = %q, want %q", image, got, want)
		}
	}
}
