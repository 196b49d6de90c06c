package submission

import (
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
)

func TestIsEMRImage(t *testing.T) {
	tests := []struct {
		image string
		want  bool
	}{
		{"755674844232.dkr.ecr.us-east-1.amazonaws.com/spark/emr-6.5.0:latest", true},
		{"public.ecr.aws/emr-on-eks/spark/emr-7.2.0:latest", true},
		{"public.ecr.aws/emr-on-eks/spark/emr-7.2.0@sha256:0123abcd", true},
		{"111122223333.dkr.ecr.us-west-2.amazonaws.com/eks-spark-benchmark:emr6.5", true},
		{"registry.example.com:5000/team/spark-etl:emr-6.15.0", true},
		{"apache/spark:3.5.3", false},
		{"apache/spark:4.0.1-scala2.13-java17-ubuntu", false},
		{"registry.example.com:5000/team/spark-benchmark:3.5.3-hadoop-aws", false},
		{"registry.example.com:5000/emr-tools/spark:3.5.3", false}, // emr in a path, not the release
		{"team/spark:emr-compatible", false},                       // no release version
		{"spark", false},
	}
	for _, tt := range tests {
		if got := IsEMRImage(tt.image); got != tt.want {
			t.Errorf("IsEMRImage(%q) = %v, want %v", tt.image, got, tt.want)
		}
	}
}

func TestS3ADefaults(t *testing.T) {
	const emr = "755674844232.dkr.ecr.us-east-1.amazonaws.com/spark/emr-6.5.0:latest"
	tests := []struct {
		name              string
		version           string
		driver, executor  string
		wantNone          bool
		wantWebIdentity   string
		wantNotInProvider string
	}{
		{"Spark 3 on the OSS image: SDK v1 providers", "3.5.3", "apache/spark:3.5.3", "apache/spark:3.5.3", false,
			"com.amazonaws.auth.WebIdentityTokenCredentialsProvider", "software.amazon.awssdk"},
		{"Spark 3.3 (Hadoop 3.3.2)", "3.3.0", "apache/spark:3.3.0", "apache/spark:3.3.0", false,
			"com.amazonaws.auth.WebIdentityTokenCredentialsProvider", "software.amazon.awssdk"},
		{"Spark 4 (Hadoop 3.4): SDK v2 providers", "4.0.1", "apache/spark:4.0.1", "apache/spark:4.0.1", false,
			"software.amazon.awssdk.auth.credentials.WebIdentityTokenFileCredentialsProvider", "com.amazonaws"},
		{"EMR image keeps EMRFS", "3.3.0", emr, emr, true, "", ""},
		{"EMR executors only: still EMR's filesystem", "3.3.0", "apache/spark:3.3.0", emr, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := S3ADefaults(tt.version, tt.driver, tt.executor)
			if tt.wantNone {
				if got != nil {
					t.Fatalf("S3ADefaults = %v, want none", got)
				}
				return
			}
			if got[confS3Impl] != "org.apache.hadoop.fs.s3a.S3AFileSystem" || got[confS3AbstractImpl] != "org.apache.hadoop.fs.s3a.S3A" {
				t.Errorf("s3 scheme not mapped to S3A: %v", got)
			}
			providers := strings.Split(got[confS3ACredentials], ",")
			if len(providers) != 5 || providers[2] != tt.wantWebIdentity {
				t.Errorf("providers = %v, want the web identity provider %s third", providers, tt.wantWebIdentity)
			}
			// Keys given in the job's own conf must keep winning over the pod's role, as they
			// do in Hadoop's default chain.
			if providers[0] != "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider" || providers[1] != "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider" {
				t.Errorf("providers = %v, want the conf-key providers first", providers)
			}
			if strings.Contains(got[confS3ACredentials], tt.wantNotInProvider) {
				t.Errorf("providers = %v mix SDK generations (found %s)", providers, tt.wantNotInProvider)
			}
		})
	}
}

