package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// The queue's part of Run: AdmitJobRun's first-in-first-out rule and the limit it keeps, which
// runs hold a slot as UpdateJobRun and ImportJobRuns store them, and virtual cluster settings.

// admittedAt is when the queue tests admit runs.
var admittedAt = base.Add(time.Hour)

func createVC(t *testing.T, s jobs.Store, id string) {
	t.Helper()
	must(s.CreateVirtualCluster(ctx(t), vc(id, "ns-"+id, base), jobs.Idempotency{}))(t)
}

func createPending(t *testing.T, s jobs.Store, id, vcID string, at time.Time) {
	t.Helper()
	must(s.CreateJobRun(ctx(t), JobRun(id, vcID, "n", jobs.StatePending, at), jobs.Idempotency{}))(t)
}

// admitAs asks to admit id under limit and fails the test unless the answer is want; it
// checks that an admitted run comes back, and is stored, with its admission time and the next
// version, and that a refused one is returned and stored as it was.
func admitAs(t *testing.T, s jobs.Store, id string, limit int, want jobs.Admission) {
	t.Helper()
	before := must(s.GetJobRun(ctx(t), id))(t)
	run, adm, err := s.AdmitJobRun(ctx(t), id, limit, admittedAt)
	if err != nil {
		t.Fatalf("admit %s: %v", id, err)
	}
	// A run already holding a slot, or no longer queued, is only said to be admitted or not.
	decided := before.State != jobs.StatePending || before.HoldsSlot()
	if decided && adm.Admitted != want.Admitted || !decided && adm != want {
		t.Errorf("admit %s under %d: %+v, want %+v", id, limit, adm, want)
	}
	stored := must(s.GetJobRun(ctx(t), id))(t)
	wantVersion, wantAt := before.Version, before.Attempt.AdmittedAt
	if want.Admitted && !decided {
		wantVersion, wantAt = before.Version+1, admittedAt
	}
	for what, r := range map[string]jobs.JobRun{"returned": run, "stored": stored} {
		if r.ID != id || r.State != before.State || r.Version != wantVersion || !r.Attempt.AdmittedAt.Equal(wantAt) {
			t.Errorf("admit %s: %s as %s, version %d, admitted at %v; want %s, version %d, admitted at %v",
				id, what, r.State, r.Version, r.Attempt.AdmittedAt, before.State, wantVersion, wantAt)
		}
	}
}

func wantQueued(t *testing.T, s jobs.Store, vcID string, limit int, want string) {
	t.Helper()
	if got := must(s.ListQueuedJobRunIDs(ctx(t), vcID, limit))(t); fmt.Sprint(got) != want {
		t.Errorf("queued runs of %s (at most %d): %v, want %s", vcID, limit, got, want)
	}
}

func setState(t *testing.T, s jobs.Store, id string, state jobs.JobRunState) {
	t.Helper()
	must(s.UpdateJobRun(ctx(t), id, -1, func(r *jobs.JobRun) error { r.State = state; return nil }))(t)
}

// testAdmission plays a virtual cluster limited to two runs: five runs created one after the
// other (their ids run backwards, so order is by creation, not id) are admitted first in first
// out, a run that ends frees its slot for the oldest queued run, and runs of another virtual
// cluster count only there.
func testAdmission(t *testing.T, s jobs.Store) {
	createVC(t, s, "q1")
	createVC(t, s, "q2")
	// Older runs of q2, holding both of its slots.
	createPending(t, s, "o1", "q2", base.Add(-time.Minute))
	createPending(t, s, "o2", "q2", base.Add(-time.Minute))
	admitAs(t, s, "o1", 2, jobs.Admission{Admitted: true})
	admitAs(t, s, "o2", 2, jobs.Admission{Admitted: true, Holding: 1})
	for i, id := range []string{"e", "d", "c", "b", "a"} {
		createPending(t, s, id, "q1", base.Add(time.Duration(i)*time.Second))
	}
	wantQueued(t, s, "q1", 10, "[e d c b a]")

	steps := []struct {
		name string
		do   func(t *testing.T)
	}{
		{"the newest waits for the four before it", func(t *testing.T) { admitAs(t, s, "a", 2, jobs.Admission{Ahead: 4}) }},
		{"in creation order two are admitted", func(t *testing.T) {
			admitAs(t, s, "e", 2, jobs.Admission{Admitted: true})
			admitAs(t, s, "d", 2, jobs.Admission{Admitted: true, Holding: 1})
			admitAs(t, s, "c", 2, jobs.Admission{Holding: 2})
			admitAs(t, s, "b", 2, jobs.Admission{Ahead: 1, Holding: 2})
			admitAs(t, s, "a", 2, jobs.Admission{Ahead: 2, Holding: 2})
			wantQueued(t, s, "q1", 10, "[c b a]")
			wantQueued(t, s, "q1", 2, "[c b]")
			wantQueued(t, s, "q2", 10, "[]")
			wantQueued(t, s, "none", 10, "[]")
		}},
		{"an admitted run stays admitted, whatever the limit, and is not admitted twice", func(t *testing.T) {
			admitAs(t, s, "e", 2, jobs.Admission{Admitted: true})
			admitAs(t, s, "e", 1, jobs.Admission{Admitted: true})
		}},
		{"a run that ends frees its slot for the oldest queued run", func(t *testing.T) {
			setState(t, s, "e", jobs.StateCompleted)
			admitAs(t, s, "b", 2, jobs.Admission{Ahead: 1, Holding: 1})
			admitAs(t, s, "c", 2, jobs.Admission{Admitted: true, Holding: 1})
			admitAs(t, s, "b", 2, jobs.Admission{Holding: 2})
			wantQueued(t, s, "q1", 10, "[b a]")
		}},
		{"a run that ended is not admitted", func(t *testing.T) { admitAs(t, s, "e", 2, jobs.Admission{}) }},
		{"a queued run that is cancelled leaves the queue", func(t *testing.T) {
			setState(t, s, "b", jobs.StateCancelled)
			wantQueued(t, s, "q1", 10, "[a]")
			setState(t, s, "d", jobs.StateFailed)
			admitAs(t, s, "a", 2, jobs.Admission{Admitted: true, Holding: 1})
			wantQueued(t, s, "q1", 10, "[]")
		}},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.do) {
			return // each step starts where the one before left the queue
		}
	}
	if _, _, err := s.AdmitJobRun(ctx(t), "none", 2, admittedAt); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("admit an unknown run: %v, want ErrNotFound", err)
	}
}

