package iam

import "testing"

const (
	alice  = "arn:aws:iam::123456789012:user/alice"
	vcABC  = "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/abc"
	vcProd = "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/prod"
)

func mustParse(t testing.TB, name, doc string) *Policy {
	t.Helper()
	p, err := Parse(name, []byte(doc))
	if err != nil {
		t.Fatalf("Parse %s: %v", name, err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	allowJobs := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Read","Effect":"Allow","Action":["emr-containers:Describe*","emr-containers:List*"],"Resource":"*"},
		{"Sid":"Run","Effect":"Allow","Action":"emr-containers:StartJobRun","Resource":"arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/*"}]}`
	denyProd := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"emr-containers:*","Resource":"*"},
		{"Sid":"NoProd","Effect":"Deny","Action":"emr-containers:*","Resource":"` + vcProd + `*"}]}`
	notAction := `{"Version":"2012-10-17","Statement":{"Sid":"AllButDelete","Effect":"Allow","NotAction":"emr-containers:Delete*","Resource":"*"}}`
	notResource := `{"Version":"2012-10-17","Statement":{"Sid":"EverywhereButProd","Effect":"Allow","Action":"emr-containers:StartJobRun","NotResource":"` + vcProd + `"}}`
	denyAllButRead := `{"Version":"2012-10-17","Statement":{"Sid":"ReadOnly","Effect":"Deny","NotAction":["emr-containers:Describe*","emr-containers:List*"],"Resource":"*"}}`

	tests := []struct {
		name     string
		policies []string
		action   string
		resource string
		want     Decision
	}{
		{"no policies: implicit deny", nil, "emr-containers:StartJobRun", vcABC,
			Decision{Statement: -1}},
		{"allowed by the first matching statement", []string{allowJobs}, "emr-containers:DescribeVirtualCluster", vcABC,
			Decision{Allowed: true, Policy: "p0", Sid: "Read", Statement: 0}},
		{"allowed by a later statement", []string{allowJobs}, "emr-containers:StartJobRun", vcABC,
			Decision{Allowed: true, Policy: "p0", Sid: "Run", Statement: 1}},
		{"action not listed: implicit deny", []string{allowJobs}, "emr-containers:DeleteVirtualCluster", vcABC,
			Decision{Statement: -1}},
		{"actions match case-insensitively", []string{allowJobs}, "EMR-CONTAINERS:startjobrun", vcABC,
			Decision{Allowed: true, Policy: "p0", Sid: "Run", Statement: 1}},
		{"resources match case-sensitively", []string{allowJobs}, "emr-containers:StartJobRun", "arn:aws:emr-containers:us-east-1:123456789012:/VirtualClusters/abc",
			Decision{Statement: -1}},
		{"explicit deny beats an allow in the same policy", []string{denyProd}, "emr-containers:StartJobRun", vcProd,
			Decision{ExplicitDeny: true, Policy: "p0", Sid: "NoProd", Statement: 1}},
		{"explicit deny beats an allow in an earlier policy", []string{allowJobs, denyProd}, "emr-containers:StartJobRun", vcProd + "/jobruns/j1",
			Decision{ExplicitDeny: true, Policy: "p1", Sid: "NoProd", Statement: 1}},
		{"deny that does not match leaves the allow", []string{allowJobs, denyProd}, "emr-containers:StartJobRun", vcABC,
			Decision{Allowed: true, Policy: "p0", Sid: "Run", Statement: 1}},
		{"NotAction allows what it does not list", []string{notAction}, "emr-containers:CancelJobRun", vcABC,
			Decision{Allowed: true, Policy: "p0", Sid: "AllButDelete", Statement: 0}},
		{"NotAction does not allow what it lists", []string{notAction}, "emr-containers:DeleteJobTemplate", vcABC,
			Decision{Statement: -1}},
		{"NotAction applies to other services too", []string{notAction}, "s3:GetObject", "arn:aws:s3:::b/k",
			Decision{Allowed: true, Policy: "p0", Sid: "AllButDelete", Statement: 0}},
		{"NotResource allows other resources", []string{notResource}, "emr-containers:StartJobRun", vcABC,
			Decision{Allowed: true, Policy: "p0", Sid: "EverywhereButProd", Statement: 0}},
		{"NotResource does not allow the listed one", []string{notResource}, "emr-containers:StartJobRun", vcProd,
			Decision{Statement: -1}},
		{"Deny with NotAction denies what it does not list", []string{denyProd, denyAllButRead}, "emr-containers:StartJobRun", vcABC,
			Decision{ExplicitDeny: true, Policy: "p1", Sid: "ReadOnly", Statement: 0}},
		{"Deny with NotAction leaves what it lists", []string{denyProd, denyAllButRead}, "emr-containers:ListJobRuns", vcABC,
			Decision{Allowed: true, Policy: "p0", Statement: 0}},
		{"an action with no resource type is asked on *", []string{allowJobs}, "emr-containers:ListVirtualClusters", "*",
			Decision{Allowed: true, Policy: "p0", Sid: "Read", Statement: 0}},
		{"an ARN pattern does not match *", []string{allowJobs}, "emr-containers:StartJobRun", "*",
			Decision{Statement: -1}},
		{"extension actions are ordinary actions", []string{denyProd}, "sparkplane:PutVirtualClusterSettings", vcABC,
			Decision{Statement: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps []*Policy
			for i, doc := range tt.policies {
				ps = append(ps, mustParse(t, "p"+string(rune('0'+i)), doc))
			}
			got := Evaluate(ps, Request{Principal: alice, Action: tt.action, Resource: tt.resource})
			if got != tt.want {
				t.Errorf("Evaluate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEvaluateSkipsNilPolicies(t *testing.T) {
	p := mustParse(t, "all", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	got := Evaluate([]*Policy{nil, p}, Request{Action: "emr-containers:ListJobRuns", Resource: vcABC})
	if !got.Allowed || got.Policy != "all" {
		t.Errorf("Evaluate = %+v, want allowed by all", got)
	}
}

func TestZeroPolicyAllowsNothing(t *testing.T) {
	// A Policy built by hand has no compiled matchers; it must fail closed.
	p := &Policy{Name: "hand", Statements: []Statement{{Effect: Allow, Actions: []string{"*"}, Resources: []string{"*"}}}}
	if got := Evaluate([]*Policy{p}, Request{Action: "emr-containers:ListJobRuns", Resource: "*"}); got.Allowed {
		t.Errorf("hand-built policy allowed a request: %+v", got)
	}
}