// TestResolveS3ADefaults pins the S3A settings at the bottom of the precedence: every level
// above replaces them key by key, and an EMR image chosen at any level drops them.
func TestResolveS3ADefaults(t *testing.T) {
	vc := jobs.VirtualCluster{ID: "vc1", Name: "analytics", ContainerProvider: jobs.ContainerProvider{
		Type: "EKS", ID: "sandbox", Info: &jobs.ContainerInfo{EKSInfo: &jobs.EKSInfo{Namespace: "spark"}}}}
	oss, err := release.Default().Lookup("spark-3.5.3")
	if err != nil {
		t.Fatal(err)
	}
	v4, err := release.Default().Lookup("spark-4.0.1")
	if err != nil {
		t.Fatal(err)
	}
	const emrImage = "public.ecr.aws/emr-on-eks/spark/emr-6.5.0:latest"
	defaults := func(c map[string]string) jobs.Configuration {
		return jobs.Configuration{Classification: "spark-defaults", Properties: c}
	}
	tests := []struct {
		name     string
		rel      release.Release
		ops      []Defaults
		params   string
		classes  []jobs.Configuration
		want     map[string]string
		wantNone bool
	}{
		{name: "applied on the release's OSS image", rel: oss,
			want: map[string]string{confS3Impl: "org.apache.hadoop.fs.s3a.S3AFileSystem", confS3AbstractImpl: "org.apache.hadoop.fs.s3a.S3A"}},
		{name: "SDK v2 class names on Spark 4", rel: v4,
			want: map[string]string{confS3ACredentials: s3aProvidersSDKv2}},
		{name: "operator default wins", rel: oss,
			ops:  []Defaults{{VirtualClusters: []string{"*"}, SparkConf: map[string]string{confS3ACredentials: "org.example.Ops"}}},
			want: map[string]string{confS3ACredentials: "org.example.Ops", confS3Impl: "org.apache.hadoop.fs.s3a.S3AFileSystem"}},
		{name: "spark-defaults wins", rel: oss,
			classes: []jobs.Configuration{defaults(map[string]string{confS3Impl: "com.amazon.ws.emr.hadoop.fs.EmrFileSystem"})},
			want:    map[string]string{confS3Impl: "com.amazon.ws.emr.hadoop.fs.EmrFileSystem", confS3ACredentials: s3aProvidersSDKv1}},
		{name: "sparkSubmitParameters win", rel: oss, params: "--class org.example.Main --conf " + confS3ACredentials + "=org.example.Mine",
			want: map[string]string{confS3ACredentials: "org.example.Mine"}},
		{name: "EMR image in spark-defaults", rel: oss,
			classes: []jobs.Configuration{defaults(map[string]string{confImage: emrImage})}, wantNone: true},
		{name: "EMR image as the operator's default", rel: oss,
			ops: []Defaults{{VirtualClusters: []string{"analytics"}, SparkConf: map[string]string{confImage: emrImage}}}, wantNone: true},
		{name: "EMR driver image", rel: oss, params: "--class org.example.Main --conf " + confDriverImage + "=" + emrImage, wantNone: true},
		{name: "custom OSS image keeps them", rel: oss,
			classes: []jobs.Configuration{defaults(map[string]string{confImage: "registry.example.com/spark-s3:3.5.3"})},
			want:    map[string]string{confS3ACredentials: s3aProvidersSDKv1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := tt.params
			if params == "" {
				params = "--class org.example.Main"
			}
			run := jarRun(params, tt.classes...)
			run.ReleaseLabel = tt.rel.Label
			job, err := Resolve(run, vc, tt.rel, tt.ops)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantNone {
				for _, k := range []string{confS3Impl, confS3AbstractImpl, confS3ACredentials} {
					if v, ok := job.Conf[k]; ok {
						t.Errorf("conf %s = %q, want it unset on an EMR image", k, v)
					}
				}
				return
			}
			for k, v := range tt.want {
				if job.Conf[k] != v {
					t.Errorf("conf %s = %q, want %q", k, job.Conf[k], v)
				}
			}
		})
	}
}
