package console

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// testDenied: a user whose policies allow only listing and describing virtual clusters sees
// the virtual cluster, and opening its job list shows the Access denied page with IAM's
// message.
func (s *suite) testDenied(t *testing.T) {
	vcName := "denied"
	vc := s.vc(t, vcName)
	key := s.srv.User(t, "viewer", map[string]string{"view": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["emr-containers:ListVirtualClusters","emr-containers:DescribeVirtualCluster"],"Resource":"*"}]}`})
	p := s.newPage(t, desktop)
	p.signIn(key)
	if got := p.text(`td.name a[href="` + listPath(vc) + `"]`); got != vcName {
		p.fail("the viewer's virtual clusters page lists %q for %s, want %q", got, vc, vcName)
	}
	p.shot("virtual-clusters")

	if status := p.open(listPath(vc)); status != 403 {
		p.fail("the viewer's job list: HTTP %d, want 403", status)
	}
	if got := p.text("h1"); got != "Access denied" {
		p.fail("the viewer's job list is titled %q, want Access denied", got)
	}
	msg := p.text("main .alert .msg")
	if want := "is not authorized to perform: emr-containers:ListJobRuns"; !strings.Contains(msg, want) || !strings.Contains(msg, key.Arn) {
		p.fail("the denial says %q, want IAM's message for %s (%q)", msg, key.Arn, want)
	}
	p.shot("access-denied")
	p.checkAccessibility("access denied")
}

// testCSRFRefused: a cancel form whose CSRF token was changed, sent by the browser itself
// (form.submit(), which the page's script never sees), is refused with the Refused page, and
// the run goes on running.
func (s *suite) testCSRFRefused(t *testing.T) {
	vc := s.vc(t, "csrf")
	id := s.start(t, vc, run{name: "kept", hold: 5 * time.Minute})
	s.cancelOnCleanup(t, vc, id)
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning)

	p := s.signedIn(t, desktop)
	p.open(listPath(vc))
	// Forged and sent in one step: the live updates replace the rows (and their forms) every
	// few seconds while the run's duration ticks.
	form := `document.querySelector("` + rowCancel(id) + `")`
	status := p.submit("send the forged form", chromedp.Evaluate[chromedp.Void](
		`(() => { const f = `+form+`; f.querySelector("[name=csrf]").value = "forged-token"; f.submit(); })()`))
	if status != 403 {
		p.fail("the forged form: HTTP %d, want 403", status)
	}
	if got := p.text("h1"); got != "Refused" {
		p.fail("the forged form's answer is titled %q, want Refused", got)
	}
	if msg := p.text("main .alert"); !strings.Contains(msg, "CSRF") {
		p.fail("the refusal says %q, want it to name the CSRF token", msg)
	}
	p.shot("refused")
	// The run is untouched now and a controller pass later.
	for range 2 {
		if st := s.state(t, vc, id); st != emrtypes.JobRunStateRunning {
			p.fail("after the refused form the run is %s, want RUNNING", st)
		}
		time.Sleep(2500 * time.Millisecond)
	}
}

// Markup in everything a user controls and the pages show.
const (
	scriptAttack = `<script>window.__pwned=1</script>`
	imgAttack    = `"><img src=x onerror="window.__pwned=2">`
)