// testHoldsSlot checks that the runs jobs.JobRun.HoldsSlot says hold a slot count against the
// limit as UpdateJobRun stores them, admitted or not: a run the controller submitted, then
// running, then an admitted run being cancelled; and, for stores that bulk-load, as
// ImportJobRuns stores them.
func testHoldsSlot(t *testing.T, s jobs.Store) {
	createVC(t, s, "h1")
	createPending(t, s, "x", "h1", base)
	createPending(t, s, "y", "h1", base.Add(time.Second))
	createPending(t, s, "z", "h1", base.Add(2*time.Second))
	must(s.UpdateJobRun(ctx(t), "x", -1, func(r *jobs.JobRun) error {
		r.State = jobs.StateSubmitted
		r.Attempt = jobs.Attempt{Number: 1, Namespace: "ns-h1", DriverPod: "x-driver", SubmittedAt: base.Add(time.Minute)}
		return nil
	}))(t)
	admitAs(t, s, "y", 1, jobs.Admission{Holding: 1})
	wantQueued(t, s, "h1", 10, "[y z]")
	setState(t, s, "x", jobs.StateRunning)
	admitAs(t, s, "y", 1, jobs.Admission{Holding: 1})
	setState(t, s, "x", jobs.StateCompleted)
	admitAs(t, s, "y", 1, jobs.Admission{Admitted: true})
	setState(t, s, "y", jobs.StateCancelPending)
	admitAs(t, s, "z", 1, jobs.Admission{Holding: 1})
	setState(t, s, "y", jobs.StateCancelled)
	admitAs(t, s, "z", 1, jobs.Admission{Admitted: true})

	importer, ok := s.(interface {
		ImportJobRuns(ctx context.Context, runs []jobs.JobRun) error
	})
	if !ok {
		return
	}
	createVC(t, s, "h2")
	running := JobRun("i1", "h2", "n", jobs.StateRunning, base)
	running.Attempt = jobs.Attempt{Number: 1, SubmittedAt: base}
	admitted := JobRun("i2", "h2", "n", jobs.StatePending, base)
	admitted.Attempt.AdmittedAt = base
	if err := importer.ImportJobRuns(ctx(t), []jobs.JobRun{running, admitted, JobRun("i3", "h2", "n", jobs.StatePending, base)}); err != nil {
		t.Fatal(err)
	}
	wantQueued(t, s, "h2", 10, "[i3]")
	admitAs(t, s, "i3", 2, jobs.Admission{Holding: 2})
	admitAs(t, s, "i3", 3, jobs.Admission{Admitted: true, Holding: 2})
}

