package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparkplane/sparkplane/internal/access"
)

var _ access.SessionStore = (*Postgres)(nil)

func pgScanSession(row rowScanner) (access.Session, error) {
	var sess access.Session
	err := row.Scan(&sess.ID, &sess.Kind, &sess.AccessKeyID, &sess.CreatedAt, &sess.ExpiresAt)
	sess.CreatedAt, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.ExpiresAt.UTC()
	return sess, err
}

// PutSession implements access.SessionStore.
func (p *Postgres) PutSession(ctx context.Context, sess access.Session) error {
	if err := checkSession(sess); err != nil {
		return err
	}
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO console_sessions (`+sessionColumns+`) VALUES ($1,$2,$3,$4,$5)`,
			sess.ID, sess.Kind, sess.AccessKeyID, pgTime(sess.CreatedAt), pgTime(sess.ExpiresAt))
		if _, ok := uniqueViolation(err); ok {
			return access.AlreadyExists("A console session with this id already exists.")
		}
		if err != nil {
			return fmt.Errorf("insert console session: %w", err)
		}
		return nil
	})
}

// GetSession implements access.SessionStore. Expiry is judged by this server's clock, the
// one that set ExpiresAt, not the database's.
func (p *Postgres) GetSession(ctx context.Context, id string) (access.Session, error) {
	sess, err := pgScanSession(p.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM console_sessions WHERE id = $1 AND expires_at > $2`,
		id, pgTime(time.Now())))
	if errors.Is(err, pgx.ErrNoRows) {
		return access.Session{}, noSuchSession()
	}
	if err != nil {
		return access.Session{}, fmt.Errorf("read console session: %w", err)
	}
	return sess, nil
}

// TakeSession implements access.SessionStore. Of concurrent DELETEs of one row, the first
// takes its lock and the others, once it commits, find the row gone and return nothing.
func (p *Postgres) TakeSession(ctx context.Context, id string) (access.Session, error) {
	var sess access.Session
	found := false
	err := p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		sess, err = pgScanSession(c.QueryRow(ctx, `DELETE FROM console_sessions WHERE id = $1 AND kind = 'link' RETURNING `+sessionColumns, id))
		if errors.Is(err, pgx.ErrNoRows) {
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
func (p *Postgres) DeleteSession(ctx context.Context, id string) error {
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		if _, err := c.Exec(ctx, `DELETE FROM console_sessions WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete console session: %w", err)
		}
		return nil
	})
}

// DeleteExpiredSessions implements access.SessionStore.
func (p *Postgres) DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at < $1`, pgTime(before))
		if err != nil {
			return fmt.Errorf("delete expired console sessions: %w", err)
		}
		n = tag.RowsAffected()
		return nil
	})
	return n, err
}
