package iam

import "strings"

// base is a condition operator without its qualifiers. Negated operators share the base of
// their positive form; op.negate says which was written.
type base uint8

const (
	baseStringEquals base = iota + 1
	baseStringEqualsIgnoreCase
	baseStringLike
	baseArnLike // ArnEquals and ArnLike: IAM documents the two as the same component-wise match
	baseBool
	baseNull
)

// set is the set qualifier of an operator used on a multivalued key.
type set uint8

const (
	setNone set = iota
	setAnyValue
	setAllValues
)

// op is a parsed condition operator.
type op struct {
	base     base
	negate   bool
	set      set
	ifExists bool
}

// operators maps the operator names sparkplane evaluates to their meaning.
var operators = map[string]op{
	"StringEquals":              {base: baseStringEquals},
	"StringNotEquals":           {base: baseStringEquals, negate: true},
	"StringEqualsIgnoreCase":    {base: baseStringEqualsIgnoreCase},
	"StringNotEqualsIgnoreCase": {base: baseStringEqualsIgnoreCase, negate: true},
	"StringLike":                {base: baseStringLike},
	"StringNotLike":             {base: baseStringLike, negate: true},
	"ArnEquals":                 {base: baseArnLike},
	"ArnNotEquals":              {base: baseArnLike, negate: true},
	"ArnLike":                   {base: baseArnLike},
	"ArnNotLike":                {base: baseArnLike, negate: true},
	"Bool":                      {base: baseBool},
	"Null":                      {base: baseNull},
}

// unsupported lists IAM operators sparkplane does not evaluate, so that a policy using one
// is refused with that reason rather than as a misspelling. No emr-containers condition key
// is numeric, a date, binary or an IP address, which is why these were left out.
var unsupported = map[string]bool{
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true,
	"NumericLessThanEquals": true, "NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true, "DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true,
	"BinaryEquals": true, "IpAddress": true, "NotIpAddress": true,
}

const (
	prefixAnyValue = "ForAnyValue:"
	prefixAllValue = "ForAllValues:"
	suffixIfExists = "IfExists"
)

// parseOperator reads an operator name such as "ForAllValues:StringLikeIfExists". On
// failure it returns the reason, worded for a ParseError.
func parseOperator(name string) (op, string) {
	rest := name
	var s set
	switch {
	case strings.HasPrefix(rest, prefixAnyValue):
		s, rest = setAnyValue, rest[len(prefixAnyValue):]
	case strings.HasPrefix(rest, prefixAllValue):
		s, rest = setAllValues, rest[len(prefixAllValue):]
	}
	ifExists := false
	if b, ok := strings.CutSuffix(rest, suffixIfExists); ok && b != "" {
		rest, ifExists = b, true
	}
	o, ok := operators[rest]
	if !ok {
		if unsupported[rest] {
			return op{}, "condition operator " + quote(rest) + " is not supported; sparkplane evaluates the String, Arn, Bool and Null operators"
		}
		return op{}, "unknown condition operator " + quote(name) + suggestOperator(name)
	}
	if o.base == baseNull && ifExists {
		return op{}, "Null cannot take the IfExists suffix: it already tests whether the key exists"
	}
	if o.base == baseNull && s != setNone {
		return op{}, "Null cannot take a ForAnyValue: or ForAllValues: qualifier: it tests whether the key exists, not its values"
	}
	o.set, o.ifExists = s, ifExists
	return o, ""
}

// suggestOperator helps with the commonest mistake, wrong capitalisation: IAM operator
// names are case-sensitive.
func suggestOperator(name string) string {
	rest := name
	prefix := ""
	for _, p := range []string{prefixAnyValue, prefixAllValue} {
		if len(rest) >= len(p) && strings.EqualFold(rest[:len(p)], p) {
			prefix, rest = p, rest[len(p):]
		}
	}
	suffix := ""
	if len(rest) > len(suffixIfExists) && strings.EqualFold(rest[len(rest)-len(suffixIfExists):], suffixIfExists) {
		suffix, rest = suffixIfExists, rest[:len(rest)-len(suffixIfExists)]
	}
	for known := range operators {
		if strings.EqualFold(known, rest) {
			return " (did you mean " + quote(prefix+known+suffix) + "?)"
		}
	}
	return ""
}
