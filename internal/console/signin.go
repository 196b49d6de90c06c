package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/audit"
)

// Audit actions of the console's own requests (the pages' API calls are audited as the API's).
const (
	actionSignIn  = "sparkplane:ConsoleSignIn"
	actionSignOut = "sparkplane:ConsoleSignOut"
)

// record writes an audit event of a sign-in or sign-out; status 200 is allowed, 401, 403
// and 429 are denied, others failed. A refused sign-in is queued, not waited for, so that a
// flood of wrong secrets does not hold the database up.
func (c *Console) record(r *http.Request, action, principal, accessKeyID string, status int, code string) {
	if c.audit == nil {
		return
	}
	e := audit.Event{Time: c.now().UTC(), RequestID: api.RequestID(), Principal: principal, AccessKeyID: accessKeyID,
		Source: api.SourceAddress(r), Action: action, Resource: "*", Status: status, Outcome: audit.Allowed}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusTooManyRequests:
		e.Outcome, e.ErrorCode = audit.Denied, code
	case status >= 400:
		e.Outcome, e.ErrorCode = audit.Failed, code
	}
	if err := c.audit.Record(r.Context(), e, status == http.StatusOK); err != nil {
		c.log.Error("audit record of a console sign-in not stored", "err", err)
	}
}

// signInForm is the sign-in page's data.
type signInForm struct {
	AccessKeyID string
	Next        string
	CSRF        string
	Error       string
	// Field is the input the error is about, for its aria-invalid.
	Field string
}

// safeNext keeps a return path only when it is a console page: never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") ||
		strings.HasPrefix(next, APIPath+"/") || strings.HasPrefix(next, "/console/signin") {
		return "/console/"
	}
	return next
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.showSignIn(w, r, http.StatusOK, signInForm{Next: safeNext(r.URL.Query().Get("next"))})
}

// showSignIn renders the form with a fresh double-submit CSRF token.
func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, f signInForm) {
	token, _ := newToken()
	http.SetCookie(w, c.cookie(r, signInCookie, token, c.now().Add(time.Hour)))
	f.CSRF = token
	c.render(w, r, nil, status, "signin", f, crumb{Name: "Sign in"})
}

// signIn checks an access key id and its secret and starts a session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	f := signInForm{AccessKeyID: strings.TrimSpace(r.PostFormValue("accessKeyId")), Next: safeNext(r.PostFormValue("next"))}
	secret := r.PostFormValue("secretAccessKey")
	ck, err := r.Cookie(signInCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) || !sameOrigin(r) {
		f.Error = "The sign-in form has expired or did not come from this console: try again."
		c.showSignIn(w, r, http.StatusForbidden, f)
		return
	}
	switch {
	case f.AccessKeyID == "":
		f.Error, f.Field = "Access key ID: is required.", "accessKeyId"
	case len(f.AccessKeyID) > 128:
		f.Error, f.Field = "Access key ID: must be at most 128 characters.", "accessKeyId"
	case secret == "":
		f.Error, f.Field = "Secret access key: is required.", "secretAccessKey"
	}
	if f.Error != "" {
		c.showSignIn(w, r, http.StatusBadRequest, f)
		return
	}
	now := c.now()
	if c.failures.blocked(f.AccessKeyID, now) {
		c.record(r, actionSignIn, "", f.AccessKeyID, http.StatusTooManyRequests, "TooManyFailedSignIns")
		f.Error = "Too many failed sign-ins for this access key: wait a few minutes and try again."
		c.showSignIn(w, r, http.StatusTooManyRequests, f)
		return
	}
	id, found, err := c.ids.Lookup(r.Context(), f.AccessKeyID)
	if err != nil {
		c.log.Error("console sign-in: access key not read", "err", err)
		f.Error = "The server could not check the key now; try again shortly."
		c.showSignIn(w, r, http.StatusServiceUnavailable, f)
		return
	}
	if !found || !sameToken(secret, id.Secret) {
		// The same answer whether the key exists or not.
		c.failures.fail(f.AccessKeyID, now)
		c.log.Info("console sign-in refused", "accessKeyId", f.AccessKeyID, "source", r.RemoteAddr)
		c.record(r, actionSignIn, "", f.AccessKeyID, http.StatusUnauthorized, "InvalidClientTokenId")
		f.Error, f.Field = "The access key ID or the secret access key is not right.", "secretAccessKey"
		c.showSignIn(w, r, http.StatusUnauthorized, f)
		return
	}
	if err := c.startSession(r.Context(), w, r, id.AccessKeyID); err != nil {
		c.log.Error("console session not stored", "err", err)
		f.Error = "The server could not start a session now; try again shortly."
		c.showSignIn(w, r, http.StatusServiceUnavailable, f)
		return
	}
	http.SetCookie(w, c.cookie(r, signInCookie, "", time.Time{}))
	c.log.Info("console sign-in", "principal", id.Principal, "accessKeyId", id.AccessKeyID)
	c.record(r, actionSignIn, id.Principal, id.AccessKeyID, http.StatusOK, "")
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// linkPage is the page a one-time link opens: who it signs in as, and a button that does.
type linkPage struct {
	Token     string
	Principal string
	Error     string
}