// testNoScriptInjection: a run whose tags and entry point arguments carry markup, and a job
// list filtered by a name that does, show the markup as text on the list (first rendered,
// then live), run and logs pages: no script of theirs runs. The tab ignores the console's
// Content-Security-Policy, so this checks the escaping itself, not the policy behind it.
func (s *suite) testNoScriptInjection(t *testing.T) {
	vc := s.vc(t, "inject")
	id := s.start(t, vc, run{name: "inject", hold: 8 * time.Second, logs: true,
		tags: map[string]string{"script": scriptAttack, "img": imgAttack}, args: []string{scriptAttack, imgAttack}})
	p := s.signedIn(t, desktop)
	p.do("ignore the Content-Security-Policy", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true})
		return err
	}))

	p.open(listPath(vc))
	// The live updates insert the rows again as markup: wait for one.
	waitFor[bool](p, "a live update", 15*time.Second, `document.getElementById("live-status").textContent.startsWith("Live · updated")`)
	p.noInjection("the job list")
	if got := p.text("#run-" + id + " .tags"); !strings.Contains(got, "img="+imgAttack) || !strings.Contains(got, "script="+scriptAttack) {
		p.fail("the row's tags read %q, want the markup as text", got)
	}
	p.shot("list")

	// No run is named so (ListJobRuns refuses such a name, and the page says why); a tag
	// filter with markup finds the run, and the live updates follow the same filter.
	for _, name := range []string{scriptAttack, imgAttack} {
		if status := p.open(listPath(vc) + "?name=" + url.QueryEscape(name)); status != 400 {
			p.fail("the list filtered by name %s: HTTP %d, want 400", name, status)
		}
		if got := eval[string](p, `document.getElementById("f-name").value`); got != name {
			p.fail("the name filter holds %q, want %q", got, name)
		}
		p.noInjection("the job list filtered by name " + name)
	}
	p.shot("filtered-by-name")
	p.open(listPath(vc) + "?tag=" + url.QueryEscape("img="+imgAttack))
	if got := eval[string](p, `document.getElementById("f-tag").value`); got != "img="+imgAttack {
		p.fail("the tag filter holds %q", got)
	}
	waitFor[bool](p, "a live update", 15*time.Second, `document.getElementById("live-status").textContent.startsWith("Live · updated")`)
	if n := eval[int](p, `document.querySelectorAll("#runs tr[id]").length`); n != 1 {
		p.fail("the tag filter finds %d runs, want the one tagged so", n)
	}
	p.noInjection("the job list filtered by tag")
	p.shot("filtered-by-tag")

	s.waitState(t, vc, id, emrtypes.JobRunStateRunning)
	p.open(runPath(vc, id))
	p.noInjection("the run page")
	if got := p.text(".facts .tag"); !strings.HasPrefix(got, "img="+imgAttack) {
		p.fail("the run page's first tag reads %q", got)
	}
	if got := p.text("pre.light"); !strings.Contains(got, scriptAttack) {
		p.fail("the request as submitted does not show the argument as text:\n%s", got)
	}
	p.shot("run")

	p.open(logsPath(vc, id) + "?follow=true")
	waitFor[bool](p, "the log follows", time.Minute, `document.getElementById("log").textContent.length > 0`)
	p.noInjection("the logs viewer, following")
	p.shot("logs-following")

	s.waitState(t, vc, id, emrtypes.JobRunStateCompleted)
	for _, path := range []string{runPath(vc, id), logsPath(vc, id) + "?executor=all&tail="} {
		p.open(path)
		p.noInjection(path)
	}
	p.shot("logs-ended")
}

// noInjection checks the page that is open: no markup of the attacks became an element, none
// of their scripts ran, and (the sanity check of the test itself) an inline script the test
// adds does run, so the policy is indeed ignored and escaping alone kept them out.
func (p *page) noInjection(where string) {
	p.t.Helper()
	if got := eval[string](p, `typeof window.__pwned`); got != "undefined" {
		p.fail("%s: window.__pwned is %s: an injected script ran", where, eval[string](p, `String(window.__pwned)`))
	}
	if n := eval[int](p, `document.querySelectorAll("img[src='x'], [onerror]").length`); n != 0 {
		p.fail("%s: %d injected elements", where, n)
	}
	if bad := eval[string](p, `[...document.scripts].map((s) => s.getAttribute("src") || "inline: " + s.textContent).filter((s) => s !== "/console/static/console.js").join("; ")`); bad != "" {
		p.fail("%s: scripts that are not the console's: %s", where, bad)
	}
	if !eval[bool](p, `(() => { const s = document.createElement("script"); s.textContent = "window.__inline = 1"; document.head.append(s); s.remove(); return window.__inline === 1; })()`) {
		p.fail("%s: an inline script does not run: the Content-Security-Policy is not bypassed, the check proves nothing", where)
	}
}
