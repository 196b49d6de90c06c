package console_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
)

// browser is an HTTP client with a cookie jar that does not follow redirects, so each test
// sees what the console answers.
type browser struct {
	t   testing.TB
	srv *apitest.Server
	c   *http.Client
}

func newBrowser(t testing.TB, srv *apitest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the answer with its body read.
func (b *browser) do(method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(out)
}

var reHidden = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// hidden returns the csrf field of a page's form.
func hidden(t testing.TB, page string) string {
	t.Helper()
	m := reHidden.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// signIn signs in with the sign-in form and fails the test unless it works.
func (b *browser) signIn(key apitest.Key) {
	b.t.Helper()
	_, page := b.do(http.MethodGet, "/console/signin", nil, nil)
	resp, body := b.do(http.MethodPost, "/console/signin", url.Values{"csrf": {hidden(b.t, page)}, "next": {"/console/"},
		"accessKeyId": {key.AccessKeyID}, "secretAccessKey": {key.SecretAccessKey}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		b.t.Fatalf("sign-in: HTTP %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

func createVC(t testing.TB, c *emrcontainers.Client, name string) string {
	t.Helper()
	out, err := c.CreateVirtualCluster(t.Context(), &emrcontainers.CreateVirtualClusterInput{
		Name: aws.String(name),
		ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks,
			Info: &types.ContainerInfoMemberEksInfo{Value: types.EksInfo{Namespace: aws.String(name)}}},
	})
	if err != nil {
		t.Fatalf("CreateVirtualCluster: %v", err)
	}
	return *out.Id
}

func startRun(t *testing.T, c *emrcontainers.Client, vc, name string, tags map[string]string, args ...string) string {
	t.Helper()
	out, err := c.StartJobRun(t.Context(), &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String(name), ExecutionRoleArn: aws.String(apitest.RoleArn),
		ReleaseLabel: aws.String(apitest.ReleaseLabel),
		JobDriver: &types.JobDriver{SparkSubmitJobDriver: &types.SparkSubmitJobDriver{
			EntryPoint: aws.String("local:///usr/lib/spark/examples/src/main/python/pi.py"), EntryPointArguments: args,
			SparkSubmitParameters: aws.String("--conf spark.executor.instances=2 --conf spark.hadoop.fs.s3a.secret.key=hunter2")}},
		Tags: tags,
	})
	if err != nil {
		t.Fatalf("StartJobRun: %v", err)
	}
	return *out.Id
}

func TestSignIn(t *testing.T) {
	srv := apitest.Start(t)
	vc := createVC(t, srv.Client(), "analytics")
	b := newBrowser(t, srv)

	// Without a session every page leads to the sign-in page, and back afterwards.
	resp, _ := b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin?next=") {
		t.Fatalf("unsigned page: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The API under the console answers 401 instead.
	if resp, _ := b.do(http.MethodGet, "/console/api/virtualclusters", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned console API: HTTP %d", resp.StatusCode)
	}

	_, page := b.do(http.MethodGet, "/console/signin", nil, nil)
	csrf := hidden(t, page)
	for _, c := range []struct {
		name, key, secret string
		status            int
		want              string
	}{
		{"bad secret", srv.AccessKeyID, "not-the-secret", http.StatusUnauthorized, "The access key ID or the secret access key is not right."},
		{"unknown key", "AKIANOSUCHKEY0000000", "whatever", http.StatusUnauthorized, "The access key ID or the secret access key is not right."},
		{"no key", "", "whatever", http.StatusBadRequest, "Access key ID: is required."},
		{"no secret", srv.AccessKeyID, "", http.StatusBadRequest, "Secret access key: is required."},
	} {
		resp, body := b.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrf}, "accessKeyId": {c.key}, "secretAccessKey": {c.secret}}, nil)
		if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: HTTP %d, want %d with %q", c.name, resp.StatusCode, c.status, c.want)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "sparkplane_session" && ck.Value != "" {
				t.Errorf("%s: a session cookie was set", c.name)
			}
		}
		csrf = hidden(t, body)
	}
	// A sign-in form that did not come from the console (no matching CSRF cookie) is refused
	// even with the right secret.
	other := newBrowser(t, srv)
	if resp, _ := other.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrf}, "accessKeyId": {srv.AccessKeyID}, "secretAccessKey": {srv.SecretAccessKey}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the form's cookie: HTTP %d, want 403", resp.StatusCode)
	}

	resp, _ = b.do(http.MethodPost, "/console/signin", url.Values{"csrf": {csrf}, "next": {"/console/virtualclusters/" + vc + "/jobruns"},
		"accessKeyId": {srv.AccessKeyID}, "secretAccessKey": {srv.SecretAccessKey}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/virtualclusters/"+vc+"/jobruns" {
		t.Fatalf("sign-in: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "sparkplane_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/console/" ||
		session.MaxAge <= 0 || session.Expires.IsZero() || session.Secure {
		t.Fatalf("session cookie: %+v", session)
	}
	resp, body := b.do(http.MethodGet, "/console/", nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "analytics") || !strings.Contains(body, srv.Principal[strings.LastIndex(srv.Principal, "/")+1:]) {
		t.Fatalf("home page: HTTP %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy: %q", csp)
	}
	// An open redirect is not possible through next.
	_, page = newBrowser(t, srv).do(http.MethodGet, "/console/signin?next=//evil.example/x", nil, nil)
	if !strings.Contains(page, `name="next" value="/console/"`) {
		t.Errorf("next=//evil.example kept:\n%s", page)
	}

	// Signing out ends the session everywhere: the same cookie no longer works.
	_, home := b.do(http.MethodGet, "/console/", nil, nil)
	resp, _ = b.do(http.MethodPost, "/console/signout", url.Values{"csrf": {hidden(t, home)}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: HTTP %d", resp.StatusCode)
	}
	replay := newBrowser(t, srv)
	u, _ := url.Parse(srv.URL + "/console/")
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "sparkplane_session", Value: session.Value, Path: "/console/"}})
	if resp, _ := replay.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a signed-out session's cookie still works: HTTP %d", resp.StatusCode)
	}

	// The audit log has every sign-in, refused or not, and the sign-out (refusals are queued:
	// wait for them).
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, body := srv.Get(t, "/audit/events?since=2000-01-01T00:00:00Z", true)
		var out struct {
			Events []struct{ Action, Outcome, AccessKeyID string }
		}
		if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil {
			t.Fatalf("audit: HTTP %d %v %s", code, err, body)
		}
		seen := map[string]int{}
		for _, e := range out.Events {
			if strings.HasPrefix(e.Action, "sparkplane:Console") {
				seen[e.Action+" "+e.Outcome]++
			}
		}
		if seen["sparkplane:ConsoleSignIn denied"] == 2 && seen["sparkplane:ConsoleSignIn allowed"] == 1 && seen["sparkplane:ConsoleSignOut allowed"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("console events in the audit log: %v", seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestForgedCookies(t *testing.T) {
	srv := apitest.Start(t)
	u, _ := url.Parse(srv.URL + "/console/")
	for _, v := range []string{"garbage", "", strings.Repeat("A", 43), "a.b.c", "%00%01", strings.Repeat("x", 4000)} {
		b := newBrowser(t, srv)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "sparkplane_session", Value: v, Path: "/console/"}})
		resp, _ := b.do(http.MethodGet, "/console/", nil, nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
			t.Errorf("cookie %.20q: HTTP %d to %q, want the sign-in page", v, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A session whose access key is deleted ends with it.
	key := srv.User(t, "ana", map[string]string{"all": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})
	b := newBrowser(t, srv)
	b.signIn(key)
	if resp, _ := b.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in as ana: HTTP %d", resp.StatusCode)
	}
	if code, _, body := srv.Do(t, srv.Admin(), http.MethodDelete, "/iam/users/ana/accesskeys/"+key.AccessKeyID, nil); code != http.StatusOK {
		t.Fatalf("delete ana's key: HTTP %d %s", code, body)
	}
	if resp, _ := b.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the session of a deleted key still works: HTTP %d", resp.StatusCode)
	}
}

