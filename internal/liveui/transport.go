package liveui

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Transport sends requests to driver pods' UIs through a Dialer, keeping idle connections
// per pod and port for the next request (a page of the UI loads a dozen files). The pod of a
// request is set by Proxy; a request that names none is refused.
type Transport struct {
	rt *http.Transport
}

// Tuning of the connections to the pods.
const (
	// idleTimeout closes a connection to a pod unused this long; a forwarded one holds a
	// stream of the API server's port-forward connection.
	idleTimeout = 30 * time.Second
	// headerTimeout bounds the wait for a UI's answer to start: a driver whose UI does not
	// answer in this time is busy or stuck, and the user is told so rather than left waiting.
	headerTimeout = 60 * time.Second
)

// NewTransport returns a Transport that dials with d.
func NewTransport(d Dialer) *Transport {
	return &Transport{rt: &http.Transport{
		// Never through an HTTP proxy of the environment: the dialer is the way to the pod.
		Proxy: nil,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			pod, ok := ctx.Value(podKey{}).(Pod)
			if !ok || pod.host() != addr {
				return nil, fmt.Errorf("liveui: no driver pod for %s", addr)
			}
			return d.DialPod(ctx, pod)
		},
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       idleTimeout,
		ResponseHeaderTimeout: headerTimeout,
		// The browser's Accept-Encoding goes to Spark (which gzips) and the body comes back
		// as Spark wrote it: nothing is decompressed here.
		DisableCompression: true,
	}}
}

// RoundTrip sends one request to the pod the request's context names (see Proxy).
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) { return t.rt.RoundTrip(r) }

// CloseIdleConnections closes the connections no request uses.
func (t *Transport) CloseIdleConnections() { t.rt.CloseIdleConnections() }

type podKey struct{}

// withPod names the pod a request to the transport goes to.
func withPod(ctx context.Context, pod Pod) context.Context {
	return context.WithValue(ctx, podKey{}, pod)
}
