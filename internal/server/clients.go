package server

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/controller"
	"github.com/sparkplane/sparkplane/internal/cost"
	"github.com/sparkplane/sparkplane/internal/release"
	"github.com/sparkplane/sparkplane/internal/submission"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// wireClusters builds, for every configured container provider, a Kubernetes client, and
// what the leader runs on them (clusterWork): per term, the shared informers of its job pods
// and nodes, its cost recorder, and the lifecycle controller over all of them. It does nothing
// when no provider is configured or the controller is disabled (job runs then stay PENDING).
func (s *Server) wireClusters(catalog *release.Catalog, prices *cost.Catalog, reg prometheus.Registerer) error {
	cfg := s.Config
	if cfg.Controller.Disabled || len(cfg.ContainerProviders) == 0 {
		return nil
	}
	costMetrics, err := cost.NewMetrics(reg)
	if err != nil {
		return err
	}
	ctlMetrics, err := controller.NewMetrics(reg)
	if err != nil {
		return err
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkplane_kubernetes_requests_total",
		Help: "Requests sparkplane sent to a Kubernetes API server, by container provider, verb, resource and HTTP status.",
	}, []string{"cluster", "verb", "resource", "code"})
	if err := reg.Register(requests); err != nil {
		return err
	}
	w := &clusterWork{log: s.log}
	createNS := map[string]bool{}
	shipping := logShipping(cfg)
	for _, p := range cfg.ContainerProviders {
		rc, err := restConfig(p)
		if err != nil {
			return fmt.Errorf("container provider %s: %w", p.ID, err)
		}
		count := countRequests(requests.MustCurryWith(prometheus.Labels{"cluster": p.ID}))
		// The Lease gets a client of its own: its renewals must not queue behind a burst of
		// job objects in the shared client's rate limiter.
		lease := rest.CopyConfig(rc)
		lease.QPS, lease.Burst = 5, 10
		lease.Wrap(count)
		rc.Wrap(count)
		client, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("container provider %s: %w", p.ID, err)
		}
		if s.kube == nil {
			s.kube = map[string]kubernetes.Interface{}
		}
		s.kube[p.ID] = client
		createNS[p.ID] = p.CreateNamespaces
		if shipping.Enabled {
			if reason := nativeSidecarsMissing(rc); reason != "" {
				s.log.Warn("container logs of this cluster's job runs will not be shipped", "containerProvider", p.ID, "reason", reason)
				shipping.Unsupported[p.ID] = reason
			}
		}
		w.providers = append(w.providers, provider{id: p.ID, client: client, lease: lease})
		w.recorders = append(w.recorders, cost.RecorderOptions{Store: s.Store, Catalog: prices, Cluster: p.ID,
			Region: cfg.Region, Metrics: costMetrics, Logger: s.log})
	}
	templates := &submission.Templates{AllowedDirs: cfg.PodTemplateDirs, S3: s.s3}
	w.controller = controller.Options{
		Store: s.Service,
		Planner: &submission.Planner{Releases: catalog, Templates: templates, Defaults: jobDefaults(cfg),
			CreateNamespaces: createNS, EventLogURI: cfg.EventLogURI, LogShipping: shipping},
		PendingTimeout: cfg.Controller.PendingTimeout.Duration,
		DriverTTL:      cfg.Controller.DriverTTL.Duration,
		Resync:         cfg.Controller.Resync.Duration,
		Workers:        cfg.Controller.Workers,
		KubeTimeout:    cfg.Controller.KubeTimeout.Duration,
		Metrics:        ctlMetrics,
		Logger:         s.log,
	}
	s.work = w
	return nil
}

// clusterWork is what the leader runs on the container providers, built once from the
// configuration and started anew for every term of leadership (newTerm): a term starts from
// the store and fresh informers, with nothing in memory from an earlier term or replica.
type clusterWork struct {
	providers []provider
	// recorders are the options of each provider's cost recorder, without its informers.
	recorders []cost.RecorderOptions
	// controller are the controller's options, without its clusters.
	controller controller.Options
	log        *slog.Logger
}

// provider is one container provider's client, and the configuration of the client that
// holds the Lease when the provider is the first.
type provider struct {
	id     string
	client kubernetes.Interface
	lease  *rest.Config
}

// term is one term of leadership: the informers, controller and cost recorders it runs.
type term struct {
	factories  []informers.SharedInformerFactory
	controller *controller.Controller
	recorders  []*cost.Recorder
}

// newTerm builds, for every provider, one watch on every job pod (drivers and executors),
// trimmed to what the controller and the cost recorder read, and one on nodes for their
// prices; the provider's cost recorder on both; and the controller over all providers.
// Nothing runs until the caller starts the factories and runs the rest.
func (w *clusterWork) newTerm() (*term, error) {
	t := &term{}
	clusters := map[string]controller.Cluster{}
	for i, p := range w.providers {
		pods := informers.NewSharedInformerFactoryWithOptions(p.client, 0,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = wellknown.LabelJobID }),
			informers.WithTransform(controller.TrimPod))
		nodes := informers.NewSharedInformerFactory(p.client, 0)
		t.factories = append(t.factories, pods, nodes)
		podInformer, nodeInformer := pods.Core().V1().Pods(), nodes.Core().V1().Nodes()
		clusters[p.id] = controller.Cluster{Client: p.client, Pods: podInformer}
		opts := w.recorders[i]
		opts.Pods, opts.Nodes = podInformer, nodeInformer
		rec, err := cost.NewRecorder(opts)
		if err != nil {
			return nil, fmt.Errorf("container provider %s: %w", p.id, err)
		}
		t.recorders = append(t.recorders, rec)
	}
	opts := w.controller
	opts.Clusters = clusters
	ctl, err := controller.New(opts)
	if err != nil {
		return nil, err
	}
	t.controller = ctl
	return t, nil
}

