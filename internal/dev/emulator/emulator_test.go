package emulator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/emulator"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Emulator: true}) }

const executorTemplate = `apiVersion: v1
kind: Pod
metadata:
  labels:
    from-template: "yes"
spec:
  nodeSelector:
    topology.kubernetes.io/zone: us-west-2a
  tolerations:
  - key: spot
    operator: Exists
  containers:
  - name: log-shipper
    image: fluent/fluent-bit
  - name: spark-kubernetes-executor
    env:
    - name: FROM_TEMPLATE
      value: "1"
`

// driverFixture creates what spark-submit would have left for the emulator: the spark.properties
// ConfigMap, the executor pod-template ConfigMap and a driver pod mounting both, on a simulated
// node that carries every label the executors select.
func driverFixture(t *testing.T, ctx context.Context, env *testenv.Env, name string, props, annotations map[string]string) *corev1.Pod {
	t.Helper()
	cs := env.Client.CoreV1()
	ns := "default"
	appID := "spark-" + strings.Repeat(fmt.Sprintf("%x", len(name)), 32)[:32]
	var b strings.Builder
	b.WriteString("#Java properties built from Kubernetes config map with name: " + name + "-conf\n#today\n")
	all := map[string]string{
		"spark.app.id":                              appID,
		"spark.app.name":                            "Emulated " + name,
		"spark.kubernetes.container.image":          "apache/spark:3.5.3",
		"spark.executor.cores":                      "2",
		"spark.executor.memory":                     "4g",
		"spark.kubernetes.executor.podTemplateFile": "/opt/spark/pod-template/pod-spec-template.yml",
		"spark.kubernetes.node.selector.app":        "demo",
		"spark.kubernetes.executor.label.team":      "data",
		"spark.kubernetes.executor.node.selector.karpenter.sh/capacity-type": "spot",
	}
	for k, v := range props {
		all[k] = v
	}
	for k, v := range all {
		// Escape ':' as java.util.Properties.store does, so the parser is exercised.
		fmt.Fprintf(&b, "%s=%s\n", strings.ReplaceAll(k, ":", `\:`), strings.ReplaceAll(v, ":", `\:`))
	}
	mustCreate(t, func() error {
		_, err := cs.ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-conf"},
			Data:       map[string]string{"spark.properties": b.String()},
		}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := cs.ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-podspec"},
			Data:       map[string]string{"podspec-configmap-key": executorTemplate},
		}, metav1.CreateOptions{})
		return err
	})
	driver := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name + "-driver",
			Labels:      map[string]string{"spark-role": "driver", "spark-app-selector": appID, "spark-version": "3.5.3"},
			Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			NodeName:      "emulator-node",
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "spark-kubernetes-driver", Image: "apache/spark:3.5.3", Args: []string{"driver"},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "spark-conf-volume-driver", MountPath: "/opt/spark/conf"},
					{Name: "pod-template-volume", MountPath: "/opt/spark/pod-template"},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "spark-conf-volume-driver", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: name + "-conf"},
					Items:                []corev1.KeyToPath{{Key: "spark.properties", Path: "spark.properties"}},
				}}},
				{Name: "pod-template-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: name + "-podspec"},
					Items:                []corev1.KeyToPath{{Key: "podspec-configmap-key", Path: "pod-spec-template.yml"}},
				}}},
			},
		},
	}
	var created *corev1.Pod
	mustCreate(t, func() error {
		var err error
		created, err = cs.Pods(ns).Create(ctx, driver, metav1.CreateOptions{})
		return err
	})
	return created
}

func mustCreate(t *testing.T, create func() error) {
	t.Helper()
	if err := create(); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// ensureNode registers the simulated node the drivers and executors run on.
func ensureNode(t *testing.T, ctx context.Context, env *testenv.Env) {
	t.Helper()
	mustCreate(t, func() error {
		_, err := env.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "emulator-node", Labels: map[string]string{
				"app": "demo", "karpenter.sh/capacity-type": "spot", "topology.kubernetes.io/zone": "us-west-2a",
			}},
			Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110"),
			}, Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110"),
			}},
		}, metav1.CreateOptions{})
		return err
	})
}

