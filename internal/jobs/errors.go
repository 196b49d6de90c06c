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
