package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/audit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// APIPath is where the console serves the API to a signed-in browser.
const APIPath = "/console/api"

// Identities finds the identity behind an access key id (*access.Directory).
type Identities interface {
	Lookup(ctx context.Context, accessKeyID string) (access.Identity, bool, error)
}

// Options configure a Console.
type Options struct {
	// API answers every read and change the pages make, as the signed-in identity.
	API *api.Server
	// Identities checks sign-ins and finds a session's identity on every request.
	Identities Identities
	// Sessions keeps sessions and one-time links (the server's store).
	Sessions access.SessionStore
	// SessionDuration is how long a session lasts (default DefaultSessionDuration).
	SessionDuration time.Duration
	// Secure marks cookies Secure: the console is served over TLS, directly or behind a
	// proxy that terminates it. Requests that arrive over TLS get Secure cookies anyway.
	Secure bool
	// Region and AccountID are shown in the header.
	Region, AccountID string
	Logger            *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LiveInterval is how often the job list's live updates read the list (default 2s).
	LiveInterval time.Duration
	// Audit, when set, records every sign-in, refused or not, and every sign-out, as
	// sparkplane:ConsoleSignIn and sparkplane:ConsoleSignOut.
	Audit *audit.Log
}

// Console serves the web console. It is safe for concurrent use.
type Console struct {
	api       *api.Server
	audit     *audit.Log
	ids       Identities
	sessions  access.SessionStore
	duration  time.Duration
	secure    bool
	region    string
	account   string
	log       *slog.Logger
	now       func() time.Time
	live      time.Duration
	pages     map[string]*template.Template
	mux       *http.ServeMux
	static    http.Handler
	failures  limiter
	mu        sync.Mutex
	lastSweep time.Time
	// stop ends the live streams when the server shuts down.
	stop     chan struct{}
	stopOnce sync.Once
}

// Close ends the console's open live streams (job list updates), so that a shutting-down
// server does not wait for them; browsers reconnect on their own.
func (c *Console) Close() { c.stopOnce.Do(func() { close(c.stop) }) }

// New parses the templates and returns the console.
func New(o Options) (*Console, error) {
	if o.API == nil || o.Identities == nil || o.Sessions == nil {
		return nil, errors.New("console: API, Identities and Sessions are required")
	}
	c := &Console{api: o.API, audit: o.Audit, ids: o.Identities, sessions: o.Sessions, duration: o.SessionDuration, secure: o.Secure,
		region: o.Region, account: o.AccountID, log: o.Logger, now: o.Now, live: o.LiveInterval, stop: make(chan struct{})}
	if c.duration <= 0 {
		c.duration = DefaultSessionDuration
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.live <= 0 {
		c.live = 2 * time.Second
	}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	c.static = http.StripPrefix("/console/static/", http.FileServerFS(sub))
	c.routes()
	return c, nil
}

// page handlers get the signed-in session.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

func (c *Console) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /console/signin", c.signInPage)
	m.HandleFunc("POST /console/signin", c.signIn)
	m.HandleFunc("GET /console/signin/link", c.signInLinkPage)
	m.HandleFunc("POST /console/signin/link", c.signInLink)
	m.HandleFunc("POST /console/signout", c.signOut)
	m.HandleFunc("GET /console/static/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		c.static.ServeHTTP(w, r)
	})
	m.Handle("/console/api/", c.signedIn(c.serveAPI))
	m.Handle("GET /console/{$}", c.signedIn(c.clustersPage))
	m.Handle("GET /console/virtualclusters/{vc}/jobruns", c.signedIn(c.jobRunsPage))
	m.Handle("GET /console/virtualclusters/{vc}/jobruns/live", c.signedIn(c.jobRunsLive))
	m.Handle("POST /console/virtualclusters/{vc}/jobruns/{id}/cancel", c.signedIn(c.cancel))
	m.Handle("GET /console/virtualclusters/{vc}/jobruns/{id}", c.signedIn(c.jobRunPage))
	m.Handle("GET /console/virtualclusters/{vc}/jobruns/{id}/logs", c.signedIn(c.logsPage))
	m.Handle("GET /console/virtualclusters/{vc}/jobruns/{id}/sparkui", c.signedIn(c.openLiveUI))
	m.HandleFunc(LiveUIPath, c.serveLiveUI)
	m.Handle("GET /console/virtualclusters/{vc}/start", c.signedIn(c.startPage))
	m.Handle("POST /console/virtualclusters/{vc}/start", c.signedIn(c.start))
	m.Handle("GET /console/virtualclusters/{vc}/cost", c.signedIn(c.costPage))
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, nil, http.StatusNotFound, "error", errorPage{Title: "Not found", Message: "There is no console page at " + r.URL.Path + "."})
	})
	c.mux = m
}

// ServeHTTP serves /console/ and everything under it.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The console's pages load nothing from elsewhere, run no inline script, and may not be
	// framed.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if r.URL.Path == "/console" {
		http.Redirect(w, r, "/console/", http.StatusFound)
		return
	}
	c.mux.ServeHTTP(w, r)
}

