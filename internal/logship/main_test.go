package logship

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
	"github.com/sparkplane/sparkplane/internal/logship/s3bucket"
)

// The package's tests share one S3 server (versitygw from the tool cache, as the sandbox
// runs it) and one sparkplane binary, each started or built the first time a test needs it
// and stopped when the package's tests end. This file does not use internal/dev/sandbox's
// helpers so that the sandbox may import this package.

var (
	s3Once   sync.Once
	s3Srv    *testS3
	s3Err    error
	binOnce  sync.Once
	binPath  string
	binErr   error
	cleanups []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}

// testS3 is a running versitygw.
type testS3 struct {
	endpoint, region, access, secret string
	client                           *s3.Client
	proc                             *exec.Cmd
	log                              string
}

const testBucket = "logship-test"

// startS3 returns the package's S3 server, starting it the first time. A missing versitygw
// fails the test: the tool cache is part of the development setup.
func startS3(t testing.TB) *testS3 {
	t.Helper()
	s3Once.Do(func() { s3Srv, s3Err = launchS3() })
	if s3Err != nil {
		t.Fatalf("S3 server (versitygw) for the log shipper's tests: %v", s3Err)
	}
	return s3Srv
}

func launchS3() (*testS3, error) {
	tools, err := toolcache.Locate()
	if err != nil {
		return nil, fmt.Errorf("%w (the tests need versitygw: run make tools)", err)
	}
	dir, err := os.MkdirTemp("", "logship-s3-")
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	srv := &testS3{endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), region: "us-east-1",
		access: "LOGSHIPTESTKEY", secret: "logship-test-secret-key", log: filepath.Join(dir, "versitygw.log")}
	logFile, err := os.Create(srv.log)
	if err != nil {
		return nil, err
	}
	// The flags the sandbox gives it (internal/dev/sandbox.S3Spec).
	cmd := exec.Command(tools.Versitygw, "--port", fmt.Sprintf("127.0.0.1:%d", port), "--region", srv.region, "posix", data)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+srv.access, "ROOT_SECRET_KEY="+srv.secret)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = dir
	// Pdeathsig ends the server with the test binary even when a timeout panics past the
	// cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	_ = logFile.Close()
	srv.proc = cmd
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	cleanups = append(cleanups, func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	srv.client = s3.New(s3.Options{Region: srv.region, BaseEndpoint: aws.String(srv.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.access, srv.secret, "")})
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := srv.client.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("versitygw exited (log %s): %w", srv.log, err)
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("versitygw not ready (log %s): %w", srv.log, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := srv.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}
	return srv, nil
}

// bucket is the shipper's view of the test bucket, or of another name on the same server.
func (s *testS3) bucket(name string) *s3bucket.Bucket { return s3bucket.New(s.client, name) }

// env is the environment a shipper subprocess finds the server through: the SDK's own
// variables, and no flags.
func (s *testS3) env() []string {
	return append(os.Environ(), "AWS_ACCESS_KEY_ID="+s.access, "AWS_SECRET_ACCESS_KEY="+s.secret,
		"AWS_SESSION_TOKEN=", "AWS_REGION="+s.region, "AWS_ENDPOINT_URL_S3="+s.endpoint, "AWS_PROFILE=",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
		"SPARKPLANE_S3_PATH_STYLE=true")
}

// get returns the object's bytes, or nil and false when there is none.
func (s *testS3) get(t testing.TB, key string) ([]byte, bool) {
	t.Helper()
	out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") {
			return nil, false
		}
		t.Fatalf("get s3://%s/%s: %v", testBucket, key, err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw, true
}

// gunzip reads every member of a gzip stream as Go's reader does by default.
func gunzip(t testing.TB, raw []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

// gzipMembers counts the members of a gzip stream.
func gzipMembers(t testing.TB, raw []byte) int {
	t.Helper()
	br := bytes.NewReader(raw)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		n++
		if err := zr.Reset(br); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// sparkplane returns the sparkplane binary, built once from this tree.
func sparkplane(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "logship-bin-")
		if err != nil {
			binErr = err
			return
		}
		cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
		binPath = filepath.Join(dir, "sparkplane")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/sparkplane/sparkplane/cmd/sparkplane").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// logText returns n bytes of lines like a Spark executor's log, the same for the same seed;
// random mixes in hex that compresses poorly, so that the output spans several parts.
func logText(n int, seed uint64, random bool) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var b bytes.Buffer
	b.Grow(n + 256)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "25/01/%02d %02d:%02d:%02d INFO Executor: Finished task %d.0 in stage %d.0 (TID %d). %d bytes result sent to driver",
			1+i%28, i%24, i%60, r.IntN(60), r.IntN(4000), r.IntN(300), i, r.IntN(1<<20))
		if random {
			fmt.Fprintf(&b, " %016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:n]
}

// writeFile writes data to a new file in t's temporary directory.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
