package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/buildinfo"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Controller tunes the lifecycle controller.
type Controller struct {
	// PendingTimeout is how long a driver pod may stay unschedulable before its attempt fails
	// (default 10m).
	PendingTimeout Duration `json:"pendingTimeout,omitempty"`
	// DriverTTL is how long finished driver pods are kept for their logs (default 1h).
	DriverTTL Duration `json:"driverTTL,omitempty"`
	// Resync is how often every unfinished job run is looked at without an event (default 30s).
	Resync Duration `json:"resync,omitempty"`
	// Workers is the number of job runs reconciled at once (default 32).
	Workers int `json:"workers,omitempty"`
	// KubeTimeout bounds the Kubernetes calls of one reconcile (default 10s); a run whose
	// calls time out waits, and its stateDetails says it waits for Kubernetes.
	KubeTimeout Duration `json:"kubeTimeout,omitempty"`
	// Disabled serves the API without running jobs (job runs stay PENDING); for API-only
	// replicas and tests.
	Disabled bool `json:"disabled,omitempty"`
}

// S3 is an S3-compatible object store.
type S3 struct {
	// Endpoint is the store's URL; empty means AWS S3 of Region.
	Endpoint string `json:"endpoint,omitempty"`
	// Region defaults to the server's region.
	Region string `json:"region,omitempty"`
	// AccessKeyID and SecretAccessKey are static credentials; empty means the AWS default
	// chain (environment, shared files, IRSA, instance role).
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	// ForcePathStyle addresses buckets as <endpoint>/<bucket>, which most S3-compatible
	// servers need.
	ForcePathStyle bool `json:"forcePathStyle,omitempty"`
}

// String hides the secret so the settings can be logged.
func (s S3) String() string {
	return fmt.Sprintf("S3{endpoint=%s region=%s accessKeyId=%s}", s.Endpoint, s.Region, s.AccessKeyID)
}

// JobDefaults are an operator's defaults for the job runs of some virtual clusters.
type JobDefaults struct {
	// VirtualClusters are the virtual cluster ids or names these defaults apply to; "*" is all.
	VirtualClusters []string `json:"virtualClusters"`
	// SparkConf is merged below the job's spark-defaults and sparkSubmitParameters.
	SparkConf map[string]string `json:"sparkConf,omitempty"`
	// DriverPodTemplate and ExecutorPodTemplate are template URIs used when the job names none.
	DriverPodTemplate   string `json:"driverPodTemplate,omitempty"`
	ExecutorPodTemplate string `json:"executorPodTemplate,omitempty"`
}

// Duration is a time.Duration written as "90s", "10m" or "1h" in YAML.
type Duration struct{ time.Duration }

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string like \"10m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", s, err)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (c Config) validateJobs() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	for name, d := range map[string]Duration{"controller.pendingTimeout": c.Controller.PendingTimeout,
		"controller.driverTTL": c.Controller.DriverTTL, "controller.resync": c.Controller.Resync,
		"controller.kubeTimeout": c.Controller.KubeTimeout} {
		if d.Duration < 0 {
			bad(name, "must not be negative, got %s", d)
		}
	}
	if c.Controller.Workers < 0 || c.Controller.Workers > 1000 {
		bad("controller.workers", "must be between 0 (default) and 1000, got %d", c.Controller.Workers)
	}
	if c.S3.Endpoint != "" {
		if u, err := url.Parse(c.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("s3.endpoint", "must be an http:// or https:// URL, got %q", c.S3.Endpoint)
		}
	}
	if (c.S3.AccessKeyID == "") != (c.S3.SecretAccessKey == "") {
		bad("s3", "accessKeyId and secretAccessKey must be set together")
	}
	for i, dir := range c.PodTemplateDirs {
		if !filepath.IsAbs(dir) {
			bad(fmt.Sprintf("podTemplateDirs[%d]", i), "must be an absolute path, got %q", dir)
		}
	}
	for i, d := range c.JobDefaults {
		field := fmt.Sprintf("jobDefaults[%d]", i)
		if len(d.VirtualClusters) == 0 {
			bad(field+".virtualClusters", "must name at least one virtual cluster id or name, or \"*\"")
		}
		for k := range d.SparkConf {
			if !strings.HasPrefix(k, "spark.") {
				bad(field+".sparkConf", "keys must start with \"spark.\", got %q", k)
			}
		}
		for name, uri := range map[string]string{"driverPodTemplate": d.DriverPodTemplate, "executorPodTemplate": d.ExecutorPodTemplate} {
			if uri != "" && !strings.Contains(uri, "://") {
				bad(field+"."+name, "must be an s3://, https:// or file:// URI, got %q", uri)
			}
		}
	}
	return errs
}

