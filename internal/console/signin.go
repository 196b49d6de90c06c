package console

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
)

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
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
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
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

// signInLink signs in with a one-time link from `sparkplane console`: the link is used up
// whether or not the rest succeeds.
func (c *Console) signInLink(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	fail := func(msg string) {
		c.showSignIn(w, r, http.StatusUnauthorized, signInForm{Next: "/console/", Error: msg})
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
		fail("This sign-in link was used already or has expired (links last 5 minutes and work once). Run `sparkplane console` for a new one.")
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
	// A page, not a redirect: the link may come from another site (a chat, a terminal), and
	// a SameSite=Strict cookie is not sent on a redirect that follows such a navigation. The
	// page's own navigation to the console is same-site.
	c.render(w, r, nil, http.StatusOK, "signedin", nil, crumb{Name: "Signed in"})
}

// signOut ends the session: deleted from the store, so the cookie no longer works anywhere.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	s, ok := c.session(r)
	if ok {
		if err := checkChange(r, s); err != nil {
			c.render(w, r, s, http.StatusForbidden, "error", errorPage{Title: "Refused", Message: err.Error()})
			return
		}
		if err := c.sessions.DeleteSession(r.Context(), s.storeID); err != nil {
			c.log.Error("console session not deleted", "err", err)
		}
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, "", time.Time{}))
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}
