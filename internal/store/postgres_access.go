package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/audit"
)

var (
	_ access.Store = (*Postgres)(nil)
	_ audit.Store  = (*Postgres)(nil)
)

// CreateUser implements access.Store.
func (p *Postgres) CreateUser(ctx context.Context, u access.User) error {
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.Exec(ctx, `INSERT INTO iam_users (name, id, arn, created_at) VALUES ($1,$2,$3,$4)`, u.UserName, u.UserID, u.Arn, pgTime(u.CreateDate))
		if _, ok := uniqueViolation(err); ok {
			return access.AlreadyExists("User with name %s already exists.", u.UserName)
		}
		return err
	})
}

func pgScanUser(row rowScanner) (access.User, error) {
	var u access.User
	err := row.Scan(&u.UserName, &u.UserID, &u.Arn, &u.CreateDate)
	u.CreateDate, u.Path = u.CreateDate.UTC(), "/"
	return u, err
}

// GetUser implements access.Store.
func (p *Postgres) GetUser(ctx context.Context, name string) (access.User, error) {
	u, err := pgScanUser(p.pool.QueryRow(ctx, `SELECT name, id, arn, created_at FROM iam_users WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, noSuchUser(name)
	}
	return u, err
}

// ListUsers implements access.Store.
func (p *Postgres) ListUsers(ctx context.Context) ([]access.User, error) {
	rows, err := p.pool.Query(ctx, `SELECT name, id, arn, created_at FROM iam_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	return collect(rows, pgScanUser, "list users")
}

// lockUser locks a user's row for the rest of the transaction, so limits counted on its keys
// and policies hold against concurrent calls; it reports whether the user exists.
func lockUser(ctx context.Context, tx pgx.Tx, name string) (bool, error) {
	tag, err := tx.Exec(ctx, `SELECT 1 FROM iam_users WHERE name = $1 FOR UPDATE`, name)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// DeleteUser implements access.Store.
func (p *Postgres) DeleteUser(ctx context.Context, name string) error {
	return p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		ok, err := lockUser(ctx, tx, name)
		if err != nil {
			return err
		}
		if !ok {
			return noSuchUser(name)
		}
		var keys, policies int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM iam_access_keys WHERE user_name = $1), (SELECT count(*) FROM iam_user_policies WHERE user_name = $1)`,
			name).Scan(&keys, &policies); err != nil {
			return err
		}
		if err := userDeletable(name, keys, policies); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM iam_users WHERE name = $1`, name)
		return err
	})
}

// CreateAccessKey implements access.Store.
func (p *Postgres) CreateAccessKey(ctx context.Context, k access.StoredKey, maxPerUser int) error {
	return p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		ok, err := lockUser(ctx, tx, k.UserName)
		if err != nil {
			return err
		}
		if !ok {
			return noSuchUser(k.UserName)
		}
		var keys int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM iam_access_keys WHERE user_name = $1`, k.UserName).Scan(&keys); err != nil {
			return err
		}
		if keys >= maxPerUser {
			return access.LimitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxPerUser)
		}
		_, err = tx.Exec(ctx, `INSERT INTO iam_access_keys (id, user_name, status, secret, created_at) VALUES ($1,$2,$3,$4,$5)`,
			k.AccessKeyID, k.UserName, k.Status, k.Sealed, pgTime(k.CreateDate))
		return err
	})
}

func pgScanKey(row rowScanner) (access.StoredKey, error) {
	var k access.StoredKey
	err := row.Scan(&k.AccessKeyID, &k.UserName, &k.Status, &k.Sealed, &k.CreateDate)
	k.CreateDate = k.CreateDate.UTC()
	return k, err
}

// GetAccessKey implements access.Store.
func (p *Postgres) GetAccessKey(ctx context.Context, id string) (access.StoredKey, error) {
	k, err := pgScanKey(p.pool.QueryRow(ctx, `SELECT id, user_name, status, secret, created_at FROM iam_access_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, access.NoSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	return k, err
}

// ListAccessKeys implements access.Store.
func (p *Postgres) ListAccessKeys(ctx context.Context, userName string) ([]access.StoredKey, error) {
	rows, err := p.pool.Query(ctx, `SELECT id, user_name, status, secret, created_at FROM iam_access_keys WHERE user_name = $1 ORDER BY created_at, id`, userName)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	defer rows.Close()
	return collect(rows, pgScanKey, "list access keys")
}

