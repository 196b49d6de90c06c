package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/console"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/sparkui"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/trust"
)

// Server is a configured sparkplane: its store, domain service, HTTP handler and, when a
// Kubernetes cluster is configured, the lifecycle controller and the cost recorders.
type Server struct {
	Config  config.Config
	Store   store.Backend
	Service *jobs.Service
	Handler *api.Server
	// Console is the web console, nil when console.disabled.
	Console *console.Console
	// HTTP is what the listener serves: the console under /console/, the API elsewhere.
	HTTP http.Handler
	// Generated is the access key created on this start because none existed; the caller
	// prints it once. It is nil on every later start.
	Generated *config.Credential
	// Cost reports what job runs and virtual clusters cost, from the recorders' records.
	Cost *cost.Reporter
	// Registry holds every metric of this server; /metrics serves it.
	Registry *prometheus.Registry
	// Directory holds the users, keys and policies callers authenticate with.
	Directory *access.Directory
	// Audit records every call.
	Audit *audit.Log

	// kube holds each container provider's client, by id, for the logs route.
	kube map[string]kubernetes.Interface
	log  *slog.Logger
	s3   *s3.Client
	// work is what the leader runs on the container providers: the lifecycle controller,
	// which runs the accepted job runs, and a cost recorder per provider; nil when no provider
	// is configured or the controller is disabled (job runs then stay PENDING).
	work *clusterWork
	// election decides which replica runs work; nil when this server runs it without one.
	election *election
	// leading is the term this replica runs while it leads, else nil.
	leading atomic.Pointer[term]
	// ready is closed once the controller of this replica's first term has synced.
	ready     chan struct{}
	readyOnce sync.Once
	// signals tells the leader about job runs this replica changed, when the store is shared
	// (PostgreSQL); nil on SQLite.
	signals *signaller
	leader  leaderMetrics
}

