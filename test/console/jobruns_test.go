package console

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/chromedp/chromedp"
)

// watchRows marks the page (a reload would lose the mark) and records, in order, every state
// each row of the job list shows as the live updates change it: window.__seen["run-<id>"].
const watchRows = `(() => {
	window.__marker = "not reloaded";
	window.__seen = {};
	const body = document.getElementById("runs");
	const record = () => body.querySelectorAll("tr[id]").forEach((tr) => {
		const badge = tr.querySelector(".badge");
		if (!badge) return;
		const state = badge.textContent.trim();
		const seen = window.__seen[tr.id] || (window.__seen[tr.id] = []);
		if (seen[seen.length - 1] !== state) seen.push(state);
	});
	new MutationObserver(record).observe(body, {childList: true, subtree: true, characterData: true});
	record();
	return true;
})()`

// notReloaded fails the test when the page was reloaded since watchRows (or another script
// that sets the marker) ran.
func (p *page) notReloaded(what string) {
	p.t.Helper()
	if got := eval[string](p, `window.__marker || "reloaded"`); got != "not reloaded" {
		p.fail("%s: the page was reloaded", what)
	}
}

// seenStates is what watchRows recorded for a run's row.
func (p *page) seenStates(id string) []string {
	p.t.Helper()
	raw := eval[string](p, `JSON.stringify(window.__seen["run-`+id+`"] || [])`)
	var seen []string
	if err := json.Unmarshal([]byte(raw), &seen); err != nil {
		p.fail("states seen: %v", err)
	}
	return seen
}

// waitBadge waits until the run's row shows state, without a reload.
func (p *page) waitBadge(id, state string, within time.Duration) {
	p.t.Helper()
	waitFor[bool](p, "row "+id+" shows "+state, within,
		`(e => !!e && e.textContent.trim() === `+strconv.Quote(state)+`)(document.querySelector("`+rowBadge(id)+`"))`)
}

// testJobListLive: the job list is open when a run is submitted through the API; its row
// appears and its state changes from waiting to RUNNING to COMPLETED in place, from the
// server-sent updates, with no reload.
func (s *suite) testJobListLive(t *testing.T) {
	vc := s.vc(t, "live")
	p := s.signedIn(t, desktop)
	p.open(listPath(vc))
	if got := p.text("#runs td.empty"); got != "No job runs match." {
		p.fail("the new virtual cluster's list says %q", got)
	}
	eval[bool](p, watchRows)
	waitFor[bool](p, "the live updates connect", 10*time.Second, `document.getElementById("live-status").textContent.startsWith("Live")`)
	p.shot("empty")

	// The driver asks for an instance type no other test uses, so that Karpenter launches a
	// node for it: the run waits SUBMITTED for the seconds that takes, longer than the 2 s
	// between live updates, and the list shows it waiting before it runs.
	id := s.start(t, vc, run{name: "live", hold: 8 * time.Second,
		confs: []string{"spark.kubernetes.driver.node.selector.node.kubernetes.io/instance-type=c5d.4xlarge"}})
	first := waitFor[string](p, "the new run's row", 15*time.Second,
		`(e => e && e.textContent.trim())(document.querySelector("`+rowBadge(id)+`"))`)
	p.shot("row-appears")
	if first != "PENDING" && first != "SUBMITTED" {
		p.fail("the new row first shows %s, want PENDING or SUBMITTED", first)
	}
	p.waitBadge(id, "RUNNING", runTimeout)
	p.shot("running")
	p.waitBadge(id, "COMPLETED", runTimeout)
	p.shot("completed")

	p.notReloaded("the live list")
	seen := p.seenStates(id)
	order := []string{"PENDING", "SUBMITTED", "RUNNING", "COMPLETED"}
	last := -1
	for _, st := range seen {
		i := slices.Index(order, st)
		if i <= last {
			p.fail("the row showed %v: %s is not a step forward", seen, st)
		}
		last = i
	}
	if !slices.Contains(seen, "RUNNING") || seen[len(seen)-1] != "COMPLETED" {
		p.fail("the row showed %v, want it to show RUNNING, then end COMPLETED", seen)
	}
	if got := eval[bool](p, `document.getElementById("live-status").textContent.startsWith("Live · updated")`); !got {
		p.fail("the live status says %q", p.text("#live-status"))
	}
	t.Logf("the row showed %v", seen)
}

// testCancel: the row's Cancel button asks to confirm in place, keeps asking across the live
// updates (a person takes a moment to read it), and the second press cancels: the badge says
// CANCEL_PENDING at once and the run ends CANCELLED, all without a reload.
func (s *suite) testCancel(t *testing.T) {
	vc := s.vc(t, "cancel")
	id := s.start(t, vc, run{name: "to-cancel", hold: 5 * time.Minute})
	s.cancelOnCleanup(t, vc, id)
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning)

	p := s.signedIn(t, desktop)
	p.open(listPath(vc))
	eval[bool](p, watchRows)
	button := rowCancel(id) + " button"
	if got := p.text(button); got != "Cancel" {
		p.fail("the running row's button says %q, want Cancel", got)
	}
	p.shot("running")

	p.do("press Cancel", chromedp.Click(chromedp.CSS(button)))
	waitFor[bool](p, "the button asks to confirm", 5*time.Second, `document.querySelector("`+button+`").textContent === "Confirm cancel"`)
	// A live update replaces the rows every 2 s while the run's duration ticks: the question
	// must survive it, with the focus on the button. (It lasts 5 s, then lapses by design.)
	before := p.text("#live-status")
	waitFor[bool](p, "a live update", 4*time.Second, `document.getElementById("live-status").textContent !== `+strconv.Quote(before))
	if got := p.text(button); got != "Confirm cancel" {
		p.fail("after a live update the button says %q: the confirmation was lost", got)
	}
	if !eval[bool](p, `document.activeElement === document.querySelector("`+button+`")`) {
		p.fail("after a live update the focus is on %s, not on the Cancel button", eval[string](p, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	if st := s.state(t, vc, id); st != emrtypes.JobRunStateRunning {
		p.fail("after the first press the run is %s: one press must not cancel", st)
	}
	p.shot("confirm")

	p.do("confirm", chromedp.Click(chromedp.CSS(button)))
	p.waitBadge(id, "CANCEL_PENDING", 10*time.Second)
	p.shot("cancel-pending")
	p.waitBadge(id, "CANCELLED", runTimeout)
	p.shot("cancelled")
	p.notReloaded("cancel")
	if st := s.state(t, vc, id); st != emrtypes.JobRunStateCancelled {
		p.fail("the API says the run is %s, want CANCELLED", st)
	}
	if n := eval[int](p, `document.querySelectorAll("`+rowCancel(id)+`").length`); n != 0 {
		p.fail("the cancelled run's row still offers Cancel")
	}
	t.Logf("the row showed %v", p.seenStates(id))
}
