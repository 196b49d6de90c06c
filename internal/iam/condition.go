package iam

import (
	"slices"
	"strings"
)

// matcher is the compiled form of a Condition: what Evaluate needs, prepared once at Parse
// time so a request costs only comparisons.
type matcher struct {
	key    string    // lowercased key, to recognise keys the evaluator supplies itself
	values []string  // StringEquals*, Bool, Null: the values; Bool and Null lowercased
	globs  []glob    // StringLike: compiled patterns
	arns   [][6]glob // ArnLike/ArnEquals: one pattern per ARN component
}

func (c *Condition) compile() {
	c.m.key = strings.ToLower(c.Key)
	switch c.op.base {
	case baseStringEquals, baseStringEqualsIgnoreCase:
		// A copy, so that a caller editing the exported Values cannot change evaluation.
		c.m.values = slices.Clone(c.Values)
	case baseBool, baseNull:
		c.m.values = make([]string, len(c.Values))
		for i, v := range c.Values {
			c.m.values[i] = strings.ToLower(v)
		}
	case baseStringLike:
		c.m.globs = make([]glob, len(c.Values))
		for i, v := range c.Values {
			c.m.globs[i] = compileGlob(v)
		}
	case baseArnLike:
		c.m.arns = make([][6]glob, len(c.Values))
		for i, v := range c.Values {
			parts, _ := arnComponents(v) // Parse has checked the value is an ARN
			for j, part := range parts {
				c.m.arns[i][j] = compileGlob(part)
			}
		}
	}
}

// arnComponents splits an ARN into IAM's six components: arn, partition, service, region,
// account and resource. The resource keeps any further colons. ok is false when s has
// fewer than six components.
func arnComponents(s string) (parts [6]string, ok bool) {
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return parts, false
		}
		parts[i], s = s[:j], s[j+1:]
	}
	parts[5] = s
	return parts, true
}

// holds evaluates the condition against the request's values for its key; vals is empty
// when the request has no such key. The rules, from IAM's documentation:
//
//   - Null "true" holds when the key is absent, "false" when it is present.
//   - ...IfExists holds when the key is absent, and otherwise is the operator without it.
//   - ForAllValues: holds when the key is absent, else when every request value matches.
//   - ForAnyValue: fails when the key is absent, else holds when any request value matches.
//   - Without a qualifier, an absent key fails a positive operator and satisfies a negated
//     one (StringNotEquals, ArnNotLike, ...): "no value equals" is true of no value.
//
// A request value matches when it matches any of the condition's values (values are ORed);
// for a negated operator it matches when it matches none of them. Without a qualifier a key
// with several values is taken as a whole: a positive operator holds when any of its values
// matches, a negated one when none does.
func (c *Condition) holds(vals []string) bool {
	o := c.op
	if o.base == baseNull {
		present := len(vals) > 0
		for _, v := range c.m.values {
			if (v == "true") != present {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		switch {
		case o.ifExists, o.set == setAllValues:
			return true
		case o.set == setAnyValue:
			return false
		}
		return o.negate
	}
	switch o.set {
	case setAnyValue:
		for _, v := range vals {
			if c.matchOne(v) != o.negate {
				return true
			}
		}
		return false
	case setAllValues:
		for _, v := range vals {
			if c.matchOne(v) == o.negate {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if c.matchOne(v) {
			return !o.negate
		}
	}
	return o.negate
}

// matchOne reports whether one request value matches any of the condition's values under
// the positive form of the operator.
func (c *Condition) matchOne(v string) bool {
	switch c.op.base {
	case baseStringEquals:
		for _, want := range c.m.values {
			if v == want {
				return true
			}
		}
	case baseStringEqualsIgnoreCase, baseBool:
		for _, want := range c.m.values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	case baseStringLike:
		for _, g := range c.m.globs {
			if g.match(v) {
				return true
			}
		}
	case baseArnLike:
		parts, ok := arnComponents(v)
		if !ok {
			return false
		}
	next:
		for _, pat := range c.m.arns {
			for i := range pat {
				if !pat[i].match(parts[i]) {
					continue next
				}
			}
			return true
		}
	}
	return false
}