// New opens the store (creating the data directory) and wires every part. Nothing runs until
// Run.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	keys, generated, err := cfg.EnsureCredentials()
	if err != nil {
		return nil, err
	}
	catalog := release.Default()
	if cfg.ReleaseCatalog != "" {
		if catalog, err = release.Load(cfg.ReleaseCatalog); err != nil {
			return nil, fmt.Errorf("load release catalog: %w", err)
		}
	}
	prices := cost.DefaultCatalog()
	if cfg.CostCatalog != "" {
		if prices, err = cost.LoadCatalog(cfg.CostCatalog); err != nil {
			return nil, fmt.Errorf("load cost catalog: %w", err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st, err := store.OpenDatabase(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, Store: st, Generated: generated, Registry: reg, log: log, ready: make(chan struct{})}
	fail := func(err error) (*Server, error) {
		_ = st.Close() // the error that stopped the start is the one to report
		return nil, err
	}
	if s.leader, err = newLeaderMetrics(reg); err != nil {
		return fail(err)
	}
	if err := reg.Register(databaseUp(st)); err != nil {
		return fail(err)
	}
	// The controller is told about new and cancelled job runs: the one of this replica's
	// term when it leads, else the leader through the store (jobRunChanged).
	s.Service, err = jobs.NewService(st, jobs.Config{
		Region: cfg.Region, AccountID: cfg.AccountID, Releases: catalog,
		Roles: roles(cfg.ExecutionRoles), ContainerProviders: providers(cfg.ContainerProviders), Logger: log,
		CheckJob: submission.Check, DefaultSettings: defaultSettings(cfg),
		Notify: s.jobRunChanged,
	})
	if err != nil {
		return fail(err)
	}
	if s.s3, err = s3Client(ctx, cfg); err != nil {
		return fail(err)
	}
	if err := s.wireClusters(catalog, prices, reg); err != nil {
		return fail(err)
	}
	if sig, ok := st.(jobRunSignals); ok {
		s.signals = newSignaller(sig, log)
	}
	if s.work != nil && cfg.LeaderElectionOn() {
		if s.election, err = newElection(ctx, cfg, s.work.providers[0], log); err != nil {
			return fail(err)
		}
	}
	sealer, err := secretsSealer(cfg)
	if err != nil {
		return fail(err)
	}
	static := make([]access.StaticKey, len(keys))
	for i, k := range keys {
		static[i] = access.StaticKey{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Principal: k.Principal}
	}
	s.Directory = access.NewDirectory(access.Options{Store: st, Sealer: sealer, AccountID: cfg.AccountID, Static: static})
	s.Audit = audit.New(st, cfg.Audit.Retention.Duration, log)
	s.Cost = cost.NewReporter(st, prices, nil)
	links := &signInLinks{}
	// The resolved configuration needs no cluster: the planner's precedence and settings.
	planner := &submission.Planner{Releases: catalog, Defaults: jobDefaults(cfg), EventLogURI: cfg.EventLogURI}
	if s.work != nil {
		planner = s.work.controller.Planner.(*submission.Planner)
	}
	s.Handler, err = api.New(s.Service, api.NewAuthenticator(cfg.Region, s.Directory, nil), api.Options{Logger: log, Cost: s.Cost,
		MetricsToken: cfg.MetricsToken, Registerer: reg, Gatherer: reg,
		TrustPolicies: trustPolicies{svc: s.Service, roles: roles(cfg.ExecutionRoles)},
		Directory:     s.Directory, Audit: s.Audit, AuditStore: st,
		SparkUI:   sparkUI{&sparkui.Reader{S3: s.s3, EventLogURI: cfg.EventLogURI}},
		Logs:      podLogs{svc: s.Service, clients: s.kube, shipped: shippedLogs{s3: s.s3}},
		LiveUI:    newLiveUI(cfg, s.Service, s.kube, log),
		SparkConf: sparkConf{svc: s.Service, planner: planner},
		SignIn:    links,
		Ready:     st.Ping})
	if err != nil {
		return fail(err)
	}
	s.HTTP = s.Handler
	if !cfg.Console.Disabled {
		if s.Console, err = console.New(console.Options{API: s.Handler, Identities: s.Directory, Sessions: st,
			SessionDuration: cfg.Console.SessionDuration.Duration, Secure: cfg.Console.SecureCookies || cfg.TLS.CertFile != "",
			Region: cfg.Region, AccountID: cfg.AccountID, Logger: log}); err != nil {
			return fail(err)
		}
		links.console = s.Console
		mux := http.NewServeMux()
		mux.Handle("/console/", s.Console)
		mux.Handle("/console", s.Console)
		mux.Handle("/", s.Handler)
		s.HTTP = mux
	}
	return s, nil
}

// signInLinks answers the console sign-in link route once the console exists (it is built
// after the API it serves).
type signInLinks struct{ console *console.Console }

func (l *signInLinks) SignInLink(ctx context.Context, id access.Identity) (string, time.Time, error) {
	if l.console == nil {
		return "", time.Time{}, &jobs.ValidationError{Field: "console", Rule: "the web console is disabled on this server (console.disabled)"}
	}
	return l.console.SignInLink(ctx, id)
}

// sparkConf resolves a run's Spark configuration with its virtual cluster's settings as
// they are now.
type sparkConf struct {
	svc     *jobs.Service
	planner *submission.Planner
}

func (c sparkConf) SparkConf(ctx context.Context, run jobs.JobRun) (map[string]string, error) {
	vc, err := c.svc.DescribeVirtualCluster(ctx, run.VirtualClusterID)
	if err != nil {
		return nil, err
	}
	return c.planner.SparkConf(run, vc, c.svc.SettingsOf(vc))
}

// Run serves the API on ln and, while this replica leads (always, without leader election),
// runs the controller and the cost recorders until ctx ends, then stops them all: the HTTP
// server gets up to 10 s for requests in flight. An HTTP server that fails stops the others
// too.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// The audit log outlives the HTTP server: it stops after the last request was answered,
	// writing what is queued.
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	auditDone := make(chan struct{})
	go func() {
		defer close(auditDone)
		_ = s.Audit.Run(auditCtx)
	}()
	defer func() {
		stopAudit()
		<-auditDone
	}()
	var wg sync.WaitGroup
	var workErr error
	if s.signals != nil {
		wg.Go(func() { s.signals.run(ctx) })
	}
	if s.work != nil {
		wg.Go(func() {
			if s.election != nil {
				workErr = s.election.run(ctx, s.lead)
			} else {
				workErr = s.lead(ctx)
			}
			if workErr != nil {
				s.log.Error("controller stopped", "err", workErr)
			}
		})
	}
	err := s.serveHTTP(ctx, ln)
	stop()
	wg.Wait()
	return errors.Join(workErr, err)
}

// serveHTTP answers requests on ln until ctx ends, then shuts down gracefully.
func (s *Server) serveHTTP(ctx context.Context, ln net.Listener) error {
	// Signed requests carry a handful of short headers; 64 KiB is generous and bounds what an
	// unauthenticated client can make the server hold.
	srv := &http.Server{Handler: s.HTTP, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() {
		if s.Config.TLS.CertFile != "" {
			errc <- srv.ServeTLS(ln, s.Config.TLS.CertFile, s.Config.TLS.KeyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if s.Console != nil {
		s.Console.Close() // its live streams end; a browser reconnects to another replica
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// databaseUp is sparkplane_database_up: whether the store answers, asked at each scrape.
func databaseUp(st store.Backend) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sparkplane_database_up",
		Help: "1 when the database answered a ping at this scrape (within 2 s), else 0: API calls are answered 503 and the controller pauses while it is 0."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if st.Ping(ctx) != nil {
				return 0
			}
			return 1
		})
}

// Close closes the store.
func (s *Server) Close() error { return s.Store.Close() }

// defaultSettings are the settings of virtual clusters the operator put none on.
func defaultSettings(cfg config.Config) jobs.VirtualClusterSettings {
	if cfg.DefaultSettings != nil {
		return *cfg.DefaultSettings
	}
	return jobs.VirtualClusterSettings{}
}

// secretsSealer loads the key that seals users' secrets: SPARKPLANE_SECRETS_KEY, else the key
// file, which is created on the first start of a server on SQLite. With neither (PostgreSQL
// and no key given) it returns nil: creating an access key then says which setting is missing.
func secretsSealer(cfg config.Config) (*access.Sealer, error) {
	var key []byte
	var err error
	if v := os.Getenv("SPARKPLANE_SECRETS_KEY"); v != "" {
		key, err = access.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("SPARKPLANE_SECRETS_KEY: %w", err)
		}
	} else {
		// Created on the first start only for SQLite, the one-server store: replicas on
		// PostgreSQL must share one key, which the operator provides.
		path := cmp.Or(cfg.SecretsKeyFile, filepath.Join(cfg.DataDir, "secrets.key"))
		key, err = access.LoadOrCreateKeyFile(path, !store.IsPostgresURL(cfg.Database))
		if errors.Is(err, os.ErrNotExist) {
			// Users can be listed and managed, but no access key can be created or checked.
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("config secretsKeyFile: %w", err)
		}
	}
	return access.NewSealer(key)
}

// roles adapts the configured execution roles to jobs.Roles.
type roles []config.ExecutionRole

func (r roles) Allowed(arn, virtualClusterID string) bool {
	for _, role := range r {
		if role.Arn != arn {
			continue
		}
		if len(role.VirtualClusters) == 0 {
			return true
		}
		for _, vc := range role.VirtualClusters {
			if vc == "*" || vc == virtualClusterID {
				return true
			}
		}
	}
	return false
}

// providers adapts the configured Kubernetes clusters to jobs.ContainerProviders.
type providers []config.ContainerProvider

func (p providers) Known(id string) bool {
	for _, c := range p {
		if c.ID == id {
			return true
		}
	}
	return false
}

// NamespaceAllowed applies the provider's namespace rules; sparkplane's own namespace is
// POD_NAMESPACE, which the deployment sets from the downward API.
func (p providers) NamespaceAllowed(id, namespace string) string {
	for _, c := range p {
		if c.ID == id {
			return c.NamespaceAllowed(namespace, os.Getenv("POD_NAMESPACE"))
		}
	}
	return ""
}

// trustPolicies answers the trust-policy route from the virtual cluster the request names and
// the configured execution roles.
type trustPolicies struct {
	svc   *jobs.Service
	roles jobs.Roles
}

func (t trustPolicies) TrustPolicy(ctx context.Context, virtualClusterID string, query url.Values) (any, error) {
	req, err := trust.ParseRequest(virtualClusterID, query)
	if err != nil {
		return nil, err
	}
	vc, err := t.svc.DescribeVirtualCluster(ctx, req.VirtualClusterID)
	if err != nil {
		return nil, err
	}
	return trust.ForVirtualCluster(req, vc, t.roles, "")
}

// sparkUI adapts the event log reader to the API's Spark UI route.
type sparkUI struct{ r *sparkui.Reader }

func (u sparkUI) JobRunUI(ctx context.Context, run jobs.JobRun, attempt int) (any, error) {
	return u.r.Read(ctx, run, attempt)
}
