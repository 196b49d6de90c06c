package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// view is what every page's template gets: the layout's parts and the page's own Data.
type view struct {
	Title  string
	Crumbs []crumb
	// User is the signed-in principal; empty on the sign-in page.
	User    string
	CSRF    string
	Region  string
	Account string
	Data    any
}

type crumb struct{ Name, Href string }

// errorPage is the page of a refused or failed request.
type errorPage struct {
	Title   string
	Message string
	// Denied marks IAM's refusal, which the page shows as such.
	Denied bool
	Back   string
}

// parsePages parses each page with the layout and the shared partials.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		out[base] = t
	}
	return out, nil
}

// render writes a page; s is nil on pages shown without a session.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, page string, data any, crumbs ...crumb) {
	t, ok := c.pages[page]
	if !ok {
		http.Error(w, "no such page template: "+page, http.StatusInternalServerError)
		return
	}
	v := view{Data: data, Crumbs: crumbs, Region: c.region, Account: c.account}
	if len(crumbs) > 0 {
		v.Title = crumbs[len(crumbs)-1].Name
	}
	if e, ok := data.(errorPage); ok {
		v.Title = e.Title
	}
	if s != nil {
		v.User, v.CSRF = s.id.Principal, s.csrf
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console page not rendered", "page", page, "err", err)
		http.Error(w, "the page could not be rendered; the server log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail renders the page of a failed API call: IAM's message for a refusal, the API's
// message otherwise, with the API's status.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error, crumbs ...crumb) {
	e, ok := err.(*APIError)
	if !ok {
		c.log.Error("console page failed", "path", r.URL.Path, "err", err)
		c.render(w, r, s, http.StatusInternalServerError, "error", errorPage{Title: "Something went wrong", Message: "The server could not build this page; its log says why."}, crumbs...)
		return
	}
	title := "Could not load this page"
	switch {
	case e.Denied():
		title = "Access denied"
	case e.Status == http.StatusNotFound:
		title = "Not found"
	case e.Status == http.StatusServiceUnavailable:
		title = "Unavailable"
	}
	c.render(w, r, s, e.Status, "error", errorPage{Title: title, Message: e.Message, Denied: e.Denied()}, crumbs...)
}

// section is a part of a page read by its own API call: the data, or why it is missing.
type section[T any] struct {
	Data T
	Err  *APIError
	OK   bool
}

// load fills a section from a call's error; an error that is not the API's is logged and
// shown as a generic failure.
func (c *Console) load(err error) *APIError {
	if err == nil {
		return nil
	}
	if e, ok := err.(*APIError); ok {
		return e
	}
	c.log.Error("console call failed", "err", err)
	return &APIError{Status: http.StatusInternalServerError, Code: "InternalError", Message: "the server could not read this; its log says why"}
}

var funcs = template.FuncMap{
	"stateClass": stateClass,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"timep": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"ago": func(t time.Time) string { return humanDuration(time.Since(t)) + " ago" },
	"runDuration": func(run jobs.JobRun) string {
		end := time.Now()
		if run.FinishedAt != nil {
			end = *run.FinishedAt
		}
		return humanDuration(end.Sub(run.CreatedAt))
	},
	"ms":    func(ms int64) string { return humanDuration(time.Duration(ms) * time.Millisecond) },
	"money": money,
	"pct": func(part, whole float64) string {
		if whole <= 0 {
			return "0%"
		}
		return fmt.Sprintf("%.0f%%", 100*part/whole)
	},
	"path":  url.PathEscape,
	"query": func(v url.Values) string { return v.Encode() },
	// json shows a request as it was written: the template escapes it for HTML, so <, > and &
	// stay as they are rather than \u003c, \u003e and \u0026.
	"json": func(v any) (string, error) {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err := enc.Encode(v)
		return strings.TrimSuffix(b.String(), "\n"), err
	},
	"short": func(arn string) string {
		if i := strings.LastIndexAny(arn, "/:"); i >= 0 && i < len(arn)-1 {
			return arn[i+1:]
		}
		return arn
	},
	"add":      func(a, b int) int { return a + b },
	"join":     strings.Join,
	"terminal": func(s jobs.JobRunState) bool { return s.Terminal() },
	"cancellable": func(s jobs.JobRunState) bool {
		return s == jobs.StatePending || s == jobs.StateSubmitted || s == jobs.StateRunning
	},
}

// stateClass is the CSS class of a state's badge: its colour.
func stateClass(state any) string {
	switch fmt.Sprint(state) {
	case "COMPLETED", "COMPLETE", "SUCCEEDED":
		return "ok"
	case "FAILED", "TERMINATED_WITH_ERRORS", "ARRESTED":
		return "bad"
	case "CANCELLED", "CANCEL_PENDING", "TERMINATED", "TERMINATING", "SKIPPED":
		return "muted"
	case "RUNNING", "ACTIVE":
		return "run"
	default:
		return "wait"
	}
}

// humanDuration writes d the way people read it: 42s, 3m 5s, 2h 4m, 3d 2h.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", math.Floor(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
}

// money writes an amount in its currency, with cents below 100 and more digits below 1.
func money(v float64, currency string) string {
	sym := currency + " "
	if currency == "USD" || currency == "" {
		sym = "$"
	}
	switch {
	case v != 0 && math.Abs(v) < 0.01:
		return fmt.Sprintf("%s%.4f", sym, v)
	default:
		return fmt.Sprintf("%s%.2f", sym, v)
	}
}
