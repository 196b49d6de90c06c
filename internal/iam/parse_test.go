package iam

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Policy
	}{
		{
			name: "single statement object, strings",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"emr-containers:StartJobRun","Resource":"*"}}`,
			want: Policy{Name: "p", Version: Version2012, Statements: []Statement{{
				Effect: Allow, Actions: []string{"emr-containers:StartJobRun"}, Resources: []string{"*"},
			}}},
		},
		{
			name: "no Version defaults to 2008-10-17 as in IAM; Id kept",
			doc:  `{"Id":"team-a","Statement":[{"Sid":"S1","Effect":"Deny","NotAction":["emr-containers:Describe*","emr-containers:List*"],"NotResource":"arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/*"}]}`,
			want: Policy{Name: "p", Version: Version2008, ID: "team-a", Statements: []Statement{{
				Sid: "S1", Effect: Deny,
				NotActions:   []string{"emr-containers:Describe*", "emr-containers:List*"},
				NotResources: []string{"arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/*"},
			}}},
		},
		{
			name: "conditions: values of every scalar type, keys in document order, empty Sid allowed",
			doc: `{"Version":"2008-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"*","Resource":"*","Condition":{
				"StringEquals":{"aws:RequestTag/team":["a","b"],"emr-containers:ExecutionRoleArn":"arn:aws:iam::1:role/x"},
				"Bool":{"aws:SecureTransport":true},
				"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["team","cost-*"]},
				"StringNotEqualsIgnoreCase":{"aws:ResourceTag/level":12}}}]}`,
			want: Policy{Name: "p", Version: Version2008, Statements: []Statement{{
				Effect: Allow, Actions: []string{"*"}, Resources: []string{"*"},
				Conditions: []Condition{
					{Operator: "StringEquals", Key: "aws:RequestTag/team", Values: []string{"a", "b"}},
					{Operator: "StringEquals", Key: "emr-containers:ExecutionRoleArn", Values: []string{"arn:aws:iam::1:role/x"}},
					{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
					{Operator: "ForAllValues:StringLikeIfExists", Key: "aws:TagKeys", Values: []string{"team", "cost-*"}},
					{Operator: "StringNotEqualsIgnoreCase", Key: "aws:ResourceTag/level", Values: []string{"12"}},
				},
			}}},
		},
		{
			name: "${ is literal text in a 2008-10-17 document, as in IAM",
			doc:  `{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::1:user/${x}"}}`,
			want: Policy{Name: "p", Version: Version2008, Statements: []Statement{{
				Effect: Allow, Actions: []string{"*"}, Resources: []string{"arn:aws:iam::1:user/${x}"},
			}}},
		},
		{
			name: "two statements with distinct Sids",
			doc:  `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},{"Sid":"B","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b/secret"}]}`,
			want: Policy{Name: "p", Version: Version2012, Statements: []Statement{
				{Sid: "A", Effect: Allow, Actions: []string{"s3:Get*"}, Resources: []string{"arn:aws:s3:::b/*"}},
				{Sid: "B", Effect: Deny, Actions: []string{"s3:*"}, Resources: []string{"arn:aws:s3:::b/secret"}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("p", []byte(tt.doc))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(exported(*got), tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", exported(*got), tt.want)
			}
		})
	}
}

