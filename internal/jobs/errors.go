package jobs

import (
	"errors"
	"fmt"
)

// ValidationError reports a request that breaks a rule of the API model or of sparkplane's
// configuration. Field is the JSON path of the offending member (e.g. "jobDriver.entryPoint"),
// Rule says what it must satisfy. The API layer answers it with ValidationException.
type ValidationError struct {
	Field string
	Rule  string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Rule)
}

func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Rule: fmt.Sprintf(format, args...)}
}

// ErrNotFound is wrapped by every error about a resource that does not exist. The API layer
// answers it with ResourceNotFoundException.
var ErrNotFound = errors.New("resource not found")

// ErrConflict is wrapped when a compare-and-set update finds the stored version changed, or a
// clientToken was reused with a different request. Callers re-read and retry, or report it.
var ErrConflict = errors.New("conflict")

// ErrIdempotencyMismatch is returned by a Store when a clientToken is already bound to a
// different request body. It wraps ErrConflict.
var ErrIdempotencyMismatch = fmt.Errorf("%w: clientToken was already used with a different request", ErrConflict)

// notFound builds an error that wraps ErrNotFound and names the resource.
func notFound(kind, id string) error {
	return fmt.Errorf("%s %s: %w", kind, id, ErrNotFound)
}

// NotFoundError returns an error wrapping ErrNotFound for the resource kind and id; stores use
// it so every not-found message reads the same.
func NotFoundError(kind, id string) error { return notFound(kind, id) }

// ErrUnavailable is wrapped by every store error that means the database could not be reached
// or went away during the call: a refused or reset connection, a server shutting down or
// starting up, no connection to be had in time, SQLite busy beyond its timeout or failing disk
// I/O. The call changed nothing, unless the error also wraps ErrOutcomeUnknown. It is worth
// retrying once the database is back: the API answers it with HTTP 503, and the controller
// pauses until the store answers again.
var ErrUnavailable = errors.New("the database is unavailable")

// ErrOutcomeUnknown is wrapped, beside ErrUnavailable, when the connection was lost after a
// write was sent and before the database confirmed its commit: the write may or may not have
// been applied. Retrying is safe where the call is idempotent (a StartJobRun or Create* with the
// same clientToken returns what the first call stored, if it did).
var ErrOutcomeUnknown = errors.New("the outcome of the write is unknown")
