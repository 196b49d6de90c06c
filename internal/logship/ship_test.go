package logship

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// testLog sends a component's log lines to the test's log.
func testLog(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// prefixFor is a test's own prefix in the test bucket, in EMR's layout.
func prefixFor(t testing.TB) string {
	_, prefix, err := ContainerPrefix("s3://"+testBucket+"/logs/", "vc", "job", "spark-app", strings.ReplaceAll(t.Name(), "/", "-"))
	if err != nil {
		t.Fatal(err)
	}
	return prefix
}

// newShipper is an in-process shipper on the test bucket with a short poll.
func newShipper(t testing.TB, srv *testS3, dir string) *Shipper {
	return &Shipper{Dir: dir, Bucket: srv.bucket(testBucket), Prefix: prefixFor(t), PollInterval: 50 * time.Millisecond,
		DrainTimeout: 20 * time.Second, TerminationLog: filepath.Join(t.TempDir(), "termination-log"), Log: testLog(t)}
}

// shipped returns the stream's object, decompressed, and its member count.
func shipped(t testing.TB, srv *testS3, sh *Shipper, stream string) ([]byte, int) {
	t.Helper()
	raw, ok := srv.get(t, sh.key(stream))
	if !ok {
		t.Fatalf("no object %s", sh.uri(stream))
	}
	return gunzip(t, raw), gzipMembers(t, raw)
}

func readState(t testing.TB, dir string) shipState {
	t.Helper()
	var st shipState
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func readTermination(t testing.TB, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("termination message: %v", err)
	}
	if len(raw) > MaxTerminationMessage {
		t.Errorf("termination message of %d bytes", len(raw))
	}
	return strings.TrimSuffix(string(raw), "\n")
}

// TestShipInProcess runs the wrapper and the shipper side by side, as in a pod: stdout is
// large enough for a multipart upload of several parts, stderr small enough for one put. The
// objects must hold the output exactly, as gzip streams of several members that Go's reader
// and gzip -d both read as one, and the directory must be left with nothing to ship.
func TestShipInProcess(t *testing.T) {
	srv := startS3(t)
	out := logText(24<<20, 11, true)
	errOut := logText(3<<20, 12, false)
	outFile, errFile := writeFile(t, "out", out), writeFile(t, "err", errOut)
	dir := t.TempDir()
	sh := newShipper(t, srv, dir)
	done := make(chan Outcome)
	go func() { done <- sh.Run(context.Background()) }()
	// Paced, so that the shipper takes files while the command still writes.
	script := fmt.Sprintf("i=0; while [ $i -lt 24 ]; do dd if=%s bs=1M skip=$i count=1 2>/dev/null; i=$((i+1)); sleep 0.02; done; cat %s >&2",
		shellQuote(outFile), shellQuote(errFile))
	code, console, _ := wrap(t, dir, 1<<20, 50, "sh", "-c", script)
	if code != 0 || !bytes.Equal(console, out) {
		t.Fatalf("wrapper: code %d, %d bytes on the console", code, len(console))
	}
	o := <-done
	if o.Failed {
		t.Fatalf("outcome: %s", o.Message)
	}
	gotOut, members := shipped(t, srv, sh, Stdout)
	if !bytes.Equal(gotOut, out) {
		t.Fatalf("stdout.gz holds %d bytes, not the %d written", len(gotOut), len(out))
	}
	if members < 24 {
		t.Errorf("stdout.gz has %d gzip members, want one per rotated file at least", members)
	}
	if gotErr, _ := shipped(t, srv, sh, Stderr); !bytes.Equal(gotErr, errOut) {
		t.Fatalf("stderr.gz holds %d bytes, not the %d written", len(gotErr), len(errOut))
	}
	st := readState(t, dir)
	if p := st.Streams[Stdout].Parts; len(p) < 2 || !st.Streams[Stdout].Done {
		t.Errorf("stdout went up in %d parts, want a multipart upload", len(p))
	}
	if st.Streams[Stderr].UploadID != "" || !st.Streams[Stderr].Done {
		t.Errorf("stderr state %+v, want one put", st.Streams[Stderr])
	}
	want := fmt.Sprintf("%s stdout %d bytes to %s, stderr %d bytes to %s", SuccessPrefix, len(out), sh.uri(Stdout), len(errOut), sh.uri(Stderr))
	if msg := readTermination(t, sh.TerminationLog); msg != want || o.Message != want {
		t.Errorf("termination message %q\nwant %q", msg, want)
	}
	if failed, detail := ParseTermination(want); failed || detail != want {
		t.Errorf("ParseTermination = %v, %q", failed, detail)
	}
	// gzip(1) reads the concatenated members as one stream too.
	raw, _ := srv.get(t, sh.key(Stdout))
	zcat := exec.Command("gzip", "-dc")
	zcat.Stdin = bytes.NewReader(raw)
	if z, err := zcat.Output(); err != nil || !bytes.Equal(z, out) {
		t.Errorf("gzip -dc: %v, %d bytes", err, len(z))
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*.0*"))
	parts, _ := filepath.Glob(filepath.Join(dir, ".ship-*"))
	if len(left)+len(parts) > 0 {
		t.Errorf("left in the directory: %v %v", left, parts)
	}
}

// TestShipEmptyStreams checks that a command with no output gets two valid, empty gzip
// objects, so that scripts find both.
func TestShipEmptyStreams(t *testing.T) {
	srv := startS3(t)
	dir := t.TempDir()
	if code, _, _ := wrap(t, dir, MinRotationSize, 1, "true"); code != 0 {
		t.Fatal(code)
	}
	sh := newShipper(t, srv, dir)
	if o := sh.Run(context.Background()); o.Failed {
		t.Fatal(o.Message)
	}
	for _, stream := range streamNames {
		if got, _ := shipped(t, srv, sh, stream); len(got) != 0 {
			t.Errorf("%s holds %q", stream, got)
		}
	}
	if msg := readTermination(t, sh.TerminationLog); !strings.Contains(msg, "stdout 0 bytes to "+sh.uri(Stdout)) {
		t.Errorf("termination message %q", msg)
	}
	// A second shipper (the kubelet restarting the sidecar) finds it all done and says so
	// again without writing anything.
	before, _ := srv.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(sh.key(Stdout))})
	sh2 := newShipper(t, srv, dir)
	if o := sh2.Run(context.Background()); o.Failed || o.Message != readTermination(t, sh.TerminationLog) {
		t.Errorf("restarted: %q", o.Message)
	}
	after, _ := srv.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(sh.key(Stdout))})
	if aws.ToString(before.ETag) != aws.ToString(after.ETag) || !aws.ToTime(before.LastModified).Equal(aws.ToTime(after.LastModified)) {
		t.Error("the restarted shipper wrote the object again")
	}
}

