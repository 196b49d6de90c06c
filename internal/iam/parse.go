package iam

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse validates an identity policy document against IAM's grammar and compiles it for
// Evaluate. name is how decisions and audit records will refer to the policy.
//
// Parse refuses what IAM refuses; every refusal is a *ParseError with the line and column
// of the offending value. It accepts a document only if every rule holds, so a policy that
// is stored was fully understood: nothing in it is ignored at evaluation time.
func Parse(name string, doc []byte) (*Policy, error) {
	root, err := readTree(doc)
	if err != nil {
		return nil, err
	}
	p := &parser{src: doc}
	return p.policy(name, root)
}

type parser struct {
	src []byte
}

func (p *parser) errAt(off int, path, format string, args ...any) error {
	return newParseError(p.src, off, path, fmt.Sprintf(format, args...))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func quote(s string) string { return strconv.Quote(s) }

// fields checks an object's member names: each must be one of allowed (case-sensitive, as
// in IAM) and appear once. It returns the members by name.
func (p *parser) fields(obj *node, path string, allowed ...string) (map[string]member, error) {
	got := make(map[string]member, len(obj.members))
	for _, m := range obj.members {
		if _, dup := got[m.name]; dup {
			return nil, p.errAt(m.off, path, "duplicate member %s", quote(m.name))
		}
		known := false
		for _, a := range allowed {
			if a == m.name {
				known = true
				break
			}
		}
		if !known {
			hint := ""
			for _, a := range allowed {
				if strings.EqualFold(a, m.name) {
					hint = " (did you mean " + quote(a) + "?)"
				}
			}
			return nil, p.errAt(m.off, path, "unknown member %s%s", quote(m.name), hint)
		}
		got[m.name] = m
	}
	return got, nil
}

func (p *parser) policy(name string, root *node) (*Policy, error) {
	if root.kind != kindObject {
		return nil, p.errAt(root.off, "", "a policy document must be a JSON object, got %s", root.kind)
	}
	f, err := p.fields(root, "", "Version", "Id", "Statement")
	if err != nil {
		return nil, err
	}
	pol := &Policy{Name: name, Version: Version2008}
	if m, ok := f["Version"]; ok {
		v, err := p.str(m.val, "Version")
		if err != nil {
			return nil, err
		}
		if v != Version2012 && v != Version2008 {
			return nil, p.errAt(m.val.off, "Version", "must be %s or %s, got %s", quote(Version2012), quote(Version2008), quote(v))
		}
		pol.Version = v
	}
	if m, ok := f["Id"]; ok {
		if pol.ID, err = p.str(m.val, "Id"); err != nil {
			return nil, err
		}
	}
	m, ok := f["Statement"]
	if !ok {
		return nil, p.errAt(root.off, "", "missing member %s", quote("Statement"))
	}
	// Statement is one object or an array of them; paths follow what the document wrote.
	var stmts []*node
	var paths []string
	switch m.val.kind {
	case kindObject:
		stmts, paths = []*node{m.val}, []string{"Statement"}
	case kindArray:
		if len(m.val.elems) == 0 {
			return nil, p.errAt(m.val.off, "Statement", "must not be an empty array")
		}
		for i, e := range m.val.elems {
			stmts = append(stmts, e)
			paths = append(paths, index("Statement", i))
		}
	default:
		return nil, p.errAt(m.val.off, "Statement", "must be an object or an array of objects, got %s", m.val.kind)
	}
	sids := map[string]string{}
	for i, n := range stmts {
		s, err := p.statement(n, paths[i], pol.Version)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if prev, dup := sids[s.Sid]; dup {
				sidOff := n.off
				for _, mm := range n.members {
					if mm.name == "Sid" {
						sidOff = mm.val.off
					}
				}
				return nil, p.errAt(sidOff, join(paths[i], "Sid"), "%s is already the Sid of %s; Sids must be unique within a policy", quote(s.Sid), prev)
			}
			sids[s.Sid] = paths[i]
		}
		pol.Statements = append(pol.Statements, s)
	}
	return pol, nil
}

