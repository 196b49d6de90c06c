package logship

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// The two kinds of termination message the shipper writes, one line each. The pod wiring
// points the sidecar's terminationMessagePath at --termination-log (Kubernetes' default is
// /dev/termination-log) and the controller reads it back from the container status with
// ParseTermination.
const (
	// FailurePrefix starts the message of a shipper that could not ship a stream:
	// "logs could not be shipped to s3://bucket/key: AccessDenied: Access Denied".
	FailurePrefix = wellknown.LogShippingFailurePrefix
	// SuccessPrefix starts the message of a shipper that shipped every stream:
	// "logs shipped: stdout 1234 bytes to s3://bucket/prefix/stdout.gz, stderr ...".
	SuccessPrefix = "logs shipped:"
	// MaxTerminationMessage is the most Kubernetes keeps of a termination message.
	MaxTerminationMessage = 4096
)

// ParseTermination reads a shipper's termination message. failed is true when the message
// starts with FailurePrefix; detail is the message itself, one line, ready for a job run's
// stateDetails (for example "logs could not be shipped to s3://b/k: AccessDenied: Access
// Denied", or "logs shipped: ...; 4096 bytes of stderr were rotated away before they could
// be shipped"). A message that is neither kind (empty: the shipper never finished, or another
// container's) gives false and "".
func ParseTermination(msg string) (failed bool, detail string) {
	line, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	line = strings.TrimSpace(line)
	switch {
	case strings.HasPrefix(line, FailurePrefix):
		return true, line
	case strings.HasPrefix(line, SuccessPrefix):
		return false, line
	}
	return false, ""
}

// failureMessage is the termination message for a stream that could not be shipped to uri.
func failureMessage(uri string, err error) string {
	return clip(FailurePrefix + " to " + uri + ": " + errorText(err))
}

// errorText is how the shipper says what went wrong: "Code: message" for an error the
// object store answered (any error with ErrorCode and ErrorMessage methods, as aws-sdk-go-v2's
// smithy.APIError has); for a request that got no answer, the HTTP client's error (method,
// URL, cause); else the error's text; on one line. None includes credentials: requests are
// signed in headers, and the SDK's errors carry the operation, status and request id, never
// keys or signatures.
func errorText(err error) string {
	var api interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if errors.As(err, &api) {
		if m := api.ErrorMessage(); m != "" {
			return oneLine(api.ErrorCode() + ": " + m)
		}
		return oneLine(api.ErrorCode())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return oneLine(ue.Error())
	}
	return oneLine(err.Error())
}

// errorCode returns the object store's error code of err, or "".
func errorCode(err error) string {
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clip cuts a message to what Kubernetes keeps, on a rune boundary.
func clip(s string) string {
	if len(s) <= MaxTerminationMessage {
		return s
	}
	cut := MaxTerminationMessage - len("...")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// writeTermination replaces the termination message at path; an empty path writes nothing.
func writeTermination(path, msg string) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(msg+"\n"), 0o644); err != nil {
		return fmt.Errorf("write termination message %s: %w", path, err)
	}
	return nil
}
