package iam

import "fmt"

// ParseError says why a policy document was refused and where: the line and column of the
// offending value (or of the object missing a member), the path of that value inside the
// document, and the rule it breaks. An administrator fixing a policy reads it as
//
//	line 4, column 15: Statement[0].Effect: must be "Allow" or "Deny", got "allow"
type ParseError struct {
	// Line and Column are 1-based; Column counts characters, not bytes.
	Line, Column int
	// Offset is the 0-based byte offset Line and Column were computed from.
	Offset int
	// Path names the value, e.g. Statement[0].Condition.StringEquals.aws:TagKeys[1]. It is
	// empty when the JSON itself is malformed.
	Path string
	// Reason is the rule broken, in words.
	Reason string
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d, column %d: %s: %s", e.Line, e.Column, e.Path, e.Reason)
}

func newParseError(src []byte, off int, path, reason string) *ParseError {
	line, col := lineColumn(src, off)
	return &ParseError{Line: line, Column: col, Offset: off, Path: path, Reason: reason}
}
