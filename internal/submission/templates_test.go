package submission

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

const podYAML = `apiVersion: v1
kind: Pod
spec:
  nodeSelector:
    karpenter.sh/capacity-type: on-demand
  containers:
  - name: spark-kubernetes-driver
`

func TestTemplatesFetchFile(t *testing.T) {
	allowed := t.TempDir()
	outside := t.TempDir()
	good := filepath.Join(allowed, "driver.yaml")
	big := filepath.Join(allowed, "big.yaml")
	secret := filepath.Join(outside, "secret.yaml")
	link := filepath.Join(allowed, "link.yaml")
	for path, body := range map[string]string{good: podYAML, big: strings.Repeat("#", 2048), secret: podYAML} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, link); err != nil {
		t.Fatal(err)
	}
	tpl := &Templates{AllowedDirs: []string{allowed}, MaxBytes: 1024}
	data, err := tpl.Fetch(context.Background(), "f", "file://"+good)
	if err != nil || string(data) != podYAML {
		t.Fatalf("Fetch(allowed) = %q, %v", data, err)
	}
	bad := []struct{ uri, rule string }{
		{"file://" + secret, "must lie under a directory the server allows"},
		{"file://" + allowed + "/../" + filepath.Base(outside) + "/secret.yaml", "must lie under"},
		{"file://" + link, "must lie under"},
		{"file://" + big, "larger than 1024 bytes"},
		{"file://" + filepath.Join(allowed, "missing.yaml"), "cannot be read"},
		{"ftp://host/x.yaml", `scheme "ftp" is not supported`},
		{"http://host/x.yaml", "plain http:// is refused"},
		{"local:///opt/x.yaml", "inside the image"},
		{"no-scheme.yaml", "must be an s3://, https:// or file:// URI"},
		{"s3://bucket/key.yaml", "not configured"},
	}
	for _, b := range bad {
		_, err := tpl.Fetch(context.Background(), "spark.kubernetes.driver.podTemplateFile", b.uri)
		var verr *jobs.ValidationError
		if !errors.As(err, &verr) || verr.Field != "spark.kubernetes.driver.podTemplateFile" || !strings.Contains(verr.Rule, b.rule) {
			t.Errorf("Fetch(%s) = %v, want a validation error on the field containing %q", b.uri, err, b.rule)
		}
	}
}

func TestParsePodTemplate(t *testing.T) {
	pod, err := ParsePodTemplate("f", []byte(podYAML))
	if err != nil || pod.Spec.NodeSelector["karpenter.sh/capacity-type"] != "on-demand" {
		t.Fatalf("ParsePodTemplate = %+v, %v", pod, err)
	}
	for body, rule := range map[string]string{
		"":                                       "empty",
		"kind: Deployment\n":                     `kind must be Pod, got "Deployment"`,
		"apiVersion: v2\nkind: Pod\n":            `apiVersion must be v1`,
		"kind: Pod\nspec:\n  nodeSelectr: {}\n":  "not a valid Kubernetes Pod",
		"kind: Pod\nspec:\n  containers: nope\n": "not a valid Kubernetes Pod",
		"\tnot yaml: [":                          "not a valid Kubernetes Pod",
	} {
		_, err := ParsePodTemplate("f", []byte(body))
		var verr *jobs.ValidationError
		if !errors.As(err, &verr) || !strings.Contains(verr.Rule, rule) {
			t.Errorf("ParsePodTemplate(%q) = %v, want rule containing %q", body, err, rule)
		}
	}
}

func TestTemplatesFetchHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/driver.yaml":
			io.WriteString(w, podYAML)
		case "/flaky.yaml":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tpl := &Templates{HTTP: srv.Client()}
	data, err := tpl.Fetch(context.Background(), "f", srv.URL+"/driver.yaml")
	if err != nil || string(data) != podYAML {
		t.Fatalf("Fetch(https) = %q, %v", data, err)
	}
	_, err = tpl.Fetch(context.Background(), "f", srv.URL+"/missing.yaml?X-Amz-Signature=secret")
	var verr *jobs.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(verr.Rule, "HTTP 404") || strings.Contains(verr.Rule, "secret") {
		t.Errorf("Fetch(missing) = %v, want a validation error naming HTTP 404 without the URL's query", err)
	}
	// A server error is worth retrying: not the user's fault, so not a validation error.
	_, err = tpl.Fetch(context.Background(), "f", srv.URL+"/flaky.yaml")
	if err == nil || errors.As(err, &verr) {
		t.Errorf("Fetch(503) = %v, want a retryable (non-validation) error", err)
	}
}
