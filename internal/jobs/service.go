package jobs

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Releases tells which release labels the server can run (internal/release's catalog).
type Releases interface {
	// Check says why a job run with label cannot be accepted (an unknown label, with the
	// nearest valid ones; a release whose Spark the builder does not support, with the
	// supported range), or nil.
	Check(label string) error
}

// Roles tells whether an execution role is registered and may be used on a virtual cluster.
type Roles interface {
	Allowed(roleArn, virtualClusterID string) bool
}

// ContainerProviders tells whether a container provider (Kubernetes cluster) id is configured,
// and which of its namespaces virtual clusters may use.
type ContainerProviders interface {
	Known(id string) bool
	// NamespaceAllowed returns "" when virtual clusters of provider id may use namespace, else
	// the rule that refuses it.
	NamespaceAllowed(id, namespace string) string
}

// Config holds what Service needs beside its store.
type Config struct {
	// Region and AccountID go into every ARN.
	Region    string
	AccountID string
	// Releases, Roles and ContainerProviders check references to server configuration.
	// Each must be set.
	Releases           Releases
	Roles              Roles
	ContainerProviders ContainerProviders
	// CheckJob validates a job run's Spark input (sparkSubmitParameters, classifications, keys
	// the service owns) against the settings in force on its virtual cluster (the pod policy)
	// before it is stored; a *ValidationError refuses the request. Nil checks nothing beyond
	// the API model.
	CheckJob func(JobRun, VirtualClusterSettings) error
	// DefaultSettings apply to virtual clusters the operator put no settings on. Their zero
	// value has no queue limit and a pod policy that refuses every node-level privilege.
	DefaultSettings VirtualClusterSettings
	// Notify is told the id of every job run that was accepted or asked to cancel, so the
	// lifecycle controller acts at once instead of at its next resync. Nil does nothing.
	Notify func(jobRunID string)
	// Logger receives one line per state change; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service carries out the emr-containers operations on the domain. It is safe for concurrent
// use; all state lives in the Store.
type Service struct {
	store Store
	cfg   Config
	log   *slog.Logger
}

// NewService returns a Service over store. It fails when a required part of cfg is missing.
func NewService(store Store, cfg Config) (*Service, error) {
	if store == nil || cfg.Releases == nil || cfg.Roles == nil || cfg.ContainerProviders == nil {
		return nil, errors.New("jobs.NewService: store, Releases, Roles and ContainerProviders are required")
	}
	if cfg.Region == "" || cfg.AccountID == "" {
		return nil, errors.New("jobs.NewService: Region and AccountID are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, cfg: cfg, log: log}, nil
}

// Input types. Their JSON tags are the request members of the emr-containers API.

// CreateVirtualClusterInput is the body of CreateVirtualCluster.
type CreateVirtualClusterInput struct {
	Name                    string             `json:"name"`
	ContainerProvider       *ContainerProvider `json:"containerProvider"`
	ClientToken             string             `json:"clientToken"`
	Tags                    map[string]string  `json:"tags,omitempty"`
	SecurityConfigurationID string             `json:"securityConfigurationId,omitempty"`
}

// StartJobRunInput is the body of StartJobRun plus the virtual cluster id from the path.
type StartJobRunInput struct {
	VirtualClusterID         string                    `json:"-"`
	Name                     string                    `json:"name,omitempty"`
	ClientToken              string                    `json:"clientToken"`
	ExecutionRoleArn         string                    `json:"executionRoleArn,omitempty"`
	ReleaseLabel             string                    `json:"releaseLabel,omitempty"`
	JobDriver                *JobDriver                `json:"jobDriver,omitempty"`
	ConfigurationOverrides   *ConfigurationOverrides   `json:"configurationOverrides,omitempty"`
	Tags                     map[string]string         `json:"tags,omitempty"`
	JobTemplateID            string                    `json:"jobTemplateId,omitempty"`
	JobTemplateParameters    map[string]string         `json:"jobTemplateParameters,omitempty"`
	RetryPolicyConfiguration *RetryPolicyConfiguration `json:"retryPolicyConfiguration,omitempty"`
}

// CreateJobTemplateInput is the body of CreateJobTemplate.
type CreateJobTemplateInput struct {
	Name            string            `json:"name"`
	ClientToken     string            `json:"clientToken"`
	JobTemplateData *JobTemplateData  `json:"jobTemplateData"`
	Tags            map[string]string `json:"tags,omitempty"`
	KMSKeyArn       string            `json:"kmsKeyArn,omitempty"`
}

// CreateSecurityConfigurationInput is the body of CreateSecurityConfiguration.
type CreateSecurityConfigurationInput struct {
	Name                      string                     `json:"name"`
	ClientToken               string                     `json:"clientToken"`
	SecurityConfigurationData *SecurityConfigurationData `json:"securityConfigurationData"`
	Tags                      map[string]string          `json:"tags,omitempty"`
	ContainerProvider         *ContainerProvider         `json:"containerProvider,omitempty"`
}

// requestHash fingerprints a request (without its clientToken) for idempotency checks.
func requestHash(v any) string {
	raw, _ := json.Marshal(v) // the inputs are plain data; Marshal cannot fail on them
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// newID returns n random lowercase alphanumeric characters, the API's ID format.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	// The first character is a letter-or-digit like the rest; AWS ids start with a digit or letter.
	return string(b)
}

// ID lengths follow what AWS returns.
const (
	virtualClusterIDLen = 25
	jobRunIDLen         = 19
	templateIDLen       = 19
	securityConfigIDLen = 19
)

func (s *Service) arn(resource string) string {
	return fmt.Sprintf("arn:aws:emr-containers:%s:%s:/%s", s.cfg.Region, s.cfg.AccountID, resource)
}

func (s *Service) now() time.Time { return truncateTime(s.cfg.Now()) }

func validateID(field, id string) error {
	var e errs
	e.str(field, id, true, 1, 64, reResourceID)
	return e.result()
}

// pageSize applies the default and the upper bound to maxResults.
func pageSize(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}
