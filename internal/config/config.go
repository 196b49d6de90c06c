package config

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Config is the whole server configuration. The YAML names are the JSON tags.
type Config struct {
	Listen         string `json:"listen,omitempty"`
	DataDir        string `json:"dataDir,omitempty"`
	Database       string `json:"database,omitempty"`
	Region         string `json:"region,omitempty"`
	AccountID      string `json:"accountId,omitempty"`
	LogLevel       string `json:"logLevel,omitempty"`
	ReleaseCatalog string `json:"releaseCatalog,omitempty"`
	// CostCatalog is an optional price file laid over the built-in price catalog.
	CostCatalog string `json:"costCatalog,omitempty"`
	// MetricsToken, when set, is the bearer token Prometheus must send to read /metrics.
	MetricsToken       string              `json:"metricsToken,omitempty"`
	TLS                TLS                 `json:"tls,omitempty"`
	CredentialsFile    string              `json:"credentialsFile,omitempty"`
	Credentials        []Credential        `json:"credentials,omitempty"`
	ExecutionRoles     []ExecutionRole     `json:"executionRoles,omitempty"`
	ContainerProviders []ContainerProvider `json:"containerProviders,omitempty"`
	// Controller tunes the lifecycle controller that runs job runs on the container providers.
	Controller Controller `json:"controller,omitempty"`
	// LeaderElection makes one of several replicas run the controller and the cost recorders.
	LeaderElection LeaderElection `json:"leaderElection,omitempty"`
	// S3 is the object store s3:// pod templates are read from.
	S3 S3 `json:"s3,omitempty"`
	// PodTemplateDirs are the server-side directories file:// pod templates may come from;
	// empty refuses file:// templates.
	PodTemplateDirs []string `json:"podTemplateDirs,omitempty"`
	// JobDefaults are Spark settings and pod templates an operator sets once per virtual
	// cluster, below the user's own settings in precedence. A virtual cluster whose settings
	// (sparkplane virtual-clusters put-settings) carry jobDefaults uses those instead.
	JobDefaults []JobDefaults `json:"jobDefaults,omitempty"`
	// DefaultSettings apply to every virtual cluster the operator put no settings on. Absent,
	// there is no queue limit and the pod policy refuses every node-level privilege.
	DefaultSettings *jobs.VirtualClusterSettings `json:"defaultSettings,omitempty"`
	// SecretsKeyFile holds the key that seals the secrets of users' access keys in the
	// database (64 hex digits or base64 of 32 bytes, mode 0600). Default
	// <dataDir>/secrets.key, created on first start; keep it apart from database backups.
	// SPARKPLANE_SECRETS_KEY gives the key itself instead (for a Kubernetes Secret).
	SecretsKeyFile string `json:"secretsKeyFile,omitempty"`
	// Audit tunes the audit log.
	Audit Audit `json:"audit,omitempty"`
	// EventLogURI is where Spark event logs of runs with persistentAppUI (EMR's default) but
	// no s3MonitoringConfiguration.logUri go, an s3:// URI; empty: only runs with a logUri
	// keep event logs. The drivers write there with their own (IRSA) credentials.
	EventLogURI string `json:"eventLogUri,omitempty"`
	// LogShipping ships the container logs of runs with a logUri to S3.
	LogShipping LogShipping `json:"logShipping,omitempty"`
	// SparkUI tunes the live Spark UI route, which proxies a running driver's UI.
	SparkUI SparkUI `json:"sparkUI,omitempty"`
	// Console tunes the web console served at /console/.
	Console Console `json:"console,omitempty"`
}

// Console tunes the web console.
type Console struct {
	// Disabled leaves /console/ out: only the API is served.
	Disabled bool `json:"disabled,omitempty"`
	// SessionDuration is how long a sign-in lasts (default 12h, at most 168h).
	SessionDuration Duration `json:"sessionDuration,omitempty"`
	// SecureCookies marks the console's cookies Secure although this server serves plain
	// HTTP: set it behind a proxy that terminates TLS. Under tls they are Secure anyway.
	SecureCookies bool `json:"secureCookies,omitempty"`
}

// MaxConsoleSession is the longest console.sessionDuration accepted.
const MaxConsoleSession = 168 * time.Hour

// SparkUI tunes the live Spark UI route.
type SparkUI struct {
	// LiveAccess is how the server reaches a driver's UI port: LiveAccessDirect dials the
	// pod's IP (the server must be in the cluster's pod network), LiveAccessPortForward goes
	// through the API server's pods/portforward (works from anywhere the API server is
	// reachable), LiveAccessAuto (the default, also "") picks direct for a container provider
	// reached with the in-cluster service account while the server runs in a pod, else
	// port-forward.
	LiveAccess string `json:"liveAccess,omitempty"`
}

