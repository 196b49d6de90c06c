package iam

import (
	"fmt"
	"testing"
)

// absent marks a test request that does not carry the condition key at all.
var absent []string

func TestConditionOperators(t *testing.T) {
	const (
		role      = "arn:aws:iam::123456789012:role/spark-etl"
		otherRole = "arn:aws:iam::999999999999:role/admin"
	)
	tests := []struct {
		name     string
		operator string
		key      string
		values   string   // the JSON value of the key in the policy
		request  []string // the request's values for the key
		want     bool
	}{
		// StringEquals and its negation; values in one condition are ORed.
		{"StringEquals match", "StringEquals", "aws:ResourceTag/team", `"data"`, []string{"data"}, true},
		{"StringEquals is case-sensitive", "StringEquals", "aws:ResourceTag/team", `"data"`, []string{"Data"}, false},
		{"StringEquals any listed value", "StringEquals", "aws:ResourceTag/team", `["ml","data"]`, []string{"data"}, true},
		{"StringEquals takes no wildcards", "StringEquals", "aws:ResourceTag/team", `"d*"`, []string{"data"}, false},
		{"StringEquals absent key fails", "StringEquals", "aws:ResourceTag/team", `"data"`, absent, false},
		{"StringEquals empty value list is absent", "StringEquals", "aws:ResourceTag/team", `"data"`, []string{}, false},
		{"StringEquals several request values: any", "StringEquals", "aws:TagKeys", `"team"`, []string{"cost", "team"}, true},
		{"StringEquals number value compares its text", "StringEquals", "aws:ResourceTag/level", `12`, []string{"12"}, true},
		{"StringNotEquals different", "StringNotEquals", "aws:ResourceTag/team", `"data"`, []string{"ml"}, true},
		{"StringNotEquals equal", "StringNotEquals", "aws:ResourceTag/team", `["ml","data"]`, []string{"data"}, false},
		{"StringNotEquals absent key holds (IAM)", "StringNotEquals", "aws:ResourceTag/team", `"data"`, absent, true},
		{"StringNotEquals several request values: none may equal", "StringNotEquals", "aws:TagKeys", `"team"`, []string{"cost", "team"}, false},

		// IgnoreCase.
		{"StringEqualsIgnoreCase", "StringEqualsIgnoreCase", "aws:ResourceTag/team", `"Data"`, []string{"dATA"}, true},
		{"StringEqualsIgnoreCase mismatch", "StringEqualsIgnoreCase", "aws:ResourceTag/team", `"Data"`, []string{"ml"}, false},
		{"StringNotEqualsIgnoreCase equal but for case", "StringNotEqualsIgnoreCase", "aws:ResourceTag/team", `"Data"`, []string{"DATA"}, false},
		{"StringNotEqualsIgnoreCase absent holds", "StringNotEqualsIgnoreCase", "aws:ResourceTag/team", `"Data"`, absent, true},

		// StringLike with wildcards.
		{"StringLike star", "StringLike", "aws:RequestTag/app", `"spark-*"`, []string{"spark-etl"}, true},
		{"StringLike question mark", "StringLike", "aws:RequestTag/app", `"job-?"`, []string{"job-7"}, true},
		{"StringLike question mark is one character", "StringLike", "aws:RequestTag/app", `"job-?"`, []string{"job-17"}, false},
		{"StringLike is case-sensitive", "StringLike", "aws:RequestTag/app", `"spark-*"`, []string{"Spark-etl"}, false},
		{"StringLike absent fails", "StringLike", "aws:RequestTag/app", `"*"`, absent, false},
		{"StringNotLike matching", "StringNotLike", "aws:RequestTag/app", `["spark-*","flink-*"]`, []string{"flink-x"}, false},
		{"StringNotLike not matching", "StringNotLike", "aws:RequestTag/app", `["spark-*","flink-*"]`, []string{"beam"}, true},
		{"StringNotLike absent holds", "StringNotLike", "aws:RequestTag/app", `"spark-*"`, absent, true},

		// ARN operators compare the six components one by one.
		{"ArnEquals exact", "ArnEquals", "emr-containers:ExecutionRoleArn", `"` + role + `"`, []string{role}, true},
		{"ArnEquals takes wildcards like ArnLike", "ArnEquals", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::*:role/spark-*"`, []string{role}, true},
		{"ArnLike any account", "ArnLike", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::*:role/spark-*"`, []string{role}, true},
		{"ArnLike other role", "ArnLike", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::*:role/spark-*"`, []string{otherRole}, false},
		{"ArnLike star stays in its component", "ArnLike", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::*:role/spark-etl"`, []string{"arn:aws:iam::123456789012:extra:role/spark-etl"}, false},
		{"ArnLike empty region component", "ArnLike", "emr-containers:ExecutionRoleArn", `"arn:aws:*:us-*:*:*"`, []string{role}, false},
		{"ArnLike is case-sensitive", "ArnLike", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::123456789012:role/Spark-etl"`, []string{role}, false},
		{"ArnLike resource component keeps its colons", "ArnLike", "emr-containers:JobTemplateArn", `"arn:aws:logs:*:*:log-group:*"`, []string{"arn:aws:logs:us-east-1:1:log-group:a:b"}, true},
		{"ArnLike request value that is no ARN never matches", "ArnLike", "emr-containers:ExecutionRoleArn", `"arn:*:*:*:*:*"`, []string{"spark-etl"}, false},
		{"ArnLike absent fails", "ArnLike", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::*:role/*"`, absent, false},
		{"ArnNotLike other role", "ArnNotLike", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::*:role/spark-*"`, []string{otherRole}, true},
		{"ArnNotLike listed role", "ArnNotLike", "emr-containers:ExecutionRoleArn", `"arn:aws:iam::*:role/spark-*"`, []string{role}, false},
		{"ArnNotEquals absent holds", "ArnNotEquals", "emr-containers:ExecutionRoleArn", `"` + role + `"`, absent, true},

		// Bool.
		{"Bool true", "Bool", "aws:SecureTransport", `"true"`, []string{"true"}, true},
		{"Bool false request", "Bool", "aws:SecureTransport", `"true"`, []string{"false"}, false},
		{"Bool JSON boolean in the policy", "Bool", "aws:SecureTransport", `false`, []string{"false"}, true},
		{"Bool ignores case", "Bool", "aws:SecureTransport", `"TRUE"`, []string{"True"}, true},
		{"Bool absent fails", "Bool", "aws:SecureTransport", `"false"`, absent, false},

		// Null tests presence only.
		{"Null true, key absent", "Null", "aws:RequestTag/team", `"true"`, absent, true},
		{"Null true, key present", "Null", "aws:RequestTag/team", `"true"`, []string{"x"}, false},
		{"Null false, key present", "Null", "aws:RequestTag/team", `"false"`, []string{"x"}, true},
		{"Null false, key absent", "Null", "aws:RequestTag/team", `false`, absent, false},
		{"Null empty value list is absent", "Null", "aws:RequestTag/team", `"true"`, []string{}, true},

		// IfExists: an absent key satisfies the condition; a present one is tested as usual.
		{"StringEqualsIfExists absent", "StringEqualsIfExists", "aws:RequestTag/team", `"data"`, absent, true},
		{"StringEqualsIfExists present, equal", "StringEqualsIfExists", "aws:RequestTag/team", `"data"`, []string{"data"}, true},
		{"StringEqualsIfExists present, different", "StringEqualsIfExists", "aws:RequestTag/team", `"data"`, []string{"ml"}, false},
		{"StringNotEqualsIfExists absent holds", "StringNotEqualsIfExists", "aws:RequestTag/team", `"data"`, absent, true},
		{"StringNotEqualsIfExists present, equal", "StringNotEqualsIfExists", "aws:RequestTag/team", `"data"`, []string{"data"}, false},
		{"ArnLikeIfExists absent", "ArnLikeIfExists", "emr-containers:JobTemplateArn", `"arn:aws:emr-containers:*:*:/jobtemplates/*"`, absent, true},
		{"BoolIfExists present false", "BoolIfExists", "aws:MultiFactorAuthPresent", `"true"`, []string{"false"}, false},

		// Set qualifiers on a multivalued key.
		{"ForAnyValue one matches", "ForAnyValue:StringEquals", "aws:TagKeys", `["team","cost"]`, []string{"x", "cost"}, true},
		{"ForAnyValue none matches", "ForAnyValue:StringEquals", "aws:TagKeys", `["team","cost"]`, []string{"x", "y"}, false},
		{"ForAnyValue absent key is false", "ForAnyValue:StringEquals", "aws:TagKeys", `"team"`, absent, false},
		{"ForAnyValue empty list is false", "ForAnyValue:StringLike", "aws:TagKeys", `"*"`, []string{}, false},
		{"ForAllValues all match", "ForAllValues:StringEquals", "aws:TagKeys", `["team","cost"]`, []string{"team", "cost"}, true},
		{"ForAllValues one does not", "ForAllValues:StringEquals", "aws:TagKeys", `["team","cost"]`, []string{"team", "owner"}, false},
		{"ForAllValues absent key is true", "ForAllValues:StringEquals", "aws:TagKeys", `"team"`, absent, true},
		{"ForAllValues empty list is true", "ForAllValues:StringLike", "aws:TagKeys", `"team"`, []string{}, true},
		{"ForAllValues:StringNotEquals none forbidden", "ForAllValues:StringNotEquals", "aws:TagKeys", `"admin"`, []string{"team", "cost"}, true},
		{"ForAllValues:StringNotEquals one forbidden", "ForAllValues:StringNotEquals", "aws:TagKeys", `"admin"`, []string{"team", "admin"}, false},
		{"ForAnyValue:StringNotEquals one other", "ForAnyValue:StringNotEquals", "aws:TagKeys", `"admin"`, []string{"admin", "team"}, true},
		{"ForAnyValue:StringNotEquals only forbidden", "ForAnyValue:StringNotEquals", "aws:TagKeys", `"admin"`, []string{"admin"}, false},
		{"ForAnyValue:StringNotEquals absent is false", "ForAnyValue:StringNotEquals", "aws:TagKeys", `"admin"`, absent, false},
		{"ForAllValues:StringEqualsIgnoreCase", "ForAllValues:StringEqualsIgnoreCase", "aws:TagKeys", `["Team","Cost"]`, []string{"team", "COST"}, true},
		{"ForAnyValue:StringLikeIfExists absent", "ForAnyValue:StringLikeIfExists", "aws:TagKeys", `"team*"`, absent, true},
		{"ForAnyValue:StringLikeIfExists present", "ForAnyValue:StringLikeIfExists", "aws:TagKeys", `"team*"`, []string{"cost"}, false},
		{"ForAllValues:ArnLike", "ForAllValues:ArnLike", "aws:SourceArn", `"arn:aws:emr-containers:*:*:/virtualclusters/*"`, []string{vcABC, vcProd}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{%q:{%q:%s}}}}`,
				tt.operator, tt.key, tt.values)
			p := mustParse(t, "c", doc)
			req := Request{Principal: alice, Action: "emr-containers:StartJobRun", Resource: vcABC}
			if tt.request != nil {
				req.Context = map[string][]string{tt.key: tt.request}
			}
			if got := Evaluate([]*Policy{p}, req).Allowed; got != tt.want {
				t.Errorf("%s %s %s with request %q: allowed = %v, want %v", tt.operator, tt.key, tt.values, tt.request, got, tt.want)
			}
		})
	}
}

func TestConditionStructure(t *testing.T) {
	// Two keys under one operator and two operators in one block: all must hold.
	p := mustParse(t, "team-data", `{"Version":"2012-10-17","Statement":{"Sid":"TaggedRuns","Effect":"Allow","Action":"emr-containers:StartJobRun","Resource":"*","Condition":{
		"StringEquals":{"aws:ResourceTag/team":"data","aws:RequestTag/team":"data"},
		"ArnLike":{"emr-containers:ExecutionRoleArn":["arn:aws:iam::*:role/data-*","arn:aws:iam::*:role/shared-*"]}}}}`)
	ok := map[string][]string{
		"aws:ResourceTag/team":            {"data"},
		"aws:RequestTag/team":             {"data"},
		"emr-containers:ExecutionRoleArn": {"arn:aws:iam::1:role/shared-spark"},
	}
	with := func(key string, vals []string) map[string][]string {
		m := map[string][]string{}
		for k, v := range ok {
			m[k] = v
		}
		if vals == nil {
			delete(m, key)
		} else {
			m[key] = vals
		}
		return m
	}
	tests := []struct {
		name string
		ctx  map[string][]string
		want bool
	}{
		{"all hold", ok, true},
		{"second key of the first operator fails", with("aws:RequestTag/team", []string{"ml"}), false},
		{"first key of the first operator absent", with("aws:ResourceTag/team", nil), false},
		{"second operator fails", with("emr-containers:ExecutionRoleArn", []string{"arn:aws:iam::1:role/admin"}), false},
		{"keys match case-insensitively", map[string][]string{
			"AWS:RESOURCETAG/TEAM":            {"data"},
			"aws:requesttag/team":             {"data"},
			"Emr-Containers:ExecutionRoleARN": {"arn:aws:iam::1:role/data-x"},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate([]*Policy{p}, Request{Principal: alice, Action: "emr-containers:StartJobRun", Resource: vcABC, Context: tt.ctx})
			if got.Allowed != tt.want {
				t.Errorf("allowed = %v, want %v (%+v)", got.Allowed, tt.want, got)
			}
		})
	}
}

func TestDenyWithCondition(t *testing.T) {
	// The usual guard: allow job runs, but deny any run whose execution role is not one of
	// the team's, and deny tagging runs with a team other than one's own. The second Deny
	// needs Null "false" beside StringNotEquals: a negated operator holds on an absent key,
	// so without it an untagged run would be denied too.
	allow := mustParse(t, "runs", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"emr-containers:StartJobRun","Resource":"*"}}`)
	guard := mustParse(t, "guard", `{"Version":"2012-10-17","Statement":[
		{"Sid":"OwnRoles","Effect":"Deny","Action":"emr-containers:StartJobRun","Resource":"*",
		 "Condition":{"ArnNotLike":{"emr-containers:ExecutionRoleArn":"arn:aws:iam::123456789012:role/data-*"}}},
		{"Sid":"OwnTeam","Effect":"Deny","Action":"emr-containers:StartJobRun","Resource":"*",
		 "Condition":{"StringNotEquals":{"aws:RequestTag/team":"data"},"Null":{"aws:RequestTag/team":"false"}}}]}`)
	tests := []struct {
		name string
		ctx  map[string][]string
		want Decision
	}{
		{"own role, own team", map[string][]string{
			"emr-containers:ExecutionRoleArn": {"arn:aws:iam::123456789012:role/data-etl"},
			"aws:RequestTag/team":             {"data"},
		}, Decision{Allowed: true, Policy: "runs", Statement: 0}},
		{"own role, no team tag", map[string][]string{
			"emr-containers:ExecutionRoleArn": {"arn:aws:iam::123456789012:role/data-etl"},
		}, Decision{Allowed: true, Policy: "runs", Statement: 0}},
		{"foreign role", map[string][]string{
			"emr-containers:ExecutionRoleArn": {"arn:aws:iam::123456789012:role/admin"},
		}, Decision{ExplicitDeny: true, Policy: "guard", Sid: "OwnRoles", Statement: 0}},
		{"no role at all: ArnNotLike holds on an absent key", nil,
			Decision{ExplicitDeny: true, Policy: "guard", Sid: "OwnRoles", Statement: 0}},
		{"own role, other team", map[string][]string{
			"emr-containers:ExecutionRoleArn": {"arn:aws:iam::123456789012:role/data-etl"},
			"aws:RequestTag/team":             {"ml"},
		}, Decision{ExplicitDeny: true, Policy: "guard", Sid: "OwnTeam", Statement: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate([]*Policy{allow, guard}, Request{Principal: alice, Action: "emr-containers:StartJobRun", Resource: vcABC, Context: tt.ctx})
			if got != tt.want {
				t.Errorf("Evaluate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPrincipalArnDefaultsToPrincipal(t *testing.T) {
	p := mustParse(t, "me", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/a*"}}}}`)
	tests := []struct {
		name string
		req  Request
		want bool
	}{
		{"from Principal", Request{Principal: alice, Action: "emr-containers:ListJobRuns", Resource: vcABC}, true},
		{"other principal", Request{Principal: "arn:aws:iam::123456789012:user/bob", Action: "emr-containers:ListJobRuns", Resource: vcABC}, false},
		{"the context wins", Request{Principal: alice, Action: "emr-containers:ListJobRuns", Resource: vcABC,
			Context: map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::123456789012:user/bob"}}}, false},
		{"no principal at all", Request{Action: "emr-containers:ListJobRuns", Resource: vcABC}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate([]*Policy{p}, tt.req).Allowed; got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}
