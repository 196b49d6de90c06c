package logship

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sparkplane/sparkplane/internal/logship/s3bucket"
)

// trap is a point in an S3 call at which the proxy in front of the server holds the call
// until the shipper that made it is killed: before the server sees the request, or after
// the server has acted on it but before the shipper hears so.
type trap struct {
	call  string // "UploadPart" or "CompleteMultipartUpload"
	after bool
}

// trappingProxy forwards to S3 and springs its traps one after the other: a sprung trap is
// sent on sprung and holds its call until release is closed (the server cannot tell that a
// client whose request body it has not read is gone).
type trappingProxy struct {
	*httptest.Server
	mu      sync.Mutex
	traps   []trap
	sprung  chan trap
	release chan struct{}
	proxy   *httputil.ReverseProxy
	// down drops every connection, as a network that is out does.
	down atomic.Bool
}

func newTrappingProxy(t *testing.T, upstream string, traps ...trap) *trappingProxy {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &trappingProxy{traps: traps, sprung: make(chan trap, 1), release: make(chan struct{})}
	// The Host header stays the proxy's, which is what the shipper signed.
	p.proxy = httputil.NewSingleHostReverseProxy(u)
	p.proxy.ErrorLog = log.New(io.Discard, "", 0)
	p.proxy.ModifyResponse = func(resp *http.Response) error {
		if tr, release, ok := p.take(resp.Request, true); ok {
			p.sprung <- tr
			<-release
			return errors.New("the shipper was killed")
		}
		return nil
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		if tr, release, ok := p.take(r, false); ok {
			p.sprung <- tr
			<-release
			return
		}
		p.proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		p.mu.Lock()
		select {
		case <-p.release:
		default:
			close(p.release)
		}
		p.mu.Unlock()
		p.Close()
	})
	return p
}

// take springs the next trap if r is its call at that point.
func (p *trappingProxy) take(r *http.Request, after bool) (trap, chan struct{}, bool) {
	q := r.URL.Query()
	call := ""
	switch {
	case r.Method == http.MethodPut && q.Has("partNumber") && q.Has("uploadId"):
		call = "UploadPart"
	case r.Method == http.MethodPost && q.Has("uploadId"):
		call = "CompleteMultipartUpload"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.traps) == 0 || p.traps[0].call != call || p.traps[0].after != after {
		return trap{}, nil, false
	}
	tr := p.traps[0]
	p.traps = p.traps[1:]
	p.release = make(chan struct{})
	return tr, p.release, true
}

