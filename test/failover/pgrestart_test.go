package failover

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// The load of TestPostgresRestartedUnderLoad, smaller than the leader kill's: the outage,
// not the volume, is what it tests.
const (
	pgSubmissions = 300
	pgRate        = 30 // per second, over all clients
	pgClients     = 8
	pgCrashAfter  = pgSubmissions / 2
	pgOutage      = 5 * time.Second
)

// The two answers a call gets while the database is down (internal/api's messages).
const (
	changedNothing = "sparkplane's database is unreachable; this call changed nothing"
	outcomeUnknown = "sparkplane lost its database connection while committing this call"
)

// attempt is one StartJobRun call of a clientToken, as its client saw it.
type attempt struct {
	began time.Time
	// answer is "" for an accepted call, else how it failed: changedNothing, outcomeUnknown,
	// or anything else the test does not expect.
	answer string
}

// TestPostgresRestartedUnderLoad is issue 12's second failure test: two replicas on
// PostgreSQL and the test cluster take 300 StartJobRun calls with clientTokens from 8 SDK
// clients, spread over both; at the 150th accepted call PostgreSQL crashes (an immediate
// shutdown by its pid: every session cut, no checkpoint) and comes back 5 s later. Every call
// that fails meanwhile is an HTTP 503 InternalServerException, which the SDK retries, saying
// that it changed nothing (or, for a call whose commit was cut off, that it may have been
// applied); the clients retry with the same clientToken. Afterwards every clientToken names
// one job run, stored once, created by the call that was answered unless an earlier one was
// in doubt, and every run gets exactly one driver pod: the leader's controller paused while
// the database was down and resumed by itself.
func TestPostgresRestartedUnderLoad(t *testing.T) {
	env := testenv.Get(t)
	bin := serverBinary(t)
	pg := pgtest.New(t, pgtest.Options{Settings: pgtest.CrashSafe})
	db, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dsn := pg.DSN(db)
	rs := startReplicas(t, bin, dsn, 2)
	leader := rs.waitLeader(t, time.Minute)
	t.Logf("%s (pid %d) leads; PostgreSQL pid %d", leader.name, leader.pid(), pg.Pid())

	ns := fmt.Sprintf("pgrestart-%d", time.Now().UnixNano()%1e6)
	sdk := []*emrcontainers.Client{rs.client(rs.list[0]), rs.client(rs.list[1])}
	vc, err := sdk[0].CreateVirtualCluster(context.Background(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(ns), ClientToken: aws.String(ns),
		ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(provider),
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String(ns)}}},
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		attempts = map[string][]attempt{} // clientToken -> its calls, in order
		ids      = map[string]string{}    // clientToken -> the job run id answered
		accepted atomic.Int64
		crash    = make(chan struct{})
	)
	call := func(i int) {
		token := fmt.Sprintf("pgrestart-%04d", i)
		in := sparkPi(*vc.Id, token)
		deadline := time.Now().Add(2 * time.Minute)
		for n := 0; ; n++ {
			a := attempt{began: time.Now()}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			out, err := sdk[(i+n)%2].StartJobRun(ctx, in)
			cancel()
			if err != nil {
				a.answer = outageAnswer(err)
			}
			mu.Lock()
			attempts[token] = append(attempts[token], a)
			if err == nil {
				ids[token] = aws.ToString(out.Id)
			}
			mu.Unlock()
			if err == nil {
				if accepted.Add(1) == pgCrashAfter {
					close(crash)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("StartJobRun %s: still failing after 2 minutes: %v", token, err)
				return
			}
			time.Sleep(min(time.Duration(n+1)*100*time.Millisecond, time.Second))
		}
	}

	// The outage: crash at the 150th accepted call, restart pgOutage later, and watch how
	// long the API and the leader's controller take to come back.
	var (
		crashedAt, restartedAt time.Time
		resumed                time.Duration // from the restart to the leader's controller unpaused
		paused                 atomic.Bool
		outage                 = make(chan error, 1)
	)
	go func() {
		<-crash
		crashedAt = time.Now()
		if err := pg.Crash(); err != nil {
			outage <- err
			return
		}
		stop := make(chan struct{})
		go func() { // the leader's controller pauses while the database is down
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					if metric(leader, "sparkplane_controller_paused") == "1" {
						paused.Store(true)
					}
				}
			}
		}()
		time.Sleep(pgOutage)
		close(stop)
		restartedAt = time.Now()
		if err := pg.Restart(context.Background()); err != nil {
			outage <- err
			return
		}
		var ok bool
		if resumed, ok = waitFor(30*time.Second, 50*time.Millisecond, func() bool { return metric(leader, "sparkplane_controller_paused") == "0" }); !ok {
			outage <- errors.New("the leader's controller did not resume within 30 s of the restart")
			return
		}
		outage <- nil
	}()

	began := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range pgClients {
		wg.Go(func() {
			for i := range work {
				call(i)
			}
		})
	}
	tick := time.NewTicker(time.Second)
	for i := range pgSubmissions {
		if i%pgRate == 0 {
			<-tick.C
		}
		work <- i
	}
	tick.Stop()
	close(work)
	wg.Wait()
	if err := <-outage; err != nil {
		t.Fatalf("PostgreSQL outage: %v", err)
	}

	// What the clients saw: every failure was the database's 503, and calls were accepted
	// again soon after PostgreSQL was back.
	kinds := map[string]int{}
	var firstAfter time.Time
	for _, as := range attempts {
		for _, a := range as {
			if a.answer != "" {
				kinds[a.answer]++
			} else if a.began.After(restartedAt) && (firstAfter.IsZero() || a.began.Before(firstAfter)) {
				firstAfter = a.began
			}
		}
	}
	t.Logf("%d StartJobRun calls accepted in %s; failed calls: %v", accepted.Load(), time.Since(began).Round(time.Millisecond), kinds)
	for kind, n := range kinds {
		if kind != changedNothing && kind != outcomeUnknown {
			t.Errorf("%d calls failed otherwise than with the database's 503: %s", n, kind)
		}
	}
	if kinds[changedNothing] == 0 {
		t.Errorf("no call met the outage; the test did not test it")
	}
	t.Logf("PostgreSQL down %s (crash to restart, recovery not included); StartJobRun accepted again %s after its restart began; "+
		"the leader's controller paused: %v, and resumed %s after the restart began",
		restartedAt.Sub(crashedAt).Round(time.Millisecond), firstAfter.Sub(restartedAt).Round(time.Millisecond), paused.Load(), resumed.Round(10*time.Millisecond))
	if !paused.Load() {
		t.Errorf("the leader's controller never reported a pause while the database was down")
	}
	if len(ids) != pgSubmissions {
		t.Fatalf("%d of %d clientTokens were accepted", len(ids), pgSubmissions)
	}

	// The store holds each run once. A run stored by a call that failed would carry that
	// call's creation time, before the call that was answered began: allowed only when an
	// earlier call said its outcome was unknown.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT id, client_token, created_at FROM job_runs WHERE virtual_cluster_id = $1`, *vc.Id)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	doubtful := 0
	for rows.Next() {
		var id, token string
		var created time.Time
		if err := rows.Scan(&id, &token, &created); err != nil {
			t.Fatal(err)
		}
		stored[token]++
		if ids[token] != id {
			t.Errorf("clientToken %s: stored as job run %s, answered as %s", token, id, ids[token])
			continue
		}
		as := attempts[token]
		answered := as[len(as)-1]
		if !created.Before(answered.began.Add(-time.Millisecond)) {
			continue
		}
		inDoubt := false
		for _, a := range as[:len(as)-1] {
			inDoubt = inDoubt || a.answer == outcomeUnknown
		}
		if !inDoubt {
			t.Errorf("clientToken %s: job run %s was created at %s, before the call that was answered (%s), by a call that said it changed nothing",
				token, id, created.Format(time.RFC3339Nano), answered.began.Format(time.RFC3339Nano))
		}
		doubtful++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for token, n := range stored {
		if n != 1 {
			t.Errorf("clientToken %s is stored %d times", token, n)
		}
	}
	if len(stored) != pgSubmissions {
		t.Errorf("%d job runs stored, want %d", len(stored), pgSubmissions)
	}
	t.Logf("%d job runs were stored by a call whose outcome was in doubt, and returned to its retry", doubtful)

	// Every run gets one driver pod, and keeps one.
	drivers := func() map[string]int {
		pods, err := env.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: wellknown.DriverSelector})
		if err != nil {
			t.Logf("list driver pods: %v", err)
			return nil
		}
		out := map[string]int{}
		for _, p := range pods.Items {
			out[p.Labels[wellknown.LabelJobID]]++
		}
		return out
	}
	took, ok := waitFor(3*time.Minute, 2*time.Second, func() bool { return len(drivers()) >= pgSubmissions })
	if !ok {
		t.Fatalf("%d of %d job runs have a driver pod after 3 minutes", len(drivers()), pgSubmissions)
	}
	t.Logf("every job run had its driver pod %s after the last call was accepted", took.Round(time.Second))
	time.Sleep(3 * time.Second) // a duplicate would come from a reconcile still in flight
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for id, n := range drivers() {
		if !want[id] {
			t.Errorf("driver pod of unknown job run %s", id)
		}
		if n != 1 {
			t.Errorf("job run %s has %d driver pods", id, n)
		}
	}
}

