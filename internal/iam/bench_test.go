//go:build unix

package iam

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// teamPolicy is a realistic policy for one team: read everything, run and cancel jobs on
// the team's clusters with the team's roles, tag within limits, and three guard-rail Denies
// that a caller passes (so every statement is evaluated, which is the expensive case).
func teamPolicy(team string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Id":"%[1]s","Statement":[
 {"Sid":"ReadAll","Effect":"Allow","Action":["emr-containers:Describe*","emr-containers:List*"],"Resource":"*"},
 {"Sid":"RunOnTeamClusters","Effect":"Allow","Action":["emr-containers:StartJobRun","emr-containers:CancelJobRun"],
  "Resource":["arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/%[1]s-*","arn:aws:emr-containers:*:*:/virtualclusters/%[1]s-*/jobruns/*"],
  "Condition":{"ArnLike":{"emr-containers:ExecutionRoleArn":["arn:aws:iam::123456789012:role/%[1]s-*","arn:aws:iam::123456789012:role/shared-spark"]},
               "StringEquals":{"aws:ResourceTag/team":"%[1]s"}}},
 {"Sid":"TagWithinLimits","Effect":"Allow","Action":"emr-containers:TagResource","Resource":"*",
  "Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","cost-center","owner"]}}},
 {"Sid":"NoProd","Effect":"Deny","Action":"emr-containers:*","Resource":"arn:aws:emr-containers:*:*:/virtualclusters/prod-*"},
 {"Sid":"OwnAccountRoles","Effect":"Deny","Action":"emr-containers:StartJobRun","Resource":"*",
  "Condition":{"ArnNotLike":{"emr-containers:ExecutionRoleArn":"arn:aws:iam::123456789012:role/*"}}},
 {"Sid":"KnownTeams","Effect":"Deny","Action":["emr-containers:StartJobRun","emr-containers:TagResource"],"Resource":"*",
  "Condition":{"StringNotLike":{"aws:RequestTag/team":["team-*","shared"]},"Null":{"aws:RequestTag/team":"false"}}}
]}`, team)
}

func BenchmarkEvaluate(b *testing.B) {
	// The allowing policy comes last, so the 20-policy case walks every statement.
	var policies []*Policy
	for i := range 20 {
		policies = append(policies, mustParse(b, fmt.Sprintf("team-%02d", i), teamPolicy(fmt.Sprintf("team-%02d", i))))
	}
	all, one := policies, policies[19:]
	req := Request{
		Principal: "arn:aws:iam::123456789012:user/alice",
		Action:    "emr-containers:StartJobRun",
		Resource:  VirtualClusterARN("us-east-1", "123456789012", "team-19-etl"),
		Context: map[string][]string{
			"emr-containers:ExecutionRoleArn": {"arn:aws:iam::123456789012:role/team-19-spark"},
			"aws:ResourceTag/team":            {"team-19"},
			"aws:RequestTag/team":             {"team-19"},
			"aws:TagKeys":                     {"team"},
		},
	}
	for _, ps := range [][]*Policy{one, all} {
		if d := Evaluate(ps, req); !d.Allowed || d.Policy != "team-19" || d.Sid != "RunOnTeamClusters" {
			b.Fatalf("benchmark request not allowed as intended: %+v", d)
		}
	}
	b.Run("policies=1", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			Evaluate(one, req)
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("policies=20", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		for b.Loop() {
			Evaluate(all, req)
		}
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")

		// The ratio to the 1-policy baseline is measured in alternating chunks, so both
		// sides see the same load: on a machine shared with other builds, two separate
		// timing windows can differ several-fold.
		b.StopTimer()
		const chunk = 64
		var t1, t20 time.Duration
		n := 0
		for ; n < b.N; n += chunk {
			start := time.Now()
			for range chunk {
				Evaluate(one, req)
			}
			mid := time.Now()
			for range chunk {
				Evaluate(all, req)
			}
			t1 += mid.Sub(start)
			t20 += time.Since(mid)
		}
		b.ReportMetric(float64(t1.Nanoseconds())/float64(n), "ns/op-1-policy")
		b.ReportMetric(float64(t20)/float64(t1), "x-1-policy")
	})
}

// cpuTime is the CPU time the process has used, in nanoseconds. Wall-clock ns/op on a
// shared machine includes time spent waiting for a core; CPU time per op does not.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkParse(b *testing.B) {
	doc := []byte(teamPolicy("team-00"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("p", doc); err != nil {
			b.Fatal(err)
		}
	}
}
