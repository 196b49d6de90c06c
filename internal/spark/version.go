package spark

import (
	"fmt"
	"strings"
)

// The Spark versions Build reproduces spark-submit for. The range is closed at both ends on
// purpose: a version outside it would get objects built by rules nobody compared with that
// version's submission code, which is worse than a clear refusal.
const (
	// OldestVersion is the oldest supported version. The 3.1 line's submission code was read at
	// tags v3.1.1 and v3.1.2; nothing older was.
	OldestVersion = "3.1.1"
	// NewestLine is the newest supported release line; its later patch releases are accepted.
	NewestLine = "4.2"
)

// supportedLines are the release lines whose rules Build knows, oldest first.
var supportedLines = []string{"3.1", "3.2", "3.3", "3.4", "3.5", "4.0", "4.1", "4.2"}

// SupportedLines returns the Spark release lines Build knows the rules of ("3.1" … "4.2"),
// oldest first. A patch release is built with its line's rules plus the patch-level changes
// the package documentation lists.
func SupportedLines() []string { return append([]string(nil), supportedLines...) }

// SupportedRange names the supported versions in words, for error messages of callers that
// refuse a release before it reaches Build.
func SupportedRange() string {
	return fmt.Sprintf("Spark %s up to %s.x (the %s lines)", OldestVersion, NewestLine, strings.Join(supportedLines, ", "))
}

// CheckVersion reports whether Build supports Spark version v ("3.5.3"). The error is a
// *JobError on the SparkVersion field that names the supported range.
func CheckVersion(v string) error {
	_, err := parseVersion(v)
	return err
}

// version is a parsed MAJOR.MINOR.PATCH Spark version.
type version struct{ major, minor, patch int }

func parseVersion(s string) (version, error) {
	var v version
	var rest string
	n, _ := fmt.Sscanf(s, "%d.%d.%d%s", &v.major, &v.minor, &v.patch, &rest)
	if n < 3 || rest != "" || fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) != s {
		return v, &JobError{Field: "SparkVersion", Rule: fmt.Sprintf("%q must be MAJOR.MINOR.PATCH", s)}
	}
	oldest, _ := splitVersion(OldestVersion)
	newest, _ := splitVersion(NewestLine + ".0")
	if !v.atLeast(oldest.major, oldest.minor, oldest.patch) || v.line() > newest.line() {
		return v, &JobError{Field: "SparkVersion", Rule: fmt.Sprintf("%q is not supported: sparkplane builds drivers for %s", s, SupportedRange())}
	}
	return v, nil
}

// splitVersion parses a version without the range check, for the package's own constants.
func splitVersion(s string) (version, bool) {
	var v version
	n, _ := fmt.Sscanf(s, "%d.%d.%d", &v.major, &v.minor, &v.patch)
	return v, n == 3
}

func (v version) atLeast(major, minor, patch int) bool {
	if v.major != major {
		return v.major > major
	}
	if v.minor != minor {
		return v.minor > minor
	}
	return v.patch >= patch
}

// line orders release lines: 3.1 < 3.2 < … < 4.2.
func (v version) line() int { return v.major*1000 + v.minor }

func (v version) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }
