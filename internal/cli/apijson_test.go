package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
)

func TestToAPIJSON(t *testing.T) {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	out := &emrcontainers.DescribeJobRunOutput{JobRun: &types.JobRun{
		Id:               aws.String("j1"),
		Name:             aws.String("pi"),
		VirtualClusterId: aws.String("vc1"),
		State:            types.JobRunStatePending,
		CreatedAt:        &created,
		JobDriver: &types.JobDriver{SparkSubmitJobDriver: &types.SparkSubmitJobDriver{
			EntryPoint:          aws.String("local:///pi.py"),
			EntryPointArguments: []string{"10"},
		}},
		ConfigurationOverrides: &types.ConfigurationOverrides{
			MonitoringConfiguration: &types.MonitoringConfiguration{
				PersistentAppUI:           types.PersistentAppUIEnabled,
				S3MonitoringConfiguration: &types.S3MonitoringConfiguration{LogUri: aws.String("s3://logs/")},
			},
		},
		RetryPolicyConfiguration: &types.RetryPolicyConfiguration{MaxAttempts: aws.Int32(2)},
		Tags:                     map[string]string{"team": "data", "env": "dev"},
	}}
	b, err := json.Marshal(toAPI(out))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"jobRun":{"id":"j1","name":"pi",` +
		`"configurationOverrides":{"monitoringConfiguration":{"persistentAppUI":"ENABLED","s3MonitoringConfiguration":{"logUri":"s3://logs/"}}},` +
		`"createdAt":"2024-05-01T10:00:00Z",` +
		`"jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"local:///pi.py","entryPointArguments":["10"]}},` +
		`"retryPolicyConfiguration":{"maxAttempts":2},"state":"PENDING","tags":{"env":"dev","team":"data"},"virtualClusterId":"vc1"}}`
	if string(b) != want {
		t.Errorf("toAPI:\n got %s\nwant %s", b, want)
	}
}

func TestToAPIUnion(t *testing.T) {
	vc := types.VirtualCluster{ContainerProvider: &types.ContainerProvider{
		Id: aws.String("c1"), Type: types.ContainerProviderTypeEks,
		Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String("ns")}},
	}}
	b, _ := json.Marshal(toAPI(vc))
	want := `{"containerProvider":{"id":"c1","type":"EKS","info":{"eksInfo":{"namespace":"ns"}}}}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

// TestParseParamRoundTrip reads API JSON into SDK shapes and prints it back unchanged.
func TestParseParamRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
		dst  func() any
	}{
		{"job driver", `{"sparkSubmitJobDriver":{"entryPoint":"s3://b/app.py","entryPointArguments":["a","b"],"sparkSubmitParameters":"--conf spark.executor.instances=2"}}`,
			func() any { return new(*types.JobDriver) }},
		{"sql driver", `{"sparkSqlJobDriver":{"entryPoint":"s3://b/q.sql","sparkSqlParameters":"--conf x=y"}}`,
			func() any { return new(*types.JobDriver) }},
		{"overrides", `{"applicationConfiguration":[{"classification":"spark-defaults","properties":{"spark.executor.memory":"2G"},"configurations":[{"classification":"nested"}]}],"monitoringConfiguration":{"persistentAppUI":"DISABLED","s3MonitoringConfiguration":{"logUri":"s3://logs/"},"containerLogRotationConfiguration":{"rotationSize":"2GB","maxFilesToKeep":5}}}`,
			func() any { return new(*types.ConfigurationOverrides) }},
		{"container provider", `{"id":"local","type":"EKS","info":{"eksInfo":{"namespace":"spark"}}}`,
			func() any { return new(*types.ContainerProvider) }},
		{"template data", `{"executionRoleArn":"arn:aws:iam::1:role/r","releaseLabel":"emr-7.2.0","jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"${Entry}"}},"parameterConfiguration":{"Entry":{"type":"STRING","defaultValue":"x.py"}}}`,
			func() any { return new(*types.JobTemplateData) }},
		{"tags", `{"a":"1","b":"2"}`, func() any { return new(map[string]string) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := tt.dst()
			if err := parseParam("flag", tt.in, dst); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(toAPI(reflect.ValueOf(dst).Elem().Interface()))
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			_ = json.Unmarshal(b, &got)
			_ = json.Unmarshal([]byte(tt.in), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %s\nwant %s", b, tt.in)
			}
		})
	}
}

func TestParseParamShorthandAndFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "driver.json")
	if err := os.WriteFile(p, []byte(`  {"sparkSubmitJobDriver":{"entryPoint":"local:///x.py"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var jd *types.JobDriver
	if err := parseParam("job-driver", "file://"+p, &jd); err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(jd.SparkSubmitJobDriver.EntryPoint); got != "local:///x.py" {
		t.Errorf("file:// entryPoint = %q", got)
	}

	var rp *types.RetryPolicyConfiguration
	if err := parseParam("retry-policy-configuration", "maxAttempts=3", &rp); err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(rp.MaxAttempts) != 3 {
		t.Errorf("shorthand maxAttempts = %d", aws.ToInt32(rp.MaxAttempts))
	}
	var tags map[string]string
	if err := parseParam("tags", "team=data, env=dev", &tags); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tags, map[string]string{"team": "data", "env": "dev"}) {
		t.Errorf("shorthand tags = %v", tags)
	}
}

func TestParseParamErrors(t *testing.T) {
	tests := []struct {
		name, flag, in string
		dst            any
		want           string
	}{
		{"invalid json", "job-driver", `{"sparkSubmitJobDriver":`, new(*types.JobDriver), "--job-driver: invalid JSON: unexpected end of input"},
		{"syntax error", "job-driver", `{"a" 1}`, new(*types.JobDriver), "--job-driver: invalid JSON at byte"},
		{"trailing data", "job-driver", `{} {}`, new(*types.JobDriver), "--job-driver: invalid JSON: unexpected data after the value"},
		{"empty", "job-driver", "  ", new(*types.JobDriver), "--job-driver: value is empty"},
		{"unknown field", "job-driver", `{"sparkSubmitJobDriver":{"entrypoint":"x"}}`, new(*types.JobDriver), `--job-driver: sparkSubmitJobDriver: unknown field "entrypoint" (valid fields: entryPoint, entryPointArguments, sparkSubmitParameters)`},
		{"wrong type", "job-driver", `{"sparkSubmitJobDriver":{"entryPoint":"x","entryPointArguments":"a b"}}`, new(*types.JobDriver), "--job-driver: sparkSubmitJobDriver.entryPointArguments: want a list, got a string"},
		{"list element type", "job-driver", `{"sparkSubmitJobDriver":{"entryPointArguments":["a",2]}}`, new(*types.JobDriver), "--job-driver: sparkSubmitJobDriver.entryPointArguments[1]: want a string, got a number"},
		{"bad enum", "configuration-overrides", `{"monitoringConfiguration":{"persistentAppUI":"ON"}}`, new(*types.ConfigurationOverrides), `--configuration-overrides: monitoringConfiguration.persistentAppUI: "ON" is not one of ENABLED, DISABLED`},
		{"int overflow", "retry-policy-configuration", `{"maxAttempts":9999999999}`, new(*types.RetryPolicyConfiguration), `--retry-policy-configuration: maxAttempts: "9999999999" is not a whole number that fits in 32 bits`},
		{"fraction", "retry-policy-configuration", `{"maxAttempts":1.5}`, new(*types.RetryPolicyConfiguration), `maxAttempts: "1.5" is not a whole number`},
		{"shorthand not int", "retry-policy-configuration", "maxAttempts=two", new(*types.RetryPolicyConfiguration), `--retry-policy-configuration: maxAttempts: "two" is not a whole number`},
		{"shorthand no equals", "tags", "team", new(map[string]string), `--tags: "team" is not key=value`},
		{"shorthand duplicate", "tags", "a=1,a=2", new(map[string]string), `--tags: key "a" given twice`},
		{"map value type", "tags", `{"a":1}`, new(map[string]string), "--tags: a: want a string, got a number"},
		{"union two members", "container-provider", `{"id":"c","type":"EKS","info":{"eksInfo":{},"other":{}}}`, new(*types.ContainerProvider), "--container-provider: info: want an object with exactly one of: eksInfo"},
		{"union unknown", "container-provider", `{"id":"c","info":{"gkeInfo":{}}}`, new(*types.ContainerProvider), `--container-provider: info: unknown field "gkeInfo"`},
		{"provider type enum", "container-provider", `{"id":"c","type":"GKE"}`, new(*types.ContainerProvider), `--container-provider: type: "GKE" is not one of EKS`},
		{"missing file", "job-driver", "file:///nonexistent/driver.json", new(*types.JobDriver), "--job-driver: read file:///nonexistent/driver.json: no such file or directory"},
		{"not an object", "job-driver", `["x"]`, new(*types.JobDriver), "--job-driver: want an object, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parseParam(tt.flag, tt.in, tt.dst)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseParam(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
			if v := reflect.ValueOf(tt.dst).Elem(); !v.IsZero() {
				t.Errorf("destination changed on error: %v", v.Interface())
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, in := range []string{"2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00", "2024-05-01 12:00:00", "1714564800"} {
		got, err := parseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if got, err := parseTime("2024-05-01"); err != nil || !got.Equal(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parseTime(date) = %v, %v", got, err)
	}
	for _, in := range []string{"", "yesterday", "2024-13-01", "01/05/2024"} {
		if _, err := parseTime(in); err == nil {
			t.Errorf("parseTime(%q) succeeded, want error", in)
		}
	}
}
