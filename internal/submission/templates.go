package submission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	corev1 "k8s.io/api/core/v1"

	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/spark"
)

// DefaultMaxTemplateBytes bounds a pod template file; Kubernetes objects are far smaller.
const DefaultMaxTemplateBytes = 256 << 10

// Templates fetches pod template files named by spark.kubernetes.{driver,executor}.podTemplateFile.
// Errors that are the user's (a bad URI, a missing object, a file that is not a Pod) are
// *jobs.ValidationError; anything else (a network failure) is worth retrying.
type Templates struct {
	// S3 reads s3:// (and s3a://) URIs; nil refuses them.
	S3 *s3.Client
	// HTTP reads https:// URIs; nil uses a client with a 30 s timeout.
	HTTP *http.Client
	// AllowedDirs are the server-side directories file:// URIs may name; empty refuses file://.
	AllowedDirs []string
	// MaxBytes bounds a template (default DefaultMaxTemplateBytes).
	MaxBytes int64
}

// Fetch reads the template at uri. field names the conf key for error messages.
func (t *Templates) Fetch(ctx context.Context, field, uri string) ([]byte, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("must be an s3://, https:// or file:// URI, got %q", uri)}
	}
	switch u.Scheme {
	case "s3", "s3a":
		return t.fetchS3(ctx, field, u)
	case "https", "http":
		return t.fetchHTTP(ctx, field, u)
	case "file":
		return t.fetchFile(field, u)
	case "local":
		return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("%q names a file inside the image, but the template is needed before any pod exists; upload it to S3 instead", uri)}
	}
	return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("scheme %q is not supported; use s3://, https:// or file://", u.Scheme)}
}

func (t *Templates) limit() int64 {
	if t.MaxBytes > 0 {
		return t.MaxBytes
	}
	return DefaultMaxTemplateBytes
}

func (t *Templates) readLimited(field, uri string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, t.limit()+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", uri, err)
	}
	if int64(len(data)) > t.limit() {
		return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("%s is larger than %d bytes", uri, t.limit())}
	}
	return data, nil
}

func (t *Templates) fetchS3(ctx context.Context, field string, u *url.URL) ([]byte, error) {
	if t.S3 == nil {
		return nil, &jobs.ValidationError{Field: field, Rule: "s3:// templates need the server's s3 settings, which are not configured"}
	}
	key := strings.TrimPrefix(u.Path, "/")
	if u.Host == "" || key == "" {
		return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("%q must name a bucket and a key", u.String())}
	}
	out, err := t.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(u.Host), Key: aws.String(key)})
	if err != nil {
		var nsk *s3types.NoSuchKey
		var nsb *s3types.NoSuchBucket
		if errors.As(err, &nsk) || errors.As(err, &nsb) {
			return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("%s does not exist", u.String())}
		}
		return nil, fmt.Errorf("get %s: %w", u.String(), err)
	}
	defer out.Body.Close()
	return t.readLimited(field, u.String(), out.Body)
}

func (t *Templates) fetchHTTP(ctx context.Context, field string, u *url.URL) ([]byte, error) {
	if u.Scheme != "https" {
		return nil, &jobs.ValidationError{Field: field, Rule: "plain http:// is refused; use https://"}
	}
	client := t.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &jobs.ValidationError{Field: field, Rule: err.Error()}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", safeURL(u), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return t.readLimited(field, safeURL(u), resp.Body)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("get %s: HTTP %d", safeURL(u), resp.StatusCode)
	}
	return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("get %s: HTTP %d", safeURL(u), resp.StatusCode)}
}

func (t *Templates) fetchFile(field string, u *url.URL) ([]byte, error) {
	path := filepath.Clean(u.Path)
	allowed := false
	for _, dir := range t.AllowedDirs {
		dir = filepath.Clean(dir)
		if rel, err := filepath.Rel(dir, path); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && filepath.IsAbs(path) {
			allowed = true
			break
		}
	}
	if !allowed {
		return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("file:// templates must lie under a directory the server allows (%s)", strings.Join(t.AllowedDirs, ", "))}
	}
	// Resolve symlinks too, so a link inside an allowed directory cannot point outside it.
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("%s cannot be read: %v", path, errors.Unwrap(err))}
	}
	if real != path {
		return t.fetchFile(field, &url.URL{Scheme: "file", Path: real})
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &jobs.ValidationError{Field: field, Rule: fmt.Sprintf("%s cannot be read", path)}
	}
	defer f.Close()
	return t.readLimited(field, path, f)
}

// ParsePodTemplate decodes a pod template with spark.ParsePodTemplate; its errors become
// validation errors naming field (the conf key that named the template).
func ParsePodTemplate(field string, data []byte) (*corev1.Pod, error) {
	pod, err := spark.ParsePodTemplate(data)
	if err != nil {
		return nil, &jobs.ValidationError{Field: field, Rule: err.Error()}
	}
	return pod, nil
}

// safeURL shows a URL without its user info and query, so a presigned template URL's signature
// never reaches a log or a job's stateDetails.
func safeURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery = nil, "", false
	return c.String()
}
