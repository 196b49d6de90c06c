package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/audit"
)

// RunAudit runs the conformance suite of audit.Store: what is appended is listed back whole,
// oldest first, by every filter of audit.Query, page after page, until pruned. newStore must
// return a new empty store for each call.
func RunAudit(t *testing.T, newStore func(t *testing.T) audit.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, audit.Store)
	}{
		{"RoundTrip", testAuditRoundTrip},
		{"Filters", testAuditFilters},
		{"Pages", testAuditPages},
		{"Prune", testAuditPrune},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

const (
	alice = "arn:aws:iam::000000000000:user/alice"
	bob   = "arn:aws:iam::000000000000:user/bob"
)

// auditAt is the time of the i-th test event, with nanoseconds a store cannot keep.
func auditAt(i int) time.Time {
	return time.Date(2026, 4, 1, 8, i, 0, 123456789, time.UTC)
}

// auditEvents returns n events a minute apart: alice calls at even i and bob at odd i, except
// the last, which is an unauthenticated call; the actions cycle through three.
func auditEvents(n int) []audit.Event {
	actions := []string{"StartJobRun", "ListJobRuns", "DescribeJobRun"}
	out := make([]audit.Event, n)
	for i := range out {
		e := audit.Event{
			Time: auditAt(i), RequestID: fmt.Sprintf("req-%02d", i), Principal: alice, AccessKeyID: "AKIAALICE",
			Source: "10.0.0.1", Action: actions[i%len(actions)], Resource: "arn:aws:emr-containers:us-east-1:000000000000:/virtualclusters/v1",
			Outcome: audit.Allowed, Status: 200,
		}
		if i%2 == 1 {
			e.Principal, e.AccessKeyID, e.Outcome, e.ErrorCode, e.Status = bob, "AKIABOB", audit.Denied, "AccessDeniedException", 403
		}
		if i == n-1 {
			e.Principal, e.AccessKeyID, e.Outcome, e.ErrorCode, e.Status = "", "", audit.Denied, "UnrecognizedClientException", 403
		}
		out[i] = e
	}
	return out
}

// appendAudit appends events in batches of at most batch.
func appendAudit(t *testing.T, s audit.Store, events []audit.Event, batch int) {
	t.Helper()
	for chunk := range slices.Chunk(events, batch) {
		if err := s.AppendAudit(ctx(t), chunk); err != nil {
			t.Fatal(err)
		}
	}
}

// requestIDs names listed events by request id, the tests' key.
func requestIDs(events []audit.Event) string {
	return fmt.Sprint(ids(events, func(e audit.Event) string { return e.RequestID }))
}

func listAudit(t *testing.T, s audit.Store, q audit.Query) []audit.Event {
	t.Helper()
	events, next := must2(s.ListAudit(ctx(t), q))(t)
	if next != "" {
		t.Fatalf("query %+v: a next page after %d events", q, len(events))
	}
	return events
}

func testAuditRoundTrip(t *testing.T, s audit.Store) {
	in := auditEvents(6)
	appendAudit(t, s, in, 4)
	if err := s.AppendAudit(ctx(t), nil); err != nil {
		t.Fatalf("append no events: %v", err)
	}
	// A zero Since is no lower bound.
	got := listAudit(t, s, audit.Query{Limit: 100})
	if len(got) != len(in) {
		t.Fatalf("listed %s, want the %d appended", requestIDs(got), len(in))
	}
	for i, e := range got {
		if i > 0 && e.Seq <= got[i-1].Seq {
			t.Errorf("event %d has seq %d after %d: not increasing", i, e.Seq, got[i-1].Seq)
		}
		want := in[i]
		want.Time, want.Seq = micro(want.Time), e.Seq
		if e != want {
			t.Errorf("event %d read back\n%+v, want\n%+v", i, e, want)
		}
	}
}

func testAuditFilters(t *testing.T, s audit.Store) {
	events := auditEvents(12)
	appendAudit(t, s, events, 5)
	// Bounds are the stored times, which a caller got from a listed event.
	at := func(i int) time.Time { return micro(auditAt(i)) }
	tests := []struct {
		name string
		q    audit.Query
		want func(i int, e audit.Event) bool
	}{
		{"all", audit.Query{}, func(int, audit.Event) bool { return true }},
		{"since is inclusive", audit.Query{Since: at(3)}, func(i int, _ audit.Event) bool { return i >= 3 }},
		{"until is exclusive", audit.Query{Until: at(6)}, func(i int, _ audit.Event) bool { return i < 6 }},
		{"window", audit.Query{Since: at(3), Until: at(6)}, func(i int, _ audit.Event) bool { return i >= 3 && i < 6 }},
		{"empty window", audit.Query{Since: at(3), Until: at(3)}, func(int, audit.Event) bool { return false }},
		{"principal", audit.Query{Principal: alice}, func(_ int, e audit.Event) bool { return e.Principal == alice }},
		{"unknown principal", audit.Query{Principal: "arn:aws:iam::000000000000:user/carol"}, func(int, audit.Event) bool { return false }},
		{"action in any case", audit.Query{Action: "startjobrun"}, func(_ int, e audit.Event) bool { return e.Action == "StartJobRun" }},
		{"action exactly", audit.Query{Action: "DescribeJobRun"}, func(_ int, e audit.Event) bool { return e.Action == "DescribeJobRun" }},
		{"action and principal", audit.Query{Action: "STARTJOBRUN", Principal: bob}, func(_ int, e audit.Event) bool {
			return e.Action == "StartJobRun" && e.Principal == bob
		}},
		{"everything", audit.Query{Since: at(2), Until: at(10), Principal: bob, Action: "listJOBruns"}, func(i int, e audit.Event) bool {
			return i >= 2 && i < 10 && e.Principal == bob && e.Action == "ListJobRuns"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 100
			var want []audit.Event
			for i, e := range events {
				if tc.want(i, e) {
					want = append(want, e)
				}
			}
			if got := listAudit(t, s, tc.q); requestIDs(got) != requestIDs(want) {
				t.Errorf("listed %s, want %s", requestIDs(got), requestIDs(want))
			}
		})
	}
}

// testAuditPages follows nextToken to the end: every event comes exactly once, in order, with
// and without a filter, and a token that is not one is refused.
func testAuditPages(t *testing.T, s audit.Store) {
	events := auditEvents(23)
	appendAudit(t, s, events, 10)
	var alices []audit.Event
	for _, e := range events {
		if e.Principal == alice {
			alices = append(alices, e)
		}
	}
	tests := []struct {
		name  string
		q     audit.Query
		want  []audit.Event
		pages int
	}{
		{"all by 5", audit.Query{Limit: 5}, events, 5},
		{"all in one page of their number", audit.Query{Limit: len(events)}, events, 1},
		{"alice's by 4", audit.Query{Principal: alice, Limit: 4}, alices, 3},
		{"alice's since the fifth by 2", audit.Query{Principal: alice, Since: micro(auditAt(5)), Limit: 2}, alices[3:], 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []audit.Event
			pages := 0
			for q := tc.q; pages <= len(tc.want); {
				page, next := must2(s.ListAudit(ctx(t), q))(t)
				pages++
				if len(page) > q.Limit {
					t.Fatalf("page %d holds %d events, over the limit %d", pages, len(page), q.Limit)
				}
				got = append(got, page...)
				if next == "" {
					break
				}
				q.Token = next
			}
			if requestIDs(got) != requestIDs(tc.want) || pages != tc.pages {
				t.Errorf("%d pages listed %s, want %d pages listing %s", pages, requestIDs(got), tc.pages, requestIDs(tc.want))
			}
		})
	}
	for _, tok := range []string{"garbage", "-1"} {
		if _, _, err := s.ListAudit(ctx(t), audit.Query{Token: tok}); err == nil {
			t.Errorf("token %q was accepted", tok)
		}
	}
}

