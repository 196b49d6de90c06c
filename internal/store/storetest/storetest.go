package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Run runs the conformance suite; newStore must return a new empty store for each call.
func Run(t *testing.T, newStore func(t *testing.T) jobs.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, jobs.Store)
	}{
		{"VirtualClusterRoundTrip", testVirtualClusterRoundTrip},
		{"VirtualClusterNamespaceConflict", testNamespaceConflict},
		{"Idempotency", testIdempotency},
		{"JobRunRoundTrip", testJobRunRoundTrip},
		{"JobRunFiltersAndPagination", testJobRunList},
		{"JobRunCreatedByAndTags", testJobRunCreatedByAndTags},
		{"CountJobRuns", testCountJobRuns},
		{"UpdateJobRunCompareAndSet", testUpdateJobRun},
		{"ListActiveJobRunIDs", testListActive},
		{"TemplatesAndSecurityConfigurations", testTemplates},
		{"Tags", testTags},
		{"NotFound", testNotFound},
		{"ConcurrentCreates", testConcurrentCreates},
		{"Admission", testAdmission},
		{"HoldsSlot", testHoldsSlot},
		{"ConcurrentAdmission", testConcurrentAdmission},
		{"VirtualClusterSettings", testVirtualClusterSettings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var base = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func vc(id, ns string, at time.Time) jobs.VirtualCluster {
	return jobs.VirtualCluster{
		ID: id, Name: "vc-" + id, ARN: "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/" + id,
		State: jobs.VirtualClusterRunning, CreatedAt: at, Tags: map[string]string{"team": "data"},
		ContainerProvider: jobs.ContainerProvider{Type: "EKS", ID: "cluster1", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: ns}}},
	}
}

// JobRun returns a valid PENDING job run for tests and benchmarks.
func JobRun(id, vcID, name string, state jobs.JobRunState, at time.Time) jobs.JobRun {
	return jobs.JobRun{
		ID: id, Name: name, VirtualClusterID: vcID, State: state, CreatedAt: at,
		ARN:              "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/" + vcID + "/jobruns/" + id,
		ExecutionRoleArn: "arn:aws:iam::000000000000:role/spark", ReleaseLabel: "emr-6.5.0-latest",
		JobDriver: jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{EntryPoint: "local:///pi.py", EntryPointArguments: []string{"10"}}},
		ConfigurationOverrides: &jobs.ConfigurationOverrides{ApplicationConfiguration: []jobs.Configuration{
			{Classification: "spark-defaults", Properties: map[string]string{"spark.executor.instances": "2"}}}},
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// must turns a (value, error) result into the value, failing the test on error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func testVirtualClusterRoundTrip(t *testing.T, s jobs.Store) {
	in := vc("a1", "ns1", base)
	got := must(s.CreateVirtualCluster(ctx(t), in, jobs.Idempotency{}))(t)
	if got.ID != "a1" {
		t.Fatalf("create returned %+v", got)
	}
	read := must(s.GetVirtualCluster(ctx(t), "a1"))(t)
	if read.Name != in.Name || !read.CreatedAt.Equal(in.CreatedAt) || read.ContainerProvider.Namespace() != "ns1" || read.Tags["team"] != "data" {
		t.Fatalf("read back %+v, want %+v", read, in)
	}
	read = must(s.SetVirtualClusterState(ctx(t), "a1", jobs.VirtualClusterTerminated))(t)
	if read.State != jobs.VirtualClusterTerminated {
		t.Fatalf("state %s", read.State)
	}
	must(s.CreateVirtualCluster(ctx(t), vc("a2", "ns2", base.Add(time.Second)), jobs.Idempotency{}))(t)
	for _, tc := range []struct {
		f    jobs.VirtualClusterFilter
		want []string
	}{
		{jobs.VirtualClusterFilter{}, []string{"a2", "a1"}},
		{jobs.VirtualClusterFilter{States: []jobs.VirtualClusterState{jobs.VirtualClusterRunning}}, []string{"a2"}},
		{jobs.VirtualClusterFilter{ContainerProviderID: "other"}, nil},
		{jobs.VirtualClusterFilter{ContainerProviderType: "EKS", TimeFilter: jobs.TimeFilter{CreatedBefore: base}}, []string{"a1"}},
		{jobs.VirtualClusterFilter{TimeFilter: jobs.TimeFilter{CreatedAfter: base.Add(time.Millisecond)}}, []string{"a2"}},
	} {
		list, _, err := s.ListVirtualClusters(ctx(t), tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(list, func(v jobs.VirtualCluster) string { return v.ID }); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("filter %+v: got %v, want %v", tc.f, got, tc.want)
		}
	}
}

