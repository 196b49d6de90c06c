package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
)

// TestSignatures sends StartJobRun requests signed in every wrong way and checks each gets 403
// with the AWS error code while no job run is stored; a correctly signed one is the control.
func TestSignatures(t *testing.T) {
	srv := apitest.Start(t)
	vc := createVC(t, srv.Client(), "auth", "auth")
	body := []byte(`{"name":"signed","clientToken":"tok","executionRoleArn":"` + apitest.RoleArn + `","releaseLabel":"emr-6.5.0-latest",` +
		`"jobDriver":{"sparkSubmitJobDriver":{"entryPoint":"local:///pi.py"}}}`)
	type signing struct {
		key, secret, service, region string
		at                           time.Time
		signedBody, sentBody         []byte
		unsigned                     bool
		mutate                       func(*http.Request)
	}
	good := func() signing {
		return signing{srv.AccessKeyID, srv.SecretAccessKey, "emr-containers", srv.Region, time.Now(), body, body, false, nil}
	}
	send := func(t *testing.T, s signing) (*http.Response, map[string]string) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/virtualclusters/"+vc+"/jobruns", bytes.NewReader(s.sentBody))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if !s.unsigned {
			sum := sha256.Sum256(s.signedBody)
			err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret}, req, hex.EncodeToString(sum[:]), s.service, s.region, s.at)
			if err != nil {
				t.Fatal(err)
			}
		}
		if s.mutate != nil {
			s.mutate(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var msg map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&msg)
		return resp, msg
	}
	for _, tc := range []struct {
		name string
		edit func(*signing)
		code string
	}{
		{"unsigned", func(s *signing) { s.unsigned = true }, "MissingAuthenticationTokenException"},
		{"unknown access key", func(s *signing) { s.key = "AKIAUNKNOWNKEY000000" }, "UnrecognizedClientException"},
		{"wrong secret", func(s *signing) { s.secret = "not-the-secret" }, "InvalidSignatureException"},
		{"stale date", func(s *signing) { s.at = time.Now().Add(-6 * time.Minute) }, "InvalidSignatureException"},
		{"future date", func(s *signing) { s.at = time.Now().Add(6 * time.Minute) }, "InvalidSignatureException"},
		{"tampered body", func(s *signing) { s.sentBody = bytes.Replace(body, []byte("pi.py"), []byte("pwn.py"), 1) }, "InvalidSignatureException"},
		{"wrong service", func(s *signing) { s.service = "s3" }, "InvalidSignatureException"},
		{"wrong region", func(s *signing) { s.region = "eu-west-1" }, "InvalidSignatureException"},
		{"malformed header", func(s *signing) {
			s.mutate = func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage") }
		}, "InvalidSignatureException"},
		{"header changed after signing", func(s *signing) {
			s.mutate = func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }
		}, "InvalidSignatureException"},
		{"path changed after signing", func(s *signing) {
			s.mutate = func(r *http.Request) { r.URL.Path += "x" }
		}, "InvalidSignatureException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.edit(&s)
			resp, msg := send(t, s)
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-Errortype") != tc.code || msg["message"] == "" {
				t.Fatalf("got %d %q %v, want 403 %s with a message", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), msg, tc.code)
			}
			if strings.Contains(msg["message"], srv.SecretAccessKey) {
				t.Fatal("error message contains the secret")
			}
		})
	}
	runs, err := srv.Client().ListJobRuns(t.Context(), &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc)})
	if err != nil || len(runs.JobRuns) != 0 {
		t.Fatalf("rejected requests stored runs: %v %v", runs, err)
	}
	resp, msg := send(t, good())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("correctly signed request: %d %v", resp.StatusCode, msg)
	}

	// The SDK surfaces the code as a typed API error.
	_, err = srv.ClientWith(srv.AccessKeyID, "wrong-secret-wrong-secret").ListVirtualClusters(t.Context(), &emrcontainers.ListVirtualClustersInput{})
	if smithyCode(err) != "InvalidSignatureException" {
		t.Fatalf("SDK with wrong secret: %v", err)
	}
}

func TestHealthzAndLimits(t *testing.T) {
	srv := apitest.Start(t)
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	big := bytes.Repeat([]byte("a"), 2<<20)
	resp, err = http.Post(srv.URL+"/virtualclusters", "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("X-Amzn-Errortype") != "ValidationException" {
		t.Fatalf("oversized body: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}

// TestMetrics checks that answered and refused requests show up on the unauthenticated
// Prometheus endpoint, without request contents.
func TestMetrics(t *testing.T) {
	srv := apitest.Start(t)
	if _, err := srv.Client().ListVirtualClusters(t.Context(), &emrcontainers.ListVirtualClustersInput{}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/virtualclusters") // unsigned: refused
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`sparkplane_api_requests_total{route="GET /virtualclusters",status="200"}`,
		`sparkplane_api_auth_failures_total{status="403"}`,
		`sparkplane_api_request_duration_seconds_bucket{route="GET /virtualclusters"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(body), srv.SecretAccessKey) || strings.Contains(string(body), srv.AccessKeyID) {
		t.Error("/metrics shows an access key")
	}
}

// TestMetricsToken keeps /metrics closed without the configured bearer token.
func TestMetricsToken(t *testing.T) {
	srv := apitest.Start(t, apitest.WithConfig(func(c *config.Config) { c.MetricsToken = "scrape-me-please" }))
	get := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: HTTP %d, want 401", code)
	}
	if code := get("Bearer wrong"); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: HTTP %d, want 401", code)
	}
	if code := get("Bearer scrape-me-please"); code != http.StatusOK {
		t.Errorf("/metrics with the token: HTTP %d, want 200", code)
	}
}
