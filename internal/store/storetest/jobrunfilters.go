package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Principals of the filter tests.
const (
	aliceARN = "arn:aws:iam::000000000000:user/alice"
	bobARN   = "arn:aws:iam::000000000000:user/bob"
)

// Tag keys with characters a JSON path gives a meaning to ('.', ':', '/', '=', '+', '-', '@',
// ' '), as AWS allows them in tag keys.
const (
	teamKey = "team.name:x"
	costKey = "cost/center=+ -@ 1"
)

// filterRuns are the job runs of virtual cluster "f1" the filter tests list: createdBy, state
// and tags vary with i so that every combination the filters ask for is there, some runs
// share a creation time (their order is by id), one has no tags, one no createdBy, and one
// holds a NUL in its arguments, which a PostgreSQL json document keeps as \u0000.
func filterRuns() []jobs.JobRun {
	states := []jobs.JobRunState{jobs.StatePending, jobs.StateRunning, jobs.StateCompleted, jobs.StateFailed}
	var out []jobs.JobRun
	for i := range 24 {
		at := base.Add(time.Duration(min(i, 20)) * time.Second)
		r := JobRun(fmt.Sprintf("f%02d", i), "f1", "n", states[i%len(states)], at)
		r.CreatedBy = []string{aliceARN, bobARN, ""}[i%3]
		r.Tags = map[string]string{teamKey: "ops"}
		if i%2 == 0 {
			r.Tags[teamKey] = `data "eng"`
		}
		if i%5 == 0 {
			r.Tags[costKey] = "42"
		}
		switch i {
		case 3:
			r.JobDriver.SparkSubmitJobDriver.EntryPointArguments = []string{"a\x00b"}
		case 7:
			r.Tags["nul"] = "a\x00b"
			r.Tags["literal"] = `x\u0000y` // the text \u0000, not a NUL
		case 11:
			r.Tags = nil
		case 13:
			r.Tags["empty"] = ""
		}
		out = append(out, r)
	}
	return out
}

// matches is what ListJobRuns must keep: every filter that is set holds.
func matches(r jobs.JobRun, f jobs.JobRunFilter) bool {
	if f.VirtualClusterID != r.VirtualClusterID || (f.CreatedBy != "" && r.CreatedBy != f.CreatedBy) {
		return false
	}
	if len(f.States) > 0 && !slices.Contains(f.States, r.State) {
		return false
	}
	if !f.CreatedAfter.IsZero() && r.CreatedAt.Before(f.CreatedAfter) {
		return false
	}
	for k, v := range f.Tags {
		if have, ok := r.Tags[k]; !ok || have != v {
			return false
		}
	}
	return true
}

