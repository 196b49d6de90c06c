package jobs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// validRun is a job run input every case below starts from and breaks in one place.
func validRun() JobRun {
	return JobRun{
		Name: "pi", ExecutionRoleArn: "arn:aws:iam::111122223333:role/spark", ReleaseLabel: "emr-7.2.0-latest",
		JobDriver: JobDriver{SparkSubmitJobDriver: &SparkSubmitJobDriver{EntryPoint: "local:///opt/pi.py",
			EntryPointArguments: []string{"10"}, SparkSubmitParameters: "--conf spark.executor.instances=2"}},
	}
}

// TestValidateInput pins each rule of a job run's input to the field it names.
func TestValidateInput(t *testing.T) {
	for _, tc := range []struct {
		name      string
		change    func(*JobRun)
		field     string // "" means valid
		ruleWords string
	}{
		{"valid", func(*JobRun) {}, "", ""},
		{"no driver", func(r *JobRun) { r.JobDriver = JobDriver{} }, "jobDriver", "exactly one"},
		{"both drivers", func(r *JobRun) { r.JobDriver.SparkSQLJobDriver = &SparkSQLJobDriver{} }, "jobDriver", "not both"},
		{"entry point missing", func(r *JobRun) { r.JobDriver.SparkSubmitJobDriver.EntryPoint = "" }, "jobDriver.sparkSubmitJobDriver.entryPoint", "required"},
		{"blank argument", func(r *JobRun) { r.JobDriver.SparkSubmitJobDriver.EntryPointArguments = []string{"  "} },
			"jobDriver.sparkSubmitJobDriver.entryPointArguments[0]", ""},
		{"role not an ARN", func(r *JobRun) { r.ExecutionRoleArn = "spark-role-somewhere" }, "executionRoleArn", ""},
		{"release label with spaces", func(r *JobRun) { r.ReleaseLabel = "emr 7" }, "releaseLabel", ""},
		{"name too long", func(r *JobRun) { r.Name = strings.Repeat("n", 65) }, "name", ""},
		{"retries out of range", func(r *JobRun) { r.RetryPolicyConfiguration = &RetryPolicyConfiguration{MaxAttempts: 11} },
			"retryPolicyConfiguration.maxAttempts", "between 1 and 10"},
		{"persistentAppUI not an enum", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{PersistentAppUI: "YES"}}
		}, "configurationOverrides.monitoringConfiguration.persistentAppUI", ""},
		{"log uri missing", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				S3MonitoringConfiguration: &S3MonitoringConfiguration{}}}
		}, "configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.logUri", "required"},
		{"log uri not s3", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				S3MonitoringConfiguration: &S3MonitoringConfiguration{LogURI: "hdfs://namenode/logs"}}}
		}, "configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.logUri", "must be an S3 URI"},
		{"log uri without bucket", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				S3MonitoringConfiguration: &S3MonitoringConfiguration{LogURI: "s3:///logs"}}}
		}, "configurationOverrides.monitoringConfiguration.s3MonitoringConfiguration.logUri", "must be an S3 URI"},
		{"rotation files out of range", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				ContainerLogRotationConfiguration: &ContainerLogRotationConfiguration{RotationSize: "2KB", MaxFilesToKeep: 0}}}
		}, "configurationOverrides.monitoringConfiguration.containerLogRotationConfiguration.maxFilesToKeep", ""},
		{"rotation size below 2KB", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				ContainerLogRotationConfiguration: &ContainerLogRotationConfiguration{RotationSize: "1.5KB", MaxFilesToKeep: 2}}}
		}, "configurationOverrides.monitoringConfiguration.containerLogRotationConfiguration.rotationSize", "between 2KB and 2GB"},
		{"rotation size above 2GB", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				ContainerLogRotationConfiguration: &ContainerLogRotationConfiguration{RotationSize: "3GB", MaxFilesToKeep: 2}}}
		}, "configurationOverrides.monitoringConfiguration.containerLogRotationConfiguration.rotationSize", "between 2KB and 2GB"},
		{"rotation size without unit", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				ContainerLogRotationConfiguration: &ContainerLogRotationConfiguration{RotationSize: "4096", MaxFilesToKeep: 2}}}
		}, "configurationOverrides.monitoringConfiguration.containerLogRotationConfiguration.rotationSize", "K, M or G"},
		{"rotation at the bounds", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{MonitoringConfiguration: &MonitoringConfiguration{
				ContainerLogRotationConfiguration: &ContainerLogRotationConfiguration{RotationSize: "2GB", MaxFilesToKeep: 50}}}
		}, "", ""},
		{"unclassified configuration", func(r *JobRun) {
			r.ConfigurationOverrides = &ConfigurationOverrides{ApplicationConfiguration: []Configuration{{}}}
		}, "configurationOverrides.applicationConfiguration[0].classification", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := validRun()
			tc.change(&r)
			err := r.ValidateInput()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("valid input refused: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want a ValidationError naming %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("error %q does not name the field %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.ruleWords) {
				t.Errorf("error %q does not state the rule (%q)", err, tc.ruleWords)
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestTemplateParameters pins how StartJobRun's parameters meet a template's declarations:
// defaults fill in, NUMBER is checked, undeclared and missing ones are refused by name.
func TestTemplateParameters(t *testing.T) {
	tmpl := JobTemplate{ID: "t1", JobTemplateData: JobTemplateData{ParameterConfiguration: map[string]TemplateParameterConfiguration{
		"Date":  {Type: ParameterString},
		"Scale": {Type: ParameterNumber, DefaultValue: ptr("3000")},
	}}}
	for _, tc := range []struct {
		name  string
		given map[string]string
		want  map[string]string
		field string
	}{
		{"default fills in", map[string]string{"Date": "2026-12-01"}, map[string]string{"Date": "2026-12-01", "Scale": "3000"}, ""},
		{"given beats default", map[string]string{"Date": "d", "Scale": "1.5"}, map[string]string{"Date": "d", "Scale": "1.5"}, ""},
		{"required missing", map[string]string{"Scale": "1"}, nil, "jobTemplateParameters.Date"},
		{"not a number", map[string]string{"Date": "d", "Scale": "big"}, nil, "jobTemplateParameters.Scale"},
		{"undeclared", map[string]string{"Date": "d", "Extra": "x"}, nil, "jobTemplateParameters.Extra"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveParameters(tmpl, tc.given)
			if tc.field != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("got %v, want a ValidationError on %s", err, tc.field)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("got %v %v, want %v", got, err, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestSubstitute replaces placeholders in every string value of the template, leaves unknown
// ones alone, and never touches keys.
func TestSubstituteEveryValue(t *testing.T) {
	d := JobTemplateData{
		ExecutionRoleArn: "arn:aws:iam::1:role/${Role}", ReleaseLabel: "emr-${Release}",
		JobDriver: JobDriver{SparkSubmitJobDriver: &SparkSubmitJobDriver{EntryPoint: "s3://b/${Date}/app.jar",
			EntryPointArguments: []string{"${Scale}", "${Unknown}", "plain"}, SparkSubmitParameters: "--conf a=${Date}${Date}"}},
		ConfigurationOverrides: &ParametricConfigurationOverrides{ApplicationConfiguration: []Configuration{{
			Classification: "spark-defaults", Properties: map[string]string{"spark.x.${Date}": "${Scale}"}}}},
	}
	out, err := substitute(d, map[string]string{"Role": "r", "Release": "7.2.0", "Date": "d1", "Scale": "9"})
	if err != nil {
		t.Fatal(err)
	}
	s := out.JobDriver.SparkSubmitJobDriver
	checks := map[string][2]string{
		"role":        {out.ExecutionRoleArn, "arn:aws:iam::1:role/r"},
		"release":     {out.ReleaseLabel, "emr-7.2.0"},
		"entry point": {s.EntryPoint, "s3://b/d1/app.jar"},
		"argument":    {s.EntryPointArguments[0], "9"},
		"unknown":     {s.EntryPointArguments[1], "${Unknown}"},
		"twice":       {s.SparkSubmitParameters, "--conf a=d1d1"},
		"value":       {out.ConfigurationOverrides.ApplicationConfiguration[0].Properties["spark.x.${Date}"], "9"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: got %q, want %q", name, c[0], c[1])
		}
	}
}

// TestAttemptReadsBothShapes: the typed document, and the map of strings servers before it
// wrote, decode to the same attempt.
func TestAttemptReadsBothShapes(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	want := Attempt{Number: 2, Namespace: "spark", DriverPod: "sp-driver", SubmittedAt: at, CleanedUp: true}
	typed, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"typed": string(typed),
		"old":   `{"attempt":"2","submitted":"true","driverPod":"spark/sp-driver","submittedAt":"2026-11-30T12:00:00Z","cleanedUp":"true"}`,
	} {
		var got Attempt
		if err := json.Unmarshal([]byte(doc), &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Number != want.Number || got.Namespace != want.Namespace || got.DriverPod != want.DriverPod ||
			!got.SubmittedAt.Equal(at) || got.CleanedUp != want.CleanedUp {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	var retrying Attempt
	if err := json.Unmarshal([]byte(`{"attempt":"3","driverPod":"spark/sp-2-driver"}`), &retrying); err != nil || retrying.Submitted() || retrying.Number != 3 {
		t.Errorf("a retry the old server had not submitted yet: %+v %v", retrying, err)
	}
}

func TestParseRotationSize(t *testing.T) {
	for in, want := range map[string]int64{"2KB": 2048, "2K": 2048, "1.5MB": 3 << 19, "512Mb": 512 << 20, "2GB": 2 << 30} {
		got, err := ParseRotationSize(in)
		if err != nil || got != want {
			t.Errorf("ParseRotationSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1KB", "2.1G", "KB", "10 MB", "5TB", "-2KB"} {
		if _, err := ParseRotationSize(in); err == nil {
			t.Errorf("ParseRotationSize(%q) accepted", in)
		}
	}
}
