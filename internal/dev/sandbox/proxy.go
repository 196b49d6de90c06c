package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"syscall"
)

// maxProxiedBody bounds the request bodies the proxy keeps to send to another replica; the
// API refuses bodies over 1 MiB anyway.
const maxProxiedBody = 4 << 20

// Proxy is the sandbox's one endpoint in front of several sparkplane replicas, as a Service
// in front of a Deployment's pods: each request goes to the next replica in turn, and a
// replica that refuses the connection (stopped, killed, not yet listening) is skipped for that
// request, which then goes to the next one. A request that reached a replica is never sent
// again: whether it was carried out is for the client to find out, as it would be behind a
// real load balancer (with a clientToken, an SDK's retry does).
type Proxy struct {
	backends []*url.URL
	next     atomic.Uint64
	// transport sends the requests (default http.DefaultTransport's settings).
	transport http.RoundTripper
	handler   *httputil.ReverseProxy
}

// NewProxy returns a proxy over the replicas at backends (http://host:port).
func NewProxy(backends []string) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("proxy: no backends")
	}
	p := &Proxy{}
	for _, b := range backends {
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("proxy: backend %q is not an http:// URL", b)
		}
		p.backends = append(p.backends, u)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	p.transport = t
	p.handler = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// The Host header stays the client's: SigV4 signs it. RoundTrip picks the replica.
			r.Out.Host = r.In.Host
		},
		Transport: p,
		// Log streams (jobs logs --follow) pass as they come.
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "sandbox proxy: no replica answered: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p, nil
}

// ServeHTTP proxies one request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// RoundTrip sends req to the next replica, or to the one after it when that one refuses the
// connection, and so on once round all of them.
func (p *Proxy) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, maxProxiedBody+1))
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		if len(body) > maxProxiedBody {
			return nil, fmt.Errorf("request body over %d bytes", maxProxiedBody)
		}
	}
	first := p.next.Add(1)
	var errs []error
	for i := range p.backends {
		b := p.backends[(first+uint64(i))%uint64(len(p.backends))]
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host = b.Scheme, b.Host
		out.Body = http.NoBody
		if body != nil {
			out.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := p.transport.RoundTrip(out)
		if err == nil {
			return resp, nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, err // it may have reached the replica: never send it twice
		}
		errs = append(errs, fmt.Errorf("%s: %w", b.Host, err))
	}
	return nil, errors.Join(errs...)
}
