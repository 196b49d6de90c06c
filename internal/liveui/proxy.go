package liveui

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
)

// ContextHeader is the request header Spark's UIUtils.uiRoot takes the UI's base path from
// when neither spark.ui.proxyBase nor APPLICATION_WEB_PROXY_BASE is set.
const ContextHeader = "X-Forwarded-Context"

// forwardedHeaders are the only request headers that reach the pod: what a browser sends to
// read pages, and nothing that authenticates anyone.
var forwardedHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Pragma", "User-Agent",
	"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range",
}

// Proxy forwards requests received under Prefix to the UI of Pod: Prefix+"/jobs/?id=1" goes
// to the pod as "/jobs/?id=1". See the package comment for what it forwards and rewrites.
type Proxy struct {
	// Transport reaches the pod; a *Transport, or any RoundTripper that dials by the
	// request's context as Transport does.
	Transport http.RoundTripper
	Pod       Pod
	// Prefix is the path the UI is served under, as the client sends it (escaped), without a
	// trailing slash: "/virtualclusters/v/jobruns/j/sparkui".
	Prefix string
	// ErrorHandler answers a request that is refused (a *RefusedError) or that the UI did not
	// answer (an *UnreachableError); nil answers with the error's text.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// RefusedError is a request the proxy does not forward: the live UI is read-only.
type RefusedError struct {
	// Method is set when the method is the reason, else the path is.
	Method, Path string
}

func (e *RefusedError) Error() string {
	if e.Method != "" {
		return fmt.Sprintf("the live Spark UI is read-only through sparkplane: %s is not forwarded, only GET and HEAD are", e.Method)
	}
	return fmt.Sprintf("the live Spark UI is read-only through sparkplane: %s would kill a Spark job or stage, and is not forwarded; "+
		"to stop the job run, cancel it (CancelJobRun)", e.Path)
}

// UnreachableError is a request the UI did not answer: the pod could not be reached, or its
// UI did not answer in time.
type UnreachableError struct {
	Pod Pod
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("the Spark UI of driver pod %s did not answer: %v", e.Pod, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Refuse returns a *RefusedError for a request the live UI does not forward: a method other
// than GET and HEAD, or a path with a segment "kill" however it is spelled (percent-encoded,
// with a ;parameter, behind an encoded slash), the way Jetty would match it.
func Refuse(method, escapedPath string) error {
	if method != http.MethodGet && method != http.MethodHead {
		return &RefusedError{Method: method}
	}
	for _, seg := range strings.Split(escapedPath, "/") {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return &RefusedError{Path: escapedPath}
		}
		for _, part := range strings.Split(dec, "/") {
			part, _, _ = strings.Cut(part, ";")
			if strings.EqualFold(part, "kill") {
				return &RefusedError{Path: escapedPath}
			}
		}
	}
	return nil
}

// ServeHTTP forwards r, whose path begins with Prefix, to the pod.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), p.Prefix)
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		p.fail(w, r, fmt.Errorf("liveui: path %s is not under %s", r.URL.EscapedPath(), p.Prefix))
		return
	}
	if rest == "" {
		rest = "/"
	}
	if err := Refuse(r.Method, rest); err != nil {
		p.fail(w, r, err)
		return
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		p.fail(w, r, &RefusedError{Path: rest})
		return
	}
	rp := &httputil.ReverseProxy{
		Transport: p.Transport,
		// Each piece of a body goes on as it comes: pages of a busy driver, and the REST
		// API's large answers, are not held in memory.
		FlushInterval: -1,
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out.WithContext(withPod(pr.Out.Context(), p.Pod))
			out.URL = &url.URL{Scheme: "http", Host: p.Pod.host(), Path: path, RawPath: rest, RawQuery: pr.In.URL.RawQuery}
			out.Host = ""
			out.Header = http.Header{}
			for _, h := range forwardedHeaders {
				if v := pr.In.Header.Values(h); len(v) > 0 {
					out.Header[h] = v
				}
			}
			out.Header.Set(ContextHeader, p.Prefix)
			pr.Out = out
		},
		ModifyResponse: func(resp *http.Response) error {
			if loc := resp.Header.Get("Location"); loc != "" {
				resp.Header.Set("Location", p.location(loc))
			}
			resp.Header.Del("Set-Cookie")
			for k := range resp.Header {
				if strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Amzn-") {
					resp.Header.Del(k)
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.fail(w, r, &UnreachableError{Pod: p.Pod, Err: err})
		},
	}
	rp.ServeHTTP(w, r)
}

// location rewrites a redirect's target into the route when it points at the driver: an
// absolute URL on the host the proxy sent, or an absolute path. Relative targets resolve
// against the client's URL, which is under the prefix already; other hosts stay as they are.
func (p *Proxy) location(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if u.Host != "" || u.Scheme != "" {
		if !strings.EqualFold(u.Host, p.Pod.host()) {
			return loc
		}
	} else if !strings.HasPrefix(u.Path, "/") {
		return loc
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if path != p.Prefix && !strings.HasPrefix(path, p.Prefix+"/") {
		path = p.Prefix + path
	}
	out := &url.URL{RawQuery: u.RawQuery, Fragment: u.Fragment}
	if err := setEscapedPath(out, path); err != nil {
		return loc
	}
	return out.String()
}

func setEscapedPath(u *url.URL, escaped string) error {
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return err
	}
	u.Path, u.RawPath = path, escaped
	return nil
}

func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p.ErrorHandler != nil {
		p.ErrorHandler(w, r, err)
		return
	}
	status := http.StatusBadGateway
	var refused *RefusedError
	if errors.As(err, &refused) {
		status = http.StatusForbidden
		if refused.Method != "" {
			status = http.StatusMethodNotAllowed
		}
	}
	http.Error(w, err.Error(), status)
}
