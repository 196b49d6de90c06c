package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
)

var _ access.SessionStore = (*SQLite)(nil)

// sessionColumns are what scanSession reads, in its order.
const sessionColumns = "id, kind, access_key_id, created_at, expires_at"

// noSuchSession is the error for a session that is missing or expired. It does not name the
// id: a session's id is as good as a password hash, and messages end up in logs.
func noSuchSession() error { return access.NoSuchEntity("The console session cannot be found.") }

// checkSession refuses a session no console would write, the same way in both stores (a zero
// time would be NULL in PostgreSQL and a date in year 1 in SQLite).
func checkSession(sess access.Session) error {
	switch {
	case sess.ID == "":
		return errors.New("console session: id is required")
	case sess.Kind != access.SessionKindSession && sess.Kind != access.SessionKindLink && sess.Kind != access.SessionKindLiveUI:
		return fmt.Errorf("console session: kind must be %q, %q or %q, got %q", access.SessionKindSession, access.SessionKindLink, access.SessionKindLiveUI, sess.Kind)
	case sess.AccessKeyID == "":
		return errors.New("console session: accessKeyId is required")
	case sess.CreatedAt.IsZero() || sess.ExpiresAt.IsZero():
		return errors.New("console session: createdAt and expiresAt are required")
	}
	return nil
}

// PutSession implements access.SessionStore.
func (s *SQLite) PutSession(ctx context.Context, sess access.Session) error {
	if err := checkSession(sess); err != nil {
		return err
	}
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO console_sessions (`+sessionColumns+`) VALUES (?,?,?,?,?)`,
			sess.ID, sess.Kind, sess.AccessKeyID, micros(sess.CreatedAt), micros(sess.ExpiresAt))
		if isUniqueViolation(err) {
			return access.AlreadyExists("A console session with this id already exists.")
		}
		if err != nil {
			return fmt.Errorf("insert console session: %w", err)
		}
		return nil
	})
}

func scanSession(row rowScanner) (access.Session, error) {
	var sess access.Session
	var created, expires int64
	err := row.Scan(&sess.ID, &sess.Kind, &sess.AccessKeyID, &created, &expires)
	sess.CreatedAt, sess.ExpiresAt = usTime(created), usTime(expires)
	return sess, err
}

// GetSession implements access.SessionStore.
func (s *SQLite) GetSession(ctx context.Context, id string) (access.Session, error) {
	sess, err := scanSession(s.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM console_sessions WHERE id = ? AND expires_at > ?`,
		id, micros(time.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		return access.Session{}, noSuchSession()
	}
	if err != nil {
		return access.Session{}, fmt.Errorf("read console session: %w", sqliteUnavailable(err, false))
	}
	return sess, nil
}

// TakeSession implements access.SessionStore. The writer runs one write at a time, so of two
// calls only the first finds the row to delete.
func (s *SQLite) TakeSession(ctx context.Context, id string) (access.Session, error) {
	var sess access.Session
	found := false
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		sess, err = scanSession(tx.QueryRowContext(ctx, `DELETE FROM console_sessions WHERE id = ? AND kind = 'link' RETURNING `+sessionColumns, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("take console session: %w", err)
		}
		found = true
		return nil
	})
	if err != nil {
		return access.Session{}, err
	}
	// An expired session is deleted all the same (it was of no use), and reported missing.
	if !found || !sess.ExpiresAt.After(time.Now()) {
		return access.Session{}, noSuchSession()
	}
	return sess, nil
}

// DeleteSession implements access.SessionStore.
func (s *SQLite) DeleteSession(ctx context.Context, id string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete console session: %w", err)
		}
		return nil
	})
}

// DeleteExpiredSessions implements access.SessionStore.
func (s *SQLite) DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at < ?`, micros(before))
		if err != nil {
			return fmt.Errorf("delete expired console sessions: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
