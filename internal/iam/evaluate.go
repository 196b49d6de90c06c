package iam

import "strings"

// Request is what one API call asks to do, as the authorizer sees it.
type Request struct {
	// Principal is the caller's ARN, e.g. arn:aws:iam::123456789012:user/alice.
	Principal string
	// Action is service:Action, e.g. emr-containers:StartJobRun, or
	// sparkplane:PutVirtualClusterSettings for sparkplane's extension routes.
	Action string
	// Resource is the ARN the action is on, or "*" for actions that have no resource type
	// (ListVirtualClusters, CreateVirtualCluster, ...); see Actions.
	Resource string
	// Context holds the condition keys of the request and their values, e.g.
	// emr-containers:ExecutionRoleArn, aws:RequestTag/<key>, aws:ResourceTag/<key>,
	// aws:TagKeys. Keys are looked up case-insensitively; a key with no values is absent.
	// aws:PrincipalArn defaults to Principal when the map does not set it.
	Context map[string][]string
}

// Decision is the outcome of evaluating a request, with what decided it, for the audit log.
type Decision struct {
	// Allowed is true only when some statement allows the request and none denies it.
	Allowed bool
	// ExplicitDeny is true when a Deny statement matched. When both Allowed and
	// ExplicitDeny are false the request was implicitly denied: nothing allowed it.
	ExplicitDeny bool
	// Policy, Sid and Statement name the deciding statement: the first matching Deny, else
	// the first matching Allow, in the order the policies were given. Statement is the
	// statement's index in its policy (Sids are optional); it is -1 for an implicit deny.
	Policy    string
	Sid       string
	Statement int
}

// Evaluate decides a request against the identity policies attached to its principal, with
// IAM's logic: a request is denied unless a statement allows it, and any matching Deny
// overrides every Allow. Statements are tried in order; the first matching Deny ends the
// evaluation, and Allow statements are skipped once one has matched, since only a Deny can
// change the outcome then.
func Evaluate(policies []*Policy, req Request) Decision {
	e := evaluation{req: &req, action: strings.ToLower(req.Action)}
	d := Decision{Statement: -1}
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.Statements {
			s := &p.Statements[i]
			if s.Effect == Allow && d.Allowed {
				continue
			}
			if !e.applies(s) {
				continue
			}
			if s.Effect == Deny {
				return Decision{ExplicitDeny: true, Policy: p.Name, Sid: s.Sid, Statement: i}
			}
			d = Decision{Allowed: true, Policy: p.Name, Sid: s.Sid, Statement: i}
		}
	}
	return d
}

// evaluation carries what is computed once per request.
type evaluation struct {
	req       *Request
	action    string    // lowercased once
	principal [1]string // backing array for the aws:PrincipalArn default, to avoid allocating
}

func (e *evaluation) applies(s *Statement) bool {
	matched := false
	for _, g := range s.actions {
		if g.match(e.action) {
			matched = true
			break
		}
	}
	if matched == s.notAction {
		return false
	}
	matched = false
	for i := range s.resources {
		if s.resources[i].match(e.req.Resource) {
			matched = true
			break
		}
	}
	if matched == s.notRes {
		return false
	}
	for i := range s.Conditions {
		c := &s.Conditions[i]
		if !c.holds(e.values(c)) {
			return false
		}
	}
	return true
}

// values returns the request's values for a condition's key. The common case, a context
// spelled as the policy spells the key, is one map lookup; otherwise the keys are compared
// case-insensitively, which for the handful of keys a request carries costs less than
// building a lowercased copy of the map.
func (e *evaluation) values(c *Condition) []string {
	ctx := e.req.Context
	if v, ok := ctx[c.Key]; ok {
		return v
	}
	for k, v := range ctx {
		if strings.EqualFold(k, c.Key) {
			return v
		}
	}
	if c.m.key == "aws:principalarn" && e.req.Principal != "" {
		e.principal[0] = e.req.Principal
		return e.principal[:]
	}
	return nil
}
