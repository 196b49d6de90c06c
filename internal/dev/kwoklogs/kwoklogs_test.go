package kwoklogs_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkplane/sparkplane/internal/dev/kwoklogs"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

func TestWriteLine(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 120, time.FixedZone("CEST", 2*3600))
	for _, tc := range []struct {
		name   string
		stream kwoklogs.Stream
		text   string
		want   string
	}{
		{"one line", kwoklogs.Stdout, "hello", "2024-05-06T05:08:09.000000120Z stdout F hello\n"},
		{"trailing newline", kwoklogs.Stderr, "hello\n", "2024-05-06T05:08:09.000000120Z stderr F hello\n"},
		{"empty", kwoklogs.Stdout, "", "2024-05-06T05:08:09.000000120Z stdout F \n"},
		{"several lines", kwoklogs.Stderr, "Exception in thread \"main\" boom\n\tat Main.main(Main.java:1)",
			"2024-05-06T05:08:09.000000120Z stderr F Exception in thread \"main\" boom\n" +
				"2024-05-06T05:08:09.000000120Z stderr F \tat Main.main(Main.java:1)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := kwoklogs.WriteLine(&b, tc.stream, at, tc.text); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
	if err := kwoklogs.WriteLine(&bytes.Buffer{}, "stdin", at, "x"); err == nil {
		t.Error("stream stdin: no error")
	}
}

// TestServe proves, through the API server of a real kwokctl cluster, that a pod's log is the
// file Serve names: as a snapshot with the kubelet's options, and as a follow stream that
// receives lines appended after it started.
func TestServe(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	node := ensureNode(t, env.Client)
	pod := runPod(t, env.Client, node, "kwoklogs-serve", "driver", "sidecar")

	dir := t.TempDir()
	driverLog, sidecarLog, previousLog := filepath.Join(dir, "driver.log"), filepath.Join(dir, "sub", "sidecar.log"), filepath.Join(dir, "previous.log")
	t0 := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	appendLines(t, driverLog, t0, "first", "second", "third")
	appendLines(t, previousLog, t0.Add(-time.Hour), "from the last attempt")
	// One call per container, as the emulator makes them; the second keeps the first's entry.
	if err := kwoklogs.Serve(ctx, env.Dynamic, pod, kwoklogs.Container{Name: "driver", File: driverLog, PreviousFile: previousLog}); err != nil {
		t.Fatal(err)
	}
	if err := kwoklogs.Serve(ctx, env.Dynamic, pod, kwoklogs.Container{Name: "sidecar", File: sidecarLog}); err != nil {
		t.Fatal(err)
	}
	waitServed(t, env, pod, "driver")

	i64 := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name string
		opts corev1.PodLogOptions
		want string
	}{
		{"snapshot", corev1.PodLogOptions{Container: "driver"}, "first\nsecond\nthird\n"},
		{"tailLines", corev1.PodLogOptions{Container: "driver", TailLines: i64(2)}, "second\nthird\n"},
		{"sinceTime", corev1.PodLogOptions{Container: "driver", SinceTime: &metav1.Time{Time: t0.Add(time.Second)}}, "second\nthird\n"},
		{"sinceSeconds", corev1.PodLogOptions{Container: "driver", SinceSeconds: i64(3600)}, ""},
		{"timestamps", corev1.PodLogOptions{Container: "driver", TailLines: i64(1), Timestamps: true}, "2024-01-01T10:00:02.000000000Z third\n"},
		{"limitBytes", corev1.PodLogOptions{Container: "driver", LimitBytes: i64(8)}, "first\nse"},
		{"previous", corev1.PodLogOptions{Container: "driver", Previous: true}, "from the last attempt\n"},
		{"file not written yet", corev1.PodLogOptions{Container: "sidecar"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := env.Client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &tc.opts).DoRaw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("previous without a previous file", func(t *testing.T) {
		_, err := env.Client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "sidecar", Previous: true}).DoRaw(ctx)
		if err == nil {
			t.Error("no error")
		}
	})

	t.Run("follow", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		lines := follow(t, ctx, env.Client, pod, corev1.PodLogOptions{Container: "driver", TailLines: i64(1)})
		expectLines(t, lines, "third")
		appendLines(t, driverLog, t0.Add(time.Minute), "fourth")
		expectLines(t, lines, "fourth")
		appendLines(t, driverLog, t0.Add(2*time.Minute), "fifth", "sixth")
		expectLines(t, lines, "fifth", "sixth")
	})
}