func ids[T any](list []T, id func(T) string) []string {
	var out []string
	for _, v := range list {
		out = append(out, id(v))
	}
	return out
}

func testNamespaceConflict(t *testing.T, s jobs.Store) {
	must(s.CreateVirtualCluster(ctx(t), vc("b1", "shared", base), jobs.Idempotency{}))(t)
	_, err := s.CreateVirtualCluster(ctx(t), vc("b2", "shared", base), jobs.Idempotency{})
	if !errors.Is(err, jobs.ErrConflict) {
		t.Fatalf("second running cluster in a namespace: got %v, want ErrConflict", err)
	}
	if _, err := s.GetVirtualCluster(ctx(t), "b2"); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("conflicting cluster was stored: %v", err)
	}
	must(s.SetVirtualClusterState(ctx(t), "b1", jobs.VirtualClusterTerminated))(t)
	must(s.CreateVirtualCluster(ctx(t), vc("b3", "shared", base), jobs.Idempotency{}))(t)
}

func testIdempotency(t *testing.T, s jobs.Store) {
	tok := jobs.Idempotency{Token: "tok-1", Hash: "h1"}
	first := must(s.CreateVirtualCluster(ctx(t), vc("c1", "n1", base), tok))(t)
	again := must(s.CreateVirtualCluster(ctx(t), vc("c2", "n2", base), tok))(t)
	if again.ID != first.ID {
		t.Fatalf("same token and hash returned %s, want %s", again.ID, first.ID)
	}
	if _, err := s.CreateVirtualCluster(ctx(t), vc("c3", "n3", base), jobs.Idempotency{Token: "tok-1", Hash: "h2"}); !errors.Is(err, jobs.ErrIdempotencyMismatch) {
		t.Fatalf("same token, other body: got %v", err)
	}
	for _, id := range []string{"c2", "c3"} {
		if _, err := s.GetVirtualCluster(ctx(t), id); !errors.Is(err, jobs.ErrNotFound) {
			t.Fatalf("%s was stored: %v", id, err)
		}
	}
	// Job run tokens are scoped by virtual cluster.
	r1 := must(s.CreateJobRun(ctx(t), JobRun("r1", "c1", "x", jobs.StatePending, base), tok))(t)
	r2 := must(s.CreateJobRun(ctx(t), JobRun("r2", "c1", "x", jobs.StatePending, base), tok))(t)
	if r1.ID != r2.ID {
		t.Fatalf("job run retry returned %s, want %s", r2.ID, r1.ID)
	}
	if _, err := s.CreateJobRun(ctx(t), JobRun("r3", "c1", "x", jobs.StatePending, base), jobs.Idempotency{Token: "tok-1", Hash: "other"}); !errors.Is(err, jobs.ErrIdempotencyMismatch) {
		t.Fatalf("job run token reuse: %v", err)
	}
	r4 := must(s.CreateJobRun(ctx(t), JobRun("r4", "other-vc", "x", jobs.StatePending, base), tok))(t)
	if r4.ID != "r4" {
		t.Fatalf("token in another virtual cluster returned %s", r4.ID)
	}
	tmpl := jobs.JobTemplate{ID: "t1", Name: "t", CreatedAt: base}
	must(s.CreateJobTemplate(ctx(t), tmpl, tok))(t)
	tmpl.ID = "t2"
	if got := must(s.CreateJobTemplate(ctx(t), tmpl, tok))(t); got.ID != "t1" {
		t.Fatalf("template retry returned %s", got.ID)
	}
}

func testJobRunRoundTrip(t *testing.T, s jobs.Store) {
	in := JobRun("j1", "v1", "pi", jobs.StatePending, base)
	in.Tags = map[string]string{"k": "v"}
	in.RetryPolicyConfiguration = &jobs.RetryPolicyConfiguration{MaxAttempts: 3}
	got := must(s.CreateJobRun(ctx(t), in, jobs.Idempotency{}))(t)
	if got.Version != 1 {
		t.Fatalf("new run version %d, want 1", got.Version)
	}
	read := must(s.GetJobRun(ctx(t), "j1"))(t)
	if read.JobDriver.SparkSubmitJobDriver.EntryPoint != "local:///pi.py" || read.ConfigurationOverrides.ApplicationConfiguration[0].Properties["spark.executor.instances"] != "2" ||
		read.Tags["k"] != "v" || read.RetryPolicyConfiguration.MaxAttempts != 3 || !read.CreatedAt.Equal(base) || read.Version != 1 {
		t.Fatalf("read back %+v", read)
	}
}

