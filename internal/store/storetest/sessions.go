package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
)

// RunSessions runs the conformance suite of access.SessionStore: sessions read back whole
// until they expire, a one-time link is taken once however many calls race for it, and
// expired sessions are removed by time. newStore must return a new empty store for each call.
func RunSessions(t *testing.T, newStore func(t *testing.T) access.SessionStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, access.SessionStore)
	}{
		{"RoundTrip", testSessionRoundTrip},
		{"ExpiredIsMissing", testSessionExpired},
		{"TakeOnce", testTakeSessionOnce},
		{"Delete", testDeleteSession},
		{"DeleteExpired", testDeleteExpiredSessions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// sessionID is an id as the console makes one: the hex SHA-256 of the browser's token.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// session returns a session of kind created now (with nanoseconds no store keeps) that
// expires after ttl (negative: expired already).
func session(token, kind string, ttl time.Duration) access.Session {
	now := time.Now()
	return access.Session{ID: sessionID(token), Kind: kind, AccessKeyID: "AKIAEXAMPLE" + kind, CreatedAt: now, ExpiresAt: now.Add(ttl)}
}

func putSession(t *testing.T, s access.SessionStore, sess access.Session) {
	t.Helper()
	if err := s.PutSession(ctx(t), sess); err != nil {
		t.Fatalf("put session: %v", err)
	}
}

// sameSession compares a session read back with the one put: times to the microsecond, in UTC.
func sameSession(t *testing.T, got, want access.Session) {
	t.Helper()
	want.CreatedAt, want.ExpiresAt = want.CreatedAt.Truncate(time.Microsecond).UTC(), want.ExpiresAt.Truncate(time.Microsecond).UTC()
	if got.ID != want.ID || got.Kind != want.Kind || got.AccessKeyID != want.AccessKeyID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("session read back as %+v, want %+v", got, want)
	}
	if got.CreatedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("session times not in UTC: %v %v", got.CreatedAt.Location(), got.ExpiresAt.Location())
	}
}

func wantNoSession(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, access.ErrNoSuchEntity) {
		t.Errorf("%s: %v, want an error wrapping access.ErrNoSuchEntity", what, err)
	}
}

func testSessionRoundTrip(t *testing.T, s access.SessionStore) {
	in := session("browser-token", access.SessionKindSession, time.Hour)
	putSession(t, s, in)
	got := must(s.GetSession(ctx(t), in.ID))(t)
	sameSession(t, got, in)
	// An id is stored once: a second put with it is refused and changes nothing.
	again := in
	again.AccessKeyID = "AKIAOTHER"
	if err := s.PutSession(ctx(t), again); !errors.Is(err, access.ErrEntityAlreadyExists) {
		t.Errorf("second put of one id: %v, want ErrEntityAlreadyExists", err)
	}
	sameSession(t, must(s.GetSession(ctx(t), in.ID))(t), in)
	_, err := s.GetSession(ctx(t), sessionID("unknown"))
	wantNoSession(t, "unknown session", err)
	// A session the console would not write is refused.
	bad := session("bad", "cookie", time.Hour)
	if err := s.PutSession(ctx(t), bad); err == nil {
		t.Error("a session of an unknown kind was stored")
	}
	bad = session("bad", access.SessionKindLink, time.Hour)
	bad.ExpiresAt = time.Time{}
	if err := s.PutSession(ctx(t), bad); err == nil {
		t.Error("a session without an expiry was stored")
	}
}

func testSessionExpired(t *testing.T, s access.SessionStore) {
	expired := session("expired", access.SessionKindSession, -time.Second)
	putSession(t, s, expired)
	_, err := s.GetSession(ctx(t), expired.ID)
	wantNoSession(t, "get of an expired session", err)
	link := session("expired-link", access.SessionKindLink, -time.Millisecond)
	putSession(t, s, link)
	_, err = s.TakeSession(ctx(t), link.ID)
	wantNoSession(t, "take of an expired link", err)
	// The take removed the expired link; the other expired session waits for the sweep.
	if n := must(s.DeleteExpiredSessions(ctx(t), time.Now()))(t); n != 1 {
		t.Errorf("sweep after the take removed %d sessions, want 1 (the session never taken)", n)
	}
}

