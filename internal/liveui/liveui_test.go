package liveui_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkplane/sparkplane/internal/dev/kwokforward"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/liveui"
	"github.com/sparkplane/sparkplane/internal/liveui/portforward"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

const prefix = "/virtualclusters/vc0123/jobruns/run0123/sparkui"

// bigSize is the body of /big: larger than any buffer on the way, so that it arrives only if
// it is streamed.
const bigSize = 32 << 20

// uiServer stands in for a driver's Spark UI: a real HTTP server that records what reached
// it and answers as Spark does where it matters to a proxy.
type uiServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []*http.Request
	// released lets /big write its second half; the test releases it once it has read the
	// first half through the proxy, which it can only do if the proxy streams.
	released chan struct{}
}

func startUI(t *testing.T) *uiServer {
	t.Helper()
	u := &uiServer{released: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		// JettyUtils.createRedirectHandler: an absolute URL on the request's host, without
		// the proxy base.
		http.Redirect(w, r, "http://"+r.Host+"/jobs/", http.StatusFound)
	})
	mux.HandleFunc("/jobs/", func(w http.ResponseWriter, r *http.Request) {
		root := r.Header.Get(liveui.ContextHeader) // UIUtils.uiRoot
		w.Header().Set("Set-Cookie", "JSESSIONID=abc; Path=/")
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		fmt.Fprintf(w, `<html><head><link rel="stylesheet" href="%s/static/webui.css"/></head><body><a href="%s/stages/">Stages</a></body></html>`, root, root)
	})
	mux.HandleFunc("/stages", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/stages/", http.StatusFound) // Jetty's redirect to the context path's slash
	})
	mux.HandleFunc("/docs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://spark.apache.org/docs/latest/", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		chunk := bytes.Repeat([]byte("spark"), 64<<10/5+1)[:64<<10]
		rc := http.NewResponseController(w)
		for written := 0; written < bigSize; written += len(chunk) {
			if written == bigSize/2 {
				_ = rc.Flush()
				select {
				case <-u.released:
				case <-time.After(30 * time.Second):
					return // the proxy held the first half back: the body ends short
				}
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Clone(context.Background()))
		u.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *uiServer) requests() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.seen...)
}