// TestServeGoesWithThePod checks that the Logs object goes with its pod, what a follow stream
// does when the pod goes, and that a new pod of the same name takes the name's Logs over.
func TestServeGoesWithThePod(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	node := ensureNode(t, env.Client)
	pod := runPod(t, env.Client, node, "kwoklogs-gone", "executor")
	file := filepath.Join(t.TempDir(), "executor.log")
	appendLines(t, file, time.Now(), "running")
	if err := kwoklogs.Serve(ctx, env.Dynamic, pod, kwoklogs.Container{Name: "executor", File: file}); err != nil {
		t.Fatal(err)
	}
	waitServed(t, env, pod, "executor")

	fctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	lines := follow(t, fctx, env.Client, pod, corev1.PodLogOptions{Container: "executor"})
	expectLines(t, lines, "running")

	if err := env.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	logs := env.Dynamic.Resource(kwoklogs.Resource).Namespace(pod.Namespace)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := logs.Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Logs %s/%s still there a minute after its pod was deleted (err %v)\nkube-controller-manager log:\n%s",
				pod.Namespace, pod.Name, err, componentLog(env, "kube-controller-manager"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := env.Client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(ctx); !apierrors.IsNotFound(err) {
		t.Errorf("logs of the deleted pod: got %v, want NotFound", err)
	}
	// kwok cannot tell the reader that the container stopped: the open stream outlives the
	// pod and still follows the file, until the client goes away.
	appendLines(t, file, time.Now(), "after the pod")
	expectLines(t, lines, "after the pod")
	cancel()

	// A pod of the same name gets the name's Logs object with only its own entries.
	again := runPod(t, env.Client, node, "kwoklogs-gone", "executor")
	other := filepath.Join(t.TempDir(), "again.log")
	appendLines(t, other, time.Now(), "second pod")
	if err := kwoklogs.Serve(ctx, env.Dynamic, again, kwoklogs.Container{Name: "executor", File: other}); err != nil {
		t.Fatal(err)
	}
	obj, err := logs.Get(ctx, again.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if refs := obj.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != again.UID || refs[0].Kind != "Pod" {
		t.Errorf("owner references %+v, want the new pod %s", refs, again.UID)
	}
	waitServed(t, env, again, "executor")
	got, err := env.Client.CoreV1().Pods(again.Namespace).GetLogs(again.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || string(got) != "second pod\n" {
		t.Errorf("logs of the new pod: %q, %v", got, err)
	}
}

func ensureNode(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	name := "kwoklogs-test-node"
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("500")}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{"kubernetes.io/hostname": name, "type": "kwok"}},
		Status: corev1.NodeStatus{Capacity: res, Allocatable: res},
	}
	_, err := client.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return name
}

// runPod creates a pod bound to node and waits until kwok runs it.
func runPod(t *testing.T, client kubernetes.Interface, node, name string, containers ...string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{NodeName: node}}
	for _, c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c, Image: "spark:unused"})
	}
	pods := client.CoreV1().Pods(pod.Namespace)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := pods.Create(ctx, pod, metav1.CreateOptions{})
		if err == nil {
			break
		}
		// The pod of an earlier test may still be terminating.
		if !apierrors.IsAlreadyExists(err) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { _ = pods.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	for {
		got, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase == corev1.PodRunning {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s not Running after a minute: %s", name, got.Status.Phase)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitServed waits until kwok has seen the pod's Logs object, which it learns of by a watch.
func waitServed(t *testing.T, env *testenv.Env, pod *corev1.Pod, container string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := env.Client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container}).DoRaw(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs of %s/%s never served: %v\nkwok controller log:\n%s", pod.Name, container, err, componentLog(env, "kwok-controller"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// componentLog is the end of the log of one of the cluster's components, for failures that
// depend on what it saw.
func componentLog(env *testenv.Env, component string) string {
	b, err := os.ReadFile(filepath.Join(env.Dir, "kwok", "clusters", env.Name, "logs", component+".log"))
	if err != nil {
		return err.Error()
	}
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

func appendLines(t *testing.T, path string, at time.Time, texts ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, text := range texts {
		if err := kwoklogs.WriteLine(f, kwoklogs.Stderr, at.Add(time.Duration(i)*time.Second), text); err != nil {
			t.Fatal(err)
		}
	}
}

// follow opens a follow stream and sends its lines to the channel it returns, which closes
// when the stream ends.
func follow(t *testing.T, ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, opts corev1.PodLogOptions) <-chan string {
	t.Helper()
	opts.Follow = true
	rc, err := client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &opts).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		defer rc.Close()
		s := bufio.NewScanner(rc)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	return lines
}

func expectLines(t *testing.T, lines <-chan string, want ...string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for _, w := range want {
		select {
		case got, ok := <-lines:
			if !ok {
				t.Fatalf("stream ended, want %q", w)
			}
			if got != w {
				t.Fatalf("got line %q, want %q", got, w)
			}
		case <-timeout:
			t.Fatalf("no line %q within 30s (want %s)", w, strings.Join(want, ", "))
		}
	}
}
