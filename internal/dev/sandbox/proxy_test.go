package sandbox_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
)

// TestProxy: requests alternate between the replicas, keep the client's Host header (SigV4
// signs it) and body, and skip a replica that refuses connections without failing the call.
func TestProxy(t *testing.T) {
	var mu sync.Mutex
	served := map[string]int{}
	replica := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			served[name]++
			mu.Unlock()
			io.WriteString(w, name+" "+r.Host+" "+string(body))
		}))
	}
	a, b := replica("a"), replica("b")
	defer a.Close()
	defer b.Close()
	// A port nothing listens on: a replica that was killed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	p, err := sandbox.NewProxy([]string{a.URL, dead, b.URL})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	const calls = 30
	for i := range calls {
		req, _ := http.NewRequest(http.MethodPost, front.URL+"/virtualclusters", strings.NewReader("body"))
		req.Host = "api.example:8790"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(string(got), " api.example:8790 body") {
			t.Fatalf("call %d: %d %q, want the replica to see the client's Host and body", i, resp.StatusCode, got)
		}
	}
	// Of three turns, the dead replica's goes to the next live one: a gets 1 in 3, b 2 in 3.
	if served["a"]+served["b"] != calls || served["a"] != calls/3 || served["b"] != 2*calls/3 {
		t.Errorf("served %v, want a %d and b %d", served, calls/3, 2*calls/3)
	}

	if _, err := sandbox.NewProxy(nil); err == nil {
		t.Error("a proxy without backends was accepted")
	}
	if _, err := sandbox.NewProxy([]string{"127.0.0.1:80"}); err == nil {
		t.Error("a backend without scheme was accepted")
	}
}
