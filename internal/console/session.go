package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
)

// Cookie names. The session cookie holds a random token; the store keeps only its SHA-256.
const (
	sessionCookie = "sparkplane_session"
	// signInCookie carries the sign-in form's CSRF token (a double-submit token: the form
	// has no session yet).
	signInCookie = "sparkplane_signin"
	cookiePath   = "/console/"
)

// DefaultSessionDuration is how long a console session lasts when the configuration does
// not say.
const DefaultSessionDuration = 12 * time.Hour

// LinkDuration is how long a one-time sign-in link may be used.
const LinkDuration = 5 * time.Minute

// session is a signed-in browser: its identity, as its access key has it now, and its CSRF
// token.
type session struct {
	id      access.Identity
	storeID string
	csrf    string
	expires time.Time
}

// newToken returns a random token and the id the store keeps for it.
func newToken() (token, id string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenID(token)
}

// tokenID is the store's id of a token: its SHA-256, so a copy of the database signs no one in.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// csrfToken is a session's CSRF token: derived from its secret token, so it needs no storage
// and changes with every session.
func csrfToken(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("sparkplane console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// wellFormed reports whether a cookie value could be one of our tokens, before the store is
// asked: a malformed or forged value never reaches the database.
func wellFormed(token string) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == 32
}

// session returns the request's session, or false when it has none that is valid now: no
// cookie, a malformed or unknown one, an expired session, or an access key that was
// deleted or deactivated since.
func (c *Console) session(r *http.Request) (*session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || !wellFormed(ck.Value) {
		return nil, false
	}
	id := tokenID(ck.Value)
	s, err := c.sessions.GetSession(r.Context(), id)
	if err != nil {
		if !errors.Is(err, access.ErrNoSuchEntity) {
			c.log.Warn("console session not read", "err", err)
		}
		return nil, false
	}
	if s.Kind != access.SessionKindSession || !c.now().Before(s.ExpiresAt) {
		return nil, false
	}
	ident, found, err := c.ids.Lookup(r.Context(), s.AccessKeyID)
	if err != nil || !found {
		if err != nil {
			c.log.Warn("console session's access key not read", "err", err)
		}
		return nil, false
	}
	return &session{id: ident, storeID: id, csrf: csrfToken(ck.Value), expires: s.ExpiresAt}, true
}

// startSession stores a new session for the access key and sets its cookie.
func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, accessKeyID string) error {
	token, id := newToken()
	now := c.now()
	expires := now.Add(c.duration)
	if err := c.sessions.PutSession(ctx, access.Session{ID: id, Kind: access.SessionKindSession, AccessKeyID: accessKeyID,
		CreatedAt: now, ExpiresAt: expires}); err != nil {
		return err
	}
	http.SetCookie(w, c.cookie(r, sessionCookie, token, expires))
	c.sweep(ctx)
	return nil
}

// cookie is one of the console's cookies: HttpOnly, SameSite=Strict, Secure when the
// console is served over TLS, scoped to the console's path.
func (c *Console) cookie(r *http.Request, name, value string, expires time.Time) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: cookiePath, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.secure || r.TLS != nil}
	if expires.IsZero() {
		ck.MaxAge = -1
	} else {
		ck.Expires = expires
		ck.MaxAge = int(time.Until(expires).Seconds())
		if ck.MaxAge < 1 {
			ck.MaxAge = 1
		}
	}
	return ck
}

// sweepEvery is how often a new session also deletes the expired ones.
const sweepEvery = 10 * time.Minute

// sweep deletes expired sessions and links, at most every sweepEvery.
func (c *Console) sweep(ctx context.Context) {
	c.mu.Lock()
	due := c.now().Sub(c.lastSweep) >= sweepEvery
	if due {
		c.lastSweep = c.now()
	}
	c.mu.Unlock()
	if due {
		if _, err := c.sessions.DeleteExpiredSessions(ctx, c.now()); err != nil {
			c.log.Warn("expired console sessions not deleted", "err", err)
		}
	}
}

// SignInLink stores a one-time sign-in link for id's access key and returns its path; it
// implements api.SignInLinks.
func (c *Console) SignInLink(ctx context.Context, id access.Identity) (string, time.Time, error) {
	token, sid := newToken()
	now := c.now()
	expires := now.Add(LinkDuration)
	if err := c.sessions.PutSession(ctx, access.Session{ID: sid, Kind: access.SessionKindLink, AccessKeyID: id.AccessKeyID,
		CreatedAt: now, ExpiresAt: expires}); err != nil {
		return "", time.Time{}, err
	}
	return "/console/signin/link?token=" + token, expires, nil
}

// Failed sign-ins are limited per access key id: after maxFailures within failureWindow the
// key may not sign in through the console until the window has passed, whatever the secret.
const (
	maxFailures   = 5
	failureWindow = 5 * time.Minute
)

// limiter counts failed sign-ins per access key id. It is per replica: behind several, an
// attacker gets maxFailures per replica per window.
type limiter struct {
	mu     sync.Mutex
	failed map[string][]time.Time
}

// blocked reports whether key has used up its failures.
func (l *limiter) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, now)) >= maxFailures
}

// maxTracked bounds the keys the limiter counts. Failures older than failureWindow are
// dropped first; a limiter still full then forgets the key whose last failure is the oldest,
// never everyone at once, so junk keys cannot wipe a real key's count.
const maxTracked = 100_000

func (l *limiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed == nil {
		l.failed = map[string][]time.Time{}
	}
	if _, known := l.failed[key]; !known && len(l.failed) >= maxTracked {
		oldestKey, oldest := "", now
		for k, ts := range l.failed {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= failureWindow {
				delete(l.failed, k)
				continue
			}
			if last := ts[len(ts)-1]; last.Before(oldest) {
				oldestKey, oldest = k, last
			}
		}
		if len(l.failed) >= maxTracked {
			delete(l.failed, oldestKey)
		}
	}
	l.failed[key] = append(l.recent(key, now), now)
}

func (l *limiter) recent(key string, now time.Time) []time.Time {
	var keep []time.Time
	for _, t := range l.failed[key] {
		if now.Sub(t) < failureWindow {
			keep = append(keep, t)
		}
	}
	return keep
}
