package failover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
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

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// The load of TestLeaderKilledUnderLoad: submissions paced so that they straddle the leader's
// death, the time without a leader, and the new leader's first seconds.
const (
	submissions = 1000
	rate        = 30 // per second, over all clients, in one wave
	clients     = 16
	killAfter   = submissions / 2
)

// TestLeaderKilledUnderLoad is issue 12's first failure test: two replicas on PostgreSQL and
// the test cluster take 1,000 StartJobRun calls with clientTokens, spread over both; midway the
// leader gets SIGKILL. Calls that fail (refused, or cut while the replica died) are retried
// with the same clientToken on the other replica. Then every accepted clientToken names one
// job run, stored once, and every run gets exactly one driver pod; the other replica took the
// Lease over and ran the controller (the failover time is logged, not asserted tightly).
// Finally a clean stop of the new leader hands over at once (the Lease is released).
func TestLeaderKilledUnderLoad(t *testing.T) {
	env := testenv.Get(t)
	bin := serverBinary(t)
	pg := pgtest.New(t, pgtest.Options{})
	db, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dsn := pg.DSN(db)
	rs := startReplicas(t, bin, dsn, 2)
	leader := rs.waitLeader(t, time.Minute)
	var survivor *replica
	for _, r := range rs.list {
		if r != leader {
			survivor = r
		}
	}
	t.Logf("%s (pid %d) leads, %s (pid %d) stands by", leader.name, leader.pid(), survivor.name, survivor.pid())

	ns := fmt.Sprintf("failover-%d", time.Now().UnixNano()%1e6)
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
		ids      = map[string]map[string]bool{} // clientToken -> job run ids answered
		retries  int
		errKinds = map[string]int{}
		accepted atomic.Int64
		killed   = make(chan time.Time, 1)
	)
	start := func(ctx context.Context, i int) {
		token := fmt.Sprintf("failover-%04d", i)
		in := &emrcontainers.StartJobRunInput{VirtualClusterId: vc.Id, Name: aws.String("pi"), ClientToken: aws.String(token),
			ExecutionRoleArn: aws.String(roleArn), ReleaseLabel: aws.String("emr-6.15.0-latest"),
			JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
				EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), EntryPointArguments: []string{"10"},
				SparkSubmitParameters: aws.String("--class org.apache.spark.examples.SparkPi")}}}
		deadline := time.Now().Add(3 * time.Minute)
		for attempt := 0; ; attempt++ {
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			out, err := sdk[(i+attempt)%2].StartJobRun(cctx, in)
			cancel()
			if err == nil {
				mu.Lock()
				if ids[token] == nil {
					ids[token] = map[string]bool{}
				}
				ids[token][aws.ToString(out.Id)] = true
				mu.Unlock()
				if accepted.Add(1) == killAfter {
					killed <- time.Now()
					if err := leader.cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Errorf("SIGKILL %s: %v", leader.name, err)
					}
				}
				return
			}
			mu.Lock()
			retries++
			errKinds[errorKind(err)]++
			mu.Unlock()
			if time.Now().After(deadline) {
				t.Errorf("StartJobRun %s: still failing after 3 minutes: %v", token, err)
				return
			}
			time.Sleep(min(time.Duration(attempt+1)*100*time.Millisecond, time.Second))
		}
	}
	began := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range work {
				start(context.Background(), i)
			}
		})
	}
	// Watch the takeover from the kill on: the Lease first, then the survivor's controller.
	var leaseAfter, leadAfter time.Duration
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		at := <-killed
		_, ok := waitFor(2*time.Minute, 50*time.Millisecond, func() bool { return rs.holder(t) == survivor })
		leaseAfter = time.Since(at)
		if !ok {
			return
		}
		if _, ok := waitFor(time.Minute, 50*time.Millisecond, survivor.leads); ok {
			leadAfter = time.Since(at)
		}
	}()
	// A wave of calls every second, so that some are in flight on the leader when it dies.
	tick := time.NewTicker(time.Second)
	for i := range submissions {
		if i%rate == 0 {
			<-tick.C
		}
		work <- i
	}
	tick.Stop()
	close(work)
	wg.Wait()
	t.Logf("%d StartJobRun calls accepted in %s; %d failed calls retried (%v)", accepted.Load(), time.Since(began).Round(time.Millisecond), retries, errKinds)
	<-watched
	if leadAfter == 0 {
		t.Fatalf("%s never took over from the killed %s (Lease after %s)", survivor.name, leader.name, leaseAfter)
	}
	t.Logf("failover: %s held the Lease %s after SIGKILL of the leader, and ran the controller %s after (leaseDuration %s)",
		survivor.name, leaseAfter.Round(10*time.Millisecond), leadAfter.Round(10*time.Millisecond), config.DefaultLeaseDuration)

	// Every clientToken named one job run.
	want := map[string]bool{}
	for token, set := range ids {
		if len(set) != 1 {
			t.Errorf("clientToken %s answered with %d job runs: %v", token, len(set), set)
		}
		for id := range set {
			want[id] = true
		}
	}
	if len(ids) != submissions {
		t.Fatalf("%d of %d clientTokens were accepted", len(ids), submissions)
	}

	// The store holds each of them once, and nothing else.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT id, client_token FROM job_runs WHERE virtual_cluster_id = $1`, *vc.Id)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{} // clientToken -> rows
	for rows.Next() {
		var id, token string
		if err := rows.Scan(&id, &token); err != nil {
			t.Fatal(err)
		}
		stored[token]++
		if !want[id] {
			t.Errorf("job run %s (clientToken %s) is stored but no call was answered with it", id, token)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for token, n := range stored {
		if n != 1 {
			t.Errorf("clientToken %s is stored %d times", token, n)
		}
	}
	if len(stored) != submissions {
		t.Errorf("%d job runs stored, want %d", len(stored), submissions)
	}

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
	took, ok := waitFor(5*time.Minute, 2*time.Second, func() bool { return len(drivers()) >= submissions })
	t.Logf("every job run had its driver pod %s after the last call was accepted", took.Round(time.Second))
	if !ok {
		d := drivers()
		var missing []string
		for id := range want {
			if d[id] == 0 {
				missing = append(missing, id)
			}
		}
		sort.Strings(missing)
		t.Fatalf("%d of %d job runs have a driver pod after 5 minutes; missing e.g. %v", len(d), submissions, missing[:min(5, len(missing))])
	}
	time.Sleep(5 * time.Second) // a duplicate would come from a reconcile still in flight
	for id, n := range drivers() {
		if !want[id] {
			t.Errorf("driver pod of unknown job run %s", id)
		}
		if n != 1 {
			t.Errorf("job run %s has %d driver pods", id, n)
		}
	}

	// A rolling update: the killed replica comes back as a standby, then the leader stops
	// cleanly and hands the Lease over at once instead of after its expiry.
	leader.start(t, bin)
	if _, ok := waitFor(30*time.Second, 100*time.Millisecond, func() bool { return rs.holder(t) == survivor && !leader.leads() }); !ok {
		t.Fatalf("after its restart, %s does not stand by behind %s", leader.name, survivor.name)
	}
	stopped := time.Now()
	survivor.stop(t, syscall.SIGTERM)
	if _, ok := waitFor(time.Minute, 50*time.Millisecond, func() bool { return rs.holder(t) == leader && leader.leads() }); !ok {
		t.Fatalf("%s did not take over after %s stopped cleanly", leader.name, survivor.name)
	}
	handover := time.Since(stopped)
	t.Logf("clean stop of the leader: %s led %s after SIGTERM (the leader's shutdown included)", leader.name, handover.Round(10*time.Millisecond))
	if handover >= config.DefaultLeaseDuration {
		t.Errorf("handover after a clean stop took %s, not less than the lease duration %s: the Lease was not released", handover, config.DefaultLeaseDuration)
	}
}

// errorKind names an error for the test's summary: what a client met while the leader died.
func errorKind(err error) string {
	var api interface{ ErrorCode() string }
	switch {
	case errors.As(err, &api):
		return api.ErrorCode()
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "other"
}