func TestEmulatedDriver(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	ensureNode(t, ctx, env)
	tests := []struct {
		name       string
		props      map[string]string
		executors  int
		exitCode   int32
		phase      corev1.PodPhase
		keepsExecs bool
	}{
		{name: "succeeds", props: map[string]string{"spark.executor.instances": "3", emulator.ConfDuration: "3s"},
			executors: 3, exitCode: 0, phase: corev1.PodSucceeded},
		{name: "fails", props: map[string]string{"spark.dynamicAllocation.enabled": "true", "spark.dynamicAllocation.minExecutors": "2",
			emulator.ConfDuration: "1", emulator.ConfExitCode: "3", "spark.kubernetes.executor.deleteOnTermination": "false"},
			executors: 2, exitCode: 3, phase: corev1.PodFailed, keepsExecs: true},
		{name: "bad-conf", props: map[string]string{emulator.ConfDuration: "soon"},
			executors: 0, exitCode: 1, phase: corev1.PodFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			driver := driverFixture(t, ctx, env, "job-"+tt.name, tt.props, nil)
			pods := env.Client.CoreV1().Pods("default")
			selector := "spark-role=executor,spark-app-selector=" + driver.Labels["spark-app-selector"]

			// All executors exist and run at once, before the driver ends.
			var execs []corev1.Pod
			if tt.executors > 0 {
				waitFor(t, time.Minute, "executors to run", func() bool {
					l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
					if err != nil {
						t.Fatal(err)
					}
					running := 0
					for _, p := range l.Items {
						if p.Status.Phase == corev1.PodRunning {
							running++
						}
					}
					execs = l.Items
					return running == tt.executors
				})
			}
			if len(execs) != tt.executors {
				t.Fatalf("%d executors, want %d", len(execs), tt.executors)
			}
			for _, p := range execs {
				checkExecutor(t, driver, p)
			}

			var ended *corev1.Pod
			waitFor(t, time.Minute, "the driver to end", func() bool {
				p, err := pods.Get(ctx, driver.Name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				ended = p
				return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
			})
			if ended.Status.Phase != tt.phase {
				t.Errorf("driver phase = %s, want %s", ended.Status.Phase, tt.phase)
			}
			cs := ended.Status.ContainerStatuses
			if len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != tt.exitCode {
				t.Errorf("driver container status = %+v, want terminated with exit code %d", cs, tt.exitCode)
			}
			if tt.name == "bad-conf" && !strings.Contains(ended.Annotations[emulator.AnnotationMessage], emulator.ConfDuration) {
				t.Errorf("message = %q, want it to name %s", ended.Annotations[emulator.AnnotationMessage], emulator.ConfDuration)
			}

			l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err != nil {
				t.Fatal(err)
			}
			if tt.keepsExecs {
				if len(l.Items) != tt.executors {
					t.Fatalf("deleteOnTermination=false: %d executors left, want %d", len(l.Items), tt.executors)
				}
				waitFor(t, time.Minute, "kept executors to complete", func() bool {
					l, _ := pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
					done := 0
					for _, p := range l.Items {
						if p.Status.Phase == corev1.PodSucceeded {
							done++
						}
					}
					return done == tt.executors
				})
			} else {
				waitFor(t, time.Minute, "executors to be deleted", func() bool {
					l, _ := pods.List(ctx, metav1.ListOptions{LabelSelector: selector})
					return len(l.Items) == 0
				})
			}
		})
	}
}

func checkExecutor(t *testing.T, driver *corev1.Pod, p corev1.Pod) {
	t.Helper()
	id := p.Labels["spark-exec-id"]
	if want := strings.TrimSuffix(driver.Name, "-driver") + "-exec-" + id; p.Name != want {
		t.Errorf("executor name %s, want %s", p.Name, want)
	}
	for k, v := range map[string]string{
		"spark-role": "executor", "spark-app-selector": driver.Labels["spark-app-selector"],
		"team": "data", "from-template": "yes", "spark-exec-resourceprofile-id": "0",
	} {
		if p.Labels[k] != v {
			t.Errorf("%s: label %s = %q, want %q", p.Name, k, p.Labels[k], v)
		}
	}
	if !strings.HasPrefix(p.Labels["spark-app-name"], "emulated-job-") {
		t.Errorf("%s: spark-app-name = %q", p.Name, p.Labels["spark-app-name"])
	}
	if len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != driver.UID || p.OwnerReferences[0].Kind != "Pod" {
		t.Errorf("%s: owner references = %+v", p.Name, p.OwnerReferences)
	}
	for k, v := range map[string]string{"app": "demo", "karpenter.sh/capacity-type": "spot", "topology.kubernetes.io/zone": "us-west-2a"} {
		if p.Spec.NodeSelector[k] != v {
			t.Errorf("%s: node selector %s = %q, want %q", p.Name, k, p.Spec.NodeSelector[k], v)
		}
	}
	if len(p.Spec.Tolerations) == 0 || p.Spec.Tolerations[0].Key != "spot" {
		t.Errorf("%s: template toleration lost: %v", p.Name, p.Spec.Tolerations)
	}
	if len(p.Spec.Containers) != 2 || p.Spec.Containers[1].Name != "spark-kubernetes-executor" {
		t.Fatalf("%s: containers = %v", p.Name, p.Spec.Containers)
	}
	c := p.Spec.Containers[1]
	// 4g + max(0.1 × 4096, 384) = 4096 + 409 MiB.
	if c.Resources.Requests.Cpu().String() != "2" || c.Resources.Requests.Memory().String() != "4505Mi" {
		t.Errorf("%s: requests = %v", p.Name, c.Resources.Requests)
	}
}

func waitFor(t *testing.T, deadline time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %s waiting for %s", deadline, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestEmulatorResumesFromCluster gives the emulator a job it has never seen, half done: the
// driver says its executors have run for an hour already. An emulator that kept its progress
// in memory would start the hold anew; this one reads it from the cluster and ends the job.
func TestEmulatorResumesFromCluster(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	ensureNode(t, ctx, env)
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	driver := driverFixture(t, ctx, env, "job-resumed", map[string]string{emulator.ConfDuration: "10m"},
		map[string]string{emulator.AnnotationRunningSince: since})
	pods := env.Client.CoreV1().Pods("default")
	// The job's hold is 10 minutes; ending within one shows the hour already held was counted.
	waitFor(t, time.Minute, "the resumed driver to end", func() bool {
		p, err := pods.Get(ctx, driver.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Status.Phase == corev1.PodSucceeded
	})
	l, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "spark-role=executor,spark-app-selector=" + driver.Labels["spark-app-selector"]})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 0 {
		t.Errorf("%d executors created for a job whose hold was over", len(l.Items))
	}
}
