package portforward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/transport/spdy"

	"github.com/sparkplane/sparkplane/internal/liveui"
)

// Protocol is the port-forward subprotocol (client-go tools/portforward's
// PortForwardProtocolV1Name).
const Protocol = "portforward.k8s.io"

// Timings of the shared connections.
const (
	// idleClose closes a pod's connection this long after its last stream ended.
	idleClose = time.Minute
	// errorWait is how long a Read that reached the end of the data stream waits for the
	// kubelet's message on the error stream, which the kubelet writes as it gives up.
	errorWait = 2 * time.Second
)

// Dialer opens connections to pods' ports through one cluster's API server. It is safe for
// concurrent use.
type Dialer struct {
	client   kubernetes.Interface
	upgrader spdy.Upgrader
	http     *http.Client

	mu    sync.Mutex
	conns map[string]*podConn // by namespace/name
	ids   atomic.Int64
}

// New returns a Dialer that reaches pods through the API server config names.
func New(config *rest.Config) (*Dialer, error) {
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("port-forward client: %w", err)
	}
	rt, upgrader, err := spdy.RoundTripperFor(config)
	if err != nil {
		return nil, fmt.Errorf("port-forward client: %w", err)
	}
	return &Dialer{client: client, upgrader: upgrader, http: &http.Client{Transport: rt}, conns: map[string]*podConn{}}, nil
}

// podConn is the SPDY connection to one pod and how many streams use it.
type podConn struct {
	key    string
	conn   httpstream.Connection
	active int         // under Dialer.mu
	idle   *time.Timer // closes conn once active has been 0 for idleClose
}

// DialPod opens a connection to pod.Port of pod.
func (d *Dialer) DialPod(ctx context.Context, pod liveui.Pod) (net.Conn, error) {
	for fresh := false; ; fresh = true {
		pc, reused, err := d.connection(ctx, pod)
		if err != nil {
			return nil, err
		}
		c, err := d.open(pc, pod)
		if err == nil {
			return c, nil
		}
		d.release(pc)
		d.drop(pc)
		if !reused || fresh {
			return nil, fmt.Errorf("port-forward to pod %s: %w", pod, err)
		}
	}
}

// connection returns the pod's shared connection, opened now unless one is open already
// (reused), counting one more stream on it.
func (d *Dialer) connection(ctx context.Context, pod liveui.Pod) (pc *podConn, reused bool, err error) {
	key := pod.Namespace + "/" + pod.Name
	d.mu.Lock()
	if pc := d.conns[key]; pc != nil {
		pc.active++
		pc.idle.Stop()
		d.mu.Unlock()
		return pc, true, nil
	}
	d.mu.Unlock()

	u := d.client.CoreV1().RESTClient().Post().Namespace(pod.Namespace).Resource("pods").Name(pod.Name).SubResource("portforward").URL()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, false, fmt.Errorf("port-forward to pod %s: %w", pod, err)
	}
	conn, protocol, err := spdy.Negotiate(d.upgrader, d.http, req, Protocol)
	if err != nil {
		return nil, false, fmt.Errorf("port-forward to pod %s: %w", pod, err)
	}
	if protocol != Protocol {
		_ = conn.Close()
		return nil, false, fmt.Errorf("port-forward to pod %s: the API server chose protocol %q, not %q", pod, protocol, Protocol)
	}
	pc = &podConn{key: key, conn: conn, active: 1}
	pc.idle = time.AfterFunc(idleClose, func() { d.closeIdle(pc) })
	pc.idle.Stop()
	d.mu.Lock()
	if old := d.conns[key]; old != nil {
		// Another dial won the race: use its connection, close ours.
		old.active++
		old.idle.Stop()
		d.mu.Unlock()
		_ = conn.Close()
		return old, true, nil
	}
	d.conns[key] = pc
	d.mu.Unlock()
	go func() {
		<-conn.CloseChan()
		d.drop(pc)
	}()
	return pc, false, nil
}

