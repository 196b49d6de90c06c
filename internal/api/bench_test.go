package api_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/store/storetest"
)

// reportLatencies adds p50/p99 (ms) and req/s metrics for the measured calls.
func reportLatencies(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
}

// BenchmarkStartJobRun measures StartJobRun through the whole stack (aws-sdk-go-v2 client,
// HTTP, SigV4 verification, validation, durable SQLite commit) at 1, 8 and 64 clients.
func BenchmarkStartJobRun(b *testing.B) {
	for _, clients := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			srv := apitest.Start(b)
			c := srv.Client()
			vc := createVCB(b, c)
			var next atomic.Int64
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t0 := time.Now()
						if _, err := c.StartJobRun(b.Context(), startInput(vc, "bench")); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(t0)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			reportLatencies(b, lat, elapsed)
		})
	}
}

func createVCB(b *testing.B, c *emrcontainers.Client) string {
	out, err := c.CreateVirtualCluster(b.Context(), &emrcontainers.CreateVirtualClusterInput{Name: aws.String("bench"),
		ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks}})
	if err != nil {
		b.Fatal(err)
	}
	return *out.Id
}

// BenchmarkListJobRuns measures ListJobRuns (first page of 50, a page deep in the list, and a
// state filter) through the whole stack with 100k and 1M stored runs in one virtual cluster.
func BenchmarkListJobRuns(b *testing.B) {
	for _, rows := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			if testing.Short() && rows > 100_000 {
				b.Skip("1M rows take a minute to seed; run without -short")
			}
			srv := apitest.Start(b)
			c := srv.Client()
			vc := createVCB(b, c)
			seed(b, srv, vc, rows)
			// A token from deep in the list, to measure keyset pagination far from the start.
			deep := ""
			p := emrcontainers.NewListJobRunsPaginator(c, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc), MaxResults: aws.Int32(500)})
			for range 20 {
				out, err := p.NextPage(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				deep = *out.NextToken
			}
			inputs := []*emrcontainers.ListJobRunsInput{
				{VirtualClusterId: aws.String(vc), MaxResults: aws.Int32(50)},
				{VirtualClusterId: aws.String(vc), MaxResults: aws.Int32(50), NextToken: aws.String(deep)},
				{VirtualClusterId: aws.String(vc), MaxResults: aws.Int32(50), States: []types.JobRunState{types.JobRunStateFailed}},
				{VirtualClusterId: aws.String(vc), MaxResults: aws.Int32(50), Name: aws.String("etl-7")},
			}
			lat := make([]time.Duration, b.N)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				t0 := time.Now()
				out, err := c.ListJobRuns(b.Context(), inputs[i%len(inputs)])
				if err != nil {
					b.Fatal(err)
				}
				if len(out.JobRuns) == 0 {
					b.Fatalf("empty page for %+v", inputs[i%len(inputs)])
				}
				lat[i] = time.Since(t0)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			reportLatencies(b, lat, elapsed)
		})
	}
}

// seed bulk-loads rows job runs into vc: one in ten FAILED, the rest COMPLETED, ten names.
func seed(b *testing.B, srv *apitest.Server, vc string, rows int) {
	b.Helper()
	t0 := time.Now()
	base := time.Now().Add(-time.Duration(rows) * time.Second)
	const batch = 20_000
	for off := 0; off < rows; off += batch {
		runs := make([]jobs.JobRun, 0, batch)
		for i := off; i < off+batch && i < rows; i++ {
			st := jobs.StateCompleted
			if i%10 == 0 {
				st = jobs.StateFailed
			}
			runs = append(runs, storetest.JobRun(fmt.Sprintf("r%018d", i), vc, fmt.Sprintf("etl-%d", i%10), st, base.Add(time.Duration(i)*time.Second)))
		}
		if err := srv.App.Store.ImportJobRuns(b.Context(), runs); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d job runs in %s", rows, time.Since(t0).Round(time.Millisecond))
}

// teamPolicy is a realistic policy of one team, as in internal/iam's BenchmarkEvaluate: read
// everything, run jobs on the team's clusters (tagged team=<team>) with the team's roles, and
// guard-rail Denies the caller passes, so every statement is evaluated.
func teamPolicy(team, vcARN string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["emr-containers:Describe*","emr-containers:List*"],"Resource":"*"},
 {"Effect":"Allow","Action":["emr-containers:StartJobRun","emr-containers:CancelJobRun"],"Resource":["%[2]s","%[2]s/jobruns/*"],
  "Condition":{"ArnLike":{"emr-containers:ExecutionRoleArn":["arn:aws:iam::000000000000:role/%[1]s-*","%[3]s"]},"StringEquals":{"aws:ResourceTag/team":"%[1]s"}}},
 {"Effect":"Allow","Action":"emr-containers:TagResource","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","owner"]}}},
 {"Effect":"Deny","Action":"emr-containers:*","Resource":"arn:aws:emr-containers:*:*:/virtualclusters/prod-*"},
 {"Effect":"Deny","Action":"emr-containers:StartJobRun","Resource":"*","Condition":{"ArnNotLike":{"emr-containers:ExecutionRoleArn":"arn:aws:iam::000000000000:role/*"}}}
]}`, team, vcARN, apitest.RoleArn)
}

// BenchmarkStartJobRunWithPolicies measures StartJobRun throughput at 8 clients signed by an
// administrator key (no policy evaluation) and by a user with 20 attached policies whose
// allowing one is last and reads the virtual cluster's tags (aws:ResourceTag), in alternating
// rounds on one server; it reports both rates and their ratio (target: within 10%).
func BenchmarkStartJobRunWithPolicies(b *testing.B) {
	srv := apitest.Start(b)
	admin := srv.Client()
	out, err := admin.CreateVirtualCluster(b.Context(), &emrcontainers.CreateVirtualClusterInput{Name: aws.String("bench"),
		Tags:              map[string]string{"team": "team-19"},
		ContainerProvider: &types.ContainerProvider{Id: aws.String(apitest.ContainerProvider), Type: types.ContainerProviderTypeEks}})
	if err != nil {
		b.Fatal(err)
	}
	vc, vcARN := *out.Id, *out.Arn
	policies := map[string]string{}
	for i := range 20 {
		team := fmt.Sprintf("team-%02d", i)
		arn := vcARN
		if i < 19 {
			arn = strings.Replace(vcARN, vc, "other-"+team, 1)
		}
		policies[team] = teamPolicy(team, arn)
	}
	user := srv.ClientAs(srv.User(b, "team-19-engineer", policies))
	const clients = 8
	round := func(c *emrcontainers.Client, n int) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					in := startInput(vc, "bench")
					in.Tags = map[string]string{"team": "team-19"}
					if _, err := c.StartJobRun(b.Context(), in); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return float64(n) / time.Since(start).Seconds()
	}
	round(admin, 200) // warm up both paths
	round(user, 200)
	var adminRates, userRates []float64
	b.ResetTimer()
	for range 5 {
		adminRates = append(adminRates, round(admin, b.N))
		userRates = append(userRates, round(user, b.N))
	}
	b.StopTimer()
	median := func(v []float64) float64 {
		sort.Float64s(v)
		return v[len(v)/2]
	}
	a, u := median(adminRates), median(userRates)
	b.ReportMetric(a, "admin_req/s")
	b.ReportMetric(u, "policies_req/s")
	b.ReportMetric(u/a, "ratio")
}
