package console

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/chromedp/chromedp"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
)

// auditPage checks, in the page as the browser laid it out, what every console page owes a
// person who uses a screen reader, the keyboard or a dim screen:
//   - every visible input, select and textarea has a label: a label[for] with text, an
//     aria-label, an aria-labelledby that names text, or a label around it;
//   - exactly one h1 and one main landmark;
//   - the text of badges, tables, buttons and alerts contrasts at least 4.5:1 with what is
//     behind it: the computed colours, the background found by walking up to the first
//     opaque one and laying the translucent ones on it (WCAG 2 relative luminance).
//
// Disabled controls are exempt from contrast, as WCAG says. It returns the problems and how
// many elements of each group it measured.
const auditPage = `(() => {
	const problems = [];
	const visible = (el) => {
		if (!el.getClientRects().length) return false;
		const st = getComputedStyle(el);
		if (st.visibility === "hidden" || st.display === "none") return false;
		const r = el.getBoundingClientRect();
		return r.width > 1 && r.height > 1;
	};
	const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
		(typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "") +
		' "' + (el.textContent || el.value || "").trim().replace(/\s+/g, " ").slice(0, 50) + '"';
	const hasText = (el) => !!el && el.textContent.trim() !== "";

	let fields = 0;
	for (const el of document.querySelectorAll("input, select, textarea")) {
		if (el.type === "hidden" || !visible(el)) continue;
		fields++;
		const byFor = el.id ? document.querySelector('label[for="' + CSS.escape(el.id) + '"]') : null;
		const byAria = (el.getAttribute("aria-label") || "").trim() !== "";
		const byRef = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean).some((id) => hasText(document.getElementById(id)));
		if (!hasText(byFor) && !byAria && !byRef && !hasText(el.closest("label"))) problems.push("no label: " + describe(el));
	}
	const h1s = document.querySelectorAll("h1").length;
	if (h1s !== 1) problems.push(h1s + " h1 elements, want 1");
	const mains = document.querySelectorAll("main, [role=main]").length;
	if (mains !== 1) problems.push(mains + " main landmarks, want 1");

	const rgba = (c) => {
		const m = /rgba?\(([^)]+)\)/.exec(c);
		if (!m) return null;
		const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
		return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
	};
	const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
	const background = (el) => {
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = rgba(getComputedStyle(e).backgroundColor);
			if (c && c[3] > 0) {
				layers.push(c);
				if (c[3] >= 1) break;
			}
		}
		let bg = [255, 255, 255, 1]; // the canvas, when nothing is opaque
		for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
		return bg;
	};
	const luminance = (c) => {
		const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
	};
	const contrast = (a, b) => { const x = luminance(a), y = luminance(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
	const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== "");
	const groups = {badge: ".badge", table: "table th, table td, table td *", button: "button, .button", alert: ".alert, .alert *"};
	const measured = {};
	for (const [group, selector] of Object.entries(groups)) {
		measured[group] = 0;
		for (const el of document.querySelectorAll(selector)) {
			if (!ownText(el) || !visible(el) || el.closest(".sr-only, [disabled]")) continue;
			const bg = background(el);
			const color = getComputedStyle(el).color;
			const ratio = contrast(over(rgba(color), bg), bg);
			measured[group]++;
			if (ratio < 4.5) {
				problems.push("contrast " + ratio.toFixed(2) + ":1 (" + group + "): " + describe(el) + " in " + color +
					" on rgb(" + bg.slice(0, 3).map(Math.round).join(", ") + ")");
			}
		}
	}
	return JSON.stringify({problems, fields, measured});
})()`

// checkAccessibility audits the open page (auditPage) and fails the test on any problem;
// each group in present must have been measured at least once, so that a page that lost its
// badges or tables is not passed as accessible by having nothing to check.
func (p *page) checkAccessibility(where string, present ...string) {
	p.t.Helper()
	var audit struct {
		Problems []string
		Fields   int
		Measured map[string]int
	}
	if err := json.Unmarshal([]byte(eval[string](p, auditPage)), &audit); err != nil {
		p.fail("%s: audit: %v", where, err)
	}
	for _, g := range present {
		if audit.Measured[g] == 0 {
			p.t.Errorf("%s: no %s text to measure", where, g)
		}
	}
	if len(audit.Problems) > 0 {
		p.shot("accessibility")
		p.t.Errorf("%s: %d accessibility problems:\n  %s", where, len(audit.Problems), strings.Join(audit.Problems, "\n  "))
	}
	p.t.Logf("%s: %d fields, measured %v", where, audit.Fields, audit.Measured)
}

