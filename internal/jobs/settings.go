package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// VirtualClusterSettings are what the operator decides for one virtual cluster: how many of
// its job runs may hold the cluster at once, what their pods may do on the nodes, and the
// Spark defaults its jobs start from. They are sparkplane's own (EMR has no such resource),
// set through the signed extension route PUT /virtualclusters/{id}/settings, which policies
// see as the action sparkplane:PutVirtualClusterSettings.
type VirtualClusterSettings struct {
	// MaxConcurrentJobRuns bounds the runs that hold a driver (or are about to create one)
	// at once; runs beyond it stay PENDING, first in first out. 0 means no limit.
	MaxConcurrentJobRuns int `json:"maxConcurrentJobRuns,omitempty"`
	// PodPolicy is checked on the driver pod and executor template the builder produces.
	PodPolicy PodPolicy `json:"podPolicy"`
	// JobDefaults are merged below each job's own settings; nil falls back to the server
	// configuration's jobDefaults for this virtual cluster.
	JobDefaults *JobDefaults `json:"jobDefaults,omitempty"`
}

// PodPolicy says which node-level privileges the pods of a virtual cluster's jobs may ask
// for. The zero value refuses all of them: privileged containers and privilege escalation,
// the node's namespaces and ports, hostPath volumes, added capabilities and uid 0.
type PodPolicy struct {
	// AllowedHostPaths are the node directories hostPath volumes may mount: a volume's path
	// must be one of them or lie below one (compared on cleaned paths, whole segments).
	AllowedHostPaths []string `json:"allowedHostPaths,omitempty"`
	// AllowedCapabilities are the Linux capabilities containers may add (e.g. NET_BIND_SERVICE);
	// "ALL" allows any.
	AllowedCapabilities []string `json:"allowedCapabilities,omitempty"`
	// AllowRoot permits runAsUser 0.
	AllowRoot bool `json:"allowRoot,omitempty"`
	// AllowPrivileged permits privileged containers and allowPrivilegeEscalation: true.
	AllowPrivileged bool `json:"allowPrivileged,omitempty"`
	// AllowHostNamespaces permits hostNetwork, hostPID, hostIPC and container hostPorts.
	AllowHostNamespaces bool `json:"allowHostNamespaces,omitempty"`
}

// JobDefaults are an operator's Spark settings for every job run of a virtual cluster, below
// the job's own (spark-defaults classification, sparkSubmitParameters).
type JobDefaults struct {
	SparkConf map[string]string `json:"sparkConf,omitempty"`
	// DriverPodTemplate and ExecutorPodTemplate are template URIs used when a job names none.
	DriverPodTemplate   string `json:"driverPodTemplate,omitempty"`
	ExecutorPodTemplate string `json:"executorPodTemplate,omitempty"`
}

// Limits of settings documents.
const (
	maxConcurrentJobRunsLimit = 100000
	maxSettingsBytes          = 64 << 10
	maxPolicyEntries          = 100
)

var reCapability = regexp.MustCompile(`^[A-Z_]+$`)

// ParseVirtualClusterSettings reads a settings document strictly: unknown members are
// refused (a misspelt "alowRoot" must not silently leave the default in force), and the
// values are validated. Errors are *ValidationError naming the member.
func ParseVirtualClusterSettings(doc []byte) (VirtualClusterSettings, error) {
	var s VirtualClusterSettings
	if len(doc) > maxSettingsBytes {
		return s, invalid("settings", "must be at most %d bytes, got %d", maxSettingsBytes, len(doc))
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return s, invalid("settings", "must be a JSON object, got %s", te.Value)
			}
			return s, invalid("settings."+te.Field, "must be a JSON %s, got %s", jsonKindName(te.Type.Kind().String()), te.Value)
		}
		msg := err.Error()
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return s, invalid("settings", "unknown member %s; known members are maxConcurrentJobRuns, podPolicy "+
				"(allowedHostPaths, allowedCapabilities, allowRoot, allowPrivileged, allowHostNamespaces) and "+
				"jobDefaults (sparkConf, driverPodTemplate, executorPodTemplate)", f)
		}
		return s, invalid("settings", "must be a JSON object: %s", msg)
	}
	if dec.More() {
		return s, invalid("settings", "must hold exactly one JSON object")
	}
	return s, s.Validate()
}

