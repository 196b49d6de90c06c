package logship

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wrap runs command under an in-process Wrapper and returns its code and what reached the
// console.
func wrap(t *testing.T, dir string, size int64, maxFiles int, command ...string) (int, []byte, []byte) {
	t.Helper()
	var out, errb bytes.Buffer
	w := &Wrapper{Dir: dir, RotationSize: size, MaxFiles: maxFiles, Stdout: &out, Stderr: &errb}
	if err := w.Validate(command); err != nil {
		t.Fatal(err)
	}
	code := w.Run(command)
	return code, out.Bytes(), errb.Bytes()
}

func readExit(t *testing.T, dir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, ExitFile))
	if err != nil {
		t.Fatalf("exit file: %v", err)
	}
	return string(raw)
}

// TestWrapperStreams runs a shell that writes to both streams, interleaved, and checks that
// each stream reaches the console and its file unchanged and in order.
func TestWrapperStreams(t *testing.T) {
	dir := t.TempDir()
	script := `for i in $(seq 1 2000); do echo "out $i"; echo "err $i" >&2; done; printf 'no newline at the end'`
	code, out, errb := wrap(t, dir, 4096, 50, "sh", "-c", script)
	var wantOut, wantErr strings.Builder
	for i := 1; i <= 2000; i++ {
		wantOut.WriteString("out " + itoa(i) + "\n")
		wantErr.WriteString("err " + itoa(i) + "\n")
	}
	wantOut.WriteString("no newline at the end")
	if code != 0 || readExit(t, dir) != "0\n" {
		t.Errorf("code %d, exit file %q", code, readExit(t, dir))
	}
	if string(out) != wantOut.String() || string(errb) != wantErr.String() {
		t.Errorf("console: stdout %d bytes, stderr %d bytes; want %d and %d", len(out), len(errb), wantOut.Len(), wantErr.Len())
	}
	for stream, want := range map[string]string{Stdout: wantOut.String(), Stderr: wantErr.String()} {
		got, seqs := onDisk(t, dir, stream)
		if string(got) != want {
			t.Errorf("%s files hold %d bytes, want %d", stream, len(got), len(want))
		}
		if len(seqs) < 3 {
			t.Errorf("%s rotated %d times, want several", stream, len(seqs))
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestWrapperLargeOutput writes 30 MB to each stream with 64KB rotation and 50 files kept and
// no shipper: the console gets every byte, the files the last 50 rotations and the active
// file, and the rest is counted as dropped, to the byte.
func TestWrapperLargeOutput(t *testing.T) {
	const size = 30 << 20
	src := writeFile(t, "src", logText(size, 7, true))
	want, _ := os.ReadFile(src)
	dir := t.TempDir()
	code, out, errb := wrap(t, dir, 64<<10, 50, "sh", "-c", "cat "+shellQuote(src)+"; cat "+shellQuote(src)+" >&2")
	if code != 0 {
		t.Fatalf("code %d", code)
	}
	if sha256.Sum256(out) != sha256.Sum256(want) || sha256.Sum256(errb) != sha256.Sum256(want) {
		t.Fatalf("the console did not get the output unchanged: %d and %d bytes of %d", len(out), len(errb), size)
	}
	for _, stream := range streamNames {
		got, seqs := onDisk(t, dir, stream)
		st, err := readWrapState(dir, stream)
		if err != nil {
			t.Fatal(err)
		}
		if len(seqs) != 50 || seqs[0] != st.NextSeq-50 {
			t.Errorf("%s: kept seqs %d..%d (%d), next %d; want the last 50", stream, seqs[0], seqs[len(seqs)-1], len(seqs), st.NextSeq)
		}
		if st.DroppedBytes+int64(len(got)) != size || !bytes.Equal(got, want[st.DroppedBytes:]) {
			t.Errorf("%s: %d bytes on disk + %d dropped, want %d, the end of the output", stream, len(got), st.DroppedBytes, size)
		}
		if st.DroppedFiles != st.NextSeq-1-50 || st.DroppedBytes != st.DroppedFiles*64<<10 {
			t.Errorf("%s: state %+v", stream, st)
		}
	}
}

func TestWrapperExitCodes(t *testing.T) {
	notExecutable := writeFile(t, "script.sh", []byte("#!/bin/sh\necho hi\n"))
	for _, tc := range []struct {
		name    string
		command []string
		code    int
		stderr  string
	}{
		{"success", []string{"true"}, 0, ""},
		{"failure", []string{"sh", "-c", "echo bye >&2; exit 3"}, 3, "bye\n"},
		{"exit 255", []string{"sh", "-c", "exit 255"}, 255, ""},
		{"killed by SIGKILL", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9, ""},
		{"killed by SIGTERM", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15, ""},
		{"not found", []string{"/no/such/command", "arg"}, ExitNotFound, "cannot run /no/such/command"},
		{"not in PATH", []string{"no-such-command-in-path"}, ExitNotFound, "executable file not found"},
		{"not executable", []string{notExecutable}, ExitCannotRun, "permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, errb := wrap(t, dir, MinRotationSize, 1, tc.command...)
			if code != tc.code || readExit(t, dir) != itoa(tc.code)+"\n" {
				t.Errorf("code %d, exit file %q; want %d", code, readExit(t, dir), tc.code)
			}
			if !strings.Contains(string(errb), tc.stderr) {
				t.Errorf("stderr %q, want %q in it", errb, tc.stderr)
			}
			// What the wrapper says about a command it cannot run is shipped too.
			if got, _ := onDisk(t, dir, Stderr); string(got) != string(errb) {
				t.Errorf("stderr file %q, console %q", got, errb)
			}
		})
	}
}

// TestWrapperLeftoverProcess checks that a background process holding the pipes open does
// not keep the wrapper (and so the container) alive past DrainAfterExit.
func TestWrapperLeftoverProcess(t *testing.T) {
	dir := t.TempDir()
	var errb bytes.Buffer
	w := &Wrapper{Dir: dir, RotationSize: MinRotationSize, MaxFiles: 5, Stderr: &errb, DrainAfterExit: 300 * time.Millisecond}
	start := time.Now()
	code := w.Run([]string{"sh", "-c", "(sleep 30; echo late) & echo started"})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the wrapper took %s", took)
	}
	if code != 0 || !strings.Contains(errb.String(), "still open") {
		t.Errorf("code %d, stderr %q", code, errb.String())
	}
	if got, _ := onDisk(t, dir, Stdout); string(got) != "started\n" {
		t.Errorf("stdout file %q", got)
	}
}

// TestWrapperSignals runs the real binary and sends it each forwarded signal: the command's
// trap must run and its exit code come back.
func TestWrapperSignals(t *testing.T) {
	bin := sparkplane(t)
	script := `for s in TERM INT HUP QUIT USR1 USR2; do trap "echo got $s; exit 7" $s; done; echo ready; while :; do sleep 0.05; done`
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "log-wrap", "--dir", dir, "--rotation-size", "2KB", "--max-files", "1", "--", "sh", "-c", script)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(stdout)
			if line, err := r.ReadString('\n'); line != "ready\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(r)
			err = cmd.Wait()
			if cmd.ProcessState.ExitCode() != 7 {
				t.Errorf("exit %v, want 7", err)
			}
			name := map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGINT: "INT", syscall.SIGHUP: "HUP",
				syscall.SIGQUIT: "QUIT", syscall.SIGUSR1: "USR1", syscall.SIGUSR2: "USR2"}[sig]
			if string(rest) != "got "+name+"\n" {
				t.Errorf("after the signal the command wrote %q", rest)
			}
			if got, _ := onDisk(t, dir, Stdout); string(got) != "ready\ngot "+name+"\n" || readExit(t, dir) != "7\n" {
				t.Errorf("stdout file %q, exit %q", got, readExit(t, dir))
			}
		})
	}
}

