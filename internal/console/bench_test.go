package console_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// BenchmarkJobRunsPage measures the console's job list page of a virtual cluster holding
// 100,000 job runs, over HTTP on a real server with SQLite, as a signed-in browser asks for
// it: its first page, and a page half-way down the list (keyset pagination far from the
// start). The baseline, measured in the same run on the same server, is the signed API call
// the page is made from (ListJobRuns, 50 runs). Each reports p50 and p99 in ms; the pages
// also report their p99 as a multiple of the baseline's (p99_vs_api).
func BenchmarkJobRunsPage(b *testing.B) {
	const rows = 100_000
	srv := apitest.Start(b)
	vc := createVC(b, srv.Client(), "bench")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 20_000
	for off := 0; off < rows; off += batch {
		runs := make([]jobs.JobRun, 0, batch)
		for i := off; i < off+batch; i++ {
			st := jobs.StateCompleted
			if i%10 == 0 {
				st = jobs.StateFailed
			}
			run := storetest.JobRun(fmt.Sprintf("r%018d", i), vc, fmt.Sprintf("etl-%d", i%10), st, base.Add(time.Duration(i)*time.Second))
			run.Tags = map[string]string{"team": "data"}
			runs = append(runs, run)
		}
		if err := srv.App.Store.ImportJobRuns(b.Context(), runs); err != nil {
			b.Fatal(err)
		}
	}
	br := newBrowser(b, srv)
	br.signIn(srv.Admin())
	page := "/console/virtualclusters/" + vc + "/jobruns"
	deep := page + "?nextToken=" + url.QueryEscape(tokenAt(b, srv, vc, rows/2))
	var apiP99 float64
	for _, c := range []struct {
		name   string
		path   string
		signed bool
	}{
		{"api-listjobruns", "/virtualclusters/" + vc + "/jobruns?maxResults=50", true},
		{"console-first-page", page, false},
		{"console-deep-page", deep, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			one := func() {
				if c.signed {
					if code, _, body := srv.Get(b, c.path, true); code != http.StatusOK || strings.Count(string(body), `"id":"r0`) != 50 {
						b.Fatalf("GET %s: HTTP %d", c.path, code)
					}
					return
				}
				resp, err := br.c.Get(srv.URL + c.path)
				if err != nil {
					b.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || strings.Count(string(body), `<tr id="run-`) != 50 {
					b.Fatalf("GET %s: HTTP %d, %d rows, %v", c.path, resp.StatusCode, strings.Count(string(body), `<tr id="run-`), err)
				}
			}
			one() // warm
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

var reToken = regexp.MustCompile(`"nextToken":"([^"]+)"`)

// tokenAt pages the API from the newest run, 100 at a time, until it has passed i runs, and
// returns the token that continues there.
func tokenAt(b *testing.B, srv *apitest.Server, vc string, i int) string {
	token := ""
	for seen := 0; seen < i; seen += 100 {
		p := "/virtualclusters/" + vc + "/jobruns?maxResults=100"
		if token != "" {
			p += "&nextToken=" + url.QueryEscape(token)
		}
		code, _, body := srv.Get(b, p, true)
		if code != http.StatusOK {
			b.Fatalf("GET %s: HTTP %d %s", p, code, body)
		}
		m := reToken.FindSubmatch(body)
		if m == nil {
			b.Fatalf("no nextToken after %d runs", seen)
		}
		token = string(m[1])
	}
	return token
}
