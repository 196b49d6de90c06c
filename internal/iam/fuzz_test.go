package iam

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// FuzzParse checks that no document makes Parse panic, that every refusal is a ParseError
// with a position inside the document, and that an accepted policy evaluates without panic.
func FuzzParse(f *testing.F) {
	seeds := []string{
		``, `{}`, `[]`, `{"Statement":[]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"emr-containers:*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Deny","NotAction":["s3:*"],"NotResource":"arn:aws:s3:::b*:x*:?"}]}`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["a*",1,true]},"Null":{"aws:RequestTag/x":"true"},"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/*"}}}}`,
		"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"allow\"\n  }]\n}",
		`{"Id":"é€","Version":"1"}`, `{"a":` + strings.Repeat("[", 50),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	reqs := []Request{
		{Principal: alice, Action: "emr-containers:StartJobRun", Resource: vcABC, Context: map[string][]string{
			"aws:TagKeys": {"a", "b"}, "aws:RequestTag/x": {"1"}, "emr-containers:ExecutionRoleArn": {"arn:aws:iam::1:role/r"}}},
		{Action: "s3:GetObject", Resource: "arn:aws:s3:::b:x:y"},
		{Action: "", Resource: ""},
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse("fuzz", doc)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			if pe.Line < 1 || pe.Column < 1 || pe.Offset < 0 || pe.Offset > len(doc) || pe.Reason == "" {
				t.Fatalf("error without a usable position: %+v", pe)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error text does not start with its line: %q", err)
			}
			return
		}
		for _, r := range reqs {
			_ = DeniedMessage(r, Evaluate([]*Policy{p}, r))
		}
	})
}

// TestMatchersAgreeWithRegexp checks the greedy matchers against a regular-expression
// rendering of the same rules on many small random patterns and inputs, which is where
// hand-written wildcard code goes wrong (backtracking, '?' on multibyte characters, and
// the colon rule of resource ARNs).
func TestMatchersAgreeWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab:*?é"
	runes := []rune(alphabet)
	randString := func(withWildcards bool) string {
		n := rng.IntN(8)
		var sb strings.Builder
		for range n {
			r := runes[rng.IntN(len(runes))]
			if !withWildcards && (r == '*' || r == '?') {
				r = 'a'
			}
			sb.WriteRune(r)
		}
		return sb.String()
	}
	for range 4000 {
		p, s := randString(true), randString(false)
		if got, want := compileGlob(p).match(s), globRegexp(p, false).MatchString(s); got != want {
			t.Fatalf("glob %q on %q = %v, regexp says %v", p, s, got, want)
		}
		r := compileResource(p)
		if got, want := r.match(s), globRegexp(p, true).MatchString(s); got != want {
			t.Fatalf("resource %q on %q = %v, regexp says %v", p, s, got, want)
		}
	}
}

// globRegexp renders a pattern as a regexp. With arnSegments, '?' and a '*' inside a
// segment do not match ':', and a '*' ending a segment matches anything.
func globRegexp(p string, arnSegments bool) *regexp.Regexp {
	var sb strings.Builder
	sb.WriteString(`(?s)^`)
	for i, r := range p {
		switch r {
		case '*':
			if arnSegments && i+1 < len(p) && p[i+1] != ':' {
				sb.WriteString(`[^:]*`)
			} else {
				sb.WriteString(`.*`)
			}
		case '?':
			if arnSegments {
				sb.WriteString(`[^:]`)
			} else {
				sb.WriteString(`.`)
			}
		default:
			sb.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	sb.WriteString(`$`)
	return regexp.MustCompile(sb.String())
}