func TestSignInLink(t *testing.T) {
	srv := apitest.Start(t)
	code, _, body := srv.Do(t, srv.Admin(), http.MethodPost, "/consolesignin", "{}")
	if code != http.StatusOK {
		t.Fatalf("POST /consolesignin: HTTP %d %s", code, body)
	}
	var link struct{ Path string }
	if err := json.Unmarshal(body, &link); err != nil || !strings.HasPrefix(link.Path, "/console/signin/link?token=") {
		t.Fatalf("link: %s", body)
	}
	// Unsigned, the route is refused before it makes anything.
	if code, _, _ := srv.Do(t, apitest.Key{}, http.MethodPost, "/consolesignin", "{}"); code != http.StatusForbidden {
		t.Fatalf("unsigned POST /consolesignin: HTTP %d", code)
	}
	token := strings.TrimPrefix(link.Path, "/console/signin/link?token=")
	// Opening the link (a chat's preview, a scanner, a HEAD) uses nothing up: it shows whom it
	// signs in as, and a button.
	b := newBrowser(t, srv)
	for range 2 {
		if resp, _ := b.do(http.MethodHead, link.Path, nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("HEAD link: HTTP %d", resp.StatusCode)
		}
		resp, page := b.do(http.MethodGet, link.Path, nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, srv.Principal) || !strings.Contains(page, `action="/console/signin/link"`) {
			t.Fatalf("link page: HTTP %d\n%s", resp.StatusCode, page)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "sparkplane_session" {
				t.Fatalf("opening the link set a session cookie")
			}
		}
	}
	// A form on another site cannot use it.
	if resp, _ := b.do(http.MethodPost, "/console/signin/link", url.Values{"token": {token}}, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("cross-site POST of the link: HTTP %d", resp.StatusCode)
	}
	resp, _ := b.do(http.MethodPost, "/console/signin/link", url.Values{"token": {token}}, map[string]string{"Origin": srv.URL})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("POST link: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.do(http.MethodGet, "/console/", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the link: HTTP %d", resp.StatusCode)
	}
	// Once only: the page and the button both say so now.
	resp, page := newBrowser(t, srv).do(http.MethodGet, link.Path, nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "used already or has expired") {
		t.Fatalf("second opening: HTTP %d\n%s", resp.StatusCode, page)
	}
	resp, page = newBrowser(t, srv).do(http.MethodPost, "/console/signin/link", url.Values{"token": {token}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "used already or has expired") {
		t.Fatalf("second use: HTTP %d\n%s", resp.StatusCode, page)
	}
	// A console session cannot make itself links (a stolen cookie would never expire).
	_, home := b.do(http.MethodGet, "/console/", nil, nil)
	if resp, body := b.do(http.MethodPost, "/console/api/consolesignin", nil, map[string]string{"X-CSRF-Token": hidden(t, home)}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "signed request") {
		t.Fatalf("a link from a console session: HTTP %d %s", resp.StatusCode, body)
	}
}