// open creates the error and data streams of one forwarded connection.
func (d *Dialer) open(pc *podConn, pod liveui.Pod) (net.Conn, error) {
	h := http.Header{}
	h.Set(corev1.StreamType, corev1.StreamTypeError)
	h.Set(corev1.PortHeader, strconv.Itoa(pod.Port))
	h.Set(corev1.PortForwardRequestIDHeader, strconv.FormatInt(d.ids.Add(1), 10))
	errStream, err := pc.conn.CreateStream(h)
	if err != nil {
		return nil, fmt.Errorf("create error stream: %w", err)
	}
	// Nothing is written on the error stream; closing our side tells the kubelet so.
	_ = errStream.Close()
	h.Set(corev1.StreamType, corev1.StreamTypeData)
	data, err := pc.conn.CreateStream(h)
	if err != nil {
		pc.conn.RemoveStreams(errStream)
		return nil, fmt.Errorf("create data stream: %w", err)
	}
	c := &streamConn{d: d, pc: pc, pod: pod, data: data, errStream: errStream, errDone: make(chan struct{})}
	go func() {
		defer close(c.errDone)
		msg, err := io.ReadAll(errStream)
		switch {
		case len(msg) > 0:
			c.remoteErr = errors.New(string(msg))
		case err != nil:
			c.remoteErr = err
		}
	}()
	return c, nil
}

// release counts one stream less on pc and, at none, starts its idle clock.
func (d *Dialer) release(pc *podConn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	pc.active--
	if pc.active == 0 {
		pc.idle.Reset(idleClose)
	}
}

// closeIdle closes pc if no stream has used it since its idle clock started.
func (d *Dialer) closeIdle(pc *podConn) {
	d.mu.Lock()
	if pc.active > 0 {
		d.mu.Unlock()
		return
	}
	if d.conns[pc.key] == pc {
		delete(d.conns, pc.key)
	}
	d.mu.Unlock()
	_ = pc.conn.Close()
}

// drop forgets pc (closed, or found dead) so that the next dial opens a new connection, and
// closes it.
func (d *Dialer) drop(pc *podConn) {
	d.mu.Lock()
	if d.conns[pc.key] == pc {
		delete(d.conns, pc.key)
	}
	d.mu.Unlock()
	_ = pc.conn.Close()
}

// Close closes every shared connection, and with them every stream.
func (d *Dialer) Close() error {
	d.mu.Lock()
	conns := d.conns
	d.conns = map[string]*podConn{}
	d.mu.Unlock()
	for _, pc := range conns {
		pc.idle.Stop()
		_ = pc.conn.Close()
	}
	return nil
}

// streamConn is one forwarded connection: a data stream for the bytes, and the error stream
// on which the kubelet says why the port could not be reached.
type streamConn struct {
	d         *Dialer
	pc        *podConn
	pod       liveui.Pod
	data      httpstream.Stream
	errStream httpstream.Stream
	errDone   chan struct{}
	remoteErr error // set before errDone closes
	closeOnce sync.Once
}

// Read reads from the data stream; at its end it returns the kubelet's error, if it sent
// one, instead of io.EOF.
func (c *streamConn) Read(p []byte) (int, error) {
	n, err := c.data.Read(p)
	if errors.Is(err, io.EOF) {
		select {
		case <-c.errDone:
			if c.remoteErr != nil {
				return n, fmt.Errorf("port-forward to pod %s: %w", c.pod, c.remoteErr)
			}
		case <-time.After(errorWait):
		}
	}
	return n, err
}

func (c *streamConn) Write(p []byte) (int, error) { return c.data.Write(p) }

// Close ends both streams at once (unsent data is dropped, as on a closed socket) and lets
// the shared connection go idle.
func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		_ = c.data.Reset()
		_ = c.errStream.Reset()
		c.pc.conn.RemoveStreams(c.data, c.errStream)
		c.d.release(c.pc)
	})
	return nil
}

func (c *streamConn) LocalAddr() net.Addr  { return addr("port-forward") }
func (c *streamConn) RemoteAddr() net.Addr { return addr(c.pod.String()) }

// Deadlines are not supported by streams; http.Transport bounds its waits with timers and
// closes the connection instead.
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

// addr is a streamConn's address: the pod and port it reaches.
type addr string

func (a addr) Network() string { return "portforward" }
func (a addr) String() string  { return string(a) }