func testJobRunList(t *testing.T, s jobs.Store) {
	states := []jobs.JobRunState{jobs.StatePending, jobs.StateRunning, jobs.StateCompleted}
	for i := range 25 {
		name := "even"
		if i%2 == 1 {
			name = "odd"
		}
		must(s.CreateJobRun(ctx(t), JobRun(fmt.Sprintf("j%02d", i), "v1", name, states[i%3], base.Add(time.Duration(i)*time.Second)), jobs.Idempotency{}))(t)
	}
	// Same timestamp: ties are broken by id.
	must(s.CreateJobRun(ctx(t), JobRun("j99", "v1", "even", jobs.StatePending, base), jobs.Idempotency{}))(t)
	must(s.CreateJobRun(ctx(t), JobRun("x1", "v2", "even", jobs.StatePending, base), jobs.Idempotency{}))(t)

	var all []string
	tok := ""
	for range 10 {
		page, next, err := s.ListJobRuns(ctx(t), jobs.JobRunFilter{VirtualClusterID: "v1", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 7, Token: tok}}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(page, func(r jobs.JobRun) string { return r.ID })...)
		if next == "" {
			break
		}
		tok = next
	}
	// Newest first; equal timestamps by id, descending.
	if len(all) != 26 || all[0] != "j24" || all[23] != "j01" || all[24] != "j99" || all[25] != "j00" {
		t.Fatalf("paged order: %v", all)
	}
	count := func(f jobs.JobRunFilter) int {
		f.VirtualClusterID = "v1"
		f.Limit = 100
		l, _, err := s.ListJobRuns(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	for _, tc := range []struct {
		name string
		f    jobs.JobRunFilter
		want int
	}{
		{"all", jobs.JobRunFilter{}, 26},
		{"name", jobs.JobRunFilter{Name: "odd"}, 12},
		{"state", jobs.JobRunFilter{States: []jobs.JobRunState{jobs.StateCompleted}}, 8},
		{"states", jobs.JobRunFilter{States: []jobs.JobRunState{jobs.StatePending, jobs.StateRunning}}, 18},
		{"after", jobs.JobRunFilter{TimeFilter: jobs.TimeFilter{CreatedAfter: base.Add(20 * time.Second)}}, 5},
		{"before", jobs.JobRunFilter{TimeFilter: jobs.TimeFilter{CreatedBefore: base.Add(time.Second)}}, 3},
		{"combined", jobs.JobRunFilter{Name: "even", States: []jobs.JobRunState{jobs.StatePending}, TimeFilter: jobs.TimeFilter{CreatedAfter: base.Add(time.Second)}}, 4},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("%s: %d runs, want %d", tc.name, got, tc.want)
		}
	}
	if _, _, err := s.ListJobRuns(ctx(t), jobs.JobRunFilter{VirtualClusterID: "v1", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Token: "!!garbage"}}}); err == nil {
		t.Error("a garbage nextToken was accepted")
	}
}