// The values of sparkUI.liveAccess.
const (
	LiveAccessAuto        = "auto"
	LiveAccessDirect      = "direct"
	LiveAccessPortForward = "portforward"
)

// Audit tunes the audit log of every call.
type Audit struct {
	// Retention is how long events are kept (default 90 days, "2160h").
	Retention Duration `json:"retention,omitempty"`
}

// TLS names the certificate and key to serve HTTPS with.
type TLS struct {
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
}

// Credential is one access key accepted for SigV4 and the principal it authenticates as.
type Credential struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	Principal       string `json:"principal,omitempty"`
}

// String hides the secret so a Credential can never be logged by accident.
func (c Credential) String() string { return "Credential{" + c.AccessKeyID + " " + c.Principal + "}" }

// ExecutionRole is an IAM-style role ARN job runs may name, and where.
type ExecutionRole struct {
	Arn             string   `json:"arn"`
	VirtualClusters []string `json:"virtualClusters,omitempty"`
}

// ContainerProvider is a Kubernetes cluster virtual clusters can be created on.
type ContainerProvider struct {
	ID string `json:"id"`
	// Kubeconfig is the path of a kubeconfig file; empty means the in-cluster service account
	// (sparkplane deployed on the cluster it drives).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
	// CreateNamespaces lets sparkplane create a virtual cluster's namespace when it is missing.
	CreateNamespaces bool `json:"createNamespaces,omitempty"`
	// Namespaces are the namespaces virtual clusters may use: exact names or prefixes ending
	// in "*". Empty allows any namespace but the system ones (kube-*) and sparkplane's own
	// (POD_NAMESPACE when it runs in the cluster); see NamespaceAllowed.
	Namespaces []string `json:"namespaces,omitempty"`
}

// NamespaceAllowed returns "" when virtual clusters on this provider may use namespace, else
// the rule that refuses it. Job drivers get pod-creating rights in their namespace, so the
// system namespaces and the one sparkplane itself runs in are never allowed by default.
func (p ContainerProvider) NamespaceAllowed(namespace, ownNamespace string) string {
	if len(p.Namespaces) > 0 {
		for _, pattern := range p.Namespaces {
			if prefix, ok := strings.CutSuffix(pattern, "*"); ok && strings.HasPrefix(namespace, prefix) || pattern == namespace {
				return ""
			}
		}
		return fmt.Sprintf("namespace %q is not one container provider %q allows (%s)", namespace, p.ID, strings.Join(p.Namespaces, ", "))
	}
	if strings.HasPrefix(namespace, "kube-") {
		return fmt.Sprintf("namespace %q is a Kubernetes system namespace; job runs may not use it", namespace)
	}
	if ownNamespace != "" && namespace == ownNamespace {
		return fmt.Sprintf("namespace %q is where sparkplane itself runs; job runs may not use it", namespace)
	}
	return ""
}

// Defaults returns the configuration `sparkplane server` runs with when given nothing.
func Defaults() Config {
	return Config{
		Listen:    "127.0.0.1:8790",
		DataDir:   defaultDataDir(),
		Region:    "us-east-1",
		AccountID: "000000000000",
		LogLevel:  "info",
	}
}

func defaultDataDir() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "sparkplane")
}

// Flags holds the command-line flags; RegisterFlags creates them.
type Flags struct {
	fs                                                      *pflag.FlagSet
	config, listen, dataDir, credentials, region, accountID string
}

// RegisterFlags adds the server flags to fs.
func RegisterFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{fs: fs}
	fs.StringVar(&f.config, "config", "", "YAML configuration file (env SPARKPLANE_CONFIG)")
	fs.StringVar(&f.listen, "listen", "", "address to listen on, host:port (default 127.0.0.1:8790)")
	fs.StringVar(&f.dataDir, "data-dir", "", "directory for the database and generated credentials (default ${XDG_DATA_HOME:-~/.local/share}/sparkplane)")
	fs.StringVar(&f.credentials, "credentials-file", "", "access keys in AWS shared-credentials format (default <data-dir>/credentials)")
	fs.StringVar(&f.region, "region", "", "region in ARNs and the SigV4 scope (default us-east-1)")
	fs.StringVar(&f.accountID, "account-id", "", "12-digit account id in ARNs (default 000000000000)")
	return f
}

