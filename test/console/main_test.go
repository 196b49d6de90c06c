package console

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

// chromium is the browser binary TestMain found.
var chromium string

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Short() {
		bin, err := findChromium()
		if err != nil {
			fmt.Fprintf(os.Stderr, "chromium is missing: run hack/chromium.sh (%v)\n", err)
			os.Exit(1)
		}
		chromium = bin
		// The tests spend nearly all their time waiting for job runs on the cluster and for
		// pages to change; with -parallel at GOMAXPROCS (2 on CI) they would wait two at a
		// time. An explicit -parallel still wins.
		set := false
		flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
		if !set {
			_ = flag.Set("test.parallel", "10")
		}
	}
	testenv.Main(m, testenv.Options{Karpenter: true, Emulator: true, S3: true})
}

// findChromium returns SPARKPLANE_CHROMIUM when set, else chromium (or chromium-browser) on
// PATH, as hack/chromium.sh looks for it.
func findChromium() (string, error) {
	if bin := os.Getenv("SPARKPLANE_CHROMIUM"); bin != "" {
		if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("SPARKPLANE_CHROMIUM=%s is not an executable file", bin)
		}
		return bin, nil
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if alt, altErr := exec.LookPath("chromium-browser"); altErr == nil {
			return alt, nil
		}
	}
	return bin, err
}

// Timeouts: every browser action has one, so that a page that hangs fails its test instead
// of the package's deadline.
const (
	// stepTimeout bounds one action: a navigation, a click, a script.
	stepTimeout = 30 * time.Second
	// startTimeout bounds starting the browser or opening a tab.
	startTimeout = time.Minute
	// runTimeout bounds how long a job run may take to reach a state on the cluster.
	runTimeout = 3 * time.Minute
)

// Viewports the pages are checked at.
var (
	desktop = viewport{1280, 800, false}
	phone   = viewport{390, 844, true}
)

type viewport struct {
	width, height int64
	mobile        bool
}

// suite is what the tests share: one full server on the package's cluster and one browser.
// Each test opens its own pages, each in a browser context of its own (its own cookies), and
// its own virtual cluster, so the tests run in parallel.
type suite struct {
	env     *testenv.Env
	srv     *apitest.Server
	client  *emrcontainers.Client
	browser context.Context
}

// TestConsole runs the browser tests against one server and one browser.
func TestConsole(t *testing.T) {
	s := newSuite(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"SignIn", s.testSignIn},
		{"JobListLive", s.testJobListLive},
		{"JobRunPlacementAndCost", s.testJobRunPlacementAndCost},
		{"LogsFollow", s.testLogsFollow},
		{"Cancel", s.testCancel},
		{"Denied", s.testDenied},
		{"CSRFRefused", s.testCSRFRefused},
		{"NoScriptInjection", s.testNoScriptInjection},
		{"Accessibility", s.testAccessibility},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t)
		})
	}
}

func newSuite(t *testing.T) *suite {
	env := testenv.Get(t)
	srv := apitest.Start(t, apitest.WithCluster(env.Kubeconfig),
		apitest.WithLogFile(filepath.Join(t.ArtifactDir(), "server.log")),
		apitest.WithConfig(func(c *config.Config) {
			c.S3 = env.ServerS3() // event logs, for the run page's Spark application summary
			c.LogShipping = config.LogShipping{Endpoint: env.S3.Endpoint, ForcePathStyle: true}
		}))
	s := &suite{env: env, srv: srv, client: srv.Client()}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.WindowSize(int(desktop.width), int(desktop.height)),
		chromedp.CombinedOutput(logFile(t, filepath.Join(t.ArtifactDir(), "chromium.log"))),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	if err := within(startTimeout, cancelBrowser, func() error { return chromedp.Do(browser) }); err != nil {
		t.Fatalf("start chromium %s: %v", chromium, err)
	}
	s.browser = browser
	return s
}