func TestCSRF(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	vc := createVC(t, c, "etl")
	id := startRun(t, c, vc, "nightly", nil)
	b := newBrowser(t, srv)
	b.signIn(srv.Admin())
	_, list := b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns", nil, nil)
	token := hidden(t, list)
	cancel := "/console/virtualclusters/" + vc + "/jobruns/" + id + "/cancel"
	state := func() types.JobRunState {
		out, err := c.DescribeJobRun(t.Context(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return out.JobRun.State
	}
	for _, r := range []struct {
		name   string
		form   url.Values
		header map[string]string
	}{
		{"no token", url.Values{}, nil},
		{"wrong token", url.Values{"csrf": {"AAAA" + token[4:]}}, nil},
		{"another site's origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "https://evil.example"}},
		{"API without the header", nil, nil},
	} {
		path := cancel
		method := http.MethodPost
		if r.form == nil {
			path, method = "/console/api/virtualclusters/"+vc+"/jobruns/"+id, http.MethodDelete
		}
		resp, body := b.do(method, path, r.form, r.header)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") && !strings.Contains(body, "another site") {
			t.Errorf("%s: HTTP %d\n%s", r.name, resp.StatusCode, body)
		}
		if st := state(); st != types.JobRunStatePending {
			t.Fatalf("%s: the run is %s: a refused request changed it", r.name, st)
		}
	}
	resp, _ := b.do(http.MethodPost, cancel, url.Values{"csrf": {token}, "next": {"/console/virtualclusters/" + vc + "/jobruns"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel with the token: HTTP %d", resp.StatusCode)
	}
	if st := state(); st != types.JobRunStateCancelPending && st != types.JobRunStateCancelled {
		t.Fatalf("after cancel: %s", st)
	}
	// The CSRF token of one session is no good in another.
	other := newBrowser(t, srv)
	other.signIn(srv.Admin())
	id2 := startRun(t, c, vc, "other", nil)
	resp, _ = other.do(http.MethodPost, "/console/virtualclusters/"+vc+"/jobruns/"+id2+"/cancel", url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another session's token: HTTP %d", resp.StatusCode)
	}
}

func TestDenied(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	vc := createVC(t, c, "finance")
	id := startRun(t, c, vc, "ledger", nil)
	key := srv.User(t, "viewer", map[string]string{"view": `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["emr-containers:ListVirtualClusters","emr-containers:DescribeVirtualCluster","emr-containers:DescribeJobRun"],"Resource":"*"}]}`})
	b := newBrowser(t, srv)
	b.signIn(key)
	resp, body := b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns", nil, nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "is not authorized to perform: emr-containers:ListJobRuns") {
		t.Fatalf("list without ListJobRuns: HTTP %d\n%s", resp.StatusCode, body)
	}
	// The refusal is the page: not a list that says no run matches.
	if !strings.Contains(body, "<h1>Access denied</h1>") || strings.Contains(body, "No job runs match") {
		t.Errorf("list without ListJobRuns is not the Access denied page:\n%s", body)
	}
	// The run page shows what the user may see, and IAM's message where a part is refused.
	resp, body = b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns/"+id, nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "ledger") || !strings.Contains(body, "is not authorized to perform: sparkplane:GetJobRunCost") {
		t.Fatalf("run page: HTTP %d\n%s", resp.StatusCode, body)
	}
	// Cancel is refused with IAM's message, and nothing changes.
	token := hidden(t, body)
	resp, body = b.do(http.MethodPost, "/console/virtualclusters/"+vc+"/jobruns/"+id+"/cancel", url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "is not authorized to perform: emr-containers:CancelJobRun") {
		t.Fatalf("cancel: HTTP %d\n%s", resp.StatusCode, body)
	}
	out, err := c.DescribeJobRun(t.Context(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
	if err != nil || out.JobRun.State != types.JobRunStatePending {
		t.Fatalf("after a refused cancel: %v %v", err, out)
	}
}

// TestNoInjection puts markup in everything a user controls and a page shows: a tag key and
// value, an entry point argument, a Spark setting, filter fields and a path; no page may
// carry it unescaped.
func TestNoInjection(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	vc := createVC(t, c, "inj")
	const attack = `<script>alert(1)</script>`
	const attr = `"><img src=x onerror=alert(2)>`
	id := startRun(t, c, vc, "inj", map[string]string{attack: attr, "team": attack}, attack, attr)
	b := newBrowser(t, srv)
	b.signIn(srv.Admin())
	for _, path := range []string{
		"/console/",
		"/console/virtualclusters/" + vc + "/jobruns",
		"/console/virtualclusters/" + vc + "/jobruns?name=" + url.QueryEscape(attack) + "&tag=" + url.QueryEscape(attack+"="+attr),
		"/console/virtualclusters/" + vc + "/jobruns?createdAfter=" + url.QueryEscape(attr),
		"/console/virtualclusters/" + vc + "/jobruns/" + id,
		"/console/virtualclusters/" + vc + "/jobruns/" + id + "/logs?tail=" + url.QueryEscape(attr),
		"/console/virtualclusters/" + vc + "/start?template=" + url.QueryEscape(attack),
		"/console/virtualclusters/" + vc + "/cost?from=" + url.QueryEscape(attr),
		"/console/nothing/" + url.PathEscape(attack),
	} {
		_, body := b.do(http.MethodGet, path, nil, nil)
		for _, bad := range []string{"<script>", "<img src=x"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: the page carries %q unescaped", path, bad)
			}
		}
		// The Content-Security-Policy allows no inline style: the browser would drop it.
		if strings.Contains(body, ` style="`) {
			t.Errorf("%s: the page carries a style attribute, which its Content-Security-Policy blocks", path)
		}
	}
	// The detail page shows the tag and the argument, escaped, and masks the secret setting.
	_, body := b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns/"+id, nil, nil)
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "spark.hadoop.fs.s3a.secret.key=*********(redacted)"} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	// The request as submitted shows the argument as written, not as JSON's \u003c escapes.
	if strings.Contains(body, `\u003c`) {
		t.Errorf("the request as submitted shows <, > or & as \\u escapes")
	}
	if strings.Contains(body, "hunter2") {
		t.Errorf("run page shows the secret setting's value")
	}
}

// TestFilters filters the job list by state, name, creator and tag through the console.
func TestFilters(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	vc := createVC(t, c, "filters")
	a := startRun(t, c, vc, "alpha", map[string]string{"team": "data", "env": "prod"})
	bID := startRun(t, c, vc, "beta", map[string]string{"team": "ml"})
	key := srv.User(t, "bo", map[string]string{"all": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})
	cID := startRun(t, srv.ClientAs(key), vc, "gamma", nil)
	b := newBrowser(t, srv)
	b.signIn(srv.Admin())
	list := func(q string) []string {
		t.Helper()
		resp, body := b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns?"+q, nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("?%s: HTTP %d\n%s", q, resp.StatusCode, body)
		}
		var ids []string
		for _, m := range regexp.MustCompile(`<tr id="run-([0-9a-z]+)"`).FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	for q, want := range map[string][]string{
		"":                                      {cID, bID, a},
		"name=beta":                             {bID},
		"tag=team%3Ddata":                       {a},
		"tag=team%3Dnone":                       nil,
		"createdBy=" + url.QueryEscape(key.Arn): {cID},
		"state=PENDING":                         {cID, bID, a},
		"state=COMPLETED":                       nil,
	} {
		if got := list(q); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("?%s: %v, want %v", q, got, want)
		}
	}
	resp, body := b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns?tag=novalue", nil, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "tag: must be key=value") {
		t.Errorf("bad tag filter: HTTP %d", resp.StatusCode)
	}
	resp, body = b.do(http.MethodGet, "/console/virtualclusters/"+vc+"/jobruns?createdAfter=yesterday", nil, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "createdAfter: must be an ISO-8601 date-time") {
		t.Errorf("bad time filter: HTTP %d\n%s", resp.StatusCode, body)
	}
}

