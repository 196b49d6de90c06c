package spark

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched by errors.Is for every input error this package returns (*ParamError,
// *ConfError, *ClassificationError, *JobError), so callers can map all of them to one
// validation failure.
var ErrInvalid = errors.New("invalid Spark job input")

// ParamError is a bad sparkSubmitParameters (or sparkSqlParameters) string: Option names the
// option ("--master") or the token at fault, Rule says what is wrong.
type ParamError struct {
	// Field is the request field the string came from; empty means "sparkSubmitParameters".
	Field  string
	Option string
	Rule   string
}

// Error says which input is wrong and why.
func (e *ParamError) Error() string {
	f := e.Field
	if f == "" {
		f = "sparkSubmitParameters"
	}
	if e.Option == "" {
		return fmt.Sprintf("%s: %s", f, e.Rule)
	}
	return fmt.Sprintf("%s: %s: %s", f, e.Option, e.Rule)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ParamError) Is(target error) bool { return target == ErrInvalid }

// ConfError is a Spark configuration key whose value or presence breaks a rule.
type ConfError struct {
	Key  string
	Rule string
}

// Error says which input is wrong and why.
func (e *ConfError) Error() string {
	return fmt.Sprintf("spark configuration %q: %s", e.Key, e.Rule)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ConfError) Is(target error) bool { return target == ErrInvalid }

// ClassificationError is a bad entry of configurationOverrides.applicationConfiguration.
type ClassificationError struct {
	// Path locates the entry, e.g. "applicationConfiguration[1].configurations[0]".
	Path           string
	Classification string
	Rule           string
}

// Error says which input is wrong and why.
func (e *ClassificationError) Error() string {
	return fmt.Sprintf("configurationOverrides.%s (classification %q): %s", e.Path, e.Classification, e.Rule)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ClassificationError) Is(target error) bool { return target == ErrInvalid }

// JobError is a bad field of the Job handed to Build.
type JobError struct {
	Field string
	Rule  string
}

// Error says which input is wrong and why.
func (e *JobError) Error() string { return fmt.Sprintf("spark job %s: %s", e.Field, e.Rule) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *JobError) Is(target error) bool { return target == ErrInvalid }