func (u *uiServer) port(t *testing.T) int {
	t.Helper()
	_, p, _ := net.SplitHostPort(u.Listener.Addr().String())
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// callerHeaders are what a signed API request carries that must never reach a pod.
var callerHeaders = map[string]string{
	"Authorization":        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/emr-containers/aws4_request, SignedHeaders=host, Signature=abc",
	"X-Amz-Date":           "20240101T000000Z",
	"X-Amz-Security-Token": "session-token",
	"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
	"Cookie":               "session=secret",
	"Proxy-Authorization":  "Basic c2VjcmV0",
	"Keep-Alive":           "timeout=5",
	"Te":                   "trailers",
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range callerHeaders {
		req.Header.Set(k, v)
	}
	req.Header.Set("Accept-Language", "fr")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestProxyThroughPortForward reaches a UI through the API server's pods/portforward of a
// kwok pod (kwok forwards the pod's port 4040 to a real server on this host): links and
// redirects come back under the route, Spark learns the route from X-Forwarded-Context, the
// caller's credentials never reach the pod, a large body streams, and what the live UI does
// not forward never reaches the pod.
func TestProxyThroughPortForward(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	ui := startUI(t)
	pod := runPod(t, env.Client, ensureNode(t, env.Client), "liveui-forwarded")
	if err := kwokforward.Forward(ctx, env.Dynamic, pod, liveui.DefaultPort, "127.0.0.1", int32(ui.port(t))); err != nil {
		t.Fatal(err)
	}
	dialer, err := portforward.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dialer.Close() })
	target := liveui.Pod{Cluster: "test", Namespace: pod.Namespace, Name: pod.Name, IP: pod.Status.PodIP, Port: liveui.DefaultPort}
	var failures []error
	var failMu sync.Mutex
	proxy := &liveui.Proxy{Transport: liveui.NewTransport(dialer), Pod: target, Prefix: prefix,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			failMu.Lock()
			failures = append(failures, err)
			failMu.Unlock()
			http.Error(w, err.Error(), http.StatusBadGateway)
		}}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	waitForwarded(t, env, front.URL+prefix+"/jobs/")

	t.Run("page", func(t *testing.T) {
		before := len(ui.requests())
		resp := get(t, front.URL+prefix+"/jobs/?id=3&x=a%2Fb")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /jobs/: HTTP %d %s", resp.StatusCode, body)
		}
		for _, want := range []string{`href="` + prefix + `/static/webui.css"`, `href="` + prefix + `/stages/"`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("page lacks %s:\n%s", want, body)
			}
		}
		if c := resp.Header.Get("Set-Cookie"); c != "" {
			t.Errorf("the pod's Set-Cookie %q reached the client", c)
		}
		if c := resp.Header.Get("X-Amzn-Errortype"); c != "" {
			t.Errorf("the pod's X-Amzn-Errortype %q reached the client", c)
		}
		seen := ui.requests()[before:]
		if len(seen) != 1 {
			t.Fatalf("the UI saw %d requests, want 1", len(seen))
		}
		r := seen[0]
		if r.URL.Path != "/jobs/" || r.URL.RawQuery != "id=3&x=a%2Fb" {
			t.Errorf("the UI was asked for %s?%s, want /jobs/?id=3&x=a%%2Fb", r.URL.Path, r.URL.RawQuery)
		}
		if got := r.Header.Get(liveui.ContextHeader); got != prefix {
			t.Errorf("X-Forwarded-Context %q, want %q", got, prefix)
		}
		if got := r.Header.Get("Accept-Language"); got != "fr" {
			t.Errorf("Accept-Language %q did not pass", got)
		}
		for k := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "x-amz") {
				t.Errorf("the caller's %s reached the pod", k)
			}
		}
		for k := range callerHeaders {
			if v := r.Header.Get(k); v != "" {
				t.Errorf("the caller's %s: %q reached the pod", k, v)
			}
		}
		if r.Header.Get("Connection") != "" || r.Header.Get("Keep-Alive") != "" {
			t.Errorf("hop-by-hop headers reached the pod: %v", r.Header)
		}
	})

	t.Run("redirects", func(t *testing.T) {
		for _, tc := range []struct{ path, want string }{
			{"/", prefix + "/jobs/"},         // Spark's "/" to "/jobs/": absolute, on the driver's host
			{"/stages", prefix + "/stages/"}, // a path on the driver
			{"/docs", "https://spark.apache.org/docs/latest/"},
		} {
			resp := get(t, front.URL+prefix+tc.path)
			if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tc.want {
				t.Errorf("GET %s: HTTP %d Location %q, want 302 to %q", tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.want)
			}
		}
	})

	t.Run("streams a large body", func(t *testing.T) {
		resp := get(t, front.URL+prefix+"/big")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /big: HTTP %d", resp.StatusCode)
		}
		first := make([]byte, bigSize/2)
		if _, err := io.ReadFull(resp.Body, first); err != nil {
			t.Fatalf("the first half of the body did not arrive before the UI wrote the rest: %v", err)
		}
		close(ui.released)
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n != bigSize/2 {
			t.Errorf("second half: %d bytes, %v; want %d", n, err, bigSize/2)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		before := len(ui.requests())
		for _, tc := range []struct{ method, path string }{
			{http.MethodPost, "/jobs/"}, {http.MethodPut, "/jobs/"}, {http.MethodDelete, "/jobs/"},
			{http.MethodGet, "/jobs/job/kill/?id=0"}, {http.MethodGet, "/stages/stage/kill?id=1&terminate=true"},
			{http.MethodGet, "/jobs/job/%6Bill/?id=0"}, {http.MethodGet, "/jobs/job/kill;x=y?id=0"}, {http.MethodHead, "/jobs/job%2Fkill"},
		} {
			req, _ := http.NewRequest(tc.method, front.URL+prefix+tc.path, nil)
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var refused *liveui.RefusedError
			failMu.Lock()
			last := failures[len(failures)-1]
			failMu.Unlock()
			if resp.StatusCode != http.StatusBadGateway || !errors.As(last, &refused) {
				t.Errorf("%s %s: HTTP %d, last error %v; want it refused", tc.method, tc.path, resp.StatusCode, last)
			}
		}
		if got := ui.requests()[before:]; len(got) != 0 {
			t.Errorf("refused requests reached the pod: %s %s", got[0].Method, got[0].URL)
		}
	})

	t.Run("nothing on the port", func(t *testing.T) {
		p := *proxy
		p.Pod.Port = 4041 // kwok has no forward for it: the kubelet says so on the error stream
		other := httptest.NewServer(&p)
		t.Cleanup(other.Close)
		resp := get(t, other.URL+prefix+"/jobs/")
		var unreachable *liveui.UnreachableError
		failMu.Lock()
		last := failures[len(failures)-1]
		failMu.Unlock()
		if resp.StatusCode != http.StatusBadGateway || !errors.As(last, &unreachable) || !strings.Contains(last.Error(), "forwarding port 4041") {
			t.Errorf("port 4041: HTTP %d, %v; want an UnreachableError naming the port", resp.StatusCode, last)
		}
	})
}

