package access

import (
	"context"
	"time"
)

// Session is a web console sign-in: a signed-in browser session, or a one-time sign-in link not
// yet used.
type Session struct {
	// ID is the hex SHA-256 of the secret token the browser holds; the token itself is never
	// stored, so a copy of the database signs no one in.
	ID string
	// Kind is SessionKindSession, SessionKindLink or SessionKindLiveUI.
	Kind string
	// AccessKeyID is the access key whose identity the session acts as.
	AccessKeyID string
	// CreatedAt and ExpiresAt are kept to the microsecond; the session is no longer valid from
	// ExpiresAt on.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Kinds of Session.
const (
	// SessionKindSession is a signed-in browser session, used until it expires or signs out.
	SessionKindSession = "session"
	// SessionKindLink is a one-time sign-in link: TakeSession uses it up.
	SessionKindLink = "link"
	// SessionKindLiveUI lets a browser read one running job run's live Spark UI, without the
	// session cookie, for a short time (the console serves that UI in a sandbox).
	SessionKindLiveUI = "liveui"
)

// SessionStore keeps console sessions; SQLite and PostgreSQL implement it (internal/store).
// Every replica sees the same sessions, so a browser may be served by any of them. A missing
// session is an error that wraps ErrNoSuchEntity (made with NoSuchEntity).
type SessionStore interface {
	// PutSession stores a new session; an ID that is already stored fails with
	// ErrEntityAlreadyExists and changes nothing.
	PutSession(ctx context.Context, s Session) error
	// GetSession returns a session that has not expired: one whose ExpiresAt is at or before
	// the current time is missing (ErrNoSuchEntity), as is an unknown ID.
	GetSession(ctx context.Context, id string) (Session, error)
	// TakeSession deletes a one-time link (SessionKindLink; other kinds are missing to it)
	// and returns it, in one step: of concurrent calls with
	// one ID (on any replica) exactly one gets it, the others ErrNoSuchEntity, so a one-time
	// link signs in once. An expired session is deleted and reported missing.
	TakeSession(ctx context.Context, id string) (Session, error)
	// DeleteSession removes a session (signing out); a missing one is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes the sessions that expired before the given time
	// (ExpiresAt < before) and says how many it removed.
	DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error)
}