func testAuditPrune(t *testing.T, s audit.Store) {
	appendAudit(t, s, auditEvents(10), 10)
	before := listAudit(t, s, audit.Query{Limit: 100})
	if len(before) != 10 {
		t.Fatalf("listed %s before pruning, want the 10 appended", requestIDs(before))
	}
	// Events strictly older than the time go; one at the time stays.
	n := must(s.PruneAudit(ctx(t), micro(auditAt(4))))(t)
	if n != 4 {
		t.Errorf("pruned %d events, want 4", n)
	}
	if got := listAudit(t, s, audit.Query{Limit: 100}); requestIDs(got) != requestIDs(before[4:]) {
		t.Errorf("after pruning kept %s, want %s", requestIDs(got), requestIDs(before[4:]))
	}
	if n := must(s.PruneAudit(ctx(t), micro(auditAt(4))))(t); n != 0 {
		t.Errorf("pruning again deleted %d events", n)
	}
	if n := must(s.PruneAudit(ctx(t), auditAt(60)))(t); n != 6 {
		t.Errorf("pruning all deleted %d events, want 6", n)
	}
	// Sequence numbers are not reused, so a cursor handed out before a prune stays a
	// position in the log.
	late := auditEvents(1)[0]
	late.RequestID = "req-late"
	appendAudit(t, s, []audit.Event{late}, 1)
	got := listAudit(t, s, audit.Query{Limit: 100})
	if len(got) != 1 || got[0].RequestID != "req-late" || got[0].Seq <= before[len(before)-1].Seq {
		t.Fatalf("after pruning all and appending one: %+v (last seq before %d)", got, before[len(before)-1].Seq)
	}
}