// LogShipping is how the stdout and stderr of the drivers and executors of runs with an
// s3MonitoringConfiguration.logUri reach S3 (docs/design/logs.md): an install container and a
// native sidecar running sparkplane's image join those pods.
type LogShipping struct {
	// Disabled ships no container logs; such runs keep their Spark event logs, and their
	// stateDetails say the container logs were not shipped.
	Disabled bool `json:"disabled,omitempty"`
	// Image is sparkplane's image, which the added containers run (default
	// DefaultLogShippingImage). It must be the same version as the server.
	Image string `json:"image,omitempty"`
	// ImagePullPolicy is Always, IfNotPresent or Never (default IfNotPresent).
	ImagePullPolicy string `json:"imagePullPolicy,omitempty"`
	// Entrypoints are where the Spark images' entrypoint may be: the wrapper runs the first
	// one present in the container (default /opt/entrypoint.sh, the Apache images', then
	// /usr/bin/entrypoint.sh, EMR's).
	Entrypoints []string `json:"entrypoints,omitempty"`
	// Endpoint is the S3 endpoint URL the sidecars write to (empty: AWS S3), with Region and
	// ForcePathStyle as for s3.
	Endpoint       string `json:"endpoint,omitempty"`
	Region         string `json:"region,omitempty"`
	ForcePathStyle bool   `json:"forcePathStyle,omitempty"`
	// CredentialsSecret names a Secret, in each job's namespace, holding AWS_ACCESS_KEY_ID and
	// AWS_SECRET_ACCESS_KEY for the sidecars. Empty (the default) means the pods' own
	// credentials: on EKS, the job's execution role through IRSA.
	CredentialsSecret string `json:"credentialsSecret,omitempty"`
	// CPU and Memory are the added containers' requests (default 50m, 64Mi); the memory
	// limit is twice the request.
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
}

// DefaultLogShippingImage is the image the log-shipping containers run when none is set:
// sparkplane's published image of this server's version (latest for a development build).
func DefaultLogShippingImage() string {
	v := buildinfo.Version
	if v == "" || v == "dev" {
		v = "latest"
	}
	return "ghcr.io/sparkplane/sparkplane:" + v
}

// DefaultEntrypoints are the Spark images' entrypoints the wrapper looks for.
var DefaultEntrypoints = []string{"/opt/entrypoint.sh", "/usr/bin/entrypoint.sh"}

func (l LogShipping) validate(bad func(field, format string, args ...any)) {
	switch l.ImagePullPolicy {
	case "", "Always", "IfNotPresent", "Never":
	default:
		bad("logShipping.imagePullPolicy", "must be Always, IfNotPresent or Never, got %q", l.ImagePullPolicy)
	}
	if l.Image != "" && strings.ContainsAny(l.Image, " \t\n") {
		bad("logShipping.image", "must be an image reference without spaces, got %q", l.Image)
	}
	for i, e := range l.Entrypoints {
		if !filepath.IsAbs(e) || strings.Contains(e, ",") {
			bad(fmt.Sprintf("logShipping.entrypoints[%d]", i), "must be an absolute path without commas, got %q", e)
		}
	}
	if l.Endpoint != "" {
		if u, err := url.Parse(l.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("logShipping.endpoint", "must be an http(s) URL such as https://s3.example.com, got %q", l.Endpoint)
		}
	}
	if l.CredentialsSecret != "" && !reSecretName.MatchString(l.CredentialsSecret) {
		bad("logShipping.credentialsSecret", "must be a Kubernetes object name (lowercase letters, digits, '-' and '.'), got %q", l.CredentialsSecret)
	}
	for field, v := range map[string]string{"logShipping.cpu": l.CPU, "logShipping.memory": l.Memory} {
		if v == "" {
			continue
		}
		if _, err := resource.ParseQuantity(v); err != nil {
			bad(field, "must be a Kubernetes quantity such as 50m or 64Mi, got %q", v)
		}
	}
}

var reSecretName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