func testUpdateJobRun(t *testing.T, s jobs.Store) {
	must(s.CreateJobRun(ctx(t), JobRun("u1", "v1", "n", jobs.StatePending, base), jobs.Idempotency{}))(t)
	up := must(s.UpdateJobRun(ctx(t), "u1", 1, func(r *jobs.JobRun) error {
		r.State = jobs.StateSubmitted
		r.Attempt = jobs.Attempt{Number: 2, Namespace: "ns", DriverPod: "spark-u1-driver", SubmittedAt: base.Add(time.Second)}
		r.RetryPolicyExecution = &jobs.RetryPolicyExecution{CurrentAttemptCount: 1}
		return nil
	}))(t)
	if up.Version != 2 || up.State != jobs.StateSubmitted {
		t.Fatalf("after update: %+v", up)
	}
	if _, err := s.UpdateJobRun(ctx(t), "u1", 1, func(r *jobs.JobRun) error { r.State = jobs.StateFailed; return nil }); !errors.Is(err, jobs.ErrConflict) {
		t.Fatalf("stale version: got %v, want ErrConflict", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateJobRun(ctx(t), "u1", 2, func(r *jobs.JobRun) error { r.State = jobs.StateFailed; return boom }); !errors.Is(err, boom) {
		t.Fatalf("mutate error: %v", err)
	}
	read := must(s.GetJobRun(ctx(t), "u1"))(t)
	if read.State != jobs.StateSubmitted || read.Version != 2 || read.Attempt.DriverPod != "spark-u1-driver" || read.Attempt.Number != 2 || !read.Attempt.SubmittedAt.Equal(base.Add(time.Second)) || read.RetryPolicyExecution.CurrentAttemptCount != 1 {
		t.Fatalf("stored run changed by failed updates or lost fields: %+v", read)
	}
	if _, err := s.UpdateJobRun(ctx(t), "nope", -1, func(*jobs.JobRun) error { return nil }); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func testListActive(t *testing.T, s jobs.Store) {
	for i, st := range []jobs.JobRunState{jobs.StatePending, jobs.StateCompleted, jobs.StateRunning, jobs.StateCancelPending, jobs.StateFailed, jobs.StateSubmitted, jobs.StateCancelled} {
		must(s.CreateJobRun(ctx(t), JobRun(fmt.Sprintf("a%d", i), fmt.Sprintf("v%d", i%2), "n", st, base.Add(time.Duration(i)*time.Second)), jobs.Idempotency{}))(t)
	}
	got := must(s.ListActiveJobRunIDs(ctx(t), 0))(t)
	if fmt.Sprint(got) != "[a0 a2 a3 a5]" {
		t.Fatalf("active runs %v", got)
	}
	if got := must(s.ListActiveJobRunIDs(ctx(t), 2))(t); len(got) != 2 {
		t.Fatalf("limit 2 returned %d", len(got))
	}
}

func testTemplates(t *testing.T, s jobs.Store) {
	def := "7"
	tmpl := jobs.JobTemplate{ID: "t1", Name: "tmpl", CreatedAt: base, JobTemplateData: jobs.JobTemplateData{
		ExecutionRoleArn: "${Role}", ReleaseLabel: "emr-6.5.0-latest",
		ParameterConfiguration: map[string]jobs.TemplateParameterConfiguration{"Role": {Type: "STRING", DefaultValue: &def}},
	}}
	must(s.CreateJobTemplate(ctx(t), tmpl, jobs.Idempotency{}))(t)
	tmpl.ID, tmpl.CreatedAt = "t2", base.Add(time.Second)
	must(s.CreateJobTemplate(ctx(t), tmpl, jobs.Idempotency{}))(t)
	read := must(s.GetJobTemplate(ctx(t), "t1"))(t)
	if *read.JobTemplateData.ParameterConfiguration["Role"].DefaultValue != "7" {
		t.Fatalf("template read back %+v", read)
	}
	page, next := must2(s.ListJobTemplates(ctx(t), jobs.TimeFilter{Page: jobs.Page{Limit: 1}}))(t)
	if len(page) != 1 || page[0].ID != "t2" || next == "" {
		t.Fatalf("first template page %v %q", page, next)
	}
	page, next = must2(s.ListJobTemplates(ctx(t), jobs.TimeFilter{Page: jobs.Page{Limit: 1, Token: next}}))(t)
	if len(page) != 1 || page[0].ID != "t1" || next != "" {
		t.Fatalf("second template page %v %q", page, next)
	}
	if err := s.DeleteJobTemplate(ctx(t), "t1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteJobTemplate(ctx(t), "t1"); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	sc := jobs.SecurityConfiguration{ID: "s1", Name: "sec", CreatedAt: base, SecurityConfigurationData: jobs.SecurityConfigurationData{
		AuthorizationConfiguration: map[string]any{"lakeFormationConfiguration": map[string]any{"queryEngineRoleArn": "arn:aws:iam::000000000000:role/q"}}}}
	must(s.CreateSecurityConfiguration(ctx(t), sc, jobs.Idempotency{}))(t)
	gotSC := must(s.GetSecurityConfiguration(ctx(t), "s1"))(t)
	if fmt.Sprint(gotSC.SecurityConfigurationData) != fmt.Sprint(sc.SecurityConfigurationData) {
		t.Fatalf("security configuration read back %+v", gotSC)
	}
	scs, _ := must2(s.ListSecurityConfigurations(ctx(t), jobs.TimeFilter{CreatedAfter: base}))(t)
	if len(scs) != 1 {
		t.Fatalf("security configurations: %v", scs)
	}
}

// must2 is must for list results (items, next token, error).
func must2[T any](v []T, next string, err error) func(*testing.T) ([]T, string) {
	return func(t *testing.T) ([]T, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v, next
	}
}

func testTags(t *testing.T, s jobs.Store) {
	must(s.CreateVirtualCluster(ctx(t), vc("g1", "n", base), jobs.Idempotency{}))(t)
	must(s.CreateJobRun(ctx(t), JobRun("gj", "g1", "n", jobs.StatePending, base), jobs.Idempotency{}))(t)
	for _, ref := range []jobs.ResourceRef{{Kind: jobs.KindVirtualCluster, ID: "g1"}, {Kind: jobs.KindJobRun, ID: "gj"}} {
		tags := must(s.UpdateTags(ctx(t), ref, map[string]string{"a": "1", "b": "2"}, nil, nil))(t)
		if tags["a"] != "1" || tags["b"] != "2" {
			t.Fatalf("%v after set: %v", ref, tags)
		}
		tags = must(s.UpdateTags(ctx(t), ref, nil, []string{"a", "missing"}, nil))(t)
		if _, ok := tags["a"]; ok || tags["b"] != "2" {
			t.Fatalf("%v after remove: %v", ref, tags)
		}
		if read := must(s.UpdateTags(ctx(t), ref, nil, nil, nil))(t); fmt.Sprint(read) != fmt.Sprint(tags) {
			t.Fatalf("%v read %v, want %v", ref, read, tags)
		}
	}
	if vc := must(s.GetVirtualCluster(ctx(t), "g1"))(t); vc.Tags["team"] != "data" || vc.Tags["b"] != "2" {
		t.Fatalf("virtual cluster tags %v", vc.Tags)
	}
	if _, err := s.UpdateTags(ctx(t), jobs.ResourceRef{Kind: jobs.KindJobTemplate, ID: "none"}, map[string]string{"a": "b"}, nil, nil); !errors.Is(err, jobs.ErrNotFound) {
		t.Fatalf("tagging a missing resource: %v", err)
	}

	// A limit the check enforces holds when calls race: 20 concurrent calls each adding two
	// new tags to a resource limited to 10 leave at most 10, and the refused ones change
	// nothing.
	ref := jobs.ResourceRef{Kind: jobs.KindVirtualCluster, ID: "g1"}
	must(s.UpdateTags(ctx(t), ref, nil, []string{"b", "team"}, nil))(t)
	limit := errors.New("over the limit")
	var wg sync.WaitGroup
	var refused atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			_, err := s.UpdateTags(ctx(t), ref, map[string]string{fmt.Sprintf("k%da", i): "v", fmt.Sprintf("k%db", i): "v"}, nil,
				func(after map[string]string) error {
					if len(after) > 10 {
						return limit
					}
					return nil
				})
			if errors.Is(err, limit) {
				refused.Add(1)
			} else if err != nil {
				t.Errorf("concurrent tag: %v", err)
			}
		})
	}
	wg.Wait()
	if tags := must(s.UpdateTags(ctx(t), ref, nil, nil, nil))(t); len(tags) != 10 || refused.Load() != 15 {
		t.Fatalf("after 20 racing calls of 2 tags under a limit of 10: %d tags, %d refused (want 10 and 15)", len(tags), refused.Load())
	}
}

