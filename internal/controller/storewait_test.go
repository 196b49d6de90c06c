package controller_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
	"github.com/sparkplane/sparkplane/internal/jobs"
	relcat "github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// TestControllerPausesWhileTheDatabaseIsDown starts the controller on a PostgreSQL store whose
// server has just crashed, with job runs waiting: the controller pauses (logged once,
// sparkplane_controller_paused 1), takes no work and counts no failed reconciles while the
// database is down, and, once the server is back, resumes by itself and submits every run
// once.
func TestControllerPausesWhileTheDatabaseIsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server; runs without -short")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pg := pgtest.New(t, pgtest.Options{Settings: pgtest.CrashSafe})
	db, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenPostgres(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc, err := jobs.NewService(st, jobs.Config{Region: "us-east-1", AccountID: "000000000000", Releases: relcat.Default(),
		Roles: anyRole{}, ContainerProviders: oneProvider{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	client := fake.NewClientset()
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(controller.TrimPod))
	reg := prometheus.NewRegistry()
	metrics, err := controller.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := controller.New(controller.Options{
		Store: svc, Clusters: map[string]controller.Cluster{unitProvider: {Client: client, Pods: factory.Core().V1().Pods()}},
		Planner: &submission.Planner{Releases: relcat.Default(), CreateNamespaces: map[string]bool{unitProvider: true}},
		Resync:  time.Hour, // only the pause's own resync may find the runs
		Metrics: metrics, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	vc, err := svc.CreateVirtualCluster(ctx, jobs.CreateVirtualClusterInput{Name: "unit", ClientToken: "vc", ContainerProvider: &jobs.ContainerProvider{
		Type: "EKS", ID: unitProvider, Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "team"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		run, err := svc.StartJobRun(ctx, jobs.StartJobRunInput{VirtualClusterID: vc.ID, Name: "pi", ClientToken: string(rune('a' + i)),
			ExecutionRoleArn: "arn:aws:iam::000000000000:role/spark", ReleaseLabel: "emr-6.15.0-latest",
			JobDriver: &jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{
				EntryPoint: "local:///opt/spark/examples/jars/spark-examples.jar", SparkSubmitParameters: "--class org.apache.spark.examples.SparkPi"}}},
			"arn:aws:iam::000000000000:user/unit")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}

	if err := pg.Crash(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = ctl.Run(ctx) }()
	for _, id := range ids {
		ctl.Enqueue(id)
	}
	if _, ok := waitUntil(10*time.Second, func() bool { return gauge(t, reg, "sparkplane_controller_paused") == 1 }); !ok {
		t.Fatalf("the controller did not pause with its database down; its log:\n%s", logs.String())
	}
	time.Sleep(3 * time.Second) // the probe asks several times meanwhile
	if n := gauge(t, reg, "sparkplane_controller_reconcile_errors_total"); n != 0 {
		t.Errorf("%v reconciles failed while paused; a paused controller takes no work", n)
	}
	if n := strings.Count(logs.String(), "the controller pauses"); n != 1 {
		t.Errorf("the pause was logged %d times, want once:\n%s", n, logs.String())
	}

	if err := pg.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	submitted := func() bool {
		for _, id := range ids {
			run, err := svc.GetJobRun(ctx, id)
			if err != nil || run.State != jobs.StateSubmitted {
				return false
			}
		}
		return true
	}
	took, ok := waitUntil(30*time.Second, submitted)
	if !ok {
		t.Fatalf("the job runs were not submitted 30 s after the database came back; the controller's log:\n%s", logs.String())
	}
	t.Logf("every job run was submitted %s after PostgreSQL was restarted", took.Round(time.Millisecond))
	if gauge(t, reg, "sparkplane_controller_paused") != 0 || !strings.Contains(logs.String(), "the database answers again: the controller resumes") {
		t.Errorf("the controller does not say it resumed:\n%s", logs.String())
	}
	pods, err := client.CoreV1().Pods("team").List(ctx, metav1.ListOptions{LabelSelector: wellknown.DriverSelector})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != len(ids) {
		t.Errorf("%d driver pods for %d job runs", len(pods.Items), len(ids))
	}
}

// waitUntil polls cond every 50 ms until it holds or within has passed, and says how long it
// took.
func waitUntil(within time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < within {
		if cond() {
			return time.Since(start), true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start), false
}

// gauge reads the value of an unlabelled gauge or counter from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name || len(f.GetMetric()) == 0 {
			continue
		}
		m := f.GetMetric()[0]
		if m.GetGauge() != nil {
			return m.GetGauge().GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// syncBuffer is a log destination that goroutines share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