// sparkPi is the StartJobRun of the failure tests: the SparkPi example.
func sparkPi(virtualClusterID, token string) *emrcontainers.StartJobRunInput {
	return &emrcontainers.StartJobRunInput{VirtualClusterId: aws.String(virtualClusterID), Name: aws.String("pi"), ClientToken: aws.String(token),
		ExecutionRoleArn: aws.String(roleArn), ReleaseLabel: aws.String("emr-6.15.0-latest"),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
			EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), EntryPointArguments: []string{"10"},
			SparkSubmitParameters: aws.String("--class org.apache.spark.examples.SparkPi")}}}
}

// outageAnswer names how a call failed: changedNothing or outcomeUnknown for the database's
// HTTP 503 InternalServerException, else what it was.
func outageAnswer(err error) string {
	var ise *emrtypes.InternalServerException
	var re *awshttp.ResponseError
	if errors.As(err, &ise) && errors.As(err, &re) && re.HTTPStatusCode() == http.StatusServiceUnavailable {
		switch msg := ise.ErrorMessage(); {
		case strings.HasPrefix(msg, changedNothing):
			return changedNothing
		case strings.HasPrefix(msg, outcomeUnknown):
			return outcomeUnknown
		}
	}
	return fmt.Sprintf("%s: %v", errorKind(err), err)
}

// metric reads an unlabelled metric's value from a replica's /metrics, "" when it cannot.
func metric(r *replica, name string) string {
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