// TestShipDropped stops nothing but starts the shipper late: the wrapper keeps only the
// newest files, and the shipper ships what is left and says how much was rotated away.
func TestShipDropped(t *testing.T) {
	srv := startS3(t)
	out := logText(2<<20, 21, false)
	dir := t.TempDir()
	src := writeFile(t, "out", out)
	if code, _, _ := wrap(t, dir, 64<<10, 5, "sh", "-c", "cat "+shellQuote(src)+"; echo err >&2"); code != 0 {
		t.Fatal(code)
	}
	ws, _ := readWrapState(dir, Stdout)
	if ws.DroppedBytes == 0 {
		t.Fatal("nothing was dropped")
	}
	sh := newShipper(t, srv, dir)
	o := sh.Run(context.Background())
	if o.Failed {
		t.Fatal(o.Message)
	}
	if got, _ := shipped(t, srv, sh, Stdout); !bytes.Equal(got, out[ws.DroppedBytes:]) {
		t.Errorf("stdout.gz holds %d bytes, want the last %d", len(got), len(out)-int(ws.DroppedBytes))
	}
	note := fmt.Sprintf("; %d bytes of stdout were rotated away before they could be shipped", ws.DroppedBytes)
	if msg := readTermination(t, sh.TerminationLog); !strings.HasPrefix(msg, SuccessPrefix) || !strings.HasSuffix(msg, note) {
		t.Errorf("termination message %q, want it to end %q", msg, note)
	}
	if o.Streams[0].DroppedBytes != ws.DroppedBytes || o.Streams[1].DroppedBytes != 0 {
		t.Errorf("outcome %+v", o.Streams)
	}
}