// fitsWidth fails the test when the page is wider than the viewport: on a phone the page
// must not scroll sideways (a wide table scrolls in its own box). It names the elements that
// stick out.
func (p *page) fitsWidth(where string) {
	p.t.Helper()
	wide := eval[string](p, `(() => {
		const w = document.documentElement.clientWidth;
		if (document.documentElement.scrollWidth <= w) return "";
		// Whether a box that scrolls or clips holds e: for an absolutely positioned e, only one
		// at or above its containing block (its nearest positioned ancestor) does.
		const contained = (e) => {
			let absolute = /^(absolute|fixed)$/.test(getComputedStyle(e).position);
			for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
				const st = getComputedStyle(a);
				if (absolute && st.position === "static") continue;
				absolute = false;
				if (/(auto|scroll|hidden|clip)/.test(st.overflowX)) return true;
			}
			return false;
		};
		return "page " + document.documentElement.scrollWidth + "px wide in " + w + "px: " + [...document.querySelectorAll("body *")]
			.filter((e) => e.getBoundingClientRect().right > w + 1 && !contained(e))
			.slice(0, 8).map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className.split(" ").join(".") : "") + " right=" + Math.round(e.getBoundingClientRect().right)).join(", ");
	})()`)
	if wide != "" {
		p.shot("too-wide")
		p.t.Errorf("%s at %dpx: %s", where, p.vp.width, wide)
	}
}

// testAccessibility audits the sign-in page (empty, and showing an error), and, signed in,
// the job list, a completed run's page, its logs, the start form with a template's
// parameters, and the cost page; then the sign-in page, job list and run page on a phone,
// where none may scroll sideways.
func (s *suite) testAccessibility(t *testing.T) {
	vc := s.vc(t, "a11y")
	tmpl, err := s.client.CreateJobTemplate(context.Background(), &emrcontainers.CreateJobTemplateInput{
		Name: aws.String("pi-template"), ClientToken: aws.String("a11y-template"),
		JobTemplateData: &emrtypes.JobTemplateData{
			ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String("emr-6.15.0-latest"),
			JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
				EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), EntryPointArguments: []string{"${Slices}"},
				SparkSubmitParameters: aws.String("--class org.apache.spark.examples.SparkPi --conf spark.executor.instances=${Executors}")}},
			ParameterConfiguration: map[string]emrtypes.TemplateParameterConfiguration{
				"Slices":    {Type: emrtypes.TemplateParameterDataTypeNumber, DefaultValue: aws.String("10")},
				"Executors": {Type: emrtypes.TemplateParameterDataTypeNumber},
			},
		},
	})
	if err != nil {
		t.Fatalf("CreateJobTemplate: %v", err)
	}
	id := s.start(t, vc, run{name: "audited", hold: 3 * time.Second, logs: true})

	p := s.newPage(t, desktop)
	p.open("/console/signin")
	p.checkAccessibility("the sign-in page", "button")
	p.shot("signin")
	p.do("fill in a wrong secret",
		chromedp.SendKeys(chromedp.ID("accessKeyId"), s.srv.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secretAccessKey"), "wrong"))
	p.submit("send it", chromedp.Click(chromedp.CSS(`form.stack button[type=submit]`)))
	p.checkAccessibility("the sign-in page with an error", "button", "alert")
	p.shot("signin-error")

	p.signIn(s.srv.Admin())
	s.waitState(t, vc, id, emrtypes.JobRunStateCompleted)
	for _, pg := range []struct {
		name, path string
		present    []string
		// shows is true when the page shows what the audit must see to mean anything.
		shows string
	}{
		{"job-list", listPath(vc), []string{"badge", "table", "button"}, `!!document.getElementById("run-` + id + `")`},
		{"job-run", runPath(vc, id), []string{"badge", "table", "button"}, `!!document.querySelector("#stage-timeline svg rect")`},
		{"logs", logsPath(vc, id), []string{"badge", "button"}, `document.getElementById("log").textContent.length > 0`},
		// The name and the template's two parameters.
		{"start", startPath(vc) + "?template=" + aws.ToString(tmpl.Id), []string{"button"},
			`document.querySelectorAll("#start-form input:not([type=hidden])").length === 3`},
		{"cost", costPath(vc), []string{"table", "button"}, `!!document.getElementById("cost-totals")`},
	} {
		if status := p.open(pg.path); status != 200 {
			p.fail("%s: HTTP %d", pg.path, status)
		}
		if !eval[bool](p, pg.shows) {
			p.fail("the %s page: not %s", pg.name, pg.shows)
		}
		p.checkAccessibility("the "+pg.name+" page", pg.present...)
		p.shot(pg.name)
	}

	ph := s.newPage(t, phone)
	ph.open("/console/signin")
	ph.fitsWidth("the sign-in page")
	ph.shot("signin")
	ph.signIn(s.srv.Admin())
	for _, pg := range []struct{ name, path string }{
		{"job-list", listPath(vc)},
		{"job-run", runPath(vc, id)},
	} {
		ph.open(pg.path)
		ph.fitsWidth("the " + pg.name + " page")
		ph.checkAccessibility("the "+pg.name+" page on a phone", "badge", "button")
		ph.shot(pg.name)
	}
	if eval[bool](ph, `[...document.querySelectorAll(".hide-sm")].some((e) => e.getClientRects().length > 0)`) {
		ph.fail("columns marked hide-sm show on a phone")
	}
}
