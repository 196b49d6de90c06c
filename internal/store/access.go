package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/audit"
)

var (
	_ access.Store = (*SQLite)(nil)
	_ audit.Store  = (*SQLite)(nil)
)

func usTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// CreateUser implements access.Store.
func (s *SQLite) CreateUser(ctx context.Context, u access.User) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO iam_users (name, id, arn, created_at) VALUES (?,?,?,?)`, u.UserName, u.UserID, u.Arn, micros(u.CreateDate))
		if isUniqueViolation(err) {
			return access.AlreadyExists("User with name %s already exists.", u.UserName)
		}
		return err
	})
}

func scanUser(row rowScanner) (access.User, error) {
	var u access.User
	var at int64
	err := row.Scan(&u.UserName, &u.UserID, &u.Arn, &at)
	u.CreateDate, u.Path = usTime(at), "/"
	return u, err
}

// GetUser implements access.Store.
func (s *SQLite) GetUser(ctx context.Context, name string) (access.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT name, id, arn, created_at FROM iam_users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return u, noSuchUser(name)
	}
	return u, err
}

func noSuchUser(name string) error {
	return access.NoSuchEntity("The user with name %s cannot be found.", name)
}

// ListUsers implements access.Store.
func (s *SQLite) ListUsers(ctx context.Context) ([]access.User, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, id, arn, created_at FROM iam_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	return collect(rows, scanUser, "list users")
}

// DeleteUser implements access.Store.
func (s *SQLite) DeleteUser(ctx context.Context, name string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var keys, policies int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM iam_access_keys WHERE user_name = ?), (SELECT count(*) FROM iam_user_policies WHERE user_name = ?)`,
			name, name).Scan(&keys, &policies); err != nil {
			return err
		}
		if err := userDeletable(name, keys, policies); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM iam_users WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return noSuchUser(name)
		}
		return nil
	})
}

// userDeletable is IAM's rule: a user's keys and policies go first.
func userDeletable(name string, keys, policies int) error {
	if keys > 0 || policies > 0 {
		return access.DeleteConflict("Cannot delete entity, must delete access keys (%d) and policies (%d) first: user %s.", keys, policies, name)
	}
	return nil
}

// CreateAccessKey implements access.Store.
func (s *SQLite) CreateAccessKey(ctx context.Context, k access.StoredKey, maxPerUser int) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var users, keys int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM iam_users WHERE name = ?), (SELECT count(*) FROM iam_access_keys WHERE user_name = ?)`,
			k.UserName, k.UserName).Scan(&users, &keys); err != nil {
			return err
		}
		if users == 0 {
			return noSuchUser(k.UserName)
		}
		if keys >= maxPerUser {
			return access.LimitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxPerUser)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO iam_access_keys (id, user_name, status, secret, created_at) VALUES (?,?,?,?,?)`,
			k.AccessKeyID, k.UserName, k.Status, k.Sealed, micros(k.CreateDate))
		return err
	})
}

func scanKey(row rowScanner) (access.StoredKey, error) {
	var k access.StoredKey
	var at int64
	err := row.Scan(&k.AccessKeyID, &k.UserName, &k.Status, &k.Sealed, &at)
	k.CreateDate = usTime(at)
	return k, err
}

// GetAccessKey implements access.Store.
func (s *SQLite) GetAccessKey(ctx context.Context, id string) (access.StoredKey, error) {
	k, err := scanKey(s.read.QueryRowContext(ctx, `SELECT id, user_name, status, secret, created_at FROM iam_access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return k, access.NoSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	return k, err
}

// ListAccessKeys implements access.Store.
func (s *SQLite) ListAccessKeys(ctx context.Context, userName string) ([]access.StoredKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, user_name, status, secret, created_at FROM iam_access_keys WHERE user_name = ? ORDER BY created_at, id`, userName)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	defer rows.Close()
	return collect(rows, scanKey, "list access keys")
}

// DeleteAccessKey implements access.Store.
func (s *SQLite) DeleteAccessKey(ctx context.Context, userName, id string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM iam_access_keys WHERE user_name = ? AND id = ?`, userName, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return access.NoSuchEntity("The Access Key with id %s cannot be found for user %s.", id, userName)
		}
		return nil
	})
}

// PutUserPolicy implements access.Store.
func (s *SQLite) PutUserPolicy(ctx context.Context, p access.UserPolicy, maxPerUser int) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var users, others int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM iam_users WHERE name = ?), (SELECT count(*) FROM iam_user_policies WHERE user_name = ? AND name <> ?)`,
			p.UserName, p.UserName, p.PolicyName).Scan(&users, &others); err != nil {
			return err
		}
		if err := policyFits(p, users, others, maxPerUser); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO iam_user_policies (user_name, name, document, updated_at) VALUES (?,?,?,?)
			ON CONFLICT (user_name, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
			p.UserName, p.PolicyName, p.PolicyDocument, micros(p.UpdateDate))
		return err
	})
}

