package sandbox_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

// TestSandboxOnPostgres runs `up --store postgres --replicas 2`: PostgreSQL and two servers
// behind the proxy come up healthy with one of them leading, the seed's job completes through
// the proxy, the standby takes over when the leader is killed, up restarts the killed replica,
// and down stops every process, PostgreSQL included.
func TestSandboxOnPostgres(t *testing.T) {
	testenv.Get(t) // an integration test: skipped only under -short, like the others here
	ctx := context.Background()
	bins := t.TempDir()
	for _, cmd := range []string{"sparkplane", "sparkplane-sandbox"} {
		build := exec.Command("go", "build", "-o", filepath.Join(bins, cmd), "../../../cmd/"+cmd)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, out)
		}
	}
	s := &sandbox.Sandbox{Dir: filepath.Join(t.TempDir(), ".sandbox"), Self: filepath.Join(bins, "sparkplane-sandbox"),
		Server: filepath.Join(bins, "sparkplane"), Store: sandbox.StorePostgres, Replicas: 2}
	t.Cleanup(func() { _ = s.Down(context.Background()) })
	start := time.Now()
	if err := s.Up(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("sandbox up on PostgreSQL with 2 replicas took %s", time.Since(start))
	leader := func() (leading string, pids map[string]int) {
		t.Helper()
		parts, err := s.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pids = map[string]int{}
		for _, p := range parts {
			pids[p.Name] = p.Pid
			if strings.HasPrefix(p.Name, "server-") && p.Healthy && strings.Contains(p.Detail, "leads") {
				if leading != "" {
					t.Errorf("%s and %s both lead", leading, p.Name)
				}
				leading = p.Name
			}
		}
		return leading, pids
	}
	parts, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cluster", sandbox.PartKarpenter, sandbox.PartS3, sandbox.PartEmulator, sandbox.PartPostgres,
		sandbox.ReplicaPart(1), sandbox.ReplicaPart(2), sandbox.PartProxy}
	for i, p := range parts {
		if i >= len(want) || p.Name != want[i] || !p.Running || !p.Healthy {
			t.Errorf("after up, %s: running %t healthy %t (%s); want parts %v", p.Name, p.Running, p.Healthy, p.Detail, want)
		}
		if p.Name == sandbox.PartProxy && !strings.Contains(p.Detail, "held by server-") {
			t.Errorf("the proxy's status does not say which replica holds the Lease: %s", p.Detail)
		}
	}
	first, pids := leader()
	if first == "" {
		t.Fatal("no replica leads")
	}

	env := readEnv(t, filepath.Join(s.Dir, "env"))
	t.Run("seed walkthrough", func(t *testing.T) { runWalkthrough(t, s.Server, s.Dir, env) })

	if err := syscall.Kill(pids[first], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var next string
	for time.Since(killed) < time.Minute && (next == "" || next == first) {
		time.Sleep(500 * time.Millisecond)
		next, _ = leader()
	}
	if next == "" || next == first {
		t.Fatalf("no other replica leads a minute after %s was killed", first)
	}
	t.Logf("%s led %s after %s was killed", next, time.Since(killed).Round(100*time.Millisecond), first)
	if err := s.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if now, pids := leader(); now != next || !sandbox.Alive(pids[first]) {
		t.Errorf("after up: %s leads and %s runs %t, want %s to lead and %s to run again", now, first, sandbox.Alive(pids[first]), next, first)
	}

	_, pids = leader()
	if err := s.Down(ctx); err != nil {
		t.Fatal(err)
	}
	for name, pid := range pids {
		if name != "cluster" && sandbox.Alive(pid) {
			t.Errorf("after down, %s (pid %d) still runs", name, pid)
		}
	}
}