// Validate checks the settings' values; the first broken rule is returned as a
// *ValidationError.
func (s VirtualClusterSettings) Validate() error {
	var e errs
	if s.MaxConcurrentJobRuns < 0 || s.MaxConcurrentJobRuns > maxConcurrentJobRunsLimit {
		e.fail("settings.maxConcurrentJobRuns", "must be between 0 (no limit) and %d, got %d", maxConcurrentJobRunsLimit, s.MaxConcurrentJobRuns)
	}
	p := s.PodPolicy
	if len(p.AllowedHostPaths) > maxPolicyEntries {
		e.fail("settings.podPolicy.allowedHostPaths", "must have at most %d entries", maxPolicyEntries)
	}
	for i, hp := range p.AllowedHostPaths {
		f := fmt.Sprintf("settings.podPolicy.allowedHostPaths[%d]", i)
		switch {
		case !strings.HasPrefix(hp, "/"):
			e.fail(f, "must be an absolute path, got %q", hp)
		case path.Clean(hp) != hp:
			e.fail(f, "must be a clean path (no //, . or .. segments, no trailing /), got %q; write %q", hp, path.Clean(hp))
		}
	}
	if len(p.AllowedCapabilities) > maxPolicyEntries {
		e.fail("settings.podPolicy.allowedCapabilities", "must have at most %d entries", maxPolicyEntries)
	}
	for i, c := range p.AllowedCapabilities {
		if !reCapability.MatchString(c) {
			e.fail(fmt.Sprintf("settings.podPolicy.allowedCapabilities[%d]", i), "must be a capability name in upper case such as NET_BIND_SERVICE or ALL, got %q", c)
		}
	}
	if d := s.JobDefaults; d != nil {
		if len(d.SparkConf) > maxProperties {
			e.fail("settings.jobDefaults.sparkConf", "must have at most %d entries", maxProperties)
		}
		for k := range d.SparkConf {
			if !strings.HasPrefix(k, "spark.") {
				e.fail("settings.jobDefaults.sparkConf", "key %q must start with spark.", k)
			}
		}
		for _, t := range [...][2]string{{"driverPodTemplate", d.DriverPodTemplate}, {"executorPodTemplate", d.ExecutorPodTemplate}} {
			if uri := t[1]; uri != "" && !strings.HasPrefix(uri, "s3://") && !strings.HasPrefix(uri, "https://") && !strings.HasPrefix(uri, "file://") {
				e.fail("settings.jobDefaults."+t[0], "must be an s3://, https:// or file:// URI, got %q", uri)
			}
		}
	}
	return e.result()
}

// Settings are a virtual cluster's effective settings and where they come from.
type Settings struct {
	VirtualClusterID string                 `json:"virtualClusterId"`
	Settings         VirtualClusterSettings `json:"settings"`
	// Source is "virtualCluster" when the operator put settings on this virtual cluster, and
	// "serverDefault" when the server's configured defaults apply.
	Source string `json:"source"`
}

// Sources of effective settings.
const (
	SettingsFromVirtualCluster = "virtualCluster"
	SettingsFromServer         = "serverDefault"
)

// ARN returns the ARN of a resource of this server, e.g. ARN("virtualclusters/abc").
func (s *Service) ARN(resource string) string { return s.arn(resource) }

