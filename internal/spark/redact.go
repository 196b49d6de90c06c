package spark

import "regexp"

// DefaultRedactionRegex is spark.redaction.regex's default (Spark 3.x): the values of conf
// keys it matches are hidden wherever Spark shows its configuration.
const DefaultRedactionRegex = `(?i)secret|password|token|access[.]?key`

// Redacted is what Spark shows in place of a redacted value.
const Redacted = "*********(redacted)"

var defaultRedaction = regexp.MustCompile(DefaultRedactionRegex)

// Redact returns a copy of conf with the values of secret keys replaced by Redacted: the
// keys Spark's default spark.redaction.regex matches, and those the conf's own setting
// matches too (a job may hide more, never less: its setting cannot show the secrets of the
// operator's defaults to whoever reads its configuration), and the
// values spark.redaction.string.regex matches when the conf sets one (hidden whole, where
// Spark hides the matching part: never less than Spark hides).
func Redact(conf map[string]string) map[string]string {
	var own *regexp.Regexp
	if v := conf["spark.redaction.regex"]; v != "" {
		own, _ = regexp.Compile(v)
	}
	var values *regexp.Regexp
	if v := conf["spark.redaction.string.regex"]; v != "" {
		values, _ = regexp.Compile(v)
	}
	out := make(map[string]string, len(conf))
	for k, v := range conf {
		if defaultRedaction.MatchString(k) || own != nil && own.MatchString(k) || values != nil && values.MatchString(v) {
			v = Redacted
		}
		out[k] = v
	}
	return out
}
