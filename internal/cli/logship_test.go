package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/logship"
)

// executePod runs the pod commands as the binary registers them.
func executePod(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := &cobra.Command{Use: "sparkplane", SilenceUsage: true}
	root.AddCommand(PodCommands()...)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// TestPodCommandsUsage checks that each bad flag of log-wrap and log-shipper is refused with
// exit code 2 and a message naming the flag, printed once, and that log-wrap runs nothing.
func TestPodCommandsUsage(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"log-wrap", "--dir", dir, "--rotation-size", "1KB", "--", "touch", marker}, `--rotation-size: rotation size "1KB" is below the minimum of 2KB`},
		{[]string{"log-wrap", "--dir", dir, "--rotation-size", "64", "--", "touch", marker}, `^\d+(\.\d+)?[KMG][Bb]?$`},
		{[]string{"log-wrap", "--dir", dir, "--max-files", "51", "--", "touch", marker}, "--max-files: max files to keep must be between 1 and 50, got 51"},
		{[]string{"log-wrap", "--dir", dir, "--nope", "--", "touch", marker}, "unknown flag: --nope"},
		{[]string{"log-wrap", "--", "touch", marker}, "--dir: required"},
		{[]string{"log-wrap", "--dir", dir}, "no command to run"},
		{[]string{"log-wrap", "--install", filepath.Join(dir, "x"), "touch", marker}, "--install takes no command"},
		{[]string{"log-wrap", "--dir", dir, "--entrypoint", "/no/entrypoint.sh," + dir, "--", marker}, "--entrypoint: none of /no/entrypoint.sh, " + dir + " is an executable file"},
		{[]string{"log-shipper", "--dest", "s3://b/p"}, "--dir: required"},
		{[]string{"log-shipper", "--dir", dir}, "--dest: required"},
		{[]string{"log-shipper", "--dir", dir, "--dest", "s3://b/p", "--drain-timeout", "soon"}, `invalid argument "soon" for "--drain-timeout"`},
		{[]string{"log-shipper", "--dir", dir, "--dest", "s3://b/p", "extra"}, `takes no arguments, got ["extra"]`},
	} {
		_, stderr, err := executePod(t, tc.args...)
		if ExitCode(err) != logship.ExitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, tc.want) != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q once", tc.args, ExitCode(err), stderr, tc.want)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("log-wrap ran the command despite a bad flag")
	}
}

// TestLogWrapCommand runs a command through log-wrap in process: output and exit code pass
// through, and flags after the command are the command's.
func TestLogWrapCommand(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, err := executePod(t, "log-wrap", "--dir", dir, "--rotation-size", "2KB", "sh", "-c", "echo out; echo err >&2; exit 5", "--dir")
	if ExitCode(err) != 5 || stdout != "out\n" || stderr != "err\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", ExitCode(err), stdout, stderr)
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, logship.ExitFile)); string(raw) != "5\n" {
		t.Errorf("exit file %q", raw)
	}
	if _, _, err := executePod(t, "log-wrap", "--dir", dir, "--", "true"); err != nil {
		t.Errorf("true: %v", err)
	}
	// The image's entrypoint is the first of the candidates the container has, run with the
	// arguments Spark gave the container.
	entry := filepath.Join(t.TempDir(), "entrypoint.sh")
	if err := os.WriteFile(entry, []byte("#!/bin/sh\necho \"entrypoint $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, _, err = executePod(t, "log-wrap", "--dir", dir, "--entrypoint", "/opt/no-such-entrypoint.sh,"+entry, "--", "driver", "--properties-file", "/opt/spark/conf/spark.properties")
	if err != nil || stdout != "entrypoint driver --properties-file /opt/spark/conf/spark.properties\n" {
		t.Errorf("--entrypoint: %v, stdout %q", err, stdout)
	}
	dst := filepath.Join(t.TempDir(), "bin", "sparkplane")
	if _, _, err := executePod(t, "log-wrap", "--install", dst); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("installed: %v %v", fi, err)
	}
}

// TestLogShipperBadDest checks that a shipper given a --dest it cannot use reports it in
// the termination message, exits 0 once the command has exited, and fails nothing.
func TestLogShipperBadDest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, logship.ExitFile), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := filepath.Join(t.TempDir(), "termination-log")
	_, stderr, err := executePod(t, "log-shipper", "--dir", dir, "--dest", "s3:///nobucket", "--termination-log", term)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(term)
	failed, detail := logship.ParseTermination(string(raw))
	want := logship.FailurePrefix + ` to s3:///nobucket: --dest: "s3:///nobucket" names no bucket`
	if !failed || detail != want || !strings.Contains(stderr, "level=ERROR") {
		t.Errorf("termination %q, stderr %q; want %q", raw, stderr, want)
	}
}
