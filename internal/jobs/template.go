package jobs

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// placeholder matches a ${name} reference in job template data.
var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// resolvedTemplate is JobTemplateData after substitution, in StartJobRun's shapes.
type resolvedTemplate struct {
	ExecutionRoleArn       string                  `json:"executionRoleArn"`
	ReleaseLabel           string                  `json:"releaseLabel"`
	JobDriver              JobDriver               `json:"jobDriver"`
	ConfigurationOverrides *ConfigurationOverrides `json:"configurationOverrides,omitempty"`
	JobTags                map[string]string       `json:"jobTags,omitempty"`
}

// templateBody is the part of JobTemplateData that may hold placeholders.
func templateBody(d JobTemplateData) resolvedTemplateData {
	return resolvedTemplateData{
		ExecutionRoleArn:       d.ExecutionRoleArn,
		ReleaseLabel:           d.ReleaseLabel,
		JobDriver:              d.JobDriver,
		ConfigurationOverrides: d.ConfigurationOverrides,
		JobTags:                d.JobTags,
	}
}

type resolvedTemplateData struct {
	ExecutionRoleArn       string                            `json:"executionRoleArn"`
	ReleaseLabel           string                            `json:"releaseLabel"`
	JobDriver              JobDriver                         `json:"jobDriver"`
	ConfigurationOverrides *ParametricConfigurationOverrides `json:"configurationOverrides,omitempty"`
	JobTags                map[string]string                 `json:"jobTags,omitempty"`
}

// templateReferences returns the sorted, distinct parameter names the template data uses.
func templateReferences(d JobTemplateData) ([]string, error) {
	raw, err := json.Marshal(templateBody(d))
	if err != nil {
		return nil, fmt.Errorf("encode job template data: %w", err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode job template data: %w", err)
	}
	seen := map[string]bool{}
	walkStrings(doc, func(s string) string {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			seen[m[1]] = true
		}
		return s
	})
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// resolveParameters merges the caller's values with the template's defaults and checks every
// declared parameter has a value of its declared type and no undeclared one was given.
func resolveParameters(t JobTemplate, given map[string]string) (map[string]string, error) {
	decl := t.JobTemplateData.ParameterConfiguration
	for name := range given {
		if _, ok := decl[name]; !ok {
			return nil, invalid("jobTemplateParameters."+name, "is not a parameter of job template %s", t.ID)
		}
	}
	values := make(map[string]string, len(decl))
	names := make([]string, 0, len(decl))
	for n := range decl {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		pc := decl[name]
		v, ok := given[name]
		if !ok {
			if pc.DefaultValue == nil {
				return nil, invalid("jobTemplateParameters."+name, "is required by job template %s, which gives it no defaultValue", t.ID)
			}
			v = *pc.DefaultValue
		}
		if pc.Type == ParameterNumber {
			if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
				return nil, invalid("jobTemplateParameters."+name, "must be a NUMBER, got %q", v)
			}
		}
		values[name] = v
	}
	return values, nil
}

// substitute replaces every ${name} in the template data with its value.
func substitute(d JobTemplateData, values map[string]string) (resolvedTemplate, error) {
	raw, err := json.Marshal(templateBody(d))
	if err != nil {
		return resolvedTemplate{}, fmt.Errorf("encode job template data: %w", err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return resolvedTemplate{}, fmt.Errorf("decode job template data: %w", err)
	}
	doc = walkStrings(doc, func(s string) string {
		return placeholder.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := values[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	})
	raw, err = json.Marshal(doc)
	if err != nil {
		return resolvedTemplate{}, fmt.Errorf("encode resolved job template: %w", err)
	}
	var out resolvedTemplate
	if err := json.Unmarshal(raw, &out); err != nil {
		return resolvedTemplate{}, fmt.Errorf("decode resolved job template: %w", err)
	}
	return out, nil
}

// walkStrings applies f to every string value (not key) of a decoded JSON document.
func walkStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case []any:
		for i := range x {
			x[i] = walkStrings(x[i], f)
		}
	case map[string]any:
		for k := range x {
			x[k] = walkStrings(x[k], f)
		}
	}
	return v
}