// TestShipNoSuchUpload aborts the shipper's upload behind its back: it must start a new one
// with what is still on disk, ship the rest exactly, and say how much was lost.
func TestShipNoSuchUpload(t *testing.T) {
	srv := startS3(t)
	out := logText(40<<20, 31, true)
	dir := t.TempDir()
	w, err := openRotatingFile(dir, Stdout, 1<<20, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(out[:24<<20])
	sh := newShipper(t, srv, dir)
	done := make(chan Outcome)
	go func() { done <- sh.Run(context.Background()) }()
	var st shipState
	waitFor(t, time.Minute, "a part", func() bool {
		raw, err := os.ReadFile(filepath.Join(dir, StateFile))
		return err == nil && json.Unmarshal(raw, &st) == nil && len(st.Streams[Stdout].Parts) > 0
	})
	if _, err := srv.client.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: aws.String(testBucket),
		Key: aws.String(sh.key(Stdout)), UploadId: aws.String(st.Streams[Stdout].UploadID)}); err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(out[24<<20:])
	_ = w.Close()
	if err := writeFileAtomic(filepath.Join(dir, ExitFile), []byte("0\n")); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.Failed {
		t.Fatal(o.Message)
	}
	lost := o.Streams[0].LostBytes
	if lost == 0 {
		t.Fatal("nothing lost")
	}
	if got, _ := shipped(t, srv, sh, Stdout); !bytes.Equal(got, out[lost:]) {
		t.Errorf("stdout.gz holds %d bytes, want the last %d", len(got), int64(len(out))-lost)
	}
	note := fmt.Sprintf("%d bytes of stdout were lost when S3 forgot its multipart upload (NoSuchUpload)", lost)
	if !strings.Contains(o.Message, note) {
		t.Errorf("message %q lacks %q", o.Message, note)
	}
}

// TestShipStopWhileWriting stops the shipper (SIGTERM in a pod) while the command still
// writes and rotates fast: it must ship a valid prefix of the output, each byte once.
func TestShipStopWhileWriting(t *testing.T) {
	srv := startS3(t)
	chunk := writeFile(t, "chunk", logText(100<<10, 41, false))
	dir := t.TempDir()
	sh := newShipper(t, srv, dir)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan Outcome)
	go func() { done <- sh.Run(ctx) }()
	var console []byte
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, console, _ = wrap(t, dir, 64<<10, 50, "sh", "-c", "i=0; while [ $i -lt 200 ]; do cat "+shellQuote(chunk)+"; sleep 0.02; i=$((i+1)); done")
	}()
	time.Sleep(1500 * time.Millisecond)
	stop()
	o := <-done
	wg.Wait()
	if o.Failed {
		t.Fatal(o.Message)
	}
	if d := o.Streams[0].DroppedBytes; d > 0 {
		t.Fatalf("the wrapper dropped %d bytes before the stop: the test writes too fast for this machine", d)
	}
	got, _ := shipped(t, srv, sh, Stdout)
	if len(got) == 0 || len(got) >= len(console) || !bytes.Equal(got, console[:len(got)]) {
		n := 0
		for n < len(got) && got[n] == console[n] {
			n++
		}
		t.Errorf("shipped %d bytes of %d, want a proper prefix of the output; they differ from byte %d", len(got), len(console), n)
	}
	if o.Streams[0].Bytes != int64(len(got)) {
		t.Errorf("outcome says %d bytes, object holds %d", o.Streams[0].Bytes, len(got))
	}
}

