package load_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// BenchmarkSandboxConsolePage measures the web console's job list page on the sandbox's own
// server process, with the whole sandbox up and one of its jobs running (Karpenter placing it,
// the driver emulator running its pods): a virtual cluster of the sandbox is given 100,000
// finished job runs (imported into the server's SQLite file while the server is stopped, then
// the sandbox restarts it), and a browser's session (signed in with a one-time link) reads the
// first page and a page half-way down. The baseline in the same run is the SigV4 ListJobRuns
// call of 50 runs the page is made from. Each reports p50 and p99 in ms; the pages also their
// p99 as a multiple of the baseline's.
func BenchmarkSandboxConsolePage(b *testing.B) {
	const rows = 100_000
	e := sandboxEnv(b)
	ns := namespace("console")
	vc := e.virtualCluster(b, ns)
	defer e.cleanUp(b, vc, ns)
	e.importRuns(b, vc, rows)

	creds, err := e.emr.Options().Credentials.Retrieve(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	signed := func(method, path string) (int, []byte) {
		req, _ := http.NewRequest(method, e.endpoint+path, nil)
		empty := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(b.Context(), creds, req, hex.EncodeToString(empty[:]), "emr-containers", e.emr.Options().Region, time.Now()); err != nil {
			b.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	// The browser: signed in through a one-time link.
	code, body := signed(http.MethodPost, "/consolesignin")
	var link struct{ Path string }
	if err := json.Unmarshal(body, &link); code != http.StatusOK || err != nil {
		b.Fatalf("POST /consolesignin: HTTP %d %s", code, body)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.PostForm(e.endpoint+"/console/signin/link", url.Values{"token": {strings.TrimPrefix(link.Path, "/console/signin/link?token=")}})
	if err != nil || resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/console/" {
		b.Fatalf("sign in with the link: %v %v", err, resp)
	}
	resp.Body.Close()
	// The token of the page half-way down, from the API.
	list := "/virtualclusters/" + vc + "/jobruns?maxResults=100"
	token := ""
	for seen := 0; seen < rows/2; seen += 100 {
		p := list
		if token != "" {
			p += "&nextToken=" + url.QueryEscape(token)
		}
		code, body := signed(http.MethodGet, p)
		m := regexp.MustCompile(`"nextToken":"([^"]+)"`).FindSubmatch(body)
		if code != http.StatusOK || m == nil {
			b.Fatalf("GET %s: HTTP %d", p, code)
		}
		token = string(m[1])
	}
	// A job of the sandbox runs while the pages are read.
	j := job(e)
	j.Params = strings.Replace(j.Params, "duration=5s", "duration=60s", 1)
	if _, err := e.start(b.Context(), vc, j); err != nil {
		b.Fatal(err)
	}
	page := "/console/virtualclusters/" + vc + "/jobruns"
	var apiP99 float64
	for _, c := range []struct {
		name, path string
		signed     bool
	}{
		{"api-listjobruns", "/virtualclusters/" + vc + "/jobruns?maxResults=50", true},
		{"console-first-page", page, false},
		{"console-deep-page", page + "?nextToken=" + url.QueryEscape(token), false},
	} {
		b.Run(c.name, func(b *testing.B) {
			one := func() {
				if c.signed {
					if code, body := signed(http.MethodGet, c.path); code != http.StatusOK || strings.Count(string(body), `"virtualClusterId"`) != 50 {
						b.Fatalf("GET %s: HTTP %d", c.path, code)
					}
					return
				}
				resp, err := browser.Get(e.endpoint + c.path)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || strings.Count(string(body), `<tr id="run-`) < 50 {
					b.Fatalf("GET %s: HTTP %d, %d rows", c.path, resp.StatusCode, strings.Count(string(body), `<tr id="run-`))
				}
			}
			one()
			lat := make([]time.Duration, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				one()
				lat[i] = time.Since(t0)
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			p99 := ms(lat[min(len(lat)-1, len(lat)*99/100)])
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(p99, "p99-ms")
			if c.signed {
				apiP99 = p99
			} else if apiP99 > 0 {
				b.ReportMetric(p99/apiP99, "p99_vs_api")
			}
		})
	}
}

// importRuns stops the sandbox's server (by its pid), imports rows finished job runs of vc
// into its SQLite file, and has the sandbox start it again.
func (e *env) importRuns(b *testing.B, vc string, rows int) {
	b.Helper()
	db := filepath.Join(e.dir, "data", "sparkplane.db")
	if _, err := os.Stat(db); err != nil {
		b.Fatalf("this benchmark needs the sandbox's SQLite server (make sandbox): %v", err)
	}
	pid := sandbox.ReadPid(e.dir, sandbox.PartServer)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		b.Fatalf("stop the server (pid %d): %v", pid, err)
	}
	for deadline := time.Now().Add(30 * time.Second); sandbox.Alive(pid); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("the server (pid %d) did not stop", pid)
		}
	}
	st, err := store.OpenDatabase(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	base := time.Now().Add(-time.Duration(rows+3600) * time.Second)
	for off := 0; off < rows; off += 20_000 {
		runs := make([]jobs.JobRun, 0, 20_000)
		for i := off; i < off+20_000 && i < rows; i++ {
			state := jobs.StateCompleted
			if i%10 == 0 {
				state = jobs.StateFailed
			}
			run := storetest.JobRun(fmt.Sprintf("c%018d", i), vc, fmt.Sprintf("etl-%d", i%10), state, base.Add(time.Duration(i)*time.Second))
			run.Tags = map[string]string{"team": "data"}
			runs = append(runs, run)
		}
		if err := st.ImportJobRuns(context.Background(), runs); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	up := exec.Command("../../bin/sparkplane-sandbox", "up", "--dir", e.dir)
	if out, err := up.CombinedOutput(); err != nil {
		b.Fatalf("restart the sandbox's server: %v\n%s", err, out)
	}
	e.serverPid = sandbox.ReadPid(e.dir, sandbox.PartServer)
}