func (p *parser) statement(n *node, path, version string) (Statement, error) {
	var s Statement
	if n.kind != kindObject {
		return s, p.errAt(n.off, path, "must be an object, got %s", n.kind)
	}
	// Principal is refused by name rather than as an unknown member: it is valid IAM, but
	// only in resource-based policies, and the author should be told so.
	for _, m := range n.members {
		if m.name == "Principal" || m.name == "NotPrincipal" {
			return s, p.errAt(m.off, path, "%s is not allowed in an identity-based policy: the policy applies to the identity it is attached to", quote(m.name))
		}
	}
	f, err := p.fields(n, path, "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")
	if err != nil {
		return s, err
	}
	if m, ok := f["Sid"]; ok {
		if s.Sid, err = p.str(m.val, join(path, "Sid")); err != nil {
			return s, err
		}
		for _, r := range s.Sid {
			if (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') {
				return s, p.errAt(m.val.off, join(path, "Sid"), "may contain only letters and digits (A-Z, a-z, 0-9), got %s", quote(s.Sid))
			}
		}
	}
	m, ok := f["Effect"]
	if !ok {
		return s, p.errAt(n.off, path, "missing member %s", quote("Effect"))
	}
	e, err := p.str(m.val, join(path, "Effect"))
	if err != nil {
		return s, err
	}
	if e != string(Allow) && e != string(Deny) {
		return s, p.errAt(m.val.off, join(path, "Effect"), "must be %s or %s, got %s", quote(string(Allow)), quote(string(Deny)), quote(e))
	}
	s.Effect = Effect(e)

	am, isAction, err := p.oneOf(n, path, f, "Action", "NotAction")
	if err != nil {
		return s, err
	}
	actions, err := p.stringList(am.val, join(path, am.name))
	if err != nil {
		return s, err
	}
	for i, a := range actions {
		if reason := checkAction(a); reason != "" {
			return s, p.errAt(elemOff(am.val, i), elemPath(am.val, join(path, am.name), i), "%s", reason)
		}
	}
	if isAction {
		s.Actions = actions
	} else {
		s.NotActions = actions
	}

	rm, isResource, err := p.oneOf(n, path, f, "Resource", "NotResource")
	if err != nil {
		return s, err
	}
	resources, err := p.stringList(rm.val, join(path, rm.name))
	if err != nil {
		return s, err
	}
	for i, r := range resources {
		reason := checkResource(r)
		if reason == "" {
			reason = checkVariables(version, r)
		}
		if reason != "" {
			return s, p.errAt(elemOff(rm.val, i), elemPath(rm.val, join(path, rm.name), i), "%s", reason)
		}
	}
	if isResource {
		s.Resources = resources
	} else {
		s.NotResources = resources
	}

	if m, ok := f["Condition"]; ok {
		if s.Conditions, err = p.conditionBlock(m.val, join(path, "Condition"), version); err != nil {
			return s, err
		}
	}
	s.compile()
	return s, nil
}

// compile prepares the matchers Evaluate uses. Actions are lowercased here, once, because
// IAM matches them case-insensitively; resources stay as written because it matches those
// case-sensitively.
func (s *Statement) compile() {
	actions := s.Actions
	if s.notAction = len(s.NotActions) > 0; s.notAction {
		actions = s.NotActions
	}
	s.actions = make([]glob, len(actions))
	for i, a := range actions {
		s.actions[i] = compileGlob(strings.ToLower(a))
	}
	resources := s.Resources
	if s.notRes = len(s.NotResources) > 0; s.notRes {
		resources = s.NotResources
	}
	s.resources = make([]resourcePattern, len(resources))
	for i, r := range resources {
		s.resources[i] = compileResource(r)
	}
}

// oneOf enforces IAM's rule that a statement has exactly one of an element and its Not
// form. It reports which one is present.
func (p *parser) oneOf(n *node, path string, f map[string]member, name, notName string) (member, bool, error) {
	a, hasA := f[name]
	b, hasB := f[notName]
	switch {
	case hasA && hasB:
		later := b
		if a.off > b.off {
			later = a
		}
		return member{}, false, p.errAt(later.off, path, "has both %s and %s; a statement takes exactly one of them", quote(name), quote(notName))
	case hasA:
		return a, true, nil
	case hasB:
		return b, false, nil
	}
	return member{}, false, p.errAt(n.off, path, "missing member %s (or %s)", quote(name), quote(notName))
}

func (p *parser) str(n *node, path string) (string, error) {
	if n.kind != kindString {
		return "", p.errAt(n.off, path, "must be a string, got %s", n.kind)
	}
	return n.text, nil
}

// stringList reads IAM's "string or non-empty array of strings" shape, used by Action,
// NotAction, Resource and NotResource.
func (p *parser) stringList(n *node, path string) ([]string, error) {
	switch n.kind {
	case kindString:
		if n.text == "" {
			return nil, p.errAt(n.off, path, "must not be an empty string")
		}
		return []string{n.text}, nil
	case kindArray:
		if len(n.elems) == 0 {
			return nil, p.errAt(n.off, path, "must not be an empty array")
		}
		out := make([]string, 0, len(n.elems))
		for i, e := range n.elems {
			if e.kind != kindString {
				return nil, p.errAt(e.off, index(path, i), "must be a string, got %s", e.kind)
			}
			if e.text == "" {
				return nil, p.errAt(e.off, index(path, i), "must not be an empty string")
			}
			out = append(out, e.text)
		}
		return out, nil
	}
	return nil, p.errAt(n.off, path, "must be a string or an array of strings, got %s", n.kind)
}

// elemOff and elemPath locate the i-th string of a value read by stringList or
// conditionValues, which may have been a lone string.
func elemOff(n *node, i int) int {
	if n.kind == kindArray {
		return n.elems[i].off
	}
	return n.off
}

func elemPath(n *node, path string, i int) string {
	if n.kind == kindArray {
		return index(path, i)
	}
	return path
}