// TestStartFromTemplate starts a job run from a job template through the start form: a
// missing parameter and a bad number are refused with the API's field and rule, the form
// keeps what was typed, and a good form starts exactly one run however often it is sent.
func TestStartFromTemplate(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	vc := createVC(t, c, "templates")
	tpl, err := c.CreateJobTemplate(t.Context(), &emrcontainers.CreateJobTemplateInput{
		Name: aws.String("pi"), ClientToken: aws.String("tpl-1"),
		JobTemplateData: &types.JobTemplateData{
			ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String(apitest.ReleaseLabel),
			JobDriver: &types.JobDriver{SparkSubmitJobDriver: &types.SparkSubmitJobDriver{
				EntryPoint: aws.String("local:///usr/lib/spark/examples/src/main/python/pi.py"), EntryPointArguments: []string{"${Slices}"},
				SparkSubmitParameters: aws.String("--conf spark.executor.instances=${Executors}")}},
			ParameterConfiguration: map[string]types.TemplateParameterConfiguration{
				"Executors": {Type: types.TemplateParameterDataTypeNumber, DefaultValue: aws.String("2")},
				"Slices":    {Type: types.TemplateParameterDataTypeString},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv)
	b.signIn(srv.Admin())
	path := "/console/virtualclusters/" + vc + "/start"
	resp, page := b.do(http.MethodGet, path+"?template="+*tpl.Id, nil, nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="param.Executors"`) || !strings.Contains(page, `name="param.Slices"`) {
		t.Fatalf("start form: HTTP %d\n%s", resp.StatusCode, page)
	}
	token := hidden(t, page)
	clientToken := regexp.MustCompile(`name="clientToken" value="([^"]+)"`).FindStringSubmatch(page)[1]
	form := func(params map[string]string) url.Values {
		v := url.Values{"csrf": {token}, "template": {*tpl.Id}, "clientToken": {clientToken}, "name": {"from-console"}}
		for k, p := range params {
			v.Set("param."+k, p)
		}
		return v
	}
	for _, bad := range []struct {
		params map[string]string
		want   string
	}{
		{map[string]string{"Executors": "3"}, "Slices"},
		{map[string]string{"Executors": "many", "Slices": "10"}, "Executors"},
	} {
		resp, body := b.do(http.MethodPost, path, form(bad.params), nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "jobTemplateParameters") || !strings.Contains(body, bad.want) ||
			!strings.Contains(body, `id="p-`+bad.want+`" name="param.`+bad.want+`"`) {
			t.Fatalf("%v: HTTP %d\n%s", bad.params, resp.StatusCode, body)
		}
		if !strings.Contains(body, `value="from-console"`) {
			t.Errorf("%v: the form lost the name typed", bad.params)
		}
	}
	var started []string
	for range 2 {
		resp, _ := b.do(http.MethodPost, path, form(map[string]string{"Executors": "3", "Slices": "10"}), nil)
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/jobruns/") {
			t.Fatalf("start: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		started = append(started, resp.Header.Get("Location"))
	}
	if started[0] != started[1] {
		t.Fatalf("the same form sent twice started two runs: %v", started)
	}
	list, err := c.ListJobRuns(t.Context(), &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc)})
	if err != nil || len(list.JobRuns) != 1 || *list.JobRuns[0].Name != "from-console" {
		t.Fatalf("runs after the form: %v %v", err, list)
	}
	_, body := b.do(http.MethodGet, started[0], nil, nil)
	if !strings.Contains(body, "spark.executor.instances=3") {
		t.Errorf("the run page does not show the parameters applied")
	}
}

// TestLiveUIRefusals: the live Spark UI is never served on the console's own path, a grant
// must be real, and a run that does not run has no UI to open (the API says why). The UI
// itself, sandboxed behind its grant, is tested with a running driver in internal/controller.
func TestLiveUIRefusals(t *testing.T) {
	srv := apitest.Start(t)
	c := srv.Client()
	vc := createVC(t, c, "liveui")
	id := startRun(t, c, vc, "pending", nil)
	b := newBrowser(t, srv)
	b.signIn(srv.Admin())
	run := "/virtualclusters/" + vc + "/jobruns/" + id
	if resp, body := b.do(http.MethodGet, "/console/api"+run+"/sparkui/jobs/", nil, nil); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "served apart") {
		t.Errorf("the live UI through the console's API: HTTP %d %s", resp.StatusCode, body)
	}
	resp, body := b.do(http.MethodGet, "/console"+run+"/sparkui", nil, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "does not run yet") {
		t.Errorf("opening the UI of a PENDING run: HTTP %d\n%s", resp.StatusCode, body)
	}
	for _, path := range []string{
		"/console/liveui/" + strings.Repeat("A", 43) + run + "/sparkui/jobs/",
		"/console/liveui/short" + run + "/sparkui/jobs/",
		"/console/liveui/" + strings.Repeat("A", 43) + "/virtualclusters/x/other",
	} {
		resp, _ := newBrowser(t, srv).do(http.MethodGet, path, nil, nil)
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: HTTP %d", path, resp.StatusCode)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox ") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
}