// testConcurrentAdmission races two admissions of each of ten queued runs under a limit of
// three: the three oldest are admitted, once each, and no other. It races on several virtual
// clusters in turn, so that later rounds run on a store whose connections are already open and
// the calls overlap the more.
func testConcurrentAdmission(t *testing.T, s jobs.Store) {
	const rounds, runs, limit = 10, 10, 3
	for round := range rounds {
		vcID := fmt.Sprintf("c%d", round)
		createVC(t, s, vcID)
		id := func(i int) string { return fmt.Sprintf("%s-r%02d", vcID, i) }
		for i := range runs {
			createPending(t, s, id(i), vcID, base.Add(time.Duration(i)*time.Second))
		}
		admissions := make([]jobs.Admission, 2*runs)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range admissions {
			wg.Go(func() {
				<-start
				var err error
				if _, admissions[i], err = s.AdmitJobRun(ctx(t), id(i%runs), limit, admittedAt); err != nil {
					t.Errorf("admit %s: %v", id(i%runs), err)
				}
			})
		}
		close(start)
		wg.Wait()
		var admitted []string
		for i := range runs {
			run := must(s.GetJobRun(ctx(t), id(i)))(t)
			if run.Attempt.AdmittedAt.IsZero() {
				continue
			}
			admitted = append(admitted, run.ID)
			if run.Version != 2 {
				t.Errorf("%s was admitted to version %d, want 2: admitted more than once", run.ID, run.Version)
			}
			if !admissions[i].Admitted || !admissions[i+runs].Admitted {
				t.Errorf("%s is admitted, but an admission answered %+v and %+v", run.ID, admissions[i], admissions[i+runs])
			}
		}
		if want := fmt.Sprint([]string{id(0), id(1), id(2)}); fmt.Sprint(admitted) != want {
			t.Fatalf("%d racing admissions of %d runs under a limit of %d admitted %v, want the three oldest %s", 2*runs, runs, limit, admitted, want)
		}
		if queued := must(s.ListQueuedJobRunIDs(ctx(t), vcID, 100))(t); len(queued) != runs-limit {
			t.Fatalf("queued on %s after the race: %v", vcID, queued)
		}
	}
}

// testVirtualClusterSettings checks the settings round trip, that writes to the rest of the
// virtual cluster keep them, and that nil removes them.
func testVirtualClusterSettings(t *testing.T, s jobs.Store) {
	createVC(t, s, "v1")
	createVC(t, s, "v2")
	get := func(id string) *jobs.VirtualClusterSettings {
		t.Helper()
		return must(s.GetVirtualClusterSettings(ctx(t), id))(t)
	}
	put := func(id string, settings *jobs.VirtualClusterSettings) {
		t.Helper()
		if err := s.PutVirtualClusterSettings(ctx(t), id, settings); err != nil {
			t.Fatal(err)
		}
	}
	if got := get("v1"); got != nil {
		t.Fatalf("settings before any were put: %+v", got)
	}
	full := &jobs.VirtualClusterSettings{
		MaxConcurrentJobRuns: 4,
		PodPolicy:            jobs.PodPolicy{AllowedHostPaths: []string{"/data"}, AllowedCapabilities: []string{"NET_BIND_SERVICE"}, AllowRoot: true, AllowHostNamespaces: true},
		JobDefaults:          &jobs.JobDefaults{SparkConf: map[string]string{"spark.eventLog.enabled": "true"}, DriverPodTemplate: "s3://bucket/driver.yaml"},
	}
	put("v1", full)
	if got := get("v1"); !reflect.DeepEqual(got, full) {
		t.Fatalf("read back %+v, want %+v", got, full)
	}
	if got := get("v2"); got != nil {
		t.Fatalf("another virtual cluster's settings: %+v", got)
	}
	must(s.UpdateTags(ctx(t), jobs.ResourceRef{Kind: jobs.KindVirtualCluster, ID: "v1"}, map[string]string{"k": "v"}, nil, nil))(t)
	must(s.SetVirtualClusterState(ctx(t), "v1", jobs.VirtualClusterTerminated))(t)
	if got := get("v1"); !reflect.DeepEqual(got, full) {
		t.Fatalf("after tagging and terminating the virtual cluster: %+v, want %+v", got, full)
	}
	if v := must(s.GetVirtualCluster(ctx(t), "v1"))(t); v.State != jobs.VirtualClusterTerminated || v.Tags["k"] != "v" {
		t.Fatalf("putting settings changed the virtual cluster: %+v", v)
	}
	small := &jobs.VirtualClusterSettings{MaxConcurrentJobRuns: 1}
	put("v1", small)
	if got := get("v1"); !reflect.DeepEqual(got, small) {
		t.Fatalf("replaced: %+v, want %+v", got, small)
	}
	put("v1", nil)
	if got := get("v1"); got != nil {
		t.Fatalf("after putting nil: %+v", got)
	}
	if _, err := s.GetVirtualClusterSettings(ctx(t), "none"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("get settings of an unknown virtual cluster: %v, want ErrNotFound", err)
	}
	if err := s.PutVirtualClusterSettings(ctx(t), "none", small); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("put settings of an unknown virtual cluster: %v, want ErrNotFound", err)
	}
}
