package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/submission"
)

// App is a configured server: its store, domain service and HTTP handler, wired from a
// config.Config. `sparkplane server` and internal/apitest both build one.
type App struct {
	Config  config.Config
	Store   *store.SQLite
	Service *jobs.Service
	Handler *Server
	// Generated is the access key created on this start because none existed; the caller
	// prints it once. It is nil on every later start.
	Generated *config.Credential
	// Controller runs the accepted job runs on the container providers; nil when none is
	// configured or it is disabled (job runs then stay PENDING).
	Controller *controller.Controller
	// Cost reports what job runs and virtual clusters cost, from the records the controller's
	// cost recorders keep.
	Cost *cost.Reporter
	log  *slog.Logger
}

// NewApp opens the store (creating the data directory) and wires the service and handler.
func NewApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
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
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	// The controller is told about new and cancelled job runs; it is created after the
	// service it reads from, so the hook forwards through a variable.
	var ctrl *controller.Controller
	svc, err := jobs.NewService(st, jobs.Config{
		Region: cfg.Region, AccountID: cfg.AccountID, Releases: catalog,
		Roles: roles(cfg.ExecutionRoles), ContainerProviders: providers(cfg.ContainerProviders), Logger: log,
		CheckJob: submission.Check,
		Notify: func(id string) {
			if ctrl != nil {
				ctrl.Enqueue(id)
			}
		},
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	costs, err := newCostParts(cfg, st)
	if err != nil {
		st.Close()
		return nil, err
	}
	if ctrl, err = newController(ctx, cfg, svc, catalog, costs, log); err != nil {
		st.Close()
		return nil, err
	}
	access := make([]AccessKey, len(keys))
	for i, k := range keys {
		access[i] = AccessKey{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Principal: k.Principal}
	}
	reporter := cost.NewReporter(st, costs.catalog, nil)
	h := New(svc, NewAuthenticator(cfg.Region, access, nil), Options{Logger: log, Cost: reporter, MetricsToken: cfg.MetricsToken})
	return &App{Config: cfg, Store: st, Service: svc, Handler: h, Generated: generated, Controller: ctrl,
		Cost: reporter, log: log}, nil
}

// Serve answers requests on ln until ctx ends, then shuts down gracefully (in-flight requests
// get up to 10 s).
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	ctx, stop := context.WithCancel(ctx)
	controllerDone := make(chan struct{})
	if a.Controller != nil {
		go func() {
			defer close(controllerDone)
			if err := a.Controller.Run(ctx); err != nil {
				a.log.Error("controller stopped", "err", err)
			}
		}()
	} else {
		close(controllerDone)
	}
	defer func() {
		stop()
		<-controllerDone
	}()
	go func() {
		if a.Config.TLS.CertFile != "" {
			errc <- srv.ServeTLS(ln, a.Config.TLS.CertFile, a.Config.TLS.KeyFile)
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// Close closes the store.
func (a *App) Close() error { return a.Store.Close() }

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
