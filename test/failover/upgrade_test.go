package failover

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// pgMigrations is where the PostgreSQL migrations sit in the tree, from this package.
const pgMigrations = "../../internal/store/migrations/postgres"

// nextVersion is the version the upgrade test's binary says it is.
const nextVersion = "v-upgrade-test"

// upgradeMigration is the one migration the newer binary carries beyond the tree's: it does
// nothing sparkplane reads, records each time it runs (so running twice would show, and fail
// on the CREATE), and holds its transaction a second, so that replicas starting together
// meet on the migration lock.
const upgradeMigration = `-- The upgrade test's migration: only its binary carries it.
CREATE TABLE upgrade_test_runs (applied_at timestamptz NOT NULL DEFAULT now(), backend integer NOT NULL DEFAULT pg_backend_pid());
INSERT INTO upgrade_test_runs DEFAULT VALUES;
SELECT pg_sleep(1);
`

// newerBinary builds cmd/sparkplane from this tree as a newer release would be: stamped
// nextVersion, and carrying one more migration, added to the embedded migrations by a build
// overlay (go build -overlay), so that no fake migration exists in the tree or the product.
// It returns the binary and the new migration's version.
func newerBinary(t *testing.T) (string, int) {
	t.Helper()
	dir, err := filepath.Abs(pgMigrations)
	if err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations in %s: %v", dir, err)
	}
	sort.Strings(names)
	last, err := strconv.Atoi(strings.SplitN(filepath.Base(names[len(names)-1]), "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	version := last + 1
	tmp := t.TempDir()
	body := filepath.Join(tmp, "migration.sql")
	if err := os.WriteFile(body, []byte(upgradeMigration), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(dir, fmt.Sprintf("%04d_upgrade_test.sql", version)): body}})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "sparkplane-next")
	began := time.Now()
	out, err := exec.Command("go", "build", "-overlay", overlayFile,
		"-ldflags", "-X github.com/sparkplane/sparkplane/internal/buildinfo.Version="+nextVersion,
		"-o", bin, "../../cmd/sparkplane").CombinedOutput()
	if err != nil {
		t.Fatalf("go build the newer sparkplane: %v\n%s", err, out)
	}
	t.Logf("built the newer binary (%s, migration %04d) in %s", nextVersion, version, time.Since(began).Round(100*time.Millisecond))
	if code, out := runCommand(t, bin, nil, "--version"); code != 0 || !strings.Contains(out, nextVersion) {
		t.Fatalf("the newer binary's --version: exit %d, %s", code, out)
	}
	return bin, version
}

// TestUpgradeInPlace is issue 12's fourth failure test: two replicas of this tree's binary
// run on PostgreSQL; one is stopped and two replicas of a newer binary, which carries one more
// migration, start at the same moment (a rolling update with a surge) while the old replica
// keeps serving calls. The migration runs exactly once (the migration lock), the old replica
// keeps working on the migrated schema until it too is stopped, the new ones serve and lead
// (a run started on them gets its driver pod), and the old binary, started again on the
// migrated database, refuses with an error that says why and what to run instead.
func TestUpgradeInPlace(t *testing.T) {
	env := testenv.Get(t)
	oldBin := serverBinary(t)
	newBin, version := newerBinary(t)
	pg := pgtest.New(t, pgtest.Options{})
	db, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dsn := pg.DSN(db)
	rs := startReplicas(t, oldBin, dsn, 2)
	rs.waitLeader(t, time.Minute)
	oldOne, oldTwo := rs.list[0], rs.list[1]

	ns := fmt.Sprintf("upgrade-%d", time.Now().UnixNano()%1e6)
	client := func(r *replica) *emrcontainers.Client { return rs.client(r) }
	vc, err := client(oldTwo).CreateVirtualCluster(context.Background(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(ns), ClientToken: aws.String(ns),
		ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(provider),
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String(ns)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	submit := func(r *replica, token string) error {
		out, err := client(r).StartJobRun(context.Background(), sparkPi(*vc.Id, token))
		if err == nil {
			ids = append(ids, aws.ToString(out.Id))
		}
		return err
	}

	// The old replica that stays takes calls all along the upgrade.
	var calls, failures atomic.Int64
	stopCalls := make(chan struct{})
	called := make(chan struct{})
	go func() {
		defer close(called)
		for i := 0; ; i++ {
			select {
			case <-stopCalls:
				return
			case <-time.After(100 * time.Millisecond):
			}
			calls.Add(1)
			if _, err := client(oldTwo).ListJobRuns(context.Background(), &emrcontainers.ListJobRunsInput{VirtualClusterId: vc.Id}); err != nil {
				failures.Add(1)
				t.Logf("ListJobRuns on %s during the upgrade: %v", oldTwo.name, err)
			}
		}
	}()

	oldOne.stop(t, syscall.SIGTERM)
	newOne, newTwo := rs.add(t), rs.add(t)
	began := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, r := range []*replica{newOne, newTwo} {
		wg.Go(func() { errs[i] = r.run(newBin) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("a newer replica did not start: %v", err)
		}
	}
	t.Logf("two newer replicas started together in %s", time.Since(began).Round(100*time.Millisecond))
	if err := submit(oldTwo, "old-after-migration"); err != nil {
		t.Errorf("StartJobRun on the old replica after the migration: %v", err)
	}
	if err := submit(newOne, "new"); err != nil {
		t.Errorf("StartJobRun on a newer replica: %v", err)
	}

	// The migration ran once, recorded once.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var recorded, ran int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM upgrade_test_runs`).Scan(&ran); err != nil {
		t.Fatal(err)
	}
	if recorded != 1 || ran != 1 {
		t.Errorf("migration %d: recorded %d times, ran %d times; want once", version, recorded, ran)
	}

	// The old replica is replaced last: the Lease goes to a newer one, which runs the jobs.
	close(stopCalls)
	<-called
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d calls to the old replica failed during the upgrade", n, calls.Load())
	}
	t.Logf("the old replica answered %d calls during the upgrade, %d failed", calls.Load(), failures.Load())
	oldTwo.stop(t, syscall.SIGTERM)
	led := rs.waitLeader(t, time.Minute)
	if led != newOne && led != newTwo {
		t.Fatalf("%s leads, want a newer replica", led.name)
	}
	if err := submit(newTwo, "new-after"); err != nil {
		t.Errorf("StartJobRun on a newer replica after the old ones left: %v", err)
	}
	drivers := func() bool {
		pods, err := env.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: wellknown.DriverSelector})
		if err != nil {
			return false
		}
		seen := map[string]int{}
		for _, p := range pods.Items {
			seen[p.Labels[wellknown.LabelJobID]]++
		}
		for _, id := range ids {
			if seen[id] != 1 {
				return false
			}
		}
		return true
	}
	if _, ok := waitFor(time.Minute, 500*time.Millisecond, drivers); !ok {
		t.Errorf("the job runs do not each have one driver pod a minute after %s took the Lease", led.name)
	}

	// The old binary refuses the migrated database, saying why.
	code, out := runCommand(t, oldBin, []string{"SPARKPLANE_DATABASE=" + dsn}, "server", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0")
	want := fmt.Sprintf("the database's schema is at version %d, newer than this sparkplane knows (%d): run the newer sparkplane that migrated it, or restore a backup taken before", version, version-1)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("the old binary on the migrated database: exit %d, output:\n%s\nwant exit 1 and: %s", code, out, want)
	}
	t.Logf("the old binary refuses: %s", strings.TrimSpace(out))
}