// checkAction applies IAM's rule that an action is "*" or names its service
// ("Actions/Conditions must be prefaced by a vendor").
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	i := strings.IndexByte(a, ':')
	if i <= 0 || i == len(a)-1 {
		return "must be " + quote("*") + " or <service>:<action> such as " + quote("emr-containers:StartJobRun") + ", got " + quote(a)
	}
	return ""
}

// checkResource applies IAM's rule that a resource is "*" or an ARN. An ARN has six
// colon-separated parts, arn:partition:service:region:account:resource, some possibly empty.
func checkResource(r string) string {
	if r == "*" || isARN(r) {
		return ""
	}
	return "must be " + quote("*") + " or an ARN (arn:partition:service:region:account:resource), got " + quote(r)
}

// checkVariables refuses IAM policy variables, which sparkplane does not substitute. In a
// 2012-10-17 document IAM reads ${...} in a resource or condition value as a variable
// (${aws:username}, ${*}, ...); matching it as literal text instead would silently never
// match, so the policy is refused. In 2008-10-17 documents IAM itself reads ${ literally.
func checkVariables(version, v string) string {
	if version == Version2012 && strings.Contains(v, "${") {
		return "policy variables such as ${aws:username} are not supported, got " + quote(v)
	}
	return ""
}

func isARN(s string) bool {
	return strings.HasPrefix(s, "arn:") && strings.Count(s, ":") >= 5
}

func (p *parser) conditionBlock(n *node, path, version string) ([]Condition, error) {
	if n.kind != kindObject {
		return nil, p.errAt(n.off, path, "must be an object mapping condition operators to keys, got %s", n.kind)
	}
	var out []Condition
	seenOp := map[string]bool{}
	for _, om := range n.members {
		if seenOp[om.name] {
			return nil, p.errAt(om.off, path, "duplicate member %s", quote(om.name))
		}
		seenOp[om.name] = true
		opPath := join(path, om.name)
		o, reason := parseOperator(om.name)
		if reason != "" {
			return nil, p.errAt(om.off, opPath, "%s", reason)
		}
		if om.val.kind != kindObject {
			return nil, p.errAt(om.val.off, opPath, "must be an object mapping condition keys to values, got %s", om.val.kind)
		}
		if len(om.val.members) == 0 {
			return nil, p.errAt(om.val.off, opPath, "must name at least one condition key")
		}
		seenKey := map[string]string{}
		for _, km := range om.val.members {
			keyPath := join(opPath, km.name)
			i := strings.IndexByte(km.name, ':')
			if i <= 0 || i == len(km.name)-1 {
				return nil, p.errAt(km.off, keyPath, "a condition key must name its service, such as %s or %s", quote("aws:ResourceTag/team"), quote("emr-containers:ExecutionRoleArn"))
			}
			// Keys match case-insensitively, so two spellings of one key would be the same
			// test written twice with different values: refuse rather than guess.
			lower := strings.ToLower(km.name)
			if prev, dup := seenKey[lower]; dup {
				return nil, p.errAt(km.off, opPath, "condition key %s appears twice (as %s too); keys are case-insensitive", quote(km.name), quote(prev))
			}
			seenKey[lower] = km.name
			values, err := p.conditionValues(km.val, keyPath)
			if err != nil {
				return nil, err
			}
			for i, v := range values {
				reason := checkConditionValue(o, v)
				if reason == "" {
					reason = checkVariables(version, v)
				}
				if reason != "" {
					return nil, p.errAt(elemOff(km.val, i), elemPath(km.val, keyPath, i), "%s", reason)
				}
			}
			c := Condition{Operator: om.name, Key: km.name, Values: values, op: o}
			c.compile()
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues reads a condition's values: a scalar or a non-empty array of scalars.
// IAM accepts JSON numbers and booleans here (e.g. "aws:SecureTransport": false) and
// compares their text, so they are kept as written.
func (p *parser) conditionValues(n *node, path string) ([]string, error) {
	scalar := func(e *node, path string) (string, error) {
		switch e.kind {
		case kindString, kindNumber, kindBool:
			return e.text, nil
		}
		return "", p.errAt(e.off, path, "must be a string, number or boolean, got %s", e.kind)
	}
	if n.kind != kindArray {
		if n.kind == kindObject || n.kind == kindNull {
			return nil, p.errAt(n.off, path, "must be a string, number, boolean or an array of them, got %s", n.kind)
		}
		v, err := scalar(n, path)
		return []string{v}, err
	}
	if len(n.elems) == 0 {
		return nil, p.errAt(n.off, path, "must not be an empty array")
	}
	out := make([]string, 0, len(n.elems))
	for i, e := range n.elems {
		v, err := scalar(e, index(path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// checkConditionValue applies the rules an operator puts on its values.
func checkConditionValue(o op, v string) string {
	switch o.base {
	case baseBool, baseNull:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return "must be " + quote("true") + " or " + quote("false") + ", got " + quote(v)
		}
	case baseArnLike:
		// IAM compares the six ARN components one by one, so a value without them could
		// never match anything; refuse it instead of storing a statement that is dead.
		if !isARN(v) {
			return "must be an ARN (arn:partition:service:region:account:resource), got " + quote(v)
		}
	}
	return ""
}