func policyFits(p access.UserPolicy, users, others, maxPerUser int) error {
	if users == 0 {
		return noSuchUser(p.UserName)
	}
	if others >= maxPerUser {
		return access.LimitExceeded("Cannot exceed quota for PoliciesPerUser: %d", maxPerUser)
	}
	return nil
}

func scanPolicy(row rowScanner) (access.UserPolicy, error) {
	var p access.UserPolicy
	var at int64
	err := row.Scan(&p.UserName, &p.PolicyName, &p.PolicyDocument, &at)
	p.UpdateDate = usTime(at)
	return p, err
}

func noSuchPolicy(user, name string) error {
	return access.NoSuchEntity("The user policy with name %s cannot be found for user %s.", name, user)
}

// GetUserPolicy implements access.Store.
func (s *SQLite) GetUserPolicy(ctx context.Context, userName, policyName string) (access.UserPolicy, error) {
	p, err := scanPolicy(s.read.QueryRowContext(ctx, `SELECT user_name, name, document, updated_at FROM iam_user_policies WHERE user_name = ? AND name = ?`, userName, policyName))
	if errors.Is(err, sql.ErrNoRows) {
		return p, noSuchPolicy(userName, policyName)
	}
	return p, err
}

// ListUserPolicies implements access.Store.
func (s *SQLite) ListUserPolicies(ctx context.Context, userName string) ([]access.UserPolicy, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT user_name, name, document, updated_at FROM iam_user_policies WHERE user_name = ? ORDER BY name`, userName)
	if err != nil {
		return nil, fmt.Errorf("list user policies: %w", err)
	}
	defer rows.Close()
	return collect(rows, scanPolicy, "list user policies")
}

// DeleteUserPolicy implements access.Store.
func (s *SQLite) DeleteUserPolicy(ctx context.Context, userName, policyName string) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM iam_user_policies WHERE user_name = ? AND name = ?`, userName, policyName)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return noSuchPolicy(userName, policyName)
		}
		return nil
	})
}

// AppendAudit implements audit.Store.
func (s *SQLite) AppendAudit(ctx context.Context, events []audit.Event) error {
	return s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.insertAudit(ctx, tx, events) })
}

const insertAuditSQL = `INSERT INTO audit_events (at, request_id, principal, access_key_id, source, action, resource, outcome, error_code, status) VALUES (?,?,?,?,?,?,?,?,?,?)`

func (s *SQLite) insertAudit(ctx context.Context, tx *sql.Tx, events []audit.Event) error {
	stmt := tx.StmtContext(ctx, s.insertEvent)
	for _, e := range events {
		if _, err := stmt.ExecContext(ctx, micros(e.Time), e.RequestID, e.Principal, e.AccessKeyID, e.Source, e.Action, e.Resource, e.Outcome, e.ErrorCode, e.Status); err != nil {
			return fmt.Errorf("append audit events: %w", err)
		}
	}
	return nil
}

const auditColumns = "seq, at, request_id, principal, access_key_id, source, action, resource, outcome, error_code, status"

// ListAudit implements audit.Store.
func (s *SQLite) ListAudit(ctx context.Context, q audit.Query) ([]audit.Event, string, error) {
	after, err := auditCursor(q.Token)
	if err != nil {
		return nil, "", err
	}
	stmt := `SELECT ` + auditColumns + ` FROM audit_events WHERE at >= ? AND seq > ?`
	args := []any{micros(q.Since), after}
	if !q.Until.IsZero() {
		stmt += ` AND at < ?`
		args = append(args, micros(q.Until))
	}
	if q.Principal != "" {
		stmt += ` AND principal = ?`
		args = append(args, q.Principal)
	}
	if q.Action != "" {
		stmt += ` AND action = ? COLLATE NOCASE`
		args = append(args, q.Action)
	}
	limit := limitOf(q.Limit)
	stmt += ` ORDER BY seq LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.read.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	out, err := collect(rows, func(row rowScanner) (audit.Event, error) {
		var e audit.Event
		var at int64
		err := row.Scan(&e.Seq, &at, &e.RequestID, &e.Principal, &e.AccessKeyID, &e.Source, &e.Action, &e.Resource, &e.Outcome, &e.ErrorCode, &e.Status)
		e.Time = usTime(at)
		return e, err
	}, "list audit events")
	if err != nil {
		return nil, "", err
	}
	out, next := auditPage(out, limit)
	return out, next, nil
}

// PruneAudit implements audit.Store.
func (s *SQLite) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.exec(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE at < ?`, micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
