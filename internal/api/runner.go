package api

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/submission"
)

// newController wires the lifecycle controller for the configured container providers: one
// Kubernetes client each, the submission planner (release catalog, pod template sources,
// per-virtual-cluster defaults). It returns nil when no provider is configured or the
// controller is disabled.
func newController(ctx context.Context, cfg config.Config, svc *jobs.Service, catalog *release.Catalog, costs *costParts, log *slog.Logger) (*controller.Controller, error) {
	if cfg.Controller.Disabled || len(cfg.ContainerProviders) == 0 {
		return nil, nil
	}
	recorders := map[string]*cost.Recorder{}
	clusters := map[string]kubernetes.Interface{}
	createNS := map[string]bool{}
	for _, p := range cfg.ContainerProviders {
		rc, err := restConfig(p)
		if err != nil {
			return nil, fmt.Errorf("container provider %s: %w", p.ID, err)
		}
		client, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return nil, fmt.Errorf("container provider %s: %w", p.ID, err)
		}
		clusters[p.ID] = client
		createNS[p.ID] = p.CreateNamespaces
		rec, err := cost.NewRecorder(cost.RecorderOptions{Store: costs.store, Catalog: costs.catalog, Cluster: p.ID,
			Region: cfg.Region, Metrics: costs.metrics, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("container provider %s: %w", p.ID, err)
		}
		recorders[p.ID] = rec
	}
	templates := &submission.Templates{AllowedDirs: cfg.PodTemplateDirs}
	s3c, err := s3Client(ctx, cfg)
	if err != nil {
		return nil, err
	}
	templates.S3 = s3c
	defaults := make([]submission.Defaults, len(cfg.JobDefaults))
	for i, d := range cfg.JobDefaults {
		defaults[i] = submission.Defaults{VirtualClusters: d.VirtualClusters, SparkConf: d.SparkConf,
			DriverPodTemplate: d.DriverPodTemplate, ExecutorPodTemplate: d.ExecutorPodTemplate}
	}
	return controller.New(controller.Options{
		Store:    svc,
		Clusters: clusters,
		Planner: &submission.Planner{Releases: catalog, Templates: templates, Defaults: defaults,
			CreateNamespaces: createNS},
		PendingTimeout: cfg.Controller.PendingTimeout.Duration,
		DriverTTL:      cfg.Controller.DriverTTL.Duration,
		Resync:         cfg.Controller.Resync.Duration,
		Workers:        cfg.Controller.Workers,
		Cost:           recorders,
		Logger:         log,
	})
}

// restConfig loads a provider's kubeconfig (or the in-cluster service account when none is
// named), with client-side rate limits raised for submission bursts.
func restConfig(p config.ContainerProvider) (*rest.Config, error) {
	var rc *rest.Config
	var err error
	if p.Kubeconfig == "" {
		rc, err = rest.InClusterConfig()
	} else {
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: p.Kubeconfig}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: p.Context}
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %q: %w", p.Kubeconfig, err)
	}
	rc.QPS, rc.Burst = 500, 1000
	rc.UserAgent = "sparkplane"
	return rc, nil
}

// s3Client builds the client pod templates are read with.
func s3Client(ctx context.Context, cfg config.Config) (*s3.Client, error) {
	region := cfg.S3.Region
	if region == "" {
		region = cfg.Region
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if cfg.S3.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.S3.AccessKeyID, cfg.S3.SecretAccessKey, "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 settings: %w", err)
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.S3.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.S3.Endpoint)
		}
		o.UsePathStyle = cfg.S3.ForcePathStyle
	}), nil
}

// costParts are what cost recording and reporting share: the price catalog, the store the
// usage records live in, and the metrics every recorder adds to.
type costParts struct {
	catalog *cost.Catalog
	store   cost.Store
	metrics *cost.Metrics
}

var (
	costMetricsOnce sync.Once
	costMetrics     *cost.Metrics
	costMetricsErr  error
)

// newCostParts loads the price catalog (the built-in one, with the configured file laid over
// it). The metrics are registered once per process on the default registry, which /metrics
// serves.
func newCostParts(cfg config.Config, st cost.Store) (*costParts, error) {
	catalog := cost.DefaultCatalog()
	if cfg.CostCatalog != "" {
		var err error
		if catalog, err = cost.LoadCatalog(cfg.CostCatalog); err != nil {
			return nil, fmt.Errorf("load cost catalog: %w", err)
		}
	}
	costMetricsOnce.Do(func() { costMetrics, costMetricsErr = cost.NewMetrics(prometheus.DefaultRegisterer) })
	if costMetricsErr != nil {
		return nil, costMetricsErr
	}
	return &costParts{catalog: catalog, store: st, metrics: costMetrics}, nil
}
