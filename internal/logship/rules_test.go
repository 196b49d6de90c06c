package logship

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr string // a part of the error
	}{
		{in: "2KB", want: 2048},
		{in: "2K", want: 2048},
		{in: "2Kb", want: 2048},
		{in: "64KB", want: 64 << 10},
		{in: "1.5M", want: 3 << 19},
		{in: "10MB", want: 10 << 20},
		{in: "2GB", want: 2 << 30},
		{in: "2.0G", want: 2 << 30},
		{in: "0.5MB", want: 512 << 10},
		{in: "2.0009765625K", want: 2049},                // exactly 2049 bytes
		{in: "2.0009765624K", want: 2048},                // rounded down
		{in: "1.9999999999999999999G", want: 2147483647}, // exact, not a float's 2G
		{in: "1KB", wantErr: "below the minimum of 2KB"},
		{in: "1.99K", wantErr: "below the minimum of 2KB"},
		{in: "2.0000001GB", wantErr: "above the maximum of 2GB"},
		{in: "3G", wantErr: "above the maximum of 2GB"},
		{in: "", wantErr: "^\\d+(\\.\\d+)?[KMG][Bb]?$"},
		{in: "64", wantErr: "unit K, M or G"},
		{in: "64kb", wantErr: "unit K, M or G"},
		{in: "64TB", wantErr: "unit K, M or G"},
		{in: "64 KB", wantErr: "unit K, M or G"},
		{in: ".5G", wantErr: "unit K, M or G"},
		{in: "1.G", wantErr: "unit K, M or G"},
		{in: "-2G", wantErr: "unit K, M or G"},
		{in: "2KBB", wantErr: "unit K, M or G"},
	} {
		got, err := ParseSize(tc.in)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseSize(%q) = %d, %v; want an error with %q", tc.in, got, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), tc.in) {
			t.Errorf("ParseSize(%q): error %q does not name the value", tc.in, err)
		}
	}
}

func TestCheckFilesToKeep(t *testing.T) {
	for n, ok := range map[int]bool{-1: false, 0: false, 1: true, 10: true, 50: true, 51: false} {
		if err := CheckFilesToKeep(n); (err == nil) != ok {
			t.Errorf("CheckFilesToKeep(%d) = %v, want ok %v", n, err, ok)
		}
	}
}

func TestContainerPrefix(t *testing.T) {
	const tail = "vc1/jobs/jr1/containers/spark-abc/pod-exec-1"
	for _, tc := range []struct {
		logURI            string
		bucket, prefix    string
		vc, job, app, pod string
		wantErr           string
	}{
		{logURI: "s3://b/logs", bucket: "b", prefix: "logs/" + tail},
		{logURI: "s3://b/logs/", bucket: "b", prefix: "logs/" + tail},
		{logURI: "s3://b/a/b/c//", bucket: "b", prefix: "a/b/c/" + tail},
		{logURI: "s3://b", bucket: "b", prefix: tail},
		{logURI: "s3://b/", bucket: "b", prefix: tail},
		{logURI: "s3a://b/logs", wantErr: "not an s3:// URI"},
		{logURI: "https://b/logs", wantErr: "not an s3:// URI"},
		{logURI: "s3:///logs", wantErr: "names no bucket"},
		{logURI: "s3://b/logs", pod: "a/b", wantErr: "pod name"},
		{logURI: "s3://b/logs", app: "-", vc: "", wantErr: "virtual cluster id"},
	} {
		vc, job, app, pod := "vc1", "jr1", "spark-abc", "pod-exec-1"
		if tc.pod != "" {
			pod = tc.pod
		}
		if tc.app == "-" {
			vc = tc.vc
		}
		bucket, prefix, err := ContainerPrefix(tc.logURI, vc, job, app, pod)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ContainerPrefix(%q, ..., %q) = %q, %q, %v; want an error with %q", tc.logURI, pod, bucket, prefix, err, tc.wantErr)
			}
			continue
		}
		if err != nil || bucket != tc.bucket || prefix != tc.prefix {
			t.Errorf("ContainerPrefix(%q) = %q, %q, %v; want %q, %q", tc.logURI, bucket, prefix, err, tc.bucket, tc.prefix)
		}
	}
	if StdoutObject != ObjectName(Stdout) || StderrObject != ObjectName(Stderr) {
		t.Errorf("object names %q %q disagree with ObjectName", StdoutObject, StderrObject)
	}
}

// apiError is an error as aws-sdk-go-v2 returns for an S3 answer.
type apiError struct{ code, msg string }

func (e apiError) Error() string        { return "api error " + e.code + ": " + e.msg }
func (e apiError) ErrorCode() string    { return e.code }
func (e apiError) ErrorMessage() string { return e.msg }

func TestTerminationMessages(t *testing.T) {
	uri := "s3://logs-bucket/p/stdout.gz"
	for _, tc := range []struct {
		err  error
		want string
	}{
		{apiError{"AccessDenied", "Access Denied"}, FailurePrefix + " to " + uri + ": AccessDenied: Access Denied"},
		{errors.Join(errors.New("upload part 3"), apiError{"NoSuchBucket", "The specified bucket\ndoes not exist"}),
			FailurePrefix + " to " + uri + ": NoSuchBucket: The specified bucket does not exist"},
		{apiError{"SlowDown", ""}, FailurePrefix + " to " + uri + ": SlowDown"},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), FailurePrefix + " to " + uri + ": dial tcp 127.0.0.1:1: connect: connection refused"},
	} {
		got := failureMessage(uri, tc.err)
		if got != tc.want {
			t.Errorf("failureMessage(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if failed, detail := ParseTermination(got + "\n"); !failed || detail != got {
			t.Errorf("ParseTermination(%q) = %v, %q", got, failed, detail)
		}
	}
	long := failureMessage(uri, errors.New(strings.Repeat("é", 5000)))
	if len(long) > MaxTerminationMessage || !strings.HasSuffix(long, "...") || !strings.HasPrefix(long, FailurePrefix) {
		t.Errorf("a long message is %d bytes, ends %q", len(long), long[len(long)-8:])
	}
	for _, tc := range []struct {
		msg    string
		failed bool
		detail string
	}{
		{"", false, ""},
		{"\n", false, ""},
		{"something else", false, ""},
		{"logs shipped: stdout 3 bytes to s3://b/k/stdout.gz\n", false, "logs shipped: stdout 3 bytes to s3://b/k/stdout.gz"},
		{"  logs could not be shipped to s3://b/k/stderr.gz: AccessDenied: no\nsecond line", true, "logs could not be shipped to s3://b/k/stderr.gz: AccessDenied: no"},
	} {
		failed, detail := ParseTermination(tc.msg)
		if failed != tc.failed || detail != tc.detail {
			t.Errorf("ParseTermination(%q) = %v, %q; want %v, %q", tc.msg, failed, detail, tc.failed, tc.detail)
		}
	}
}
