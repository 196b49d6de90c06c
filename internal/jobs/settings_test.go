package jobs

import (
	"strings"
	"testing"
)

// TestParseVirtualClusterSettings checks that a settings document is read strictly: every bad
// member is refused with its path and the rule, and a misspelt member never leaves a default
// in force silently.
func TestParseVirtualClusterSettings(t *testing.T) {
	tests := []struct {
		doc, field, rule string
	}{
		{`{"maxConcurrentJobRuns": 2, "podPolicy": {"allowedHostPaths": ["/pv-disks/local"], "allowedCapabilities": ["NET_BIND_SERVICE"], "allowRoot": true},
		   "jobDefaults": {"sparkConf": {"spark.eventLog.enabled": "true"}, "driverPodTemplate": "s3://b/d.yaml"}}`, "", ""},
		{`{}`, "", ""},
		{`{"maxConcurrentJobRuns": -1}`, "settings.maxConcurrentJobRuns", "between 0 (no limit) and 100000"},
		{`{"maxConcurrentJobRuns": "2"}`, "settings.maxConcurrentJobRuns", "must be a JSON number"},
		{`{"podPolicy": {"alowRoot": true}}`, "settings", `unknown member "alowRoot"`},
		{`{"podPolicy": {"allowedHostPaths": ["pv-disks"]}}`, "settings.podPolicy.allowedHostPaths[0]", "absolute path"},
		{`{"podPolicy": {"allowedHostPaths": ["/a/../b"]}}`, "settings.podPolicy.allowedHostPaths[0]", `write "/b"`},
		{`{"podPolicy": {"allowedCapabilities": ["net_admin"]}}`, "settings.podPolicy.allowedCapabilities[0]", "upper case"},
		{`{"jobDefaults": {"sparkConf": {"eventLog": "x"}}}`, "settings.jobDefaults.sparkConf", "must start with spark."},
		{`{"jobDefaults": {"executorPodTemplate": "ftp://x"}}`, "settings.jobDefaults.executorPodTemplate", "s3://, https:// or file://"},
		{`{"maxConcurrentJobRuns": 1} {}`, "settings", "exactly one JSON object"},
		{`[1]`, "settings", "must be a JSON"},
	}
	for _, tt := range tests {
		_, err := ParseVirtualClusterSettings([]byte(tt.doc))
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v, want accepted", tt.doc, err)
			}
			continue
		}
		ve, ok := err.(*ValidationError)
		if !ok || ve.Field != tt.field || !strings.Contains(ve.Rule, tt.rule) {
			t.Errorf("%s: %v, want %s: ...%s...", tt.doc, err, tt.field, tt.rule)
		}
	}
}