// VirtualClusterSettings returns the settings in force on a virtual cluster: those put on it,
// else the server's defaults.
func (s *Service) VirtualClusterSettings(ctx context.Context, id string) (Settings, error) {
	if err := validateID("virtualClusterId", id); err != nil {
		return Settings{}, err
	}
	stored, err := s.store.GetVirtualClusterSettings(ctx, id)
	if err != nil {
		return Settings{}, err
	}
	if stored != nil {
		return Settings{VirtualClusterID: id, Settings: *stored, Source: SettingsFromVirtualCluster}, nil
	}
	return Settings{VirtualClusterID: id, Settings: s.cfg.DefaultSettings, Source: SettingsFromServer}, nil
}

// SettingsOf returns the settings in force on a virtual cluster read from the store: its own,
// or the server's defaults.
func (s *Service) SettingsOf(vc VirtualCluster) VirtualClusterSettings {
	return s.effective(vc.Settings)
}

// effective returns the settings put on a virtual cluster, or the server's defaults.
func (s *Service) effective(put *VirtualClusterSettings) VirtualClusterSettings {
	if put != nil {
		return *put
	}
	return s.cfg.DefaultSettings
}

// PutVirtualClusterSettings replaces a virtual cluster's settings with the document doc (see
// ParseVirtualClusterSettings). Queued runs are looked at again at once, since a raised limit
// may admit them.
func (s *Service) PutVirtualClusterSettings(ctx context.Context, id string, doc []byte) (Settings, error) {
	if err := validateID("virtualClusterId", id); err != nil {
		return Settings{}, err
	}
	settings, err := ParseVirtualClusterSettings(doc)
	if err != nil {
		return Settings{}, err
	}
	vc, err := s.store.GetVirtualCluster(ctx, id)
	if err != nil {
		return Settings{}, err
	}
	if vc.State == VirtualClusterTerminated {
		return Settings{}, invalid("virtualClusterId", "virtual cluster %s is TERMINATED", id)
	}
	if err := s.store.PutVirtualClusterSettings(ctx, id, &settings); err != nil {
		return Settings{}, err
	}
	s.log.Info("virtual cluster settings put", "virtualCluster", id, "maxConcurrentJobRuns", settings.MaxConcurrentJobRuns)
	if queued, err := s.store.ListQueuedJobRunIDs(ctx, id, 1000); err == nil {
		for _, q := range queued {
			s.notify(q)
		}
	}
	return Settings{VirtualClusterID: id, Settings: settings, Source: SettingsFromVirtualCluster}, nil
}

// DeleteVirtualClusterSettings removes the settings put on a virtual cluster; the server's
// defaults apply again.
func (s *Service) DeleteVirtualClusterSettings(ctx context.Context, id string) (Settings, error) {
	if err := validateID("virtualClusterId", id); err != nil {
		return Settings{}, err
	}
	if err := s.store.PutVirtualClusterSettings(ctx, id, nil); err != nil {
		return Settings{}, err
	}
	if queued, err := s.store.ListQueuedJobRunIDs(ctx, id, 1000); err == nil {
		for _, q := range queued {
			s.notify(q)
		}
	}
	return Settings{VirtualClusterID: id, Settings: s.cfg.DefaultSettings, Source: SettingsFromServer}, nil
}

// QueuedJobRunIDs returns up to limit queued runs of a virtual cluster, oldest first; the
// controller looks at them when a slot frees.
func (s *Service) QueuedJobRunIDs(ctx context.Context, virtualClusterID string, limit int) ([]string, error) {
	return s.store.ListQueuedJobRunIDs(ctx, virtualClusterID, limit)
}

// AdmitJobRun is the controller's admission of a queued run (Store.AdmitJobRun), stamped
// with the service's clock.
func (s *Service) AdmitJobRun(ctx context.Context, id string, limit int) (JobRun, Admission, error) {
	return s.store.AdmitJobRun(ctx, id, limit, s.cfg.Now())
}

// jsonKindName names a Go kind as the JSON type that decodes into it.
func jsonKindName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "number"
	case kind == "bool":
		return "boolean"
	case kind == "slice":
		return "array"
	case kind == "string":
		return "string"
	}
	return "object"
}