// runWrapper starts the binary's log-wrap on dir with a script.
func runWrapper(t *testing.T, dir, rotation, maxFiles, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(sparkplane(t), "log-wrap", "--dir", dir, "--rotation-size", rotation, "--max-files", maxFiles, "--", "sh", "-c", script)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestShipKilled runs both commands as real processes and kills the shipper with SIGKILL
// again and again while it ships (the kubelet restarting a crashed sidecar): each new one
// must resume the same upload, and the object must be the output exactly, without a byte
// lost or twice. The shipper finds S3 through the SDK's environment alone.
func TestShipKilled(t *testing.T) {
	srv := startS3(t)
	out := logText(30<<20, 51, true)
	src := writeFile(t, "out", out)
	dir := t.TempDir()
	prefix := prefixFor(t)
	termLog := filepath.Join(t.TempDir(), "termination-log")
	wrapper := runWrapper(t, dir, "256KB", "50",
		fmt.Sprintf("i=0; while [ $i -lt 60 ]; do dd if=%s bs=512K skip=$i count=1 2>/dev/null; i=$((i+1)); sleep 0.05; done", shellQuote(src)))
	start := func() (*exec.Cmd, *bytes.Buffer) {
		var errb bytes.Buffer
		cmd := exec.Command(sparkplane(t), "log-shipper", "--dir", dir, "--dest", "s3://"+testBucket+"/"+prefix,
			"--poll-interval", "50ms", "--termination-log", termLog)
		cmd.Env = srv.env()
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &errb
	}
	kills := 0
	for i := 0; ; i++ {
		shipper, errb := start()
		if i == 6 {
			if err := wrapper.Wait(); err != nil {
				t.Fatalf("wrapper: %v", err)
			}
			waited := make(chan error)
			go func() { waited <- shipper.Wait() }()
			select {
			case err := <-waited:
				if err != nil {
					t.Fatalf("last shipper: %v\n%s", err, errb)
				}
			case <-time.After(time.Minute):
				_ = shipper.Process.Kill()
				t.Fatalf("the last shipper did not end after the command exited\n%s", errb)
			}
			break
		}
		time.Sleep(time.Duration(250+97*i) * time.Millisecond)
		if err := shipper.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = shipper.Wait()
		kills++
		if raw, err := os.ReadFile(filepath.Join(dir, StateFile)); err == nil {
			var st shipState
			_ = json.Unmarshal(raw, &st)
			t.Logf("killed shipper %d: stdout %d parts, next seq %d, %d bytes in the buffer", i, len(st.Streams[Stdout].Parts),
				st.Streams[Stdout].NextSeq, st.Streams[Stdout].BufferBytes)
		}
	}
	st := readState(t, dir)
	if kills < 6 || len(st.Streams[Stdout].Parts) < 3 {
		t.Errorf("%d kills, %d parts: the test did not kill a shipper mid-upload", kills, len(st.Streams[Stdout].Parts))
	}
	ws, _ := readWrapState(dir, Stdout)
	if ws.DroppedBytes != 0 {
		t.Fatalf("the wrapper dropped %d bytes: the test paces too fast", ws.DroppedBytes)
	}
	raw, ok := srv.get(t, prefix+"/"+StdoutObject)
	if !ok {
		t.Fatal("no stdout.gz")
	}
	if got := gunzip(t, raw); !bytes.Equal(got, out) {
		n := 0
		for n < min(len(got), len(out)) && got[n] == out[n] {
			n++
		}
		t.Fatalf("stdout.gz holds %d bytes, want %d; they differ from byte %d", len(got), len(out), n)
	}
	msg := readTermination(t, termLog)
	if failed, _ := ParseTermination(msg); failed || !strings.Contains(msg, fmt.Sprintf("stdout %d bytes", len(out))) {
		t.Errorf("termination message %q", msg)
	}
}

// TestShipFailures points real shippers at a bucket that does not exist, at wrong keys and at
// no server: the job's own exit code is untouched, the shipper exits 0 within its drain
// timeout, and the termination message starts with FailurePrefix, names the object and the
// error, and holds no credential.
func TestShipFailures(t *testing.T) {
	srv := startS3(t)
	for _, tc := range []struct {
		name, bucket, endpoint, secret string
		want                           string
	}{
		{"no such bucket", "no-such-bucket-here", srv.endpoint, srv.secret, "NoSuchBucket: "},
		{"wrong secret", testBucket, srv.endpoint, "not-the-secret-key", "SignatureDoesNotMatch: "},
		{"no server", testBucket, "http://127.0.0.1:1", srv.secret, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			termLog := filepath.Join(t.TempDir(), "termination-log")
			wrapper := runWrapper(t, dir, "2KB", "5", "echo to stdout; echo to stderr >&2; exit 0")
			var errb bytes.Buffer
			env := append(srv.env(), "AWS_SECRET_ACCESS_KEY="+tc.secret, "AWS_ENDPOINT_URL_S3=", "SPARKPLANE_S3_PATH_STYLE=")
			shipper := exec.Command(sparkplane(t), "log-shipper", "--dir", dir, "--dest", "s3://"+tc.bucket+"/logs/vc/jobs/j/containers/a/p",
				"--endpoint-url", tc.endpoint, "--path-style", "--drain-timeout", "4s", "--poll-interval", "50ms", "--termination-log", termLog)
			shipper.Env, shipper.Stderr = env, &errb
			start := time.Now()
			if err := shipper.Start(); err != nil {
				t.Fatal(err)
			}
			if err := wrapper.Wait(); err != nil {
				t.Errorf("the job's command failed: %v", err)
			}
			if err := shipper.Wait(); err != nil {
				t.Errorf("shipper: %v\n%s", err, errb.String())
			}
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("the shipper took %s", took)
			}
			msg := readTermination(t, termLog)
			prefix := FailurePrefix + " to s3://" + tc.bucket + "/logs/vc/jobs/j/containers/a/p/stdout.gz: "
			if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("termination message %q\nwant %q...%q", msg, prefix, tc.want)
			}
			for _, secret := range []string{srv.access, srv.secret, tc.secret} {
				if strings.Contains(msg, secret) || strings.Contains(errb.String(), secret) {
					t.Errorf("a credential is in the output: %q", msg)
				}
			}
			if failed, detail := ParseTermination(msg); !failed || detail != msg {
				t.Errorf("ParseTermination(%q) = %v, %q", msg, failed, detail)
			}
			if !strings.Contains(errb.String(), "level=ERROR msg=\""+prefix) {
				t.Errorf("no structured failure line on stderr:\n%s", errb.String())
			}
		})
	}
}