// exported drops the compiled, unexported state so tests compare what the document said.
func exported(p Policy) Policy {
	out := Policy{Name: p.Name, Version: p.Version, ID: p.ID}
	for _, s := range p.Statements {
		c := Statement{Sid: s.Sid, Effect: s.Effect, Actions: s.Actions, NotActions: s.NotActions,
			Resources: s.Resources, NotResources: s.NotResources}
		for _, cond := range s.Conditions {
			c.Conditions = append(c.Conditions, Condition{Operator: cond.Operator, Key: cond.Key, Values: cond.Values})
		}
		out.Statements = append(out.Statements, c)
	}
	return out
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // the whole error text: line, column, path and reason
	}{
		// JSON itself.
		{"empty document", ``, `line 1, column 1: invalid JSON: the document ends too early`},
		{"truncated", "{\n  \"Version\": \"2012-10-17\",\n", `line 3, column 1: invalid JSON: the document ends too early`},
		{"syntax error points at the bad character", "{\n  \"Version\" \"2012-10-17\"\n}", `line 2, column 13: invalid JSON: invalid character '"' after object key`},
		{"trailing comma", `{"Version":"2012-10-17",}`, `line 1, column 25: invalid JSON: invalid character '}' looking for beginning of object key string`},
		{"content after the document", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}\n{}", `line 2, column 1: unexpected content after the policy document`},
		{"control character inside a string", "{\"Id\":\"a\x01b\"}", `line 1, column 9: invalid JSON: invalid character '\x01' in string literal`},
		{"malformed number", `{"Id":01}`, `line 1, column 8: invalid JSON: invalid character '1' after object key:value pair`},
		{"nesting bound", `{"Id":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, `line 1, column 39: the document nests deeper than 32 levels`},
		{"not an object", `["Statement"]`, `line 1, column 1: a policy document must be a JSON object, got array`},

		// Top-level members.
		{"missing Statement", `{"Version":"2012-10-17"}`, `line 1, column 1: missing member "Statement"`},
		{"unknown top-level member", `{"Version":"2012-10-17","Statements":[]}`, `line 1, column 25: unknown member "Statements"`},
		{"member names are case-sensitive", `{"version":"2012-10-17"}`, `line 1, column 2: unknown member "version" (did you mean "Version"?)`},
		{"duplicate member", `{"Version":"2012-10-17","Version":"2008-10-17"}`, `line 1, column 25: duplicate member "Version"`},
		{"bad Version", `{"Version":"2012-10-18","Statement":[]}`, `line 1, column 12: Version: must be "2012-10-17" or "2008-10-17", got "2012-10-18"`},
		{"Version of the wrong type", `{"Version":2012}`, `line 1, column 12: Version: must be a string, got number`},
		{"Id of the wrong type", `{"Id":["x"]}`, `line 1, column 7: Id: must be a string, got array`},
		{"Statement empty array", `{"Statement":[]}`, `line 1, column 14: Statement: must not be an empty array`},
		{"Statement of the wrong type", `{"Statement":"Allow"}`, `line 1, column 14: Statement: must be an object or an array of objects, got string`},
		{"Statement element not an object", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}, 3]}`, `line 1, column 63: Statement[1]: must be an object, got number`},

		// Effect.
		{"Effect lower case (the example from the issue)", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"allow\",\n    \"Action\": \"*\",\n    \"Resource\": \"*\"\n  }]\n}",
			`line 4, column 15: Statement[0].Effect: must be "Allow" or "Deny", got "allow"`},
		{"Effect missing points at the statement", "{\"Statement\": [\n  {\"Action\":\"*\",\"Resource\":\"*\"}\n]}", `line 2, column 3: Statement[0]: missing member "Effect"`},
		{"Effect of the wrong type", `{"Statement":{"Effect":true,"Action":"*","Resource":"*"}}`, `line 1, column 24: Statement.Effect: must be a string, got boolean`},

		// Action / NotAction.
		{"both Action and NotAction", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}}`, `line 1, column 45: Statement: has both "Action" and "NotAction"; a statement takes exactly one of them`},
		{"neither Action nor NotAction", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, `line 1, column 14: Statement: missing member "Action" (or "NotAction")`},
		{"Action empty array", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, `line 1, column 41: Statement.Action: must not be an empty array`},
		{"Action empty string", `{"Statement":{"Effect":"Allow","Action":"","Resource":"*"}}`, `line 1, column 41: Statement.Action: must not be an empty string`},
		{"Action of the wrong type", `{"Statement":{"Effect":"Allow","Action":{"a":1},"Resource":"*"}}`, `line 1, column 41: Statement.Action: must be a string or an array of strings, got object`},
		{"Action element of the wrong type", `{"Statement":{"Effect":"Allow","Action":["s3:Get*",7],"Resource":"*"}}`, `line 1, column 52: Statement.Action[1]: must be a string, got number`},
		{"Action without a service", `{"Statement":{"Effect":"Allow","Action":["StartJobRun"],"Resource":"*"}}`, `line 1, column 42: Statement.Action[0]: must be "*" or <service>:<action> such as "emr-containers:StartJobRun", got "StartJobRun"`},
		{"NotAction element empty", `{"Statement":{"Effect":"Allow","NotAction":["s3:*",""],"Resource":"*"}}`, `line 1, column 52: Statement.NotAction[1]: must not be an empty string`},

		// Resource / NotResource.
		{"both Resource and NotResource", `{"Statement":{"Effect":"Allow","Action":"*","NotResource":"*","Resource":"*"}}`, `line 1, column 63: Statement: has both "Resource" and "NotResource"; a statement takes exactly one of them`},
		{"neither Resource nor NotResource", `{"Statement":{"Effect":"Allow","Action":"*"}}`, `line 1, column 14: Statement: missing member "Resource" (or "NotResource")`},
		{"Resource not an ARN", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"virtualclusters/abc"}}`, `line 1, column 56: Statement.Resource: must be "*" or an ARN (arn:partition:service:region:account:resource), got "virtualclusters/abc"`},
		{"Resource ARN with too few parts", `{"Statement":{"Effect":"Allow","Action":"*","Resource":["*","arn:aws:s3"]}}`, `line 1, column 61: Statement.Resource[1]: must be "*" or an ARN (arn:partition:service:region:account:resource), got "arn:aws:s3"`},
		{"Resource null", `{"Statement":{"Effect":"Allow","Action":"*","Resource":null}}`, `line 1, column 56: Statement.Resource: must be a string or an array of strings, got null`},

		// Other statement members.
		{"Principal is for resource-based policies", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, `line 1, column 32: Statement: "Principal" is not allowed in an identity-based policy: the policy applies to the identity it is attached to`},
		{"unknown statement member", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condtion":{}}}`, `line 1, column 60: Statement: unknown member "Condtion"`},
		{"duplicate statement member", `{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}`, `line 1, column 32: Statement: duplicate member "Effect"`},
		{"Sid with punctuation", `{"Statement":{"Sid":"allow-all","Effect":"Allow","Action":"*","Resource":"*"}}`, `line 1, column 21: Statement.Sid: may contain only letters and digits (A-Z, a-z, 0-9), got "allow-all"`},
		{"duplicate Sid", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, `line 1, column 79: Statement[1].Sid: "A" is already the Sid of Statement[0]; Sids must be unique within a policy`},

		// Condition grammar.
		{"Condition not an object", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}}`, `line 1, column 72: Statement.Condition: must be an object mapping condition operators to keys, got array`},
		{"unknown operator", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqual":{"aws:TagKeys":"a"}}}}`, `line 1, column 73: Statement.Condition.StringEqual: unknown condition operator "StringEqual"`},
		{"operator names are case-sensitive", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"forallvalues:stringequalsifexists":{"aws:TagKeys":"a"}}}}`, `line 1, column 73: Statement.Condition.forallvalues:stringequalsifexists: unknown condition operator "forallvalues:stringequalsifexists" (did you mean "ForAllValues:StringEqualsIfExists"?)`},
		{"IAM operator sparkplane does not evaluate", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}}`, `line 1, column 73: Statement.Condition.NumericLessThan: condition operator "NumericLessThan" is not supported; sparkplane evaluates the String, Arn, Bool and Null operators`},
		{"NullIfExists", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:TagKeys":"true"}}}}`, `line 1, column 73: Statement.Condition.NullIfExists: Null cannot take the IfExists suffix: it already tests whether the key exists`},
		{"set qualifier on Null", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:Null":{"aws:TagKeys":"true"}}}}`, `line 1, column 73: Statement.Condition.ForAnyValue:Null: Null cannot take a ForAnyValue: or ForAllValues: qualifier: it tests whether the key exists, not its values`},
		{"operator value not an object", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"a"}}}`, `line 1, column 88: Statement.Condition.StringEquals: must be an object mapping condition keys to values, got string`},
		{"operator with no keys", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}}`, `line 1, column 88: Statement.Condition.StringEquals: must name at least one condition key`},
		{"duplicate operator", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`, `line 1, column 111: Statement.Condition: duplicate member "Bool"`},
		{"key without a service", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"team":"a"}}}}`, `line 1, column 89: Statement.Condition.StringEquals.team: a condition key must name its service, such as "aws:ResourceTag/team" or "emr-containers:ExecutionRoleArn"`},
		{"same key twice in two spellings", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"a","AWS:tagkeys":"b"}}}}`, `line 1, column 107: Statement.Condition.StringEquals: condition key "AWS:tagkeys" appears twice (as "aws:TagKeys" too); keys are case-insensitive`},
		{"value null", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":null}}}}`, `line 1, column 103: Statement.Condition.StringEquals.aws:TagKeys: must be a string, number, boolean or an array of them, got null`},
		{"value object", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":{"a":"b"}}}}}`, `line 1, column 103: Statement.Condition.StringEquals.aws:TagKeys: must be a string, number, boolean or an array of them, got object`},
		{"values empty array", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":[]}}}}`, `line 1, column 103: Statement.Condition.StringEquals.aws:TagKeys: must not be an empty array`},
		{"nested array value", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":["a",["b"]]}}}}`, `line 1, column 108: Statement.Condition.StringEquals.aws:TagKeys[1]: must be a string, number or boolean, got array`},
		{"Bool value not a boolean", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}`, `line 1, column 103: Statement.Condition.Bool.aws:SecureTransport: must be "true" or "false", got "yes"`},
		{"Null value not a boolean", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:TagKeys":["true",1]}}}}`, `line 1, column 103: Statement.Condition.Null.aws:TagKeys[1]: must be "true" or "false", got "1"`},
		{"Arn value not an ARN", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"emr-containers:ExecutionRoleArn":"role/*"}}}}`, `line 1, column 118: Statement.Condition.ArnLike.emr-containers:ExecutionRoleArn: must be an ARN (arn:partition:service:region:account:resource), got "role/*"`},

		// Policy variables are not substituted, so they are refused where IAM would read them.
		{"policy variable in a resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::1:user/${aws:username}"}}`, `line 1, column 79: Statement.Resource: policy variables such as ${aws:username} are not supported, got "arn:aws:iam::1:user/${aws:username}"`},
		{"policy variable in a condition value", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:RequestTag/owner":["x","${aws:username}"]}}}}`, `line 1, column 138: Statement.Condition.StringLike.aws:RequestTag/owner[1]: policy variables such as ${aws:username} are not supported, got "${aws:username}"`},

		// Columns count characters, not bytes.
		{"column after multibyte characters", `{"Id":"é€","Version":"1"}`, `line 1, column 22: Version: must be "2012-10-17" or "2008-10-17", got "1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p", []byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse accepted %s", tt.doc)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestLineColumn(t *testing.T) {
	src := []byte("ab\ncdé\n\nx")
	tests := []struct{ off, line, col int }{
		{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {7, 2, 4}, {8, 3, 1}, {9, 4, 1}, {10, 4, 2}, {99, 4, 2},
	}
	for _, tt := range tests {
		line, col := lineColumn(src, tt.off)
		if line != tt.line || col != tt.col {
			t.Errorf("lineColumn(%d) = %d:%d, want %d:%d", tt.off, line, col, tt.line, tt.col)
		}
	}
}