// signedIn runs a page for a signed-in browser; without a valid session a page redirects to
// the sign-in page (and back afterwards), and the API answers 401. A request that changes
// anything must carry the session's CSRF token and come from the console's own origin.
func (c *Console) signedIn(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := c.session(r)
		if !ok {
			if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
				http.SetCookie(w, c.cookie(r, sessionCookie, "", time.Time{}))
			}
			if strings.HasPrefix(r.URL.Path, APIPath+"/") || r.Header.Get("X-CSRF-Token") != "" || strings.HasPrefix(r.URL.Path, "/console/virtualclusters/") && strings.HasSuffix(r.URL.Path, "/live") {
				writeJSONError(w, http.StatusUnauthorized, "UnrecognizedClientException", "sign in to the console first: the session is missing or has expired")
				return
			}
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				// A form sent after the session ended: nothing is done, and the user signs
				// in again to the page the form was on, if the browser says which.
				next = "/console/"
				if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
					next = safeNext(ref.RequestURI())
				}
			}
			http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !strings.HasPrefix(r.URL.Path, APIPath+"/") {
				// The console's own forms are small and URL-encoded; the API bounds its own
				// bodies.
				if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
					c.render(w, r, s, http.StatusUnsupportedMediaType, "error", errorPage{Title: "Refused", Message: "forms are sent URL-encoded, not as multipart"})
					return
				}
				r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			}
			if err := checkChange(r, s); err != nil {
				c.log.Info("console request refused", "path", r.URL.Path, "reason", err.Error())
				if strings.HasPrefix(r.URL.Path, APIPath+"/") || r.Header.Get("X-CSRF-Token") != "" {
					writeJSONError(w, http.StatusForbidden, "InvalidCSRFToken", err.Error())
				} else {
					c.render(w, r, s, http.StatusForbidden, "error", errorPage{Title: "Refused", Message: err.Error()})
				}
				return
			}
		}
		fn(w, r, s)
	})
}

// checkChange is the CSRF check of a request that changes something: the session's token
// in the X-CSRF-Token header or the csrf form field, and an Origin, when the browser sends
// one, that is the console's own.
func checkChange(r *http.Request, s *session) error {
	if !sameOrigin(r) {
		return fmt.Errorf("the request comes from another site (Origin %s): refused", r.Header.Get("Origin"))
	}
	token := r.Header.Get("X-CSRF-Token")
	if token == "" {
		token = r.PostFormValue("csrf")
	}
	if !sameToken(token, s.csrf) {
		return errors.New("the request carries no valid CSRF token for this session: reload the page and try again")
	}
	return nil
}

// maxFormBytes bounds the console's own forms.
const maxFormBytes = 256 << 10

// sameOrigin reports whether a request's Origin header, when the browser sends one, is the
// console's own: its Host, or the X-Forwarded-Host a proxy in front of it set (a page on
// another site cannot set that header on a request it makes).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Host == r.Host {
		return true
	}
	for _, h := range strings.Split(r.Header.Get("X-Forwarded-Host"), ",") {
		if h = strings.TrimSpace(h); h != "" && h == u.Host {
			return true
		}
	}
	return false
}

// serveAPI answers the API under APIPath as the session's identity.
func (c *Console) serveAPI(w http.ResponseWriter, r *http.Request, s *session) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = strings.TrimPrefix(r.URL.Path, APIPath)
	r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, APIPath)
	// The session cookie and the CSRF token are the console's; they go no further (the live
	// Spark UI never sees them).
	r2.Header.Del("Cookie")
	r2.Header.Del("X-CSRF-Token")
	if isLiveUIPath(r2.URL.Path) {
		// Only in its sandbox (serveLiveUI): on the console's origin the job's own pages
		// could act as the user.
		writeJSONError(w, http.StatusNotFound, "UnknownOperationException", "the live Spark UI is served apart from the console's API: open it from the job run's page")
		return
	}
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+downloadName(r2.URL.Path)+`"`)
	}
	c.api.ServeAs(w, r2, s.id, APIPath)
}

// downloadName names a downloaded answer after its path: "<run>-logs.txt" for a logs route.
func downloadName(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	name := "sparkplane"
	if len(parts) >= 4 {
		name = parts[3]
	}
	if len(parts) >= 5 {
		name += "-" + parts[4]
	}
	var b strings.Builder
	for _, r := range name {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
	}
	return b.String() + ".txt"
}

// APIError is an API call's refusal or failure as the API answered it.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Denied reports whether the API refused the call by policy.
func (e *APIError) Denied() bool { return e.Code == api.CodeAccessDenied }

// call makes one API call as the session's identity and decodes a 200 answer into out (nil:
// ignore it). Any other answer is an *APIError carrying the API's message.
func (c *Console) call(ctx context.Context, r *http.Request, s *session, method, path string, query url.Values, in, out any) error {
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	target := path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	req.Header.Set("User-Agent", "sparkplane-console")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}}
	text, isText := out.(*string)
	if isText {
		rec.limit = maxTextAnswer
	}
	c.api.ServeAs(rec, req, s.id, APIPath)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status != http.StatusOK {
		e := &APIError{Status: rec.status, Code: rec.header.Get("X-Amzn-Errortype")}
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(rec.body.Bytes(), &m) == nil {
			e.Message = m.Message
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(rec.body.String())
		}
		if e.Code == "" {
			e.Code = http.StatusText(rec.status)
		}
		return e
	}
	if out == nil {
		return nil
	}
	if isText {
		*text = rec.body.String()
		if rec.truncated {
			*text += "\n--- the page shows the first 8 MiB; download the log for all of it\n"
		}
		return nil
	}
	if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
		return fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// maxTextAnswer bounds a text answer a page shows (a log): beyond it the page says to
// download the rest.
const maxTextAnswer = 8 << 20

// errAnswerTooLong stops an answer the recorder will not keep.
var errAnswerTooLong = errors.New("the answer is longer than a page shows")

// recorder keeps an in-process API answer, up to limit bytes when limit is set.
type recorder struct {
	header    http.Header
	status    int
	body      bytes.Buffer
	limit     int
	truncated bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.limit > 0 && r.body.Len()+len(b) > r.limit {
		n, _ := r.body.Write(b[:r.limit-r.body.Len()])
		r.truncated = true
		return n, errAnswerTooLong
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Flush() {}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