// TestShipKilledInCalls kills real shippers at the worst moments of their S3 calls: while a
// part is on its way, after S3 stored a part the shipper has not recorded, and after S3
// completed the upload the shipper has not recorded. Each restarted shipper must pick up from
// the saved state so that the object is the output exactly.
func TestShipKilledInCalls(t *testing.T) {
	srv := startS3(t)
	out := logText(24<<20, 61, true)
	dir := t.TempDir()
	w, err := openRotatingFile(dir, Stdout, 1<<20, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(out)
	_ = w.Close()
	if err := writeFileAtomic(filepath.Join(dir, ExitFile), []byte("0\n")); err != nil {
		t.Fatal(err)
	}
	traps := []trap{{"UploadPart", false}, {"UploadPart", true}, {"CompleteMultipartUpload", true}}
	proxy := newTrappingProxy(t, srv.endpoint, traps...)
	prefix := prefixFor(t)
	termLog := filepath.Join(t.TempDir(), "termination-log")
	run := func() (*exec.Cmd, *bytes.Buffer, chan error) {
		var errb bytes.Buffer
		cmd := exec.Command(sparkplane(t), "log-shipper", "--dir", dir, "--dest", "s3://"+testBucket+"/"+prefix,
			"--endpoint-url", proxy.URL, "--path-style", "--poll-interval", "50ms", "--termination-log", termLog)
		cmd.Env, cmd.Stderr = srv.env(), &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, &errb, done
	}
	for range traps {
		cmd, errb, done := run()
		select {
		case tr := <-proxy.sprung:
			_ = cmd.Process.Kill()
			<-done
			proxy.mu.Lock()
			close(proxy.release)
			proxy.mu.Unlock()
			st := readState(t, dir).Streams[Stdout]
			t.Logf("killed in %s (after S3 acted: %v): %d parts recorded", tr.call, tr.after, len(st.Parts))
		case err := <-done:
			t.Fatalf("the shipper ended before the trap: %v\n%s", err, errb)
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("no trap sprung\n%s", errb)
		}
	}
	_, errb, done := run()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("last shipper: %v\n%s", err, errb)
		}
	case <-time.After(time.Minute):
		t.Fatal("the last shipper did not end")
	}
	raw, ok := srv.get(t, prefix+"/"+StdoutObject)
	if !ok {
		t.Fatal("no stdout.gz")
	}
	if got := gunzip(t, raw); !bytes.Equal(got, out) {
		t.Fatalf("stdout.gz holds %d bytes, want %d", len(got), len(out))
	}
	t.Logf("the last shipper:\n%s", errb)
	msg := readTermination(t, termLog)
	if failed, _ := ParseTermination(msg); failed || strings.Contains(msg, "lost") || strings.Contains(errb.String(), "starting a new one") {
		t.Errorf("termination message %q\n%s", msg, errb)
	}
	if st := readState(t, dir).Streams[Stdout]; !st.Done || len(st.Parts) < 2 {
		t.Errorf("state %+v, want a multipart upload of several parts, done", st)
	}
	if left, _ := os.ReadDir(dir); len(left) > 6 {
		t.Errorf("left in the directory: %v", left)
	}
}

// TestShipOutage cuts the shipper off from S3 while the command runs: it must not give up,
// must say the failure in its termination message while it lasts, and once S3 is back must
// ship everything and say so.
func TestShipOutage(t *testing.T) {
	srv := startS3(t)
	proxy := newTrappingProxy(t, srv.endpoint)
	proxy.down.Store(true)
	out := logText(24<<20, 71, true)
	dir := t.TempDir()
	w, err := openRotatingFile(dir, Stdout, 1<<20, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(out[:16<<20])
	sh := newShipper(t, srv, dir)
	sh.retryMin, sh.retryMax = 50*time.Millisecond, 200*time.Millisecond
	sh.Bucket = s3bucket.New(s3.New(s3.Options{Region: srv.region, BaseEndpoint: aws.String(proxy.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.access, srv.secret, "")}), testBucket)
	done := make(chan Outcome)
	go func() { done <- sh.Run(context.Background()) }()
	waitFor(t, 2*time.Minute, "the failure in the termination message", func() bool {
		raw, _ := os.ReadFile(sh.TerminationLog)
		return strings.HasPrefix(string(raw), FailurePrefix+" to "+sh.uri(Stdout)+": ")
	})
	raw, _ := os.ReadFile(sh.TerminationLog)
	t.Logf("while S3 is out: %s", raw)
	proxy.down.Store(false)
	waitFor(t, 2*time.Minute, "a part once S3 is back", func() bool {
		var st shipState
		raw, err := os.ReadFile(filepath.Join(dir, StateFile))
		return err == nil && json.Unmarshal(raw, &st) == nil && len(st.Streams[Stdout].Parts) > 0
	})
	waitFor(t, 10*time.Second, "the failure to be cleared", func() bool {
		raw, _ := os.ReadFile(sh.TerminationLog)
		return strings.TrimSpace(string(raw)) == ""
	})
	_, _ = w.Write(out[16<<20:])
	_ = w.Close()
	if err := writeFileAtomic(filepath.Join(dir, ExitFile), []byte("0\n")); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.Failed || !strings.HasPrefix(readTermination(t, sh.TerminationLog), SuccessPrefix) {
		t.Fatalf("outcome %q", o.Message)
	}
	if got, _ := shipped(t, srv, sh, Stdout); !bytes.Equal(got, out) {
		t.Fatalf("stdout.gz holds %d bytes, want %d", len(got), len(out))
	}
}
