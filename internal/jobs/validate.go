package jobs

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"unicode/utf8"
)

// The constraints below are those of the emr-containers API model (lengths, patterns, enums).
var (
	reName          = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	reResourceID    = regexp.MustCompile(`^[0-9a-z]+$`)
	reRoleArn       = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):iam::(\d{12})?:(role((/)|(/[\x21-\x7F]+/))[\w+=,.@-]+)$`)
	reReleaseLabel  = regexp.MustCompile(`^[\.\-_/A-Za-z0-9]+$`)
	reLogGroup      = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]+$`)
	reRotationSize  = regexp.MustCompile(`^\d+(\.\d+)?[KMG][Bb]?$`)
	reNamespace     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	reClusterID     = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]*$`)
	reParameterName = regexp.MustCompile(`^[\.\-_\#A-Za-z0-9]+$`)
	reKMSKeyArn     = regexp.MustCompile(`^arn:(aws[a-zA-Z0-9-]*):kms:.+:(\d{12})?:key/[(0-9a-zA-Z)-?]+$`)
)

// Model limits used by more than one check.
const (
	maxTags             = 50
	maxConfigurations   = 100
	maxProperties       = 100
	maxTemplateParams   = 20
	maxEntryPointArgs   = 10280
	maxSparkParamsBytes = 102400
)

// errs collects the first validation error; checks after the first failure are skipped so the
// message names exactly one field and rule.
type errs struct{ err *ValidationError }

func (e *errs) fail(field, format string, args ...any) {
	if e.err == nil {
		e.err = invalid(field, format, args...)
	}
}

func (e *errs) result() error {
	if e.err == nil {
		return nil
	}
	return e.err
}

func (e *errs) required(field, v string) bool {
	if v == "" {
		e.fail(field, "is required")
		return false
	}
	return true
}

func (e *errs) length(field, v string, minLen, maxLen int) bool {
	n := utf8.RuneCountInString(v)
	if n < minLen || n > maxLen {
		e.fail(field, "length must be between %d and %d characters, got %d", minLen, maxLen, n)
		return false
	}
	return true
}

func (e *errs) pattern(field, v string, re *regexp.Regexp) bool {
	if !re.MatchString(v) {
		e.fail(field, "must match pattern %s", re.String())
		return false
	}
	return true
}

// str checks a required (or, when optional and empty, absent) string against length and pattern.
func (e *errs) str(field, v string, required bool, minLen, maxLen int, re *regexp.Regexp) {
	if v == "" {
		if required {
			e.fail(field, "is required")
		}
		return
	}
	if !utf8.ValidString(v) {
		e.fail(field, "must be valid UTF-8")
		return
	}
	if e.length(field, v, minLen, maxLen) && re != nil {
		e.pattern(field, v, re)
	}
}

// nonBlank checks the model's `.*\S.*` pattern: at least one non-space character.
func (e *errs) nonBlank(field, v string) {
	if strings.TrimSpace(v) == "" {
		e.fail(field, "must contain a non-whitespace character")
	}
}

// safeArg checks the model's rules for entry points, arguments and Spark parameters: a length
// and the pattern .*\S.* (some non-whitespace). Globs, quotes and SQL are fine: the values reach
// the driver as argv and through sparkplane's own parser, never through a shell.
func (e *errs) safeArg(field, v string, maxLen int) {
	if !utf8.ValidString(v) {
		e.fail(field, "must be valid UTF-8")
		return
	}
	if !e.length(field, v, 1, maxLen) {
		return
	}
	if strings.TrimSpace(v) == "" {
		e.fail(field, "must contain a non-whitespace character")
	}
}

func (e *errs) clientToken(v string) {
	e.str("clientToken", v, true, 1, 64, nil)
	if v != "" {
		e.nonBlank("clientToken", v)
	}
}

func (e *errs) tags(field string, tags map[string]string) {
	if len(tags) > maxTags {
		e.fail(field, "must have at most %d entries, got %d", maxTags, len(tags))
		return
	}
	for k, v := range tags {
		e.str(field+" key", k, true, 1, 128, nil)
		if k != "" {
			e.nonBlank(field+" key", k)
		}
		if utf8.RuneCountInString(v) > 256 || !utf8.ValidString(v) {
			e.fail(field+"."+k, "must be valid UTF-8 of at most 256 characters")
		}
	}
}

func (e *errs) jobDriver(field string, d JobDriver) {
	switch {
	case d.SparkSubmitJobDriver == nil && d.SparkSQLJobDriver == nil:
		e.fail(field, "must set exactly one of sparkSubmitJobDriver or sparkSqlJobDriver")
	case d.SparkSubmitJobDriver != nil && d.SparkSQLJobDriver != nil:
		e.fail(field, "must set exactly one of sparkSubmitJobDriver or sparkSqlJobDriver, not both")
	case d.SparkSubmitJobDriver != nil:
		s := d.SparkSubmitJobDriver
		f := field + ".sparkSubmitJobDriver"
		if e.required(f+".entryPoint", s.EntryPoint) {
			e.safeArg(f+".entryPoint", s.EntryPoint, 256)
		}
		for i, a := range s.EntryPointArguments {
			e.safeArg(fmt.Sprintf("%s.entryPointArguments[%d]", f, i), a, maxEntryPointArgs)
		}
		if s.SparkSubmitParameters != "" {
			e.safeArg(f+".sparkSubmitParameters", s.SparkSubmitParameters, maxSparkParamsBytes)
		}
	default:
		s := d.SparkSQLJobDriver
		f := field + ".sparkSqlJobDriver"
		if s.EntryPoint != "" {
			e.safeArg(f+".entryPoint", s.EntryPoint, 256)
		}
		if s.SparkSQLParameters != "" {
			e.safeArg(f+".sparkSqlParameters", s.SparkSQLParameters, maxSparkParamsBytes)
		}
	}
}