// restConfig loads a provider's kubeconfig (or the in-cluster service account when none is
// named), with client-side rate limits raised for submission bursts. Requests carry no
// client-wide timeout (it would cut the informers' watches); the controller bounds its own
// calls with controller.kubeTimeout.
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

// countRequests counts every request a client sends, by verb, resource and status, so that
// /metrics shows what each job costs the API server.
func countRequests(counter *prometheus.CounterVec) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(req)
			code := "error"
			if err == nil {
				code = strconv.Itoa(resp.StatusCode)
			}
			resource, collection := resourceOf(req.URL.Path)
			verb := strings.ToLower(req.Method)
			switch {
			case req.URL.Query().Get("watch") == "true":
				verb = "watch"
			case collection && verb == "get":
				verb = "list"
			case collection && verb == "delete":
				verb = "deletecollection"
			}
			counter.WithLabelValues(verb, resource, code).Inc()
			return resp, err
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// resourceOf is the resource a Kubernetes API path names, and whether the path is the
// collection rather than one object: /api/v1/namespaces/ns/pods -> pods, a collection;
// /api/v1/namespaces/ns/pods/name -> pods; /api/v1/namespaces/ns/pods/name/log -> pods/log;
// /apis/rbac.authorization.k8s.io/v1/namespaces/ns/roles -> roles, a collection.
func resourceOf(path string) (resource string, collection bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "other", false
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		if len(parts) == 2 {
			return "namespaces", false
		}
		parts = parts[2:]
	}
	switch len(parts) {
	case 0:
		return "other", false
	case 1:
		return parts[0], true
	case 2:
		return parts[0], false
	}
	return parts[0] + "/" + parts[2], false
}

// s3Client builds the client pod templates and event logs are read with.
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

// logShipping is the planner's log shipping from the configuration's logShipping.
func logShipping(cfg config.Config) submission.LogShipping {
	l := cfg.LogShipping
	res := submission.DefaultLogShippingResources()
	if l.CPU != "" {
		res.Requests[corev1.ResourceCPU] = resource.MustParse(l.CPU)
	}
	if l.Memory != "" {
		m := resource.MustParse(l.Memory)
		res.Requests[corev1.ResourceMemory] = m
		m.Add(m)
		res.Limits[corev1.ResourceMemory] = m
	}
	entrypoints := l.Entrypoints
	if len(entrypoints) == 0 {
		entrypoints = config.DefaultEntrypoints
	}
	return submission.LogShipping{
		Enabled:           !l.Disabled,
		Image:             cmp.Or(l.Image, config.DefaultLogShippingImage()),
		ImagePullPolicy:   corev1.PullPolicy(cmp.Or(l.ImagePullPolicy, string(corev1.PullIfNotPresent))),
		Entrypoints:       entrypoints,
		Endpoint:          l.Endpoint,
		Region:            cmp.Or(l.Region, cfg.Region),
		PathStyle:         l.ForcePathStyle,
		CredentialsSecret: l.CredentialsSecret,
		Resources:         res,
		Unsupported:       map[string]string{},
	}
}

// nativeSidecarsMissing says why a cluster cannot run native sidecar containers (Kubernetes
// 1.29 turned them on), or "" when it can or cannot be asked now: a cluster that is down at
// start is assumed current, as the log shipping that needs it runs only once it is up.
func nativeSidecarsMissing(rc *rest.Config) string {
	probe := rest.CopyConfig(rc)
	probe.Timeout = 5 * time.Second
	dc, err := discovery.NewDiscoveryClientForConfig(probe)
	if err != nil {
		return ""
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return ""
	}
	major, _ := strconv.Atoi(strings.TrimRight(v.Major, "+"))
	minor, _ := strconv.Atoi(strings.TrimRight(v.Minor, "+"))
	if major > 1 || major == 1 && minor >= 29 {
		return ""
	}
	return fmt.Sprintf("Kubernetes %s has no native sidecar containers (1.29 and later have them), which log shipping needs", v.GitVersion)
}

// jobDefaults are the configuration's jobDefaults as the planner takes them.
func jobDefaults(cfg config.Config) []submission.Defaults {
	defaults := make([]submission.Defaults, len(cfg.JobDefaults))
	for i, d := range cfg.JobDefaults {
		defaults[i] = submission.Defaults{VirtualClusters: d.VirtualClusters, SparkConf: d.SparkConf,
			DriverPodTemplate: d.DriverPodTemplate, ExecutorPodTemplate: d.ExecutorPodTemplate}
	}
	return defaults
}
