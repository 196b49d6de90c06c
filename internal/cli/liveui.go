package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/spf13/cobra"
)

// DefaultSparkUIListen is where `jobs spark-ui` listens unless told otherwise: Spark's own UI
// port, on loopback only, since whoever reaches the listener acts with the user's credentials.
const DefaultSparkUIListen = "127.0.0.1:4040"

// browserHeaders are the request headers the local proxy passes on: what a browser sends to
// read pages. Cookies and any Authorization the browser holds for localhost stay behind.
var browserHeaders = []string{
	"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Pragma", "User-Agent",
	"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range",
}

// hopHeaders are the answer's headers that concern one connection only (RFC 9110 7.6.1).
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// withJobSparkUI adds `jobs spark-ui` to the jobs command group.
func (a *app) withJobSparkUI(jobs *cobra.Command) *cobra.Command {
	jobs.AddCommand(a.jobSparkUICmd())
	return jobs
}

func (a *app) jobSparkUICmd() *cobra.Command {
	var id, vc, listen string
	c := &cobra.Command{
		Use:   "spark-ui [ID]",
		Short: "Open a running job run's live Spark UI in a browser, through a local proxy (sparkplane extension)",
		Long: `Serve the live Spark UI of a running job run on a local address, and print the URL to open.

Each request the browser sends is signed with your credentials, as every other command signs
its calls, and sent under the same path to the server's live UI route
(/virtualclusters/{id}/jobruns/{id}/sparkui/..., action sparkplane:AccessJobRunLiveUI), which
proxies it to the Spark UI of the run's driver. The UI is read-only: only pages are read, and
Spark's kill links are refused. It exists while the driver runs; once the run has ended,
sparkplane jobs ui shows the application's summary from its event log.

The listener is on loopback (127.0.0.1:4040) unless --listen says otherwise: whoever reaches
it reads the job's UI with your credentials. Stop it with Ctrl-C.`,
		Example: `  sparkplane jobs spark-ui --virtual-cluster-id abc123 --id 0000000abcdefghijkl
  sparkplane jobs spark-ui 0000000abcdefghijkl --virtual-cluster-id abc123 --listen 127.0.0.1:0`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := jobRunIDArg(&id, args); err != nil {
				return err
			}
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return fmt.Errorf("--listen: must be host:port such as %s, got %q", DefaultSparkUIListen, listen)
			}
			ctx, stop := signal.NotifyContext(ctxOf(cmd), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			prefix := "/virtualclusters/" + url.PathEscape(vc) + "/jobruns/" + url.PathEscape(id) + "/sparkui"
			// Ask once before listening, so that a run without a live UI, or a caller who may
			// not see it, is told at once rather than in the browser.
			resp, err := a.call(ctx, cl, http.MethodGet, prefix+"/", "", http.Header{"Accept": {"text/html"}}, nil)
			if err != nil {
				return err
			}
			if resp.StatusCode >= 400 {
				defer resp.Body.Close()
				return answerError(resp)
			}
			resp.Body.Close()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("--listen: %w", err)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is not a loopback address: whoever reaches it reads this job run's Spark UI with your credentials\n", ln.Addr())
			}
			srv := &http.Server{Handler: &uiProxy{a: a, cl: cl, prefix: prefix}, ReadHeaderTimeout: 10 * time.Second}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			fmt.Fprintf(cmd.OutOrStdout(), "Spark UI of job run %s: http://%s%s/\nPress Ctrl-C to stop.\n", id, ln.Addr(), prefix)
			select {
			case err := <-done:
				return fmt.Errorf("local proxy: %w", err)
			case <-ctx.Done():
			}
			shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(shutdown)
			if err := <-done; !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("local proxy: %w", err)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&id, "id", "", "ID of the job run (or give it as the argument)")
	f.StringVar(&vc, "virtual-cluster-id", "", "virtual cluster of the job run (required)")
	f.StringVar(&listen, "listen", DefaultSparkUIListen, "local address to serve the UI on, host:port (port 0 picks a free one)")
	mustRequire(c, "virtual-cluster-id")
	return c
}

// uiProxy is the local end of `jobs spark-ui`: it sends each browser request under prefix,
// signed, to the same path on the endpoint, and the answer back as it streams in.
type uiProxy struct {
	a      *app
	cl     *emrcontainers.Client
	prefix string
}

func (p *uiProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if path != p.prefix && !strings.HasPrefix(path, p.prefix+"/") {
		if path == "/" {
			http.Redirect(w, r, p.prefix+"/", http.StatusFound)
			return
		}
		http.Error(w, "this proxy serves the Spark UI of one job run, under "+p.prefix+"/", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the live Spark UI is read-only through sparkplane: "+r.Method+" is not forwarded, only GET and HEAD are", http.StatusMethodNotAllowed)
		return
	}
	h := http.Header{}
	for _, k := range browserHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	resp, err := p.a.call(r.Context(), p.cl, r.Method, path, r.URL.RawQuery, h, nil)
	if err != nil {
		if r.Context().Err() == nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
		return
	}
	defer resp.Body.Close()
	if code := resp.Header.Get("X-Amzn-Errortype"); code != "" && resp.StatusCode >= 400 {
		// The server's own answer (the run ended, access denied, ...): said as text.
		err := answerError(resp)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(resp.StatusCode)
		fmt.Fprintln(w, err)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	for _, k := range hopHeaders {
		w.Header().Del(k)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		w.Header().Set("Location", p.local(loc))
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return // io.EOF, or the answer was cut: the browser sees it end
		}
	}
}

// local turns a redirect to the endpoint's own host into a path on this proxy; paths stay
// as they are (they resolve against the proxy), other hosts too.
func (p *uiProxy) local(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Host == "" {
		return loc
	}
	ep, err := url.Parse(aws.ToString(p.cl.Options().BaseEndpoint))
	if err != nil || !strings.EqualFold(u.Host, ep.Host) {
		return loc
	}
	u.Scheme, u.Host, u.User = "", "", nil
	return u.String()
}