func (e *errs) configurations(field string, list []Configuration, depth int) {
	if len(list) > maxConfigurations {
		e.fail(field, "must have at most %d entries, got %d", maxConfigurations, len(list))
		return
	}
	if depth > 2 {
		e.fail(field, "configurations may be nested at most two levels deep")
		return
	}
	for i, c := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		e.str(f+".classification", c.Classification, true, 1, 1024, nil)
		if c.Classification != "" {
			e.nonBlank(f+".classification", c.Classification)
		}
		if len(c.Properties) > maxProperties {
			e.fail(f+".properties", "must have at most %d entries, got %d", maxProperties, len(c.Properties))
		}
		for k, v := range c.Properties {
			e.str(f+".properties key", k, true, 1, 1024, nil)
			if k != "" {
				e.nonBlank(f+".properties key", k)
			}
			if utf8.RuneCountInString(v) > 1024 || !utf8.ValidString(v) {
				e.fail(f+".properties."+k, "must be valid UTF-8 of at most 1024 characters")
			}
		}
		e.configurations(f+".configurations", c.Configurations, depth+1)
	}
}

func (e *errs) enabledDisabled(field, v string) {
	if v != "" && v != "ENABLED" && v != "DISABLED" {
		e.fail(field, "must be one of ENABLED, DISABLED, got %q", v)
	}
}

func (e *errs) cloudWatch(field string, c *CloudWatchMonitoringConfiguration) {
	if c == nil {
		return
	}
	e.str(field+".logGroupName", c.LogGroupName, true, 1, 512, reLogGroup)
	if c.LogStreamNamePrefix != "" {
		e.str(field+".logStreamNamePrefix", c.LogStreamNamePrefix, false, 1, 256, nil)
		e.nonBlank(field+".logStreamNamePrefix", c.LogStreamNamePrefix)
	}
}

func (e *errs) s3(field string, c *S3MonitoringConfiguration) {
	if c == nil {
		return
	}
	e.str(field+".logUri", c.LogURI, true, 1, 10280, nil)
	if bucket, _, _ := strings.Cut(strings.TrimPrefix(c.LogURI, "s3://"), "/"); !strings.HasPrefix(c.LogURI, "s3://") || bucket == "" {
		e.fail(field+".logUri", "must be an S3 URI such as s3://my-bucket/logs, got %q", c.LogURI)
	}
	for _, r := range c.LogURI {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			e.fail(field+".logUri", "must not contain control characters")
			break
		}
	}
}

func (e *errs) overrides(field string, o *ConfigurationOverrides) {
	if o == nil {
		return
	}
	e.configurations(field+".applicationConfiguration", o.ApplicationConfiguration, 1)
	m := o.MonitoringConfiguration
	if m == nil {
		return
	}
	f := field + ".monitoringConfiguration"
	e.enabledDisabled(f+".persistentAppUI", m.PersistentAppUI)
	e.cloudWatch(f+".cloudWatchMonitoringConfiguration", m.CloudWatchMonitoringConfiguration)
	e.s3(f+".s3MonitoringConfiguration", m.S3MonitoringConfiguration)
	if r := m.ContainerLogRotationConfiguration; r != nil {
		e.str(f+".containerLogRotationConfiguration.rotationSize", r.RotationSize, true, 3, 12, nil)
		if r.RotationSize != "" {
			if _, err := ParseRotationSize(r.RotationSize); err != nil {
				e.fail(f+".containerLogRotationConfiguration.rotationSize", "%s", err.Error())
			}
		}
		if r.MaxFilesToKeep < 1 || r.MaxFilesToKeep > 50 {
			e.fail(f+".containerLogRotationConfiguration.maxFilesToKeep", "must be between 1 and 50, got %d", r.MaxFilesToKeep)
		}
	}
	if l := m.ManagedLogs; l != nil {
		e.enabledDisabled(f+".managedLogs.allowAWSToRetainLogs", l.AllowAWSToRetainLogs)
		e.str(f+".managedLogs.encryptionKeyArn", l.EncryptionKeyArn, false, 3, 2048, reKMSKeyArn)
	}
}

// validateTimeFilter checks maxResults and the time window of a list request.
func validateTimeFilter(f TimeFilter) error {
	var e errs
	if f.Limit < 0 {
		e.fail("maxResults", "must be at least 1, got %d", f.Limit)
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && f.CreatedBefore.Before(f.CreatedAfter) {
		e.fail("createdBefore", "must not be earlier than createdAfter")
	}
	if len(f.Token) > 1024 {
		e.fail("nextToken", "length must be at most 1024 characters")
	}
	return e.result()
}

// truncateTime keeps microsecond precision, which every store can hold exactly.
func truncateTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
