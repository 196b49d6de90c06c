package failover

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/emulator"
	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// apiServerOutage is how long TestAPIServerUnreachable keeps the API server down: issue 12's
// 60 s, several times the leader's renew deadline and the controller's KubeTimeout.
const apiServerOutage = 60 * time.Second

// waitingForKubernetes is how the stateDetails of a run that waits for the cluster begins,
// whoever wrote it: the controller, or a replica that cannot reach the Lease.
const waitingForKubernetes = "waiting for Kubernetes: "

// TestAPIServerUnreachable is issue 12's third failure test: the test cluster's kube-apiserver
// is killed by its pid under two replicas on PostgreSQL, and started again 60 s later, as it
// ran, on the same port and etcd. Job runs accepted meanwhile (one while the leader's
// controller still runs, two once no replica can hold the Lease, which lives on that API
// server) wait in PENDING with a stateDetails that says they wait for Kubernetes, then run to
// completion once it is back (the driver emulator plays their Spark). The cluster's
// scheduler and controller-manager, which exit when they cannot renew their own leases, are
// started again as a kubelet would restart them.
func TestAPIServerUnreachable(t *testing.T) {
	env := testenv.Get(t)
	bin := serverBinary(t)
	pg := pgtest.New(t, pgtest.Options{})
	db, err := pg.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ensureNode(t)
	rs := startReplicas(t, bin, pg.DSN(db), 2)
	leader := rs.waitLeader(t, time.Minute)

	ns := fmt.Sprintf("apiserver-%d", time.Now().UnixNano()%1e6)
	logFile, err := os.Create(filepath.Join(t.TempDir(), "emulator.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// The driver emulator plays Spark in the namespace's pods. It is the test's stand-in for
	// the jobs, not part of what is tested, so it runs before and after the outage, not
	// across it (an informer that met a 60 s outage waits up to 30 s more to list again).
	emulate := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			em := emulator.New(env.Client, emulator.Options{Namespace: ns, Log: slog.New(slog.NewTextHandler(logFile, nil))})
			if err := em.Run(ctx); err != nil {
				t.Logf("emulator: %v", err)
			}
		}()
		return func() { cancel(); <-done }
	}
	stopEmulator := emulate()

	sdk := []*emrcontainers.Client{rs.client(rs.list[0]), rs.client(rs.list[1])}
	vc, err := sdk[0].CreateVirtualCluster(context.Background(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(ns), ClientToken: aws.String(ns),
		ContainerProvider: &emrtypes.ContainerProvider{Type: emrtypes.ContainerProviderTypeEks, Id: aws.String(provider),
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String(ns)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := func(c *emrcontainers.Client, token string) string {
		t.Helper()
		in := sparkPi(*vc.Id, token)
		in.JobDriver.SparkSubmitJobDriver.SparkSubmitParameters = aws.String(*in.JobDriver.SparkSubmitJobDriver.SparkSubmitParameters +
			" --conf spark.executor.instances=1 --conf " + emulator.ConfDuration + "=2s")
		out, err := c.StartJobRun(context.Background(), in)
		if err != nil {
			t.Fatalf("StartJobRun %s: %v", token, err)
		}
		return aws.ToString(out.Id)
	}
	describe := func(id string) *emrtypes.JobRun {
		out, err := sdk[0].DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: vc.Id, Id: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeJobRun %s: %v", id, err)
		}
		return out.JobRun
	}
	completes := func(ids []string, within time.Duration) {
		t.Helper()
		for _, id := range ids {
			if _, ok := waitFor(within, 200*time.Millisecond, func() bool { return describe(id).State == emrtypes.JobRunStateCompleted }); !ok {
				r := describe(id)
				t.Fatalf("job run %s is %s (%s) after %s, want COMPLETED", id, r.State, aws.ToString(r.StateDetails), within)
			}
		}
	}
	// The cluster works, and the namespace is set up, before the outage.
	completes([]string{start(sdk[0], "before")}, time.Minute)
	stopEmulator()

	cluster := env.Cluster()
	apiServer, err := cluster.Component("kube-apiserver")
	if err != nil {
		t.Fatal(err)
	}
	var others []*sandbox.Component
	for _, name := range []string{"kube-controller-manager", "kube-scheduler", "kwok-controller"} {
		c, err := cluster.Component(name)
		if err != nil {
			t.Fatal(err)
		}
		others = append(others, c)
	}
	if err := apiServer.Kill(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	t.Logf("kube-apiserver (pid %d) killed", apiServer.Pid)
	// Make sure the API server comes back even when the test fails on the way.
	defer func() {
		if !apiServer.Alive() {
			_ = apiServer.Start()
		}
	}()

	waits := func(id string, within time.Duration) {
		t.Helper()
		var details string
		took, ok := waitFor(within, 200*time.Millisecond, func() bool {
			r := describe(id)
			if r.State != emrtypes.JobRunStatePending {
				t.Fatalf("job run %s moved to %s while the API server was down", id, r.State)
			}
			details = aws.ToString(r.StateDetails)
			return strings.HasPrefix(details, waitingForKubernetes)
		})
		if !ok {
			t.Fatalf("job run %s: stateDetails %q %s after it was accepted, want it to say it waits for Kubernetes", id, details, within)
		}
		t.Logf("job run %s said it waits %s after it was accepted: %s", id, took.Round(10*time.Millisecond), details)
	}
	// The leader's controller runs until it cannot renew its Lease (renewDeadline, 7 s).
	during := []string{start(sdk[0], "during-leader")}
	waits(during[0], 30*time.Second)
	if _, ok := waitFor(30*time.Second, 100*time.Millisecond, func() bool { return !rs.list[0].leads() && !rs.list[1].leads() }); !ok {
		t.Fatalf("a replica still leads 30 s into the outage")
	}
	t.Logf("no replica leads %s after the API server went down (%s led)", time.Since(down).Round(100*time.Millisecond), leader.name)
	for i, c := range sdk {
		during = append(during, start(c, fmt.Sprintf("during-no-leader-%d", i)))
		waits(during[len(during)-1], 10*time.Second)
	}

	time.Sleep(time.Until(down.Add(apiServerOutage)))
	if err := apiServer.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	ready, ok := waitFor(2*time.Minute, 200*time.Millisecond, func() bool { return cluster.Healthy(context.Background()) == nil })
	if !ok {
		t.Fatalf("kube-apiserver (pid %d) not ready 2 minutes after its restart", apiServer.Pid)
	}
	t.Logf("kube-apiserver down %s; started again as pid %d, ready %s later", back.Sub(down).Round(100*time.Millisecond), apiServer.Pid, ready.Round(100*time.Millisecond))
	for _, c := range others {
		if c.Alive() {
			continue
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s exited while the API server was down (it cannot renew its own lease); started again as pid %d", c.Name, c.Pid)
	}
	defer emulate()()
	led := rs.waitLeader(t, time.Minute)
	t.Logf("%s leads %s after the API server was started again", led.name, time.Since(back).Round(100*time.Millisecond))
	for _, id := range during {
		if _, ok := waitFor(time.Minute, 100*time.Millisecond, func() bool { return describe(id).State != emrtypes.JobRunStatePending }); !ok {
			t.Fatalf("job run %s still PENDING a minute after the API server was started again", id)
		}
	}
	t.Logf("the job runs accepted during the outage were submitted %s after the API server was started again", time.Since(back).Round(100*time.Millisecond))
	completes(during, 2*time.Minute)
	t.Logf("the job runs accepted during the outage completed %s after the API server was started again", time.Since(back).Round(100*time.Millisecond))
	pods, err := env.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: wellknown.DriverSelector})
	if err != nil {
		t.Fatal(err)
	}
	perRun := map[string]int{}
	for _, p := range pods.Items {
		perRun[p.Labels[wellknown.LabelJobID]]++
	}
	for _, id := range during {
		if perRun[id] != 1 {
			t.Errorf("job run %s has %d driver pods, want 1", id, perRun[id])
		}
	}
}

// ensureNode registers one simulated node (kwok plays its kubelet) for drivers that must run,
// and waits until it is Ready and untainted.
func ensureNode(t *testing.T) {
	t.Helper()
	const name = "failover-test-node"
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{"kubernetes.io/hostname": name, "type": "kwok"}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("500")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("500")},
		},
	}
	client := testenv.Get(t).Client
	if _, err := client.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	ready := func() bool {
		n, err := client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
		if err != nil || len(n.Spec.Taints) > 0 {
			return false
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	}
	if _, ok := waitFor(time.Minute, 100*time.Millisecond, ready); !ok {
		t.Fatalf("node %s is not Ready and untainted after a minute", name)
	}
}
