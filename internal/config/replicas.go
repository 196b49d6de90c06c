package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// LeaderElection decides which of several replicas runs the lifecycle controller and the cost
// recorders: the holder of a Kubernetes Lease (coordination.k8s.io/v1) on the first container
// provider's cluster. Every replica serves the API either way.
type LeaderElection struct {
	// Enabled turns leader election on or off. Unset, it is on with PostgreSQL (the store
	// several replicas share) and off with SQLite (one replica); it applies only to a server
	// that runs the controller (a container provider configured, controller.disabled false).
	Enabled *bool `json:"enabled,omitempty"`
	// Namespace holds the Lease (default POD_NAMESPACE, the namespace sparkplane runs in, else
	// "default").
	Namespace string `json:"namespace,omitempty"`
	// Name is the Lease's name (default "sparkplane").
	Name string `json:"name,omitempty"`
	// LeaseDuration is how long the others wait, after the holder last renewed, before one
	// takes the Lease (default 10s): the failover time after a leader dies without releasing
	// it, plus up to 2.2 retryPeriods.
	LeaseDuration Duration `json:"leaseDuration,omitempty"`
	// RenewDeadline is how long the leader keeps trying to renew before it stops leading
	// (default 7s). It must be shorter than LeaseDuration: the difference is the time a
	// leader that cannot renew has to stop its work before another may start.
	RenewDeadline Duration `json:"renewDeadline,omitempty"`
	// RetryPeriod is how often the leader renews and the others try to take the Lease
	// (default 1s).
	RetryPeriod Duration `json:"retryPeriod,omitempty"`
}

// Defaults of LeaderElection: a replica SIGKILLed while leading is replaced within about
// 10-13 s (LeaseDuration plus up to 2.2 RetryPeriods); the leader stops working at most
// about 8 s after its last renewal (RenewDeadline plus one RetryPeriod), 2 s before the Lease
// can pass to another.
const (
	DefaultLeaseName     = "sparkplane"
	DefaultLeaseDuration = 10 * time.Second
	DefaultRenewDeadline = 7 * time.Second
	DefaultRetryPeriod   = 1 * time.Second
	// leaseJitter is client-go's leaderelection.JitterFactor: the others retry within
	// RetryPeriod * (1 + leaseJitter), and RenewDeadline must exceed RetryPeriod * leaseJitter.
	leaseJitter = 1.2
)

// LeaderElectionOn reports whether this server takes part in leader election: as configured,
// else when its store is PostgreSQL; never when it runs no controller.
func (c Config) LeaderElectionOn() bool {
	if c.Controller.Disabled || len(c.ContainerProviders) == 0 {
		return false
	}
	if c.LeaderElection.Enabled != nil {
		return *c.LeaderElection.Enabled
	}
	return isPostgresURL(c.Database)
}

// WithDefaults returns the settings with every unset duration and the name at its default.
// The namespace is left as set; the server defaults it to its own.
func (l LeaderElection) WithDefaults() LeaderElection {
	if l.Name == "" {
		l.Name = DefaultLeaseName
	}
	if l.LeaseDuration.Duration == 0 {
		l.LeaseDuration.Duration = DefaultLeaseDuration
	}
	if l.RenewDeadline.Duration == 0 {
		l.RenewDeadline.Duration = DefaultRenewDeadline
	}
	if l.RetryPeriod.Duration == 0 {
		l.RetryPeriod.Duration = DefaultRetryPeriod
	}
	return l
}

var (
	reNamespace = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	reLeaseName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)
)

func (c Config) validateLeaderElection() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config leaderElection.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	l := c.LeaderElection
	if l.Namespace != "" && !reNamespace.MatchString(l.Namespace) {
		bad("namespace", "must be a Kubernetes namespace name (lowercase letters, digits and '-', at most 63), got %q", l.Namespace)
	}
	if l.Name != "" && !reLeaseName.MatchString(l.Name) {
		bad("name", "must be a Kubernetes object name (lowercase letters, digits, '-' and '.'), got %q", l.Name)
	}
	negative := false
	for _, d := range []struct {
		name string
		d    Duration
	}{{"leaseDuration", l.LeaseDuration}, {"renewDeadline", l.RenewDeadline}, {"retryPeriod", l.RetryPeriod}} {
		if d.d.Duration < 0 {
			bad(d.name, "must not be negative, got %s", d.d)
			negative = true
		}
	}
	if l.Enabled != nil && *l.Enabled && len(c.ContainerProviders) == 0 {
		bad("enabled", "needs a container provider: the Lease lives on the first containerProviders entry's cluster")
	}
	if negative {
		return errs
	}
	e := l.WithDefaults()
	if e.RenewDeadline.Duration >= e.LeaseDuration.Duration {
		bad("renewDeadline", "must be shorter than leaderElection.leaseDuration (%s), got %s: a leader that cannot renew must stop before another may take the Lease",
			e.LeaseDuration, e.RenewDeadline)
	}
	if float64(e.RenewDeadline.Duration) <= leaseJitter*float64(e.RetryPeriod.Duration) {
		bad("retryPeriod", "must be shorter than leaderElection.renewDeadline (%s) / %.1f, got %s: the leader must get several tries to renew",
			e.RenewDeadline, leaseJitter, e.RetryPeriod)
	}
	if e.RetryPeriod.Duration < 100*time.Millisecond {
		bad("retryPeriod", "must be at least 100ms, got %s", e.RetryPeriod)
	}
	return errs
}

// validateDatabase refuses database settings that are neither a postgres:// URL nor a file
// path, which would otherwise become SQLite files with odd names: another scheme (a typo of
// postgres://, or a database sparkplane does not support) or a key=value DSN.
func (c Config) validateDatabase() []error {
	db := strings.TrimSpace(c.Database)
	switch {
	case db == "" || isPostgresURL(db):
		return nil
	case strings.Contains(db, "://"):
		scheme, _, _ := strings.Cut(db, "://")
		return []error{fmt.Errorf("config database: must be a postgres:// URL or the path of a SQLite file, got a %s:// URL", scheme)}
	case reKeyValueDSN.MatchString(db):
		return []error{fmt.Errorf("config database: key=value connection strings are not accepted; write it as a postgres:// URL (postgres://user@host:5432/dbname?sslmode=...)")}
	}
	return nil
}

// reKeyValueDSN matches a libpq key=value connection string ("host=h dbname=d").
var reKeyValueDSN = regexp.MustCompile(`^(host|hostaddr|port|dbname|user|password|sslmode|service)\s*=`)

// isPostgresURL is store.IsPostgresURL; config does not import the store.
func isPostgresURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}