// DeleteAccessKey implements access.Store.
func (p *Postgres) DeleteAccessKey(ctx context.Context, userName, id string) error {
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM iam_access_keys WHERE user_name = $1 AND id = $2`, userName, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return access.NoSuchEntity("The Access Key with id %s cannot be found for user %s.", id, userName)
		}
		return nil
	})
}

// PutUserPolicy implements access.Store.
func (p *Postgres) PutUserPolicy(ctx context.Context, pol access.UserPolicy, maxPerUser int) error {
	return p.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		ok, err := lockUser(ctx, tx, pol.UserName)
		if err != nil {
			return err
		}
		users := 0
		if ok {
			users = 1
		}
		var others int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM iam_user_policies WHERE user_name = $1 AND name <> $2`, pol.UserName, pol.PolicyName).Scan(&others); err != nil {
			return err
		}
		if err := policyFits(pol, users, others, maxPerUser); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO iam_user_policies (user_name, name, document, updated_at) VALUES ($1,$2,$3,$4)
			ON CONFLICT (user_name, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
			pol.UserName, pol.PolicyName, pol.PolicyDocument, pgTime(pol.UpdateDate))
		return err
	})
}

func pgScanPolicy(row rowScanner) (access.UserPolicy, error) {
	var pol access.UserPolicy
	err := row.Scan(&pol.UserName, &pol.PolicyName, &pol.PolicyDocument, &pol.UpdateDate)
	pol.UpdateDate = pol.UpdateDate.UTC()
	return pol, err
}

// GetUserPolicy implements access.Store.
func (p *Postgres) GetUserPolicy(ctx context.Context, userName, policyName string) (access.UserPolicy, error) {
	pol, err := pgScanPolicy(p.pool.QueryRow(ctx, `SELECT user_name, name, document, updated_at FROM iam_user_policies WHERE user_name = $1 AND name = $2`, userName, policyName))
	if errors.Is(err, pgx.ErrNoRows) {
		return pol, noSuchPolicy(userName, policyName)
	}
	return pol, err
}

// ListUserPolicies implements access.Store.
func (p *Postgres) ListUserPolicies(ctx context.Context, userName string) ([]access.UserPolicy, error) {
	rows, err := p.pool.Query(ctx, `SELECT user_name, name, document, updated_at FROM iam_user_policies WHERE user_name = $1 ORDER BY name`, userName)
	if err != nil {
		return nil, fmt.Errorf("list user policies: %w", err)
	}
	defer rows.Close()
	return collect(rows, pgScanPolicy, "list user policies")
}

// DeleteUserPolicy implements access.Store.
func (p *Postgres) DeleteUserPolicy(ctx context.Context, userName, policyName string) error {
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM iam_user_policies WHERE user_name = $1 AND name = $2`, userName, policyName)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return noSuchPolicy(userName, policyName)
		}
		return nil
	})
}

// AppendAudit implements audit.Store, in one COPY.
func (p *Postgres) AppendAudit(ctx context.Context, events []audit.Event) error {
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{pgTime(e.Time), e.RequestID, e.Principal, e.AccessKeyID, e.Source, e.Action, e.Resource, e.Outcome, e.ErrorCode, int32(e.Status)}
	}
	return p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		_, err := c.CopyFrom(ctx, pgx.Identifier{"audit_events"},
			[]string{"at", "request_id", "principal", "access_key_id", "source", "action", "resource", "outcome", "error_code", "status"}, pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("append audit events: %w", err)
		}
		return nil
	})
}

// ListAudit implements audit.Store.
func (p *Postgres) ListAudit(ctx context.Context, q audit.Query) ([]audit.Event, string, error) {
	after, err := auditCursor(q.Token)
	if err != nil {
		return nil, "", err
	}
	var pq pgQuery
	// pgTime makes a zero time NULL, which no row is at or after: a zero Since is no bound.
	if !q.Since.IsZero() {
		pq.add("at >= " + pq.arg(pgTime(q.Since)))
	}
	pq.add("seq > " + pq.arg(after))
	if !q.Until.IsZero() {
		pq.add("at < " + pq.arg(pgTime(q.Until)))
	}
	if q.Principal != "" {
		pq.add("principal = " + pq.arg(q.Principal))
	}
	if q.Action != "" {
		pq.add("lower(action) = lower(" + pq.arg(q.Action) + ")")
	}
	limit := limitOf(q.Limit)
	stmt := `SELECT ` + auditColumns + ` FROM audit_events WHERE ` + strings.Join(pq.where, " AND ") + ` ORDER BY seq LIMIT ` + pq.arg(limit+1)
	rows, err := p.pool.Query(ctx, stmt, pq.args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	out, err := collect(rows, func(row rowScanner) (audit.Event, error) {
		var e audit.Event
		var status int32
		err := row.Scan(&e.Seq, &e.Time, &e.RequestID, &e.Principal, &e.AccessKeyID, &e.Source, &e.Action, &e.Resource, &e.Outcome, &e.ErrorCode, &status)
		e.Time, e.Status = e.Time.UTC(), int(status)
		return e, err
	}, "list audit events")
	if err != nil {
		return nil, "", err
	}
	out, next := auditPage(out, limit)
	return out, next, nil
}

// PruneAudit implements audit.Store.
func (p *Postgres) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := p.conn(ctx, func(ctx context.Context, c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, `DELETE FROM audit_events WHERE at < $1`, pgTime(before))
		n = tag.RowsAffected()
		return err
	})
	return n, err
}
