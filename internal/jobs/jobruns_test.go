package jobs_test

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
	relcat "github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/store"
)

const provider = "unit"

type anyRole struct{}

func (anyRole) Allowed(string, string) bool { return true }

type oneProvider struct{}

func (oneProvider) Known(id string) bool                   { return id == provider }
func (oneProvider) NamespaceAllowed(string, string) string { return "" }

// newService returns a Service on a new SQLite store with one RUNNING virtual cluster, whose
// id it returns too.
func newService(t *testing.T) (*jobs.Service, string) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := jobs.NewService(st, jobs.Config{Region: "us-east-1", AccountID: "000000000000", Releases: relcat.Default(),
		Roles: anyRole{}, ContainerProviders: oneProvider{}})
	if err != nil {
		t.Fatal(err)
	}
	vc, err := svc.CreateVirtualCluster(t.Context(), jobs.CreateVirtualClusterInput{Name: "unit", ClientToken: "vc", ContainerProvider: &jobs.ContainerProvider{
		Type: "EKS", ID: provider, Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "team"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return svc, vc.ID
}

// startRun starts a job run on the virtual cluster as createdBy, with tags.
func startRun(t *testing.T, svc *jobs.Service, vcID, token, createdBy string, tags map[string]string) jobs.JobRun {
	t.Helper()
	run, err := svc.StartJobRun(t.Context(), jobs.StartJobRunInput{VirtualClusterID: vcID, Name: "pi", ClientToken: token,
		ExecutionRoleArn: "arn:aws:iam::000000000000:role/spark", ReleaseLabel: "emr-6.15.0-latest", Tags: tags,
		JobDriver: &jobs.JobDriver{SparkSubmitJobDriver: &jobs.SparkSubmitJobDriver{EntryPoint: "local:///opt/pi.py"}}}, createdBy)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// TestListJobRunsFilterRules pins the rules of ListJobRuns' createdBy and tags filters, each
// to the field it names; the tags are held to the rules of a run's own tags.
func TestListJobRunsFilterRules(t *testing.T) {
	svc, vcID := newService(t)
	tooMany := map[string]string{}
	for i := range 51 {
		tooMany[strings.Repeat("k", i+1)] = "v"
	}
	tests := []struct {
		name      string
		f         jobs.JobRunFilter
		field     string // "" means valid
		ruleWords string
	}{
		{"createdBy at the limit", jobs.JobRunFilter{CreatedBy: strings.Repeat("a", 2048)}, "", ""},
		{"createdBy too long", jobs.JobRunFilter{CreatedBy: strings.Repeat("a", 2049)}, "createdBy", "between 1 and 2048"},
		{"createdBy not UTF-8", jobs.JobRunFilter{CreatedBy: "arn:\xff"}, "createdBy", "UTF-8"},
		{"tags of AWS's characters", jobs.JobRunFilter{Tags: map[string]string{"team.name:x/y=+-@ z": `data "eng"`, "empty": ""}}, "", ""},
		{"tag key empty", jobs.JobRunFilter{Tags: map[string]string{"": "v"}}, "tags key", "required"},
		{"tag key blank", jobs.JobRunFilter{Tags: map[string]string{"  ": "v"}}, "tags key", "non-whitespace"},
		{"tag key too long", jobs.JobRunFilter{Tags: map[string]string{strings.Repeat("k", 129): "v"}}, "tags key", "between 1 and 128"},
		{"tag value too long", jobs.JobRunFilter{Tags: map[string]string{"k": strings.Repeat("v", 257)}}, "tags.k", "at most 256"},
		{"too many tags", jobs.JobRunFilter{Tags: tooMany}, "tags", "at most 50"},
		{"both set and valid", jobs.JobRunFilter{CreatedBy: "arn:aws:iam::000000000000:user/alice", Tags: map[string]string{"k": "v"},
			States: []jobs.JobRunState{jobs.StatePending}}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.VirtualClusterID = vcID
			_, _, err := svc.ListJobRuns(t.Context(), tc.f)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid filter refused: %v", err)
				}
				return
			}
			var ve *jobs.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError on %s", err, tc.field)
			}
			if ve.Field != tc.field || !strings.Contains(ve.Rule, tc.ruleWords) {
				t.Errorf("got %s: %s, want %s with %q", ve.Field, ve.Rule, tc.field, tc.ruleWords)
			}
		})
	}
}