// envVars maps SPARKPLANE_* variables to the field they set.
var envVars = map[string]func(*Config, string){
	"SPARKPLANE_LISTEN":           func(c *Config, v string) { c.Listen = v },
	"SPARKPLANE_DATA_DIR":         func(c *Config, v string) { c.DataDir = v },
	"SPARKPLANE_DATABASE":         func(c *Config, v string) { c.Database = v },
	"SPARKPLANE_CREDENTIALS_FILE": func(c *Config, v string) { c.CredentialsFile = v },
	"SPARKPLANE_REGION":           func(c *Config, v string) { c.Region = v },
	"SPARKPLANE_ACCOUNT_ID":       func(c *Config, v string) { c.AccountID = v },
	"SPARKPLANE_LOG_LEVEL":        func(c *Config, v string) { c.LogLevel = v },
	"SPARKPLANE_SECRETS_KEY_FILE": func(c *Config, v string) { c.SecretsKeyFile = v },
}

// Load builds the configuration from defaults, the file, the environment (getenv) and the
// flags that were set, then validates it and fills derived paths.
func Load(f *Flags, getenv func(string) string) (Config, error) {
	c := Defaults()
	path := getenv("SPARKPLANE_CONFIG")
	if f != nil && f.config != "" {
		path = f.config
	}
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return Config{}, err
		}
	}
	for name, set := range envVars {
		if v := getenv(name); v != "" {
			set(&c, v)
		}
	}
	if f != nil {
		for name, v := range map[string]struct {
			val string
			set func(string)
		}{
			"listen":           {f.listen, func(v string) { c.Listen = v }},
			"data-dir":         {f.dataDir, func(v string) { c.DataDir = v }},
			"credentials-file": {f.credentials, func(v string) { c.CredentialsFile = v }},
			"region":           {f.region, func(v string) { c.Region = v }},
			"account-id":       {f.accountID, func(v string) { c.AccountID = v }},
		} {
			if f.fs.Changed(name) {
				v.set(v.val)
			}
		}
	}
	if c.Database == "" {
		c.Database = filepath.Join(c.DataDir, "sparkplane.db")
	}
	if c.CredentialsFile == "" {
		c.CredentialsFile = filepath.Join(c.DataDir, "credentials")
	}
	if c.SecretsKeyFile == "" {
		c.SecretsKeyFile = filepath.Join(c.DataDir, "secrets.key")
	}
	return c, c.Validate()
}

