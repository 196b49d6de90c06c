package liveui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// DefaultPort is Spark's spark.ui.port.
const DefaultPort = 4040

// Pod is the driver pod whose UI a request goes to.
type Pod struct {
	// Cluster is the container provider the pod runs on; Namespace and Name name it there.
	Cluster, Namespace, Name string
	// IP is the pod's IP (status.podIP); Direct dials it.
	IP string
	// Port is the driver's spark.ui.port.
	Port int
}

func (p Pod) String() string { return p.Namespace + "/" + p.Name + ":" + strconv.Itoa(p.Port) }

// host names the pod's UI in the requests the proxy sends, so that the transport keeps
// connections per pod and port and the proxy recognises redirects to the driver. Pod names
// may hold dots, namespaces and cluster ids do not, and no pod is named the same in two
// clusters' namespaces of the same name under this host.
func (p Pod) host() string {
	return net.JoinHostPort(p.Name+"."+p.Namespace+"."+p.Cluster, strconv.Itoa(p.Port))
}

// Dialer opens a connection to the UI port of a driver pod.
type Dialer interface {
	DialPod(ctx context.Context, pod Pod) (net.Conn, error)
}

// Direct dials the pod's IP: for a server that runs in the cluster's pod network, as a pod of
// the cluster it drives. Network policies of the job's namespace must let it in.
type Direct struct{ net.Dialer }

// DialPod dials pod.IP:pod.Port.
func (d *Direct) DialPod(ctx context.Context, pod Pod) (net.Conn, error) {
	if pod.IP == "" {
		return nil, fmt.Errorf("dial the Spark UI of pod %s: the pod has no IP yet", pod)
	}
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(pod.IP, strconv.Itoa(pod.Port)))
	if err != nil {
		return nil, fmt.Errorf("dial the Spark UI of pod %s at its IP: %w", pod, err)
	}
	return c, nil
}

// ByCluster dials each pod with the Dialer of its cluster.
type ByCluster map[string]Dialer

// DialPod dials with the pod's cluster's Dialer.
func (b ByCluster) DialPod(ctx context.Context, pod Pod) (net.Conn, error) {
	d := b[pod.Cluster]
	if d == nil {
		return nil, fmt.Errorf("dial the Spark UI of pod %s: %w %q", pod, ErrNoDialer, pod.Cluster)
	}
	return d.DialPod(ctx, pod)
}

// ErrNoDialer is a pod of a cluster no Dialer serves.
var ErrNoDialer = errors.New("no way to reach the pods of container provider")

// Driver is what the live UI needs to know of a job run's driver pod.
type Driver struct {
	Pod
	// Phase is the pod's phase; its UI answers only while it is Running.
	Phase string
	// UIEnabled is the driver's spark.ui.enabled (Spark's default: true).
	UIEnabled bool
}