// TestListJobRunsByCreatorAndTags lists the runs two principals started, by who started them
// and by their tags.
func TestListJobRunsByCreatorAndTags(t *testing.T) {
	svc, vcID := newService(t)
	const alice, bob = "arn:aws:iam::000000000000:user/alice", "arn:aws:iam::000000000000:user/bob"
	a1 := startRun(t, svc, vcID, "a1", alice, map[string]string{"team.name:x": `data "eng"`})
	a2 := startRun(t, svc, vcID, "a2", alice, nil)
	b1 := startRun(t, svc, vcID, "b1", bob, map[string]string{"team.name:x": `data "eng"`})
	// Runs started in the same microsecond are listed by id, so the ids are compared sorted.
	list := func(f jobs.JobRunFilter) string {
		t.Helper()
		f.VirtualClusterID = vcID
		runs, _, err := svc.ListJobRuns(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		return strings.Join(ids, " ")
	}
	set := func(ids ...string) string { return strings.Join(slices.Sorted(slices.Values(ids)), " ") }
	for _, tc := range []struct {
		name string
		f    jobs.JobRunFilter
		want string
	}{
		{"alice's", jobs.JobRunFilter{CreatedBy: alice}, set(a1.ID, a2.ID)},
		{"alice's tagged", jobs.JobRunFilter{CreatedBy: alice, Tags: map[string]string{"team.name:x": `data "eng"`}}, set(a1.ID)},
		{"tagged", jobs.JobRunFilter{Tags: map[string]string{"team.name:x": `data "eng"`}}, set(a1.ID, b1.ID)},
		{"bob's pending", jobs.JobRunFilter{CreatedBy: bob, States: []jobs.JobRunState{jobs.StatePending}}, set(b1.ID)},
		{"bob's running", jobs.JobRunFilter{CreatedBy: bob, States: []jobs.JobRunState{jobs.StateRunning}}, ""},
	} {
		if got := list(tc.f); got != tc.want {
			t.Errorf("%s runs: [%s], want [%s]", tc.name, got, tc.want)
		}
	}
}

// TestCountJobRuns counts a virtual cluster's runs by state through the service, which checks
// the id and that the virtual cluster exists first.
func TestCountJobRuns(t *testing.T) {
	svc, vcID := newService(t)
	for _, token := range []string{"a", "b", "c"} {
		startRun(t, svc, vcID, token, "arn:aws:iam::000000000000:user/alice", nil)
	}
	run := startRun(t, svc, vcID, "d", "arn:aws:iam::000000000000:user/alice", nil)
	if _, err := svc.CancelJobRun(t.Context(), vcID, run.ID); err != nil {
		t.Fatal(err)
	}
	got, err := svc.CountJobRuns(t.Context(), vcID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[jobs.JobRunState]int{jobs.StatePending: 3, jobs.StateCancelPending: 1}; !maps.Equal(got, want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	var ve *jobs.ValidationError
	if _, err := svc.CountJobRuns(t.Context(), "Not-An-Id"); !errors.As(err, &ve) || ve.Field != "virtualClusterId" {
		t.Errorf("count with a malformed id: %v, want a ValidationError on virtualClusterId", err)
	}
	if _, err := svc.CountJobRuns(t.Context(), "0123456789abcdefghijklmnop"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("count of a virtual cluster that does not exist: %v, want ErrNotFound", err)
	}
}