// linkFailed is what a link that cannot sign in says.
const linkFailed = "This sign-in link was used already or has expired (links last 5 minutes and work once). Run `sparkplane console` for a new one."

// signInLinkPage shows what a one-time link from `sparkplane console` signs in as, with a
// button that signs in. Opening the link uses nothing up: link scanners and chat previews
// fetch it, and a link someone else made must not sign a browser in as them unasked.
func (c *Console) signInLinkPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if !wellFormed(token) {
		c.showSignIn(w, r, http.StatusUnauthorized, signInForm{Next: "/console/", Error: "This sign-in link is not valid. Run `sparkplane console` for a new one, or sign in with an access key."})
		return
	}
	s, err := c.sessions.GetSession(r.Context(), tokenID(token))
	if err != nil || s.Kind != access.SessionKindLink || !c.now().Before(s.ExpiresAt) {
		c.showSignIn(w, r, http.StatusUnauthorized, signInForm{Next: "/console/", Error: linkFailed})
		return
	}
	id, found, err := c.ids.Lookup(r.Context(), s.AccessKeyID)
	if err != nil || !found {
		c.showSignIn(w, r, http.StatusUnauthorized, signInForm{Next: "/console/", Error: "The access key this link was made for is no longer active."})
		return
	}
	c.render(w, r, nil, http.StatusOK, "signinlink", linkPage{Token: token, Principal: id.Principal}, crumb{Name: "Sign in"})
}

// signInLink signs in with a one-time link: the link is used up whether or not the rest
// succeeds. The form comes from the link's own page (its Origin, when the browser sends one,
// is the console's).
func (c *Console) signInLink(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	token := r.PostFormValue("token")
	fail := func(msg string) {
		c.showSignIn(w, r, http.StatusUnauthorized, signInForm{Next: "/console/", Error: msg})
	}
	if !sameOrigin(r) {
		fail("The sign-in came from another site: open the link itself.")
		return
	}
	if !wellFormed(token) {
		fail("This sign-in link is not valid. Run `sparkplane console` for a new one, or sign in with an access key.")
		return
	}
	s, err := c.sessions.TakeSession(r.Context(), tokenID(token))
	if err != nil || s.Kind != access.SessionKindLink || !c.now().Before(s.ExpiresAt) {
		if err != nil && !errors.Is(err, access.ErrNoSuchEntity) {
			c.log.Error("console sign-in link not read", "err", err)
		}
		fail(linkFailed)
		return
	}
	id, found, err := c.ids.Lookup(r.Context(), s.AccessKeyID)
	if err != nil || !found {
		fail("The access key this link was made for is no longer active.")
		return
	}
	if err := c.startSession(r.Context(), w, r, id.AccessKeyID); err != nil {
		c.log.Error("console session not stored", "err", err)
		fail("The server could not start a session now; try again shortly.")
		return
	}
	c.log.Info("console sign-in by link", "principal", id.Principal, "accessKeyId", id.AccessKeyID)
	c.record(r, actionSignIn, id.Principal, id.AccessKeyID, http.StatusOK, "")
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

// signOut ends the session: deleted from the store, so the cookie no longer works anywhere.
// A request without a valid session and token changes nothing: a forged sign-out does not
// even clear the cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if s, ok := c.session(r); ok {
		if err := checkChange(r, s); err != nil {
			c.render(w, r, s, http.StatusForbidden, "error", errorPage{Title: "Refused", Message: err.Error()})
			return
		}
		if err := c.sessions.DeleteSession(r.Context(), s.storeID); err != nil {
			c.log.Error("console session not deleted", "err", err)
		}
		c.record(r, actionSignOut, s.id.Principal, s.id.AccessKeyID, http.StatusOK, "")
		http.SetCookie(w, c.cookie(r, sessionCookie, "", time.Time{}))
	}
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}
