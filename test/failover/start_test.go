package failover

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

// TestBadDatabaseAtStart: `sparkplane server` with a database setting that cannot work exits
// at once with status 1 and an error that names the setting and what is wrong, without the
// password.
func TestBadDatabaseAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; runs without -short")
	}
	bin := serverBinary(t)
	for _, tc := range []struct {
		name, database string
		want           []string
	}{
		{"malformed URL", "postgres://u:s3cret@db:notaport/sparkplane", []string{`database setting ("database" in the config file, SPARKPLANE_DATABASE)`, "malformed PostgreSQL URL", "invalid port"}},
		// Port 1 on loopback: nothing listens there, the connection is refused at once.
		{"unreachable", "postgres://u:s3cret@127.0.0.1:1/sparkplane", []string{`database setting ("database" in the config file, SPARKPLANE_DATABASE)`, `cannot reach PostgreSQL database "sparkplane" as user "u" on 127.0.0.1:1`, "connection refused"}},
		{"another scheme", "postgress://u:s3cret@db/sparkplane", []string{"config database: must be a postgres:// URL or the path of a SQLite file, got a postgress:// URL"}},
		{"key=value", "host=db user=u password=s3cret dbname=sparkplane", []string{"config database: key=value connection strings are not accepted"}},
		{"SQLite in a missing directory", "/nonexistent/dir/sparkplane.db", []string{`database setting ("database" in the config file, SPARKPLANE_DATABASE): open SQLite database /nonexistent/dir/sparkplane.db`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out := runCommand(t, bin, []string{"SPARKPLANE_DATABASE=" + tc.database},
				"server", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
			if code != 1 {
				t.Errorf("exit status %d, want 1; output:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "s3cret") {
				t.Errorf("output shows the password:\n%s", out)
			}
			if strings.Contains(out, "listening") {
				t.Errorf("the server started:\n%s", out)
			}
			t.Logf("refused in %s: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
		})
	}
}

// TestSQLiteRefusesSecondServer: a second `sparkplane server` on the SQLite database of a
// running one exits with an error that names the database, the pid that holds it, and what to
// use for several replicas; once the first is gone, a server starts on it again.
func TestSQLiteRefusesSecondServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary; runs without -short")
	}
	bin := serverBinary(t)
	dir := t.TempDir()
	port, err := sandbox.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("listen: 127.0.0.1:%d\ndataDir: %s\n", port, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	first := &replica{name: "first", config: config, url: fmt.Sprintf("http://127.0.0.1:%d", port), logPath: filepath.Join(dir, "first.log")}
	first.start(t, bin)
	t.Cleanup(func() { first.stop(t, syscall.SIGTERM) })
	db := filepath.Join(dir, "sparkplane.db")
	code, out := runCommand(t, bin, nil, "server", "--data-dir", dir, "--listen", "127.0.0.1:0")
	want := fmt.Sprintf("database %s is in use by another sparkplane process (pid %d); SQLite supports one replica, use PostgreSQL for several", db, first.pid())
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("second server: exit %d, output:\n%s\nwant exit 1 and: %s", code, out, want)
	}
	first.stop(t, syscall.SIGKILL) // the kernel releases the lock of a killed process too
	again := &replica{name: "again", config: config, url: first.url, logPath: filepath.Join(dir, "again.log")}
	again.start(t, bin)
	again.stop(t, syscall.SIGTERM)
}

// TestLeaseForbiddenAtStart: a server whose Kubernetes identity may not read its Lease exits
// at start, naming the Lease, the permission to grant and the setting that turns election
// off, instead of serving without ever running a job.
func TestLeaseForbiddenAtStart(t *testing.T) {
	env := testenv.Get(t)
	bin := serverBinary(t)
	dir := t.TempDir()
	kc, err := clientcmd.LoadFromFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range kc.AuthInfos {
		u.Impersonate = "sparkplane-test-nobody" // a user no RBAC rule names
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yaml")
	body := fmt.Sprintf("listen: 127.0.0.1:0\ndataDir: %s\ncontainerProviders: [{id: %s, kubeconfig: %s}]\nleaderElection: {enabled: true, namespace: default, name: forbidden}\n",
		dir, provider, kubeconfig)
	if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runCommand(t, bin, nil, "server", "--config", config)
	for _, want := range []string{"config leaderElection: the server may not read Lease default/forbidden on container provider " + provider,
		"forbidden", "grant get, create and update on coordination.k8s.io leases in namespace default, or set leaderElection.enabled: false"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output does not say %q:\n%s", code, want, out)
		}
	}
}