func logFile(t *testing.T, path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// within runs the first action of a chromedp context, which binds the browser or tab to the
// context it runs with: a timeout on that context would close it. So the call gets no
// deadline; when it takes longer than d, cancel ends the context and the call with it.
func within(d time.Duration, cancel context.CancelFunc, first func() error) error {
	done := make(chan error, 1)
	go func() { done <- first() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cancel()
		<-done
		return fmt.Errorf("no answer within %s", d)
	}
}

// page is one browser tab of a test, in a browser context of its own.
type page struct {
	t   *testing.T
	s   *suite
	ctx context.Context
	vp  viewport
	// shots counts the screenshots taken, to number their files in order.
	shots int

	mu         sync.Mutex
	exceptions []string
}

// newPage opens a tab in a new browser context (no cookies) at viewport vp.
func (s *suite) newPage(t *testing.T, vp viewport) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := within(startTimeout, cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	p := &page{t: t, s: s, ctx: ctx, vp: vp}
	// An uncaught exception in the page's script is a bug whatever the test checks.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				p.mu.Lock()
				p.exceptions = append(p.exceptions, fmt.Sprintf("%s %s:%d: %s", m.Type, m.URL, m.Line+1, m))
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(p.checkConsole)
	opts := []chromedp.EmulateViewportOption{}
	if vp.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	p.do("set the viewport",
		chromedp.EmulateViewport(vp.width, vp.height, opts...),
		// Headless windows have no focus of their own: without this, autofocus and
		// :focus-visible would not behave as in a window a person looks at.
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
			return err
		}))
	return p
}

// checkConsole fails the test on any uncaught exception the page's script threw and on any
// Content-Security-Policy violation (the page needs something the console's own policy
// forbids, so the browser left it out), and logs what else the console reported as an error
// (the status of a refusal page, for one).
func (p *page) checkConsole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.exceptions {
		switch {
		case strings.HasPrefix(e, string(chromedp.ConsoleException)):
			p.t.Errorf("the page threw: %s", e)
		case strings.Contains(e, "Content Security Policy"):
			p.t.Errorf("the browser blocked part of the page: %s", e)
		default:
			p.t.Logf("browser console: %s", e)
		}
	}
}

// fail takes a screenshot of the page as it is and ends the test.
func (p *page) fail(format string, args ...any) {
	p.t.Helper()
	p.shot("failure")
	p.t.Fatalf(format, args...)
}

// do runs actions within stepTimeout and fails the test if one fails.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression within stepTimeout and returns its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript expression in the page, on every animation frame, until it is
// truthy, and returns that value; the test fails after within.
func waitFor[T any](p *page, what string, within time.Duration, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within+10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(within)))
	if err != nil {
		p.fail("%s: not within %s (%v)", what, within, err)
	}
	return v
}

// open navigates to a console path, waits for the page to load and returns its HTTP status.
func (p *page) open(path string) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(p.s.srv.URL+path))
	if err != nil {
		p.fail("open %s: %v", path, err)
	}
	return resp.Status
}

// submit runs an action that leads to a new page (a form sent, a link followed), waits for
// that page to load and returns its HTTP status.
func (p *page) submit(what string, trigger ...chromedp.Action[chromedp.Void]) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, trigger...)
	if err != nil {
		p.fail("%s: %v", what, err)
	}
	return resp.Status
}

// path is the page's location: its path and query.
func (p *page) path() string {
	p.t.Helper()
	return eval[string](p, `location.pathname + location.search`)
}

// text is the trimmed text of the first element that matches a CSS selector, "" when none
// does.
func (p *page) text(selector string) string {
	p.t.Helper()
	return eval[string](p, `(e => e ? e.textContent.trim() : "")(document.querySelector(`+strconv.Quote(selector)+`))`)
}

// shot saves a screenshot of the whole page as <test>-<n>-<name>.png in the test's artifact
// directory. The test's name is in the file's: Go 1.26 puts every test's directory directly
// in <outputdir>/_artifacts, named at random, not under <package>/<test> as documented
// (golang/go#77763).
func (p *page) shot(name string) {
	p.t.Helper()
	p.shots++
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	suffix := ""
	if p.vp.mobile {
		suffix = "-phone"
	}
	file := filepath.Join(p.t.ArtifactDir(), fmt.Sprintf("%s-%02d-%s%s.png", filepath.Base(p.t.Name()), p.shots, name, suffix))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
	}
}

// signIn signs in through the sign-in form with key and waits for the console's home page.
func (p *page) signIn(key apitest.Key) {
	p.t.Helper()
	if status := p.open("/console/signin"); status != 200 {
		p.fail("sign-in page: HTTP %d", status)
	}
	p.do("fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("accessKeyId"), key.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secretAccessKey"), key.SecretAccessKey))
	if status := p.submit("sign in", chromedp.Click(chromedp.CSS(`form.stack button[type=submit]`))); status != 200 {
		p.fail("sign in as %s: HTTP %d", key.AccessKeyID, status)
	}
	if got := p.path(); got != "/console/" {
		p.fail("signed in as %s: at %s, want /console/", key.AccessKeyID, got)
	}
}