func (c *Config) loadFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(raw, c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

var (
	reAccount = regexp.MustCompile(`^\d{12}$`)
	reRegion  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	reRole    = regexp.MustCompile(`^arn:aws[a-zA-Z0-9-]*:iam::\d{12}:role/[\x21-\x7F]+$`)
	reKeyID   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	reProv    = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`)
)

// Validate checks every field; the error names the field and the rule.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "must be host:port, got %q", c.Listen)
	}
	if c.DataDir == "" {
		bad("dataDir", "is required")
	}
	if !reRegion.MatchString(c.Region) {
		bad("region", "must look like us-east-1, got %q", c.Region)
	}
	if !reAccount.MatchString(c.AccountID) {
		bad("accountId", "must be 12 digits, got %q", c.AccountID)
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		bad("logLevel", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls", "certFile and keyFile must be set together")
	}
	for i, k := range c.Credentials {
		if !reKeyID.MatchString(k.AccessKeyID) {
			bad(fmt.Sprintf("credentials[%d].accessKeyId", i), "must be 16-128 uppercase letters or digits")
		}
		if len(k.SecretAccessKey) < 16 {
			bad(fmt.Sprintf("credentials[%d].secretAccessKey", i), "must be at least 16 characters")
		}
	}
	for i, r := range c.ExecutionRoles {
		if !reRole.MatchString(r.Arn) {
			bad(fmt.Sprintf("executionRoles[%d].arn", i), "must be an IAM role ARN like arn:aws:iam::000000000000:role/name, got %q", r.Arn)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.ContainerProviders {
		if !reProv.MatchString(p.ID) {
			bad(fmt.Sprintf("containerProviders[%d].id", i), "must match [0-9A-Za-z][A-Za-z0-9-_]* (at most 100), got %q", p.ID)
		}
		if seen[p.ID] {
			bad(fmt.Sprintf("containerProviders[%d].id", i), "duplicate id %q", p.ID)
		}
		seen[p.ID] = true
	}
	errs = append(errs, c.validateJobs()...)
	errs = append(errs, c.validateDatabase()...)
	errs = append(errs, c.validateLeaderElection()...)
	if c.DefaultSettings != nil {
		if err := c.DefaultSettings.Validate(); err != nil {
			bad("defaultSettings", "%v", strings.TrimPrefix(err.Error(), "settings."))
		}
	}
	if c.EventLogURI != "" && (!strings.HasPrefix(c.EventLogURI, "s3://") || len(c.EventLogURI) == len("s3://")) {
		bad("eventLogUri", "must be an S3 URI such as s3://bucket/spark-event-logs, got %q", c.EventLogURI)
	}
	c.LogShipping.validate(bad)
	switch c.SparkUI.LiveAccess {
	case "", LiveAccessAuto, LiveAccessDirect, LiveAccessPortForward:
	default:
		bad("sparkUI.liveAccess", "must be %s, %s or %s, got %q", LiveAccessAuto, LiveAccessDirect, LiveAccessPortForward, c.SparkUI.LiveAccess)
	}
	if c.Audit.Retention.Duration < 0 {
		bad("audit.retention", "must not be negative, got %s", c.Audit.Retention)
	}
	if d := c.Console.SessionDuration.Duration; d < 0 || d > MaxConsoleSession {
		bad("console.sessionDuration", "must be between 0 (the default, 12h) and %s, got %s", MaxConsoleSession, c.Console.SessionDuration)
	}
	return errors.Join(errs...)
}

// DefaultPrincipal is the principal of an access key that names none.
func (c Config) DefaultPrincipal(accessKeyID string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user/%s", c.AccountID, accessKeyID)
}

// ReadCredentialsFile parses an AWS shared-credentials file. A missing file yields no keys and
// no error.
func ReadCredentialsFile(path string) ([]Credential, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open credentials file: %w", err)
	}
	defer f.Close()
	var out []Credential
	var cur *Credential
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, ";"):
		case strings.HasPrefix(text, "[") && strings.HasSuffix(text, "]"):
			out = append(out, Credential{})
			cur = &out[len(out)-1]
		default:
			k, v, ok := strings.Cut(text, "=")
			if !ok || cur == nil {
				return nil, fmt.Errorf("credentials file %s line %d: expected [profile] or key = value", path, line)
			}
			switch strings.TrimSpace(k) {
			case "aws_access_key_id":
				cur.AccessKeyID = strings.TrimSpace(v)
			case "aws_secret_access_key":
				cur.SecretAccessKey = strings.TrimSpace(v)
			case "sparkplane_principal":
				cur.Principal = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read credentials file: %w", err)
	}
	for i, c := range out {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("credentials file %s: profile %d needs aws_access_key_id and aws_secret_access_key", path, i+1)
		}
	}
	return out, nil
}

// EnsureCredentials returns every configured access key. When neither the configuration nor
// the credentials file holds one, it generates a key, writes it to the credentials file with
// 0600 permissions and returns it as generated (for the caller to print once).
func (c Config) EnsureCredentials() (keys []Credential, generated *Credential, err error) {
	fromFile, err := ReadCredentialsFile(c.CredentialsFile)
	if err != nil {
		return nil, nil, err
	}
	keys = append(append(keys, c.Credentials...), fromFile...)
	if len(keys) == 0 {
		g, err := newCredential()
		if err != nil {
			return nil, nil, err
		}
		if err := os.MkdirAll(filepath.Dir(c.CredentialsFile), 0o700); err != nil {
			return nil, nil, fmt.Errorf("create credentials directory: %w", err)
		}
		body := fmt.Sprintf("# Generated by sparkplane server. Use with AWS_SHARED_CREDENTIALS_FILE=%s\n[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
			c.CredentialsFile, g.AccessKeyID, g.SecretAccessKey)
		f, err := os.OpenFile(c.CredentialsFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("create credentials file: %w", err)
		}
		if _, err := f.WriteString(body); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("write credentials file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, nil, fmt.Errorf("write credentials file: %w", err)
		}
		keys = append(keys, g)
		generated = &g
	}
	for i := range keys {
		if keys[i].Principal == "" {
			keys[i].Principal = c.DefaultPrincipal(keys[i].AccessKeyID)
		}
	}
	return keys, generated, nil
}

func newCredential() (Credential, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	id := make([]byte, 17)
	secret := make([]byte, 30)
	if _, err := rand.Read(id); err != nil {
		return Credential{}, fmt.Errorf("generate access key: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return Credential{}, fmt.Errorf("generate secret key: %w", err)
	}
	for i := range id {
		id[i] = alphabet[int(id[i])%len(alphabet)]
	}
	return Credential{AccessKeyID: "SPK" + string(id), SecretAccessKey: base64.RawURLEncoding.EncodeToString(secret)}, nil
}
