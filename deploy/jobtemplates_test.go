package deploy_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/deploy"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/submission"
)

var rePlaceholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// TestJobTemplates checks the job templates of deploy/job-templates: each file is
// CreateJobTemplate's jobTemplateData and nothing else, declares exactly the parameters it
// uses, and once its parameters are filled in is a StartJobRun input sparkplane accepts. The
// benchmark's defaults must give the seed's run (deploy/sandbox/SEED.md) back, argument for
// argument.
func TestJobTemplates(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("job-templates", "*.json"))
	if err != nil || len(files) != 2 {
		t.Fatalf("want the two job templates, got %v (%v)", files, err)
	}
	const bucket = "my-bucket"
	given := map[string]string{ // what a user must give; everything else has a default
		"ExecutionRoleArn": "arn:aws:iam::111122223333:role/spark-jobs",
		"Image":            "111122223333.dkr.ecr.us-west-2.amazonaws.com/eks-spark-benchmark:emr6.5",
		"S3Bucket":         bucket,
		"Zone":             "us-west-2a",
		"ResultPath":       "s3://" + bucket + "/EMRONEKS_TPCDS-TEST-3T-RESULT-KA",
	}
	// Data generation writes the data set, so it has no default place for it; the benchmark
	// reads the seed's.
	dataPath := "s3://" + bucket + "/BLOG_TPCDS-TEST-3T-partitioned"
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var data jobs.JobTemplateData
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&data); err != nil {
				t.Fatalf("not a jobTemplateData: %v", err)
			}

			used := map[string]bool{}
			for _, m := range rePlaceholder.FindAllStringSubmatch(string(raw), -1) {
				used[m[1]] = true
			}
			var declared []string
			for name, pc := range data.ParameterConfiguration {
				declared = append(declared, name)
				if !used[name] {
					t.Errorf("parameter %s is declared but never used", name)
				}
				if pc.Type != jobs.ParameterString && pc.Type != jobs.ParameterNumber {
					t.Errorf("parameter %s: type %q, want STRING or NUMBER", name, pc.Type)
				}
				if pc.Type == jobs.ParameterNumber && pc.DefaultValue != nil {
					if _, err := strconv.ParseFloat(*pc.DefaultValue, 64); err != nil {
						t.Errorf("parameter %s: default %q is not a NUMBER", name, *pc.DefaultValue)
					}
				}
			}
			sort.Strings(declared)
			for name := range used {
				if _, ok := data.ParameterConfiguration[name]; !ok {
					t.Errorf("${%s} is used but not declared", name)
				}
			}
			for _, want := range []string{"DataPath", "Scale", "Format"} {
				if !slices.Contains(declared, want) {
					t.Errorf("parameters %v lack %s", declared, want)
				}
			}

			// Fill the parameters as StartJobRun does: given values, else defaults.
			filled := string(raw)
			for name, pc := range data.ParameterConfiguration {
				v, ok := given[name]
				if name == "DataPath" && pc.DefaultValue == nil {
					v, ok = dataPath, true
				}
				if !ok {
					if pc.DefaultValue == nil {
						t.Fatalf("parameter %s has no default and the test gives no value", name)
					}
					v = *pc.DefaultValue
				}
				filled = strings.ReplaceAll(filled, "${"+name+"}", v)
			}
			var resolved struct {
				ExecutionRoleArn       string                       `json:"executionRoleArn"`
				ReleaseLabel           string                       `json:"releaseLabel"`
				JobDriver              jobs.JobDriver               `json:"jobDriver"`
				ConfigurationOverrides *jobs.ConfigurationOverrides `json:"configurationOverrides"`
			}
			if err := json.Unmarshal([]byte(filled), &resolved); err != nil {
				t.Fatal(err)
			}
			run := jobs.JobRun{ExecutionRoleArn: resolved.ExecutionRoleArn, ReleaseLabel: resolved.ReleaseLabel,
				JobDriver: resolved.JobDriver, ConfigurationOverrides: resolved.ConfigurationOverrides}
			if err := run.ValidateInput(); err != nil {
				t.Errorf("StartJobRun input: %v", err)
			}
			settings, err := jobs.ParseVirtualClusterSettings(deploy.SandboxSettings)
			if err != nil {
				t.Fatal(err)
			}
			if err := submission.Check(run, settings); err != nil {
				t.Errorf("Spark input under the sandbox's settings: %v", err)
			}
			if err := submission.Check(run, jobs.VirtualClusterSettings{}); err == nil || !strings.Contains(err.Error(), "/pv-disks/local") {
				t.Errorf("Spark input under the default pod policy = %v, want the seed's hostPath refused", err)
			}
			sd := run.JobDriver.SparkSubmitJobDriver
			props := run.ConfigurationOverrides.ApplicationConfiguration[0].Properties
			// The seed's placement, pod templates and local dirs in every template.
			for k, v := range map[string]string{
				"spark.kubernetes.node.selector.app":                         "demo",
				"spark.kubernetes.node.selector.topology.kubernetes.io/zone": "us-west-2a",
				"spark.kubernetes.driver.podTemplateFile":                    "s3://my-bucket/pod-template/karpenter-driver-pod-template.yaml",
				"spark.kubernetes.executor.podTemplateFile":                  "s3://my-bucket/pod-template/karpenter-executor-pod-template.yaml",
			} {
				if props[k] != v {
					t.Errorf("spark-defaults %s = %q, want %q", k, props[k], v)
				}
			}
			for _, flag := range []string{
				"--conf spark.kubernetes.executor.volumes.hostPath.spark-local-dir-1.mount.path=/tmp/spark",
				"--conf spark.kubernetes.executor.volumes.hostPath.spark-local-dir-1.options.path=/pv-disks/local",
				"--conf spark.local.dir=/tmp/spark",
			} {
				if !strings.Contains(sd.SparkSubmitParameters, flag) {
					t.Errorf("sparkSubmitParameters lack the seed's %s", flag)
				}
			}
			if run.ReleaseLabel != "emr-6.5.0-latest" {
				t.Errorf("default release label %q, want the seed's emr-6.5.0-latest", run.ReleaseLabel)
			}

			switch filepath.Base(file) {
			case "tpcds-benchmark.json":
				seedArgs := []string{"s3://blogpost-sparkoneks-us-east-1/blog/BLOG_TPCDS-TEST-3T-partitioned", "s3://my-bucket/EMRONEKS_TPCDS-TEST-3T-RESULT-KA",
					"/opt/tpcds-kit/tools", "parquet", "3000", "1", "false", "q70-v2.4,q82-v2.4,q64-v2.4", "true"}
				if !slices.Equal(sd.EntryPointArguments, seedArgs) {
					t.Errorf("entryPointArguments with the defaults = %q, want the seed's %q", sd.EntryPointArguments, seedArgs)
				}
				if !strings.HasPrefix(sd.SparkSubmitParameters, "--class com.amazonaws.eks.tpcds.BenchmarkSQL --conf spark.executor.instances=50 ") {
					t.Errorf("sparkSubmitParameters = %q, want the seed's class and 50 executors", sd.SparkSubmitParameters)
				}
				for _, p := range []string{"ResultPath", "Iterations", "Queries"} {
					if !slices.Contains(declared, p) {
						t.Errorf("benchmark parameters %v lack %s", declared, p)
					}
				}
			case "tpcds-data-generation.json":
				// DataGeneration's arguments: data dir, dsdgen dir, format, scale, partitions,
				// partitioned tables, cluster by partition columns, only warnings.
				want := []string{"s3://my-bucket/BLOG_TPCDS-TEST-3T-partitioned", "/opt/tpcds-kit/tools", "parquet", "3000", "200", "true", "true", "true"}
				if !slices.Equal(sd.EntryPointArguments, want) {
					t.Errorf("entryPointArguments with the defaults = %q, want %q", sd.EntryPointArguments, want)
				}
				if !strings.HasPrefix(sd.SparkSubmitParameters, "--class com.amazonaws.eks.tpcds.DataGeneration ") {
					t.Errorf("sparkSubmitParameters = %q, want the DataGeneration class", sd.SparkSubmitParameters)
				}
			default:
				t.Errorf("unexpected job template %s", file)
			}
		})
	}
}
