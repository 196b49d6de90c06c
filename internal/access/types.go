package access

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// User is an IAM-style user: a name, a stable id and an ARN, arn:aws:iam::<account>:user/<name>.
type User struct {
	UserName   string    `json:"UserName"`
	UserID     string    `json:"UserId"`
	Arn        string    `json:"Arn"`
	Path       string    `json:"Path"`
	CreateDate time.Time `json:"CreateDate"`
}

// Key statuses, as IAM names them.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// AccessKey is an access key as IAM shows it. SecretAccessKey is set only in the answer to
// CreateAccessKey.
type AccessKey struct {
	UserName        string    `json:"UserName"`
	AccessKeyID     string    `json:"AccessKeyId"`
	Status          string    `json:"Status"`
	SecretAccessKey string    `json:"SecretAccessKey,omitempty"`
	CreateDate      time.Time `json:"CreateDate"`
}

// StoredKey is an access key as the store keeps it: the secret sealed (see Sealer).
type StoredKey struct {
	AccessKeyID string
	UserName    string
	Status      string
	Sealed      []byte
	CreateDate  time.Time
}

// UserPolicy is one inline policy of a user; Document is the JSON as the author wrote it.
type UserPolicy struct {
	UserName       string    `json:"UserName"`
	PolicyName     string    `json:"PolicyName"`
	PolicyDocument string    `json:"PolicyDocument"`
	UpdateDate     time.Time `json:"UpdateDate"`
}

// Store keeps users, keys and policies; SQLite and PostgreSQL implement it (internal/store).
// Errors wrap ErrNoSuchEntity, ErrEntityAlreadyExists, ErrDeleteConflict and
// ErrLimitExceeded as described; limits are checked in the same transaction as the write, so
// concurrent calls cannot pass them together.
type Store interface {
	// CreateUser fails with ErrEntityAlreadyExists when the name is taken.
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, name string) (User, error)
	// ListUsers returns every user, by name.
	ListUsers(ctx context.Context) ([]User, error)
	// DeleteUser fails with ErrDeleteConflict while the user has access keys or policies.
	DeleteUser(ctx context.Context, name string) error
	// CreateAccessKey fails with ErrLimitExceeded when the user already has maxPerUser keys.
	CreateAccessKey(ctx context.Context, k StoredKey, maxPerUser int) error
	GetAccessKey(ctx context.Context, id string) (StoredKey, error)
	// ListAccessKeys returns the user's keys, oldest first.
	ListAccessKeys(ctx context.Context, userName string) ([]StoredKey, error)
	DeleteAccessKey(ctx context.Context, userName, id string) error
	// PutUserPolicy creates or replaces a policy; a new one fails with ErrLimitExceeded when
	// the user already has maxPerUser.
	PutUserPolicy(ctx context.Context, p UserPolicy, maxPerUser int) error
	GetUserPolicy(ctx context.Context, userName, policyName string) (UserPolicy, error)
	// ListUserPolicies returns the user's policies, by name.
	ListUserPolicies(ctx context.Context, userName string) ([]UserPolicy, error)
	DeleteUserPolicy(ctx context.Context, userName, policyName string) error
}

// Errors of the Store and the Directory, named after IAM's error codes.
var (
	ErrNoSuchEntity        = errors.New("NoSuchEntity")
	ErrEntityAlreadyExists = errors.New("EntityAlreadyExists")
	ErrDeleteConflict      = errors.New("DeleteConflict")
	ErrLimitExceeded       = errors.New("LimitExceeded")
	ErrMalformedPolicy     = errors.New("MalformedPolicyDocument")
)

// Error is an access error with IAM's message.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is find the kind.
func (e *Error) Unwrap() error { return e.Kind }

func fail(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// NoSuchEntity is the error stores return for a missing user, key or policy.
func NoSuchEntity(format string, args ...any) error { return fail(ErrNoSuchEntity, format, args...) }

// AlreadyExists is the error stores return for a name that is taken.
func AlreadyExists(format string, args ...any) error {
	return fail(ErrEntityAlreadyExists, format, args...)
}

// DeleteConflict is the error stores return for a user that still has keys or policies.
func DeleteConflict(format string, args ...any) error {
	return fail(ErrDeleteConflict, format, args...)
}

// LimitExceeded is the error stores return when a per-user limit would be passed.
func LimitExceeded(format string, args ...any) error { return fail(ErrLimitExceeded, format, args...) }