// TestWrapperUsage runs the binary with bad flags: each is refused naming the flag, with exit
// code 2, and the command does not run.
func TestWrapperUsage(t *testing.T) {
	bin := sparkplane(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rotation-size", "1KB"}, `--rotation-size: rotation size "1KB" is below the minimum of 2KB`},
		{[]string{"--rotation-size", "3GB"}, "above the maximum of 2GB"},
		{[]string{"--rotation-size", "10 MB"}, `^\d+(\.\d+)?[KMG][Bb]?$`},
		{[]string{"--max-files", "0"}, "--max-files: max files to keep must be between 1 and 50, got 0"},
		{[]string{"--max-files", "51"}, "--max-files: max files to keep must be between 1 and 50, got 51"},
		{[]string{"--max-files", "many"}, `invalid argument "many" for "--max-files"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"--install", "/tmp/x"}, "--install takes no --dir"},
	} {
		marker := filepath.Join(t.TempDir(), "ran")
		args := append(append([]string{"log-wrap", "--dir", t.TempDir()}, tc.args...), "--", "touch", marker)
		var errb bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &errb
		err := cmd.Run()
		if cmd.ProcessState.ExitCode() != ExitUsage || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: %v, stderr %q; want exit 2 and %q", tc.args, err, errb.String(), tc.want)
		}
		if exists(marker) {
			t.Errorf("%v: the command ran", tc.args)
		}
	}
	var errb bytes.Buffer
	cmd := exec.Command(bin, "log-wrap", "--dir", t.TempDir())
	cmd.Stderr = &errb
	_ = cmd.Run()
	if cmd.ProcessState.ExitCode() != ExitUsage || !strings.Contains(errb.String(), "no command to run") {
		t.Errorf("no command: exit %d, %q", cmd.ProcessState.ExitCode(), errb.String())
	}
}

// TestInstall copies the binary as the init container does and runs the copy.
func TestInstall(t *testing.T) {
	bin := sparkplane(t)
	dst := filepath.Join(t.TempDir(), "opt", "sparkplane", "bin", "sparkplane")
	for range 2 { // the second time over an existing file
		if out, err := exec.Command(bin, "log-wrap", "--install", dst).CombinedOutput(); err != nil {
			t.Fatalf("install: %v: %s", err, out)
		}
	}
	fi, err := os.Stat(dst)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("installed file: %v, mode %v", err, fi.Mode())
	}
	a, _ := os.ReadFile(bin)
	b, _ := os.ReadFile(dst)
	if !bytes.Equal(a, b) {
		t.Fatal("the installed file differs from the binary")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	dir := t.TempDir()
	out, err := exec.Command(dst, "log-wrap", "--dir", dir, "--", "echo", "from the copy").Output()
	if err != nil || string(out) != "from the copy\n" {
		t.Errorf("the copy: %q, %v", out, err)
	}
}
