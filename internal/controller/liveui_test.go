package controller_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/cli"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/kwokforward"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/liveui"
	"github.com/sparkplane/sparkplane/internal/liveui/portforward"
	"github.com/sparkplane/sparkplane/internal/spark"
)

// TestLiveSparkUI reaches the Spark UI of running job runs through the signed live UI route:
// the emulator's stand-in UI with its links and redirects under the route, and, for a run
// whose driver port the test points at a server of its own, exactly what reaches the pod
// (X-Forwarded-Context, none of the caller's credentials) and that a caller without
// sparkplane:AccessJobRunLiveUI, a write and a kill link reach nothing. Once a run has ended,
// or with spark.ui.enabled=false, the route says why there is no UI. `sparkplane jobs
// spark-ui` serves the same UI on a local port.
func TestLiveSparkUI(t *testing.T) {
	ensureNode(t)
	env := testenv.Get(t)
	s := startServer(t, t.TempDir(), env.Kubeconfig)
	vc := s.virtualCluster(t, "liveui")
	live := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=25s")
	recorded := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=25s")
	noUI := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=25s", "spark.ui.enabled=false")
	for _, id := range []string{live, recorded, noUI} {
		s.waitState(t, vc, id, emrtypes.JobRunStateRunning, 2*time.Minute)
	}
	prefix := func(id string) string { return "/virtualclusters/" + vc + "/jobruns/" + id + "/sparkui" }

	t.Run("stand-in UI", func(t *testing.T) {
		p := prefix(live)
		var status int
		var code string
		var body []byte
		deadline := time.Now().Add(time.Minute)
		for {
			// The emulator starts the UI and kwok learns of its port a moment after the run
			// is RUNNING: until then the route says the UI did not answer.
			status, code, body = s.Do(t, s.Admin(), http.MethodGet, p+"/jobs/", nil)
			if status == http.StatusOK || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if status != http.StatusOK {
			t.Fatalf("GET %s/jobs/: HTTP %d %s %s", p, status, code, body)
		}
		for _, want := range []string{`href="` + p + `/static/webui.css"`, `href="` + p + `/stages/"`, `href="` + p + `/executors/"`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("jobs page lacks %s:\n%s", want, body)
			}
		}
		for _, tc := range []struct{ path, location string }{
			{"", p + "/"},               // the bare route: to the UI's root
			{"/", p + "/jobs/"},         // Spark's own redirect, absolute on the driver's host
			{"/stages", p + "/stages/"}, // Jetty's, for a tab without its slash
		} {
			resp := s.send(t, s.Admin(), http.MethodGet, p+tc.path)
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tc.location {
				t.Errorf("GET %s%s: HTTP %d Location %q, want 302 to %s", p, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.location)
			}
		}
		status, code, body = s.Do(t, s.Admin(), http.MethodGet, p+"/api/v1/applications", nil)
		var apps []struct{ ID, Name string }
		if err := json.Unmarshal(body, &apps); status != http.StatusOK || err != nil || len(apps) != 1 || apps[0].ID != spark.AppID(live, 1) {
			t.Errorf("GET /api/v1/applications: HTTP %d %s %v %s; want the run's application %s", status, code, err, body, spark.AppID(live, 1))
		}
		if resp := s.send(t, s.Admin(), http.MethodHead, p+"/jobs/"); resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s/jobs/: HTTP %d", p, resp.StatusCode)
		}
	})

	t.Run("web console", func(t *testing.T) {
		// A browser signed in to the console opens the UI from the run's page: it gets a grant
		// in the path, and the UI's answers come sandboxed (an opaque origin of their own),
		// with Spark's links under the grant's path.
		p := prefix(live)
		status, code, body := s.Do(t, s.Admin(), http.MethodPost, "/consolesignin", "{}")
		var link struct{ Path string }
		if err := json.Unmarshal(body, &link); status != http.StatusOK || err != nil {
			t.Fatalf("POST /consolesignin: HTTP %d %s %s", status, code, body)
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		get := func(c *http.Client, url string) (*http.Response, string) {
			t.Helper()
			resp, err := c.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp, string(b)
		}
		// The link's page shows whom it signs in as; its button signs in.
		if resp, err := browser.PostForm(s.URL+"/console/signin/link", url.Values{"token": {strings.TrimPrefix(link.Path, "/console/signin/link?token=")}}); err != nil {
			t.Fatal(err)
		} else {
			resp.Body.Close()
		}
		runPage := "/console" + strings.TrimSuffix(p, "/sparkui")
		if _, page := get(browser, s.URL+runPage); !strings.Contains(page, `href="`+runPage+`/sparkui"`) {
			t.Fatalf("the console's run page has no link to the live UI:\n%s", page)
		}
		resp, page := get(browser, s.URL+runPage+"/sparkui")
		m := regexp.MustCompile(`^/console/liveui/([A-Za-z0-9_-]{43})` + regexp.QuoteMeta(p) + `/jobs/$`).FindStringSubmatch(resp.Request.URL.Path)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("opening the live UI: HTTP %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
		}
		base := "/console/liveui/" + m[1] + p
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox ") || strings.Contains(csp, "allow-same-origin") {
			t.Errorf("live UI Content-Security-Policy %q, want a sandbox without allow-same-origin", csp)
		}
		if !strings.Contains(page, `href="`+base+`/stages/"`) {
			t.Errorf("live UI page links are not under %s:\n%s", base, page)
		}
		// The grant is the credential: no cookie needed, and it opens this run's UI only.
		if resp, _ := get(http.DefaultClient, s.URL+base+"/executors/"); resp.StatusCode != http.StatusOK {
			t.Errorf("the grant without the cookie: HTTP %d", resp.StatusCode)
		}
		if resp, _ := get(http.DefaultClient, s.URL+"/console/liveui/"+m[1]+prefix(recorded)+"/jobs/"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("the grant used for another run: HTTP %d, want 403", resp.StatusCode)
		}
		if resp, _ := get(http.DefaultClient, s.URL+"/console/liveui/"+strings.Repeat("A", 43)+p+"/jobs/"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a made-up grant: HTTP %d, want 403", resp.StatusCode)
		}
		// Never on the console's own origin path.
		if resp, _ := get(browser, s.URL+"/console/api"+p+"/jobs/"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("the live UI through the console's API: HTTP %d, want 404", resp.StatusCode)
		}
	})

	t.Run("jobs spark-ui", func(t *testing.T) {
		p := prefix(live)
		for k, v := range map[string]string{
			cli.EndpointEnv: s.URL, "AWS_ACCESS_KEY_ID": s.AccessKeyID, "AWS_SECRET_ACCESS_KEY": s.SecretAccessKey,
			"AWS_REGION": s.Region, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
		} {
			t.Setenv(k, v)
		}
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		out, url, done := runCLI(t, ctx, "jobs", "spark-ui", "--virtual-cluster-id", vc, "--id", live, "--listen", "127.0.0.1:0")
		if want := regexp.MustCompile(`^http://127\.0\.0\.1:\d+` + regexp.QuoteMeta(p) + `/$`); !want.MatchString(url) {
			t.Fatalf("printed URL %q, want http://127.0.0.1:<port>%s/", url, p)
		}
		// A browser: it follows the redirects to the jobs tab and loads the page's links.
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != p+"/jobs/" || !strings.Contains(string(page), `href="`+p+`/stages/"`) {
			t.Fatalf("browser at %s: HTTP %d at %s\n%s", url, resp.StatusCode, resp.Request.URL, page)
		}
		base := strings.TrimSuffix(url, p+"/")
		for _, link := range []string{p + "/static/webui.css", p + "/executors/"} {
			resp, err := http.Get(base + link)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("link %s: HTTP %d", link, resp.StatusCode)
			}
		}
		if resp, err := http.Post(url+"jobs/", "text/plain", strings.NewReader("x")); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST through the local proxy: %v %v, want 405", resp, err)
		}
		stop()
		if err := <-done; err != nil {
			t.Errorf("jobs spark-ui after Ctrl-C: %v\n%s", err, out())
		}
	})

	t.Run("what reaches the pod", func(t *testing.T) {
		p := prefix(recorded)
		rec := recordUI(t, env, recorded)
		viewer := s.User(t, "liveui-viewer", map[string]string{"describe": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["emr-containers:Describe*","sparkplane:GetJobRunLogs"],"Resource":"*"}]}`})
		status, code, body := s.Do(t, viewer, http.MethodGet, p+"/jobs/", nil)
		if status != http.StatusForbidden || code != "AccessDeniedException" || !strings.Contains(string(body), "sparkplane:AccessJobRunLiveUI") {
			t.Errorf("without sparkplane:AccessJobRunLiveUI: HTTP %d %s %s, want AccessDenied naming the action", status, code, body)
		}
		status, code, body = s.Do(t, s.Admin(), http.MethodPost, p+"/jobs/", "{}")
		if status != http.StatusMethodNotAllowed || code != "ValidationException" || !strings.Contains(string(body), "read-only") {
			t.Errorf("POST: HTTP %d %s %s, want 405 saying the UI is read-only", status, code, body)
		}
		status, code, body = s.Do(t, s.Admin(), http.MethodGet, p+"/jobs/job/kill/?id=0", nil)
		if status != http.StatusForbidden || code != "AccessDeniedException" || !strings.Contains(string(body), "CancelJobRun") {
			t.Errorf("kill link: HTTP %d %s %s, want 403 pointing at CancelJobRun", status, code, body)
		}
		if got := rec.requests(); len(got) != 0 {
			t.Fatalf("refused requests reached the pod: %s", got[0].URL)
		}

		status, code, body = s.Do(t, s.Admin(), http.MethodGet, p+"/stages/stage/?id=1&attempt=0", nil)
		if status != http.StatusOK || string(body) != "recorded" {
			t.Fatalf("GET through the route: HTTP %d %s %s", status, code, body)
		}
		got := rec.requests()
		if len(got) != 1 {
			t.Fatalf("the pod saw %d requests, want 1", len(got))
		}
		r := got[0]
		if r.URL.Path != "/stages/stage/" || r.URL.RawQuery != "attempt=0&id=1" && r.URL.RawQuery != "id=1&attempt=0" {
			t.Errorf("the pod was asked for %s", r.URL)
		}
		if r.Header.Get(liveui.ContextHeader) != p {
			t.Errorf("X-Forwarded-Context %q, want %q", r.Header.Get(liveui.ContextHeader), p)
		}
		for k := range r.Header {
			if k == "Authorization" || strings.HasPrefix(strings.ToLower(k), "x-amz") {
				t.Errorf("the caller's %s reached the pod", k)
			}
		}
	})

	t.Run("no UI", func(t *testing.T) {
		status, code, body := s.Do(t, s.Admin(), http.MethodGet, prefix(noUI)+"/jobs/", nil)
		if status != http.StatusBadRequest || code != "ValidationException" || !strings.Contains(string(body), "spark.ui.enabled=false") {
			t.Errorf("spark.ui.enabled=false: HTTP %d %s %s", status, code, body)
		}
		s.waitState(t, vc, live, emrtypes.JobRunStateCompleted, 2*time.Minute)
		status, code, body = s.Do(t, s.Admin(), http.MethodGet, prefix(live)+"/jobs/", nil)
		if status != http.StatusBadRequest || code != "ValidationException" ||
			!strings.Contains(string(body), "job run "+live+" is COMPLETED: the live Spark UI exists only while the run's driver runs") ||
			!strings.Contains(string(body), "sparkplane jobs ui") {
			t.Errorf("after the run ended: HTTP %d %s %s", status, code, body)
		}
	})
}

// send sends a request signed as Do signs it and returns the answer with its body unread,
// without following redirects; the body is closed when the test ends.
func (s *server) send(t *testing.T, key apitest.Key, method, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "emr-containers", s.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// recorder is a server standing in for a driver's UI that records what reaches it.
type recorder struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.seen...)
}

// recordUI points the driver port 4040 of a run's driver pod at a recorder on this host, in
// place of the emulator's stand-in UI, once kwok forwards there.
func recordUI(t *testing.T, env *testenv.Env, id string) *recorder {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/probe" {
			rec.mu.Lock()
			rec.seen = append(rec.seen, r.Clone(context.Background()))
			rec.mu.Unlock()
		}
		io.WriteString(w, "recorded")
	}))
	t.Cleanup(srv.Close)
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(p)
	ctx := context.Background()
	var pod = driverPods(t, "liveui", id)[0]
	forwards := env.Dynamic.Resource(kwokforward.Resource).Namespace(pod.Namespace)
	deadline := time.Now().Add(time.Minute)
	// The emulator makes the pod's PortForward object when it starts the stand-in UI; the
	// recorder takes the UI port over afterwards, and the emulator leaves it be.
	for {
		_, err := forwards.Get(ctx, pod.Name, metav1.GetOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			t.Fatalf("the emulator made no PortForward for %s: %v", pod.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := kwokforward.Forward(ctx, env.Dynamic, &pod, liveui.DefaultPort, "127.0.0.1", int32(port)); err != nil {
		t.Fatal(err)
	}
	d, err := portforward.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	target := liveui.Pod{Namespace: pod.Namespace, Name: pod.Name, Port: liveui.DefaultPort}
	for {
		// A connection of its own for each probe: until kwok sees the change it forwards to
		// the stand-in UI.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return d.DialPod(ctx, target) }}}
		resp, err := client.Get("http://driver/probe")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "recorded" {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kwok never forwarded %s:4040 to the recorder: %v", pod.Name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// runCLI runs a sparkplane command until ctx ends, and returns its output so far, the URL it
// printed on its first line, and its result.
func runCLI(t *testing.T, ctx context.Context, args ...string) (out func() string, url string, done <-chan error) {
	t.Helper()
	root := &cobra.Command{Use: "sparkplane", SilenceUsage: true}
	root.AddCommand(cli.Commands(cli.Options{})...)
	pr, pw := io.Pipe()
	var mu sync.Mutex
	var buf strings.Builder
	root.SetOut(pw)
	root.SetErr(pw)
	root.SetArgs(args)
	result := make(chan error, 1)
	go func() {
		err := root.ExecuteContext(ctx)
		pw.Close()
		result <- err
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			buf.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if _, u, ok := strings.Cut(sc.Text(), ": http://"); ok {
				urls <- "http://" + u
			}
		}
	}()
	out = func() string { mu.Lock(); defer mu.Unlock(); return buf.String() }
	select {
	case url = <-urls:
	case err := <-result:
		t.Fatalf("sparkplane %s ended: %v\n%s", strings.Join(args, " "), err, out())
	case <-time.After(time.Minute):
		t.Fatalf("sparkplane %s printed no URL in a minute:\n%s", strings.Join(args, " "), out())
	}
	return out, url, result
}