// TestDirectDialer reaches a UI at its pod IP, here a real listener on 127.0.0.1.
func TestDirectDialer(t *testing.T) {
	ui := startUI(t)
	pod := liveui.Pod{Cluster: "test", Namespace: "ns", Name: "driver", IP: "127.0.0.1", Port: ui.port(t)}
	front := httptest.NewServer(&liveui.Proxy{Transport: liveui.NewTransport(&liveui.Direct{}), Pod: pod, Prefix: prefix})
	t.Cleanup(front.Close)
	resp := get(t, front.URL+prefix+"/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != prefix+"/jobs/" {
		t.Fatalf("GET /: HTTP %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = get(t, front.URL+prefix+"/jobs/")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), prefix+"/stages/") {
		t.Fatalf("GET /jobs/: HTTP %d %s", resp.StatusCode, body)
	}
	if h := ui.requests()[1].Header; h.Get(liveui.ContextHeader) != prefix || h.Get("Authorization") != "" {
		t.Errorf("headers at the pod: %v", h)
	}

	_, err := (&liveui.Direct{}).DialPod(context.Background(), liveui.Pod{Namespace: "ns", Name: "pending", Port: 4040})
	if err == nil || !strings.Contains(err.Error(), "has no IP yet") {
		t.Errorf("dial a pod without an IP: %v", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	_, p, _ := net.SplitHostPort(closed.Listener.Addr().String())
	port, _ := strconv.Atoi(p)
	_, err = (&liveui.Direct{}).DialPod(context.Background(), liveui.Pod{Namespace: "ns", Name: "driver", IP: "127.0.0.1", Port: port})
	if err == nil || !strings.Contains(err.Error(), "ns/driver:"+p) {
		t.Errorf("dial a closed port: %v", err)
	}
}

func TestRefuse(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		refused      bool
	}{
		{http.MethodGet, "/jobs/", false},
		{http.MethodHead, "/static/webui.css", false},
		{http.MethodGet, "/api/v1/applications/app-1/jobs", false},
		{http.MethodGet, "/jobs/job/?id=1", false},
		{http.MethodGet, "/killer/", false},
		{http.MethodPost, "/jobs/", true},
		{http.MethodOptions, "/", true},
		{http.MethodGet, "/jobs/job/kill/", true},
		{http.MethodGet, "/stages/stage/kill", true},
		{http.MethodGet, "/stages/stage/KILL", true},
		{http.MethodGet, "/jobs/job/k%69ll/", true},
		{http.MethodGet, "/jobs/job/kill;jsessionid=1", true},
		{http.MethodGet, "/jobs/job%2Fkill", true},
		{http.MethodGet, "/jobs/%zz", true},
	} {
		err := liveui.Refuse(tc.method, tc.path)
		if (err != nil) != tc.refused {
			t.Errorf("Refuse(%s %s) = %v, want refused %v", tc.method, tc.path, err, tc.refused)
		}
	}
}

// waitForwarded waits until kwok has seen the pod's PortForward object, which it learns of by
// a watch.
func waitForwarded(t *testing.T, env *testenv.Env, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered through the port-forward (last %v)\nkwok controller log:\n%s", url, err, componentLog(env, "kwok-controller"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

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

func ensureNode(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	name := "liveui-test-node"
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
func runPod(t *testing.T, client kubernetes.Interface, node, name string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "spark-kubernetes-driver", Image: "spark:unused"}}}}
	pods := client.CoreV1().Pods(pod.Namespace)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pods.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	deadline := time.Now().Add(time.Minute)
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