func testNotFound(t *testing.T, s jobs.Store) {
	checks := map[string]error{}
	_, checks["virtual cluster"] = s.GetVirtualCluster(ctx(t), "none")
	_, checks["job run"] = s.GetJobRun(ctx(t), "none")
	_, checks["job template"] = s.GetJobTemplate(ctx(t), "none")
	_, checks["security configuration"] = s.GetSecurityConfiguration(ctx(t), "none")
	_, checks["set state"] = s.SetVirtualClusterState(ctx(t), "none", jobs.VirtualClusterTerminated)
	for name, err := range checks {
		if !errors.Is(err, jobs.ErrNotFound) {
			t.Errorf("%s: got %v, want ErrNotFound", name, err)
		}
	}
}

func testConcurrentCreates(t *testing.T, s jobs.Store) {
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := jobs.Idempotency{Token: fmt.Sprintf("t%d", i%100), Hash: "same"}
			_, err := s.CreateJobRun(context.Background(), JobRun(fmt.Sprintf("c%03d", i), "v1", "n", jobs.StatePending, base), tok)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, _ := must2(s.ListJobRuns(ctx(t), jobs.JobRunFilter{VirtualClusterID: "v1", TimeFilter: jobs.TimeFilter{Page: jobs.Page{Limit: 500}}}))(t)
	if len(list) != 100 {
		t.Fatalf("200 creates over 100 tokens stored %d runs, want 100", len(list))
	}
}