func testTakeSessionOnce(t *testing.T, s access.SessionStore) {
	link := session("one-time-link", access.SessionKindLink, 15*time.Minute)
	putSession(t, s, link)
	const n = 20
	var wg sync.WaitGroup
	results := make(chan error, n)
	taken := make(chan access.Session, n)
	for range n {
		wg.Go(func() {
			got, err := s.TakeSession(ctx(t), link.ID)
			if err == nil {
				taken <- got
			}
			results <- err
		})
	}
	wg.Wait()
	close(results)
	close(taken)
	var won, missing int
	for err := range results {
		switch {
		case err == nil:
			won++
		case errors.Is(err, access.ErrNoSuchEntity):
			missing++
		default:
			t.Errorf("take: %v", err)
		}
	}
	if won != 1 || missing != n-1 {
		t.Fatalf("%d concurrent takes of one link: %d got it, %d found it missing; want 1 and %d", n, won, missing, n-1)
	}
	sameSession(t, <-taken, link)
	_, err := s.GetSession(ctx(t), link.ID)
	wantNoSession(t, "get of a taken link", err)
	_, err = s.TakeSession(ctx(t), link.ID)
	wantNoSession(t, "second take of a link", err)

	// Only links are taken: a signed-in session or a live UI grant is missing to TakeSession,
	// and stays.
	for _, kind := range []string{access.SessionKindSession, access.SessionKindLiveUI} {
		other := session("not-a-link-"+kind, kind, time.Hour)
		putSession(t, s, other)
		_, err = s.TakeSession(ctx(t), other.ID)
		wantNoSession(t, "take of a "+kind, err)
		if _, err := s.GetSession(ctx(t), other.ID); err != nil {
			t.Errorf("the %s is gone after a take: %v", kind, err)
		}
	}
}

func testDeleteSession(t *testing.T, s access.SessionStore) {
	keep := session("keep", access.SessionKindSession, time.Hour)
	gone := session("sign-out", access.SessionKindSession, time.Hour)
	putSession(t, s, keep)
	putSession(t, s, gone)
	if err := s.DeleteSession(ctx(t), gone.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetSession(ctx(t), gone.ID)
	wantNoSession(t, "get of a deleted session", err)
	if err := s.DeleteSession(ctx(t), gone.ID); err != nil {
		t.Errorf("delete of a missing session: %v, want nil", err)
	}
	sameSession(t, must(s.GetSession(ctx(t), keep.ID))(t), keep)
}

func testDeleteExpiredSessions(t *testing.T, s access.SessionStore) {
	now := time.Now()
	for i, ttl := range []time.Duration{-3 * time.Hour, -2 * time.Hour, -time.Hour, time.Hour, 24 * time.Hour} {
		putSession(t, s, session(string(rune('a'+i)), access.SessionKindSession, ttl))
	}
	if n := must(s.DeleteExpiredSessions(ctx(t), now.Add(-90*time.Minute)))(t); n != 2 {
		t.Errorf("sessions that expired before 90 minutes ago: removed %d, want 2", n)
	}
	if n := must(s.DeleteExpiredSessions(ctx(t), now))(t); n != 1 {
		t.Errorf("sessions that expired before now: removed %d, want 1", n)
	}
	if n := must(s.DeleteExpiredSessions(ctx(t), now))(t); n != 0 {
		t.Errorf("second sweep removed %d, want 0", n)
	}
	for _, token := range []string{"d", "e"} {
		if _, err := s.GetSession(ctx(t), sessionID(token)); err != nil {
			t.Errorf("live session %s after the sweeps: %v", token, err)
		}
	}
}