// TestShipperBadDest checks that a shipper given a destination it cannot use says so and
// waits for the command to end rather than exit (and be restarted in a loop by the kubelet).
func TestShipperBadDest(t *testing.T) {
	dir := t.TempDir()
	termLog := filepath.Join(t.TempDir(), "termination-log")
	cmd := exec.Command(sparkplane(t), "log-shipper", "--dir", dir, "--dest", "https://not-s3/x", "--termination-log", termLog)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the termination message", func() bool { return exists(termLog) })
	time.Sleep(300 * time.Millisecond)
	if cmd.ProcessState != nil {
		t.Fatal("the shipper exited before the command did")
	}
	_ = writeFileAtomic(filepath.Join(dir, ExitFile), []byte("0\n"))
	if err := cmd.Wait(); err != nil {
		t.Errorf("shipper: %v", err)
	}
	want := FailurePrefix + ` to https://not-s3/x: --dest: "https://not-s3/x" is not an s3:// URI`
	if msg := readTermination(t, termLog); msg != want {
		t.Errorf("termination message %q, want %q", msg, want)
	}
}

// TestShipDamagedState gives the shipper a state file it cannot read: it must start afresh
// and ship what is on disk rather than give up.
func TestShipDamagedState(t *testing.T) {
	srv := startS3(t)
	dir := t.TempDir()
	if code, _, _ := wrap(t, dir, MinRotationSize, 1, "sh", "-c", "echo hello; echo world >&2"); code != 0 {
		t.Fatal(code)
	}
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte(`{"version":1,"streams":{"stdout":`), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := newShipper(t, srv, dir)
	if o := sh.Run(context.Background()); o.Failed {
		t.Fatal(o.Message)
	}
	if got, _ := shipped(t, srv, sh, Stdout); string(got) != "hello\n" {
		t.Errorf("stdout.gz holds %q", got)
	}
	if got, _ := shipped(t, srv, sh, Stderr); string(got) != "world\n" {
		t.Errorf("stderr.gz holds %q", got)
	}
}