// signedIn is a new page signed in with the server's own (administrator) key.
func (s *suite) signedIn(t *testing.T, vp viewport) *page {
	t.Helper()
	p := s.newPage(t, vp)
	p.signIn(s.srv.Admin())
	return p
}

// Console paths.
func listPath(vc string) string     { return "/console/virtualclusters/" + vc + "/jobruns" }
func runPath(vc, id string) string  { return listPath(vc) + "/" + id }
func logsPath(vc, id string) string { return runPath(vc, id) + "/logs" }
func startPath(vc string) string    { return "/console/virtualclusters/" + vc + "/start" }
func costPath(vc string) string     { return "/console/virtualclusters/" + vc + "/cost" }
func rowBadge(id string) string     { return "#run-" + id + " .badge" }
func rowCancel(id string) string    { return "#run-" + id + " form.cancel" }
func (s *suite) vc(t *testing.T, name string) string {
	return s.srv.VirtualCluster(t, apitest.ClusterProvider, name)
}

// run is a simulated Spark job run: SparkPi with two executors, the driver on on-demand and
// the executors on spot nodes of the sandbox NodePool, as the seed places them.
type run struct {
	name string
	// hold is how long the executors are held once they all run (the emulator's
	// spark.sparkplane.sandbox.duration).
	hold time.Duration
	// logs gives the run a logUri: its container logs are shipped to S3 and its Spark event
	// log is kept, for the run page's Spark application summary.
	logs bool
	tags map[string]string
	args []string
	// confs are more Spark settings.
	confs []string
}

// start submits r to virtual cluster vc through the API and returns its id.
func (s *suite) start(t *testing.T, vc string, r run) string {
	t.Helper()
	params := "--class org.apache.spark.examples.SparkPi"
	for _, c := range append([]string{
		"spark.executor.instances=2", "spark.executor.cores=1", "spark.executor.memory=1g",
		"spark.kubernetes.driver.node.selector.app=demo",
		"spark.kubernetes.driver.node.selector.karpenter.sh/capacity-type=on-demand",
		"spark.kubernetes.executor.node.selector.app=demo",
		"spark.kubernetes.executor.node.selector.karpenter.sh/capacity-type=spot",
		"spark.sparkplane.sandbox.duration=" + r.hold.String(),
	}, r.confs...) {
		params += " --conf " + c
	}
	in := &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String(r.name), ExecutionRoleArn: aws.String(apitest.RoleArn),
		ReleaseLabel: aws.String("emr-6.15.0-latest"), Tags: r.tags,
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
			EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), EntryPointArguments: r.args,
			SparkSubmitParameters: aws.String(params)}},
	}
	if r.logs {
		in.ConfigurationOverrides = &emrtypes.ConfigurationOverrides{MonitoringConfiguration: &emrtypes.MonitoringConfiguration{
			S3MonitoringConfiguration: &emrtypes.S3MonitoringConfiguration{LogUri: aws.String("s3://" + s.env.Bucket + "/logs/")}}}
	}
	out, err := s.client.StartJobRun(context.Background(), in)
	if err != nil {
		t.Fatalf("StartJobRun %s: %v", r.name, err)
	}
	return *out.Id
}

// state is the run's state as DescribeJobRun answers it.
func (s *suite) state(t *testing.T, vc, id string) emrtypes.JobRunState {
	t.Helper()
	out, err := s.client.DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeJobRun %s: %v", id, err)
	}
	return out.JobRun.State
}

// waitState polls DescribeJobRun until the run is in state want; a run that ends in another
// state, or takes longer than runTimeout, fails the test.
func (s *suite) waitState(t *testing.T, vc, id string, want emrtypes.JobRunState) {
	t.Helper()
	deadline := time.Now().Add(runTimeout)
	for {
		st := s.state(t, vc, id)
		if st == want {
			return
		}
		if terminal(st) {
			t.Fatalf("job run %s ended %s, want %s", id, st, want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job run %s is %s after %s, want %s", id, st, runTimeout, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func terminal(st emrtypes.JobRunState) bool {
	return st == emrtypes.JobRunStateCompleted || st == emrtypes.JobRunStateFailed || st == emrtypes.JobRunStateCancelled
}

// cancelOnCleanup cancels the run when the test ends, so that a run held for long does not
// outlive its test.
func (s *suite) cancelOnCleanup(t *testing.T, vc, id string) {
	t.Cleanup(func() {
		_, err := s.client.CancelJobRun(context.Background(), &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
		var done *emrtypes.ValidationException
		if err != nil && !errors.As(err, &done) {
			t.Logf("cancel %s at cleanup: %v", id, err)
		}
	})
}
