package emulator_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/emulator"
	"github.com/sparkplane/sparkplane/internal/dev/kwokforward"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/liveui"
	"github.com/sparkplane/sparkplane/internal/liveui/portforward"
)

// uiClient sends requests to a driver pod's port through the API server's pods/portforward,
// as kubectl port-forward does, with the X-Forwarded-Context a proxy would set.
func uiClient(t *testing.T, env *testenv.Env, driver *corev1.Pod, port int) (get func(path string) (*http.Response, string)) {
	t.Helper()
	d, err := portforward.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	pod := liveui.Pod{Namespace: driver.Namespace, Name: driver.Name, Port: port}
	client := &http.Client{
		Transport:     &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialPod(ctx, pod) }},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
	t.Cleanup(client.CloseIdleConnections)
	return func(path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://driver-ui"+path, nil)
		req.Header.Set(liveui.ContextHeader, "/base")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
}

// TestStandInSparkUI reaches the stand-in UI of a running driver through pods/portforward:
// Spark's redirect and links, pages and REST API that follow the simulated application, and
// the UI gone with the driver; a driver with spark.ui.enabled=false serves none.
func TestStandInSparkUI(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	ensureNode(t, ctx, env)
	driver := driverFixture(t, ctx, env, "job-ui", map[string]string{"spark.executor.instances": "2", emulator.ConfDuration: "8s",
		"spark.ui.port": "4050"}, nil)
	appID := driver.Labels["spark-app-selector"]
	get := uiClient(t, env, driver, 4050)

	var page string
	waitFor(t, time.Minute, "the stand-in UI to answer through the port-forward", func() bool {
		resp, body := get("/jobs/")
		page = body
		return resp != nil && resp.StatusCode == http.StatusOK
	})
	for _, want := range []string{`href="/base/static/webui.css"`, `href="/base/stages/"`, `href="/base/executors/"`, "Emulated job-ui"} {
		if !strings.Contains(page, want) {
			t.Errorf("jobs page lacks %s:\n%s", want, page)
		}
	}
	resp, _ := get("/")
	if resp == nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://driver-ui/jobs/" {
		t.Errorf("GET /: %v, want Spark's 302 to http://driver-ui/jobs/", resp)
	}
	if resp, body := get("/static/webui.css"); resp == nil || resp.StatusCode != http.StatusOK || !strings.Contains(body, "body") {
		t.Errorf("stylesheet: %v %q", resp, body)
	}

	// Once the executors run, the application runs jobs: they show in the pages and the API.
	waitFor(t, time.Minute, "a job in the jobs page", func() bool {
		_, body := get("/jobs/")
		page = body
		return strings.Contains(body, `href="/base/jobs/job/?id=0"`)
	})
	// A job shows in the list as soon as it is submitted, its stages a moment later.
	var jobPage string
	var jobResp *http.Response
	waitFor(t, time.Minute, "job 0's page listing its first stage", func() bool {
		jobResp, jobPage = get("/jobs/job/?id=0")
		return jobResp != nil && jobResp.StatusCode == http.StatusOK && strings.Contains(jobPage, `href="/base/stages/stage/?id=0&amp;attempt=0"`)
	})
	if !strings.Contains(jobPage, "Details for Job 0") {
		t.Errorf("job 0's page: %v\n%s", jobResp, jobPage)
	}
	if resp, body := get("/jobs/job/?id=99"); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown job's page: %v %s", resp, body)
	}
	_, body := get("/api/v1/applications")
	var apps []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Attempts []struct {
			Completed bool `json:"completed"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(body), &apps); err != nil || len(apps) != 1 || apps[0].ID != appID || apps[0].Name != "Emulated job-ui" ||
		len(apps[0].Attempts) != 1 || apps[0].Attempts[0].Completed {
		t.Errorf("/api/v1/applications: %v\n%s", err, body)
	}
	_, body = get("/api/v1/applications/" + appID + "/executors")
	var execs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &execs); err != nil || len(execs) != 3 || execs[0].ID != "driver" {
		t.Errorf("executors: %v\n%s", err, body)
	}
	if resp, _ := get("/api/v1/applications/spark-other/jobs"); resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("another application's jobs: %v", resp)
	}

	// The UI goes with the driver: its PortForward object is removed when the driver ends.
	forwards := env.Dynamic.Resource(kwokforward.Resource).Namespace(driver.Namespace)
	waitFor(t, time.Minute, "the driver to end and its UI to go", func() bool {
		_, err := forwards.Get(ctx, driver.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	p, err := env.Client.CoreV1().Pods(driver.Namespace).Get(ctx, driver.Name, metav1.GetOptions{})
	if err != nil || p.Annotations[emulator.AnnotationExitCode] == "" {
		t.Errorf("the UI went before the driver ended: %v %v", err, p.Annotations)
	}
	// A new connection: kwok keeps a forwarded connection open after its target closed until
	// the client writes to it, so the keep-alive connections of get would wait.
	if resp, msg := uiClient(t, env, driver, 4050)("/jobs/"); resp != nil {
		t.Errorf("the ended driver's UI still answers: HTTP %d", resp.StatusCode)
	} else if !strings.Contains(msg, "no forward found") && !strings.Contains(msg, "connection refused") {
		t.Errorf("the ended driver's UI: %s, want kwok's 'no forward found' (or, before kwok saw the object go, 'connection refused')", msg)
	}

	t.Run("disabled", func(t *testing.T) {
		off := driverFixture(t, ctx, env, "job-no-ui", map[string]string{"spark.executor.instances": "1", emulator.ConfDuration: "30s",
			"spark.ui.enabled": "false"}, nil)
		// The emulator has played the driver for a while once its executors all run.
		waitFor(t, 2*time.Minute, "the driver's executors to run", func() bool {
			p, err := env.Client.CoreV1().Pods("default").Get(ctx, off.Name, metav1.GetOptions{})
			return err == nil && p.Annotations[emulator.AnnotationRunningSince] != ""
		})
		if _, err := forwards.Get(ctx, off.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("a driver with spark.ui.enabled=false has a PortForward object (%v)", err)
		}
	})
}