func testJobRunCreatedByAndTags(t *testing.T, s jobs.Store) {
	runs := filterRuns()
	for _, r := range runs {
		must(s.CreateJobRun(ctx(t), r, jobs.Idempotency{}))(t)
	}
	// The same principal and tags in another virtual cluster: never listed with f1's.
	other := runs[0]
	other.ID, other.VirtualClusterID = "other", "f2"
	must(s.CreateJobRun(ctx(t), other, jobs.Idempotency{}))(t)
	// Newest first, equal times by id descending, as the stores order a list.
	slices.SortFunc(runs, func(a, b jobs.JobRun) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})

	tests := []struct {
		name string
		f    jobs.JobRunFilter
		want int // how many runs match; a check of the test's data
	}{
		{"createdBy", jobs.JobRunFilter{CreatedBy: aliceARN}, 8},
		{"createdBy and states", jobs.JobRunFilter{CreatedBy: bobARN, States: []jobs.JobRunState{jobs.StatePending, jobs.StateRunning}}, 4},
		{"createdBy is exact", jobs.JobRunFilter{CreatedBy: "arn:aws:iam::000000000000:user/ALICE"}, 0},
		{"createdBy is no prefix", jobs.JobRunFilter{CreatedBy: "arn:aws:iam::000000000000:user/"}, 0},
		{"createdBy quoted", jobs.JobRunFilter{CreatedBy: `' OR '1'='1`}, 0},
		{"tag with a quote in its value", jobs.JobRunFilter{Tags: map[string]string{teamKey: `data "eng"`}}, 12},
		{"tag value is exact", jobs.JobRunFilter{Tags: map[string]string{teamKey: "data"}}, 0},
		{"two tags", jobs.JobRunFilter{Tags: map[string]string{teamKey: `data "eng"`, costKey: "42"}}, 3},
		{"tags, createdBy, states", jobs.JobRunFilter{CreatedBy: aliceARN, Tags: map[string]string{teamKey: `data "eng"`},
			States: []jobs.JobRunState{jobs.StatePending, jobs.StateCompleted}}, 4},
		{"tags and time", jobs.JobRunFilter{Tags: map[string]string{teamKey: "ops"}, TimeFilter: jobs.TimeFilter{CreatedAfter: base.Add(10 * time.Second)}}, 6},
		{"tag with a NUL", jobs.JobRunFilter{Tags: map[string]string{"nul": "a\x00b"}}, 1},
		{"tag with the text \\u0000", jobs.JobRunFilter{Tags: map[string]string{"literal": `x\u0000y`}}, 1},
		{"the text \\u0000 is not a NUL", jobs.JobRunFilter{Tags: map[string]string{"literal": "x\x00y"}}, 0},
		{"tag with an empty value", jobs.JobRunFilter{Tags: map[string]string{"empty": ""}}, 1},
		{"key of another map", jobs.JobRunFilter{Tags: map[string]string{"spark.executor.instances": "2"}}, 0},
		{"key as a path", jobs.JobRunFilter{Tags: map[string]string{"team": "ops"}}, 0},
		{"key quoted", jobs.JobRunFilter{Tags: map[string]string{`x') OR 1=1 --`: "1", `"]`: `"`}}, 0},
		{"no filter", jobs.JobRunFilter{}, 24},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.VirtualClusterID = "f1"
			var want []string
			for _, r := range runs {
				if matches(r, tc.f) {
					want = append(want, r.ID)
				}
			}
			if len(want) != tc.want {
				t.Fatalf("the test's data: %d runs match, the case says %d", len(want), tc.want)
			}
			// One page, then pages of 3 that go on from each nextToken.
			f := tc.f
			f.Limit = 100
			page, next := must2(s.ListJobRuns(ctx(t), f))(t)
			if got := ids(page, func(r jobs.JobRun) string { return r.ID }); fmt.Sprint(got) != fmt.Sprint(want) || next != "" {
				t.Errorf("filter %+v: got %v (next %q), want %v", describeFilter(tc.f), got, next, want)
			}
			var paged []string
			f.Limit, f.Token = 3, ""
			for pages := 0; ; pages++ {
				if pages > len(runs) {
					t.Fatalf("filter %+v: more pages than runs", describeFilter(tc.f))
				}
				page, next := must2(s.ListJobRuns(ctx(t), f))(t)
				if len(page) > 3 {
					t.Fatalf("page of %d runs, limit 3", len(page))
				}
				paged = append(paged, ids(page, func(r jobs.JobRun) string { return r.ID })...)
				if next == "" {
					break
				}
				f.Token = next
			}
			if fmt.Sprint(paged) != fmt.Sprint(want) {
				t.Errorf("filter %+v, in pages of 3: got %v, want %v", describeFilter(tc.f), paged, want)
			}
		})
	}
}

// describeFilter shows a filter's tags in order, for messages.
func describeFilter(f jobs.JobRunFilter) string {
	var tags []string
	for _, k := range slices.Sorted(maps.Keys(f.Tags)) {
		tags = append(tags, fmt.Sprintf("%q=%q", k, f.Tags[k]))
	}
	return fmt.Sprintf("createdBy=%q states=%v tags=[%s] createdAfter=%v", f.CreatedBy, f.States, strings.Join(tags, " "), f.CreatedAfter)
}

func testCountJobRuns(t *testing.T, s jobs.Store) {
	want := map[jobs.JobRunState]int{}
	states := []jobs.JobRunState{jobs.StatePending, jobs.StatePending, jobs.StateRunning, jobs.StateCompleted, jobs.StateCompleted, jobs.StateCompleted, jobs.StateCancelled}
	for i, st := range states {
		must(s.CreateJobRun(ctx(t), JobRun(fmt.Sprintf("n%d", i), "n1", "n", st, base.Add(time.Duration(i)*time.Second)), jobs.Idempotency{}))(t)
		want[st]++
	}
	// Another virtual cluster's runs are not counted.
	must(s.CreateJobRun(ctx(t), JobRun("m0", "n2", "n", jobs.StateFailed, base), jobs.Idempotency{}))(t)
	// A change of state moves the run from one count to the other.
	must(s.UpdateJobRun(ctx(t), "n0", -1, func(r *jobs.JobRun) error { r.State = jobs.StateSubmitted; return nil }))(t)
	want[jobs.StatePending]--
	want[jobs.StateSubmitted]++

	got := must(s.CountJobRuns(ctx(t), "n1"))(t)
	if !maps.Equal(got, want) {
		t.Errorf("counts of n1: %v, want %v", got, want)
	}
	if got := must(s.CountJobRuns(ctx(t), "n2"))(t); !maps.Equal(got, map[jobs.JobRunState]int{jobs.StateFailed: 1}) {
		t.Errorf("counts of n2: %v, want FAILED:1", got)
	}
	if got := must(s.CountJobRuns(ctx(t), "none"))(t); len(got) != 0 {
		t.Errorf("counts of a virtual cluster without runs: %v, want none", got)
	}
}
