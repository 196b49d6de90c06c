package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/liveui"
	"github.com/sparkplane/sparkplane/internal/liveui/portforward"
	"github.com/sparkplane/sparkplane/internal/spark"
)

// liveUI answers the API's live Spark UI route: it finds a run's driver pod with its
// container provider's client, reads the driver's spark.properties for the UI's settings,
// and reaches the UI port with the dialer sparkUI.liveAccess chooses for that provider.
type liveUI struct {
	svc       *jobs.Service
	clients   map[string]kubernetes.Interface
	transport *liveui.Transport

	mu sync.Mutex
	// confs holds each driver pod's UI settings by pod UID: a driver's spark.properties does
	// not change while it runs, and a page of the UI is a dozen requests.
	confs map[types.UID]uiConf
}

type uiConf struct {
	enabled bool
	port    int
}

// maxUIConfs bounds liveUI.confs; past it the cache starts over.
const maxUIConfs = 1000

// newLiveUI wires the live UI route over the providers' clients (by provider id). A provider
// whose dialer cannot be built answers each request with why.
func newLiveUI(cfg config.Config, svc *jobs.Service, clients map[string]kubernetes.Interface, log *slog.Logger) api.LiveUI {
	dialers := liveui.ByCluster{}
	for _, p := range cfg.ContainerProviders {
		if clients[p.ID] == nil {
			continue
		}
		d, err := liveDialer(cfg.SparkUI.LiveAccess, p, os.Getenv)
		if err != nil {
			log.Warn("the live Spark UI cannot reach this container provider's drivers", "containerProvider", p.ID, "err", err)
			d = unreachable{err}
		}
		dialers[p.ID] = d
	}
	return &liveUI{svc: svc, clients: clients, transport: liveui.NewTransport(dialers), confs: map[types.UID]uiConf{}}
}

// liveDialer chooses how the server reaches the drivers of provider p (config sparkUI.
// liveAccess): auto dials pod IPs directly when the server runs in a pod (Kubernetes set
// KUBERNETES_SERVICE_HOST) and reaches p with that pod's service account (no kubeconfig),
// that is, when it is in p's pod network; anywhere else, or for a provider named by a
// kubeconfig (another cluster, whose pod network need not be routable from here), it goes
// through p's API server.
func liveDialer(mode string, p config.ContainerProvider, getenv func(string) string) (liveui.Dialer, error) {
	direct := mode == config.LiveAccessDirect ||
		(mode == "" || mode == config.LiveAccessAuto) && p.Kubeconfig == "" && getenv("KUBERNETES_SERVICE_HOST") != ""
	if direct {
		return &liveui.Direct{}, nil
	}
	rc, err := restConfig(p)
	if err != nil {
		return nil, err
	}
	return portforward.New(rc)
}

// unreachable is the dialer of a provider whose port-forward client could not be built.
type unreachable struct{ err error }

func (u unreachable) DialPod(context.Context, liveui.Pod) (net.Conn, error) { return nil, u.err }

func (u *liveUI) Transport() http.RoundTripper { return u.transport }

func (u *liveUI) Driver(ctx context.Context, run jobs.JobRun) (liveui.Driver, error) {
	vc, err := u.svc.DescribeVirtualCluster(ctx, run.VirtualClusterID)
	if err != nil {
		return liveui.Driver{}, err
	}
	provider := vc.ContainerProvider.ID
	client := u.clients[provider]
	if client == nil {
		return liveui.Driver{}, fmt.Errorf("container provider %q of virtual cluster %s is not configured on this server, so the Spark UI of job run %s cannot be reached: %w",
			provider, vc.ID, run.ID, jobs.ErrNotFound)
	}
	ns, name := run.Attempt.Namespace, run.Attempt.DriverPod
	if ns == "" || name == "" {
		return liveui.Driver{}, fmt.Errorf("job run %s (%s) has no driver pod yet: %w", run.ID, run.State, jobs.ErrNotFound)
	}
	pod, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return liveui.Driver{}, fmt.Errorf("the driver pod %s/%s of job run %s is gone, and its Spark UI with it: %w", ns, name, run.ID, jobs.ErrNotFound)
	}
	if err != nil {
		return liveui.Driver{}, fmt.Errorf("read the driver pod %s/%s of job run %s: %w", ns, name, run.ID, err)
	}
	d := liveui.Driver{Pod: liveui.Pod{Cluster: provider, Namespace: ns, Name: name, IP: pod.Status.PodIP}, Phase: string(pod.Status.Phase)}
	if pod.Status.Phase != corev1.PodRunning {
		return d, nil
	}
	c, err := u.uiConf(ctx, client, pod)
	if err != nil {
		return d, fmt.Errorf("the Spark conf of job run %s: %w", run.ID, err)
	}
	d.UIEnabled, d.Port = c.enabled, c.port
	return d, nil
}

// uiConf reads spark.ui.enabled and spark.ui.port from the spark.properties the driver pod
// mounts: the conf the driver runs with, every default and override applied.
func (u *liveUI) uiConf(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod) (uiConf, error) {
	u.mu.Lock()
	c, ok := u.confs[pod.UID]
	u.mu.Unlock()
	if ok {
		return c, nil
	}
	cmName, key, ok := spark.DriverProperties(pod)
	if !ok {
		return uiConf{}, fmt.Errorf("driver pod %s/%s mounts no spark.properties", pod.Namespace, pod.Name)
	}
	cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, cmName, metav1.GetOptions{})
	if err != nil {
		return uiConf{}, fmt.Errorf("read ConfigMap %s/%s: %w", pod.Namespace, cmName, err)
	}
	enabled, port, err := spark.DriverUI(spark.ReadProperties(cm.Data[key]))
	var ce *spark.ConfError
	if errors.As(err, &ce) {
		return uiConf{}, &jobs.ValidationError{Field: ce.Key, Rule: ce.Rule}
	}
	if err != nil {
		return uiConf{}, err
	}
	c = uiConf{enabled: enabled, port: port}
	u.mu.Lock()
	if len(u.confs) >= maxUIConfs {
		u.confs = map[types.UID]uiConf{}
	}
	u.confs[pod.UID] = c
	u.mu.Unlock()
	return c, nil
}
