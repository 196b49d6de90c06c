package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
)

// The live Spark UI is the job's own web server: its pages and scripts are whatever the
// job's code makes the driver serve. Served on the console's origin it could read the
// console's pages and act as whoever opened it. So the console serves it apart:
//   - under LiveUIPath/<grant>/..., where a grant is a random token that lets its holder
//     read one running job run's UI, as the user who opened it, for LiveUIGrantDuration;
//     no cookie is needed there, and none is sent on;
//   - with a Content-Security-Policy "sandbox" that gives every answer an opaque origin of
//     its own: its scripts run (Spark's UI needs them), but cannot read the console, send
//     the session cookie (SameSite=Strict), or register a service worker.
// The grant is in the store, so it works on every replica.

// LiveUIPath is where the console serves live Spark UIs.
const LiveUIPath = "/console/liveui/"

// LiveUIGrantDuration is how long one opening of the live Spark UI lasts; the job run page's
// link makes a new one.
const LiveUIGrantDuration = 30 * time.Minute

// liveUIPolicy replaces the console's Content-Security-Policy on the UI's answers.
const liveUIPolicy = "sandbox allow-scripts allow-popups allow-forms allow-downloads; frame-ancestors 'none'"

// liveUIGrantID is the store's id of a grant: bound to the run, so that a grant for one run
// opens no other.
func liveUIGrantID(token, vc, id string) string {
	return tokenID(token + "\x00" + vc + "\x00" + id)
}

// openLiveUI makes a grant for the run's live UI and sends the browser there, once the run
// is RUNNING and the user may read it (the API says why not, otherwise).
func (c *Console) openLiveUI(w http.ResponseWriter, r *http.Request, s *session) {
	vc, id := r.PathValue("vc"), r.PathValue("id")
	runPath := "/virtualclusters/" + url.PathEscape(vc) + "/jobruns/" + url.PathEscape(id)
	listCrumb := crumb{Name: c.vcName(r, s, vc), Href: "/console/virtualclusters/" + url.PathEscape(vc) + "/jobruns"}
	runCrumb := crumb{Name: id, Href: "/console" + runPath}
	// HEAD of the UI's root asks everything the UI needs (the permission, the run RUNNING,
	// its driver running with a UI) without reading a page.
	if err := c.call(r.Context(), r, s, http.MethodHead, runPath+"/sparkui/", nil, nil, nil); err != nil {
		// The UI's root redirects to its jobs tab: a redirect is a UI that answers.
		if e, ok := err.(*APIError); !ok || e.Status < 300 || e.Status >= 400 {
			c.fail(w, r, s, err, listCrumb, runCrumb, crumb{Name: "Live Spark UI"})
			return
		}
	}
	token, _ := newToken()
	now := c.now()
	expires := now.Add(LiveUIGrantDuration)
	if s.expires.Before(expires) {
		expires = s.expires
	}
	if err := c.sessions.PutSession(r.Context(), access.Session{ID: liveUIGrantID(token, vc, id), Kind: access.SessionKindLiveUI,
		AccessKeyID: s.id.AccessKeyID, CreatedAt: now, ExpiresAt: expires}); err != nil {
		c.fail(w, r, s, err, listCrumb, runCrumb, crumb{Name: "Live Spark UI"})
		return
	}
	http.Redirect(w, r, LiveUIPath+token+runPath+"/sparkui/", http.StatusSeeOther)
}

// serveLiveUI answers LiveUIPath/<grant>/virtualclusters/<vc>/jobruns/<id>/sparkui/...
// through the API's live UI route, as the grant's user, in the sandbox.
func (c *Console) serveLiveUI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", liveUIPolicy)
	// The grant is in the path: no Referer may carry it to another site.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	token, inner, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), LiveUIPath), "/")
	parts := strings.SplitN(inner, "/", 6)
	// virtualclusters/<vc>/jobruns/<id>/sparkui[/...]
	if !wellFormed(token) || len(parts) < 5 || parts[0] != "virtualclusters" || parts[2] != "jobruns" || parts[4] != "sparkui" {
		http.Error(w, "no live Spark UI here: open it from the job run's page in the console", http.StatusNotFound)
		return
	}
	vc, err1 := url.PathUnescape(parts[1])
	id, err2 := url.PathUnescape(parts[3])
	if err1 != nil || err2 != nil {
		http.Error(w, "no live Spark UI here: open it from the job run's page in the console", http.StatusNotFound)
		return
	}
	grant, err := c.sessions.GetSession(r.Context(), liveUIGrantID(token, vc, id))
	if err != nil || grant.Kind != access.SessionKindLiveUI || !c.now().Before(grant.ExpiresAt) {
		http.Error(w, "this link to the live Spark UI has expired or was never valid: open it again from the job run's page in the console", http.StatusForbidden)
		return
	}
	ident, found, err := c.ids.Lookup(r.Context(), grant.AccessKeyID)
	if err != nil || !found {
		http.Error(w, "the access key this live Spark UI was opened with is no longer active", http.StatusForbidden)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + strings.TrimPrefix(r.URL.Path, LiveUIPath+token+"/")
	r2.URL.RawPath = ""
	if p := "/" + inner; p != r2.URL.Path {
		r2.URL.RawPath = p
	}
	for _, k := range []string{"Cookie", "Authorization", "X-CSRF-Token"} {
		r2.Header.Del(k)
	}
	c.api.ServeAs(&sandboxed{ResponseWriter: w}, r2, ident, LiveUIPath+token)
}

// sandboxed keeps the UI's answers in their sandbox: whatever headers the driver sends, the
// console's policy stands, and none of those that act on the whole origin pass.
type sandboxed struct {
	http.ResponseWriter
	wrote bool
}

func (s *sandboxed) WriteHeader(status int) {
	if !s.wrote {
		s.wrote = true
		h := s.Header()
		h.Set("Content-Security-Policy", liveUIPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		for _, k := range []string{"Set-Cookie", "Service-Worker-Allowed", "Clear-Site-Data", "Content-Security-Policy-Report-Only",
			"Access-Control-Allow-Credentials", "Refresh"} {
			h.Del(k)
		}
		if loc := h.Get("Location"); loc != "" && !strings.HasPrefix(loc, LiveUIPath) {
			h.Del("Location")
		}
		// The UI's own scripts run in an opaque origin: their requests to its REST API
		// (api/v1/...) are cross-origin, and carry no credentials (the grant is the path).
		h.Set("Access-Control-Allow-Origin", "*")
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *sandboxed) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// Flush passes streaming answers on.
func (s *sandboxed) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// isLiveUIPath reports whether an API path is the live UI route, which the console's API
// passthrough refuses: the UI is served only in its sandbox.
func isLiveUIPath(path string) bool {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 6)
	return len(parts) >= 5 && parts[0] == "virtualclusters" && parts[2] == "jobruns" && parts[4] == "sparkui"
}
