// Package iam parses and evaluates IAM identity-based policies, so that sparkplane
// authorizes emr-containers calls the way AWS IAM does. It owns the policy language and
// the decision; who a caller is, where policies are stored, which policies a caller has
// and what the HTTP layer returns belong to other packages. It is pure: no I/O, no
// clock, standard library only.
//
// # Use
//
//	pol, err := iam.Parse("team-data", doc)          // when a policy is stored; show err to the author
//	req := iam.Request{
//		Principal: callerARN,
//		Action:    "emr-containers:StartJobRun",
//		Resource:  iam.VirtualClusterARN(region, account, vcID), // "*" for actions with no resource type
//		Context:   map[string][]string{"emr-containers:ExecutionRoleArn": {roleARN}},
//	}
//	d := iam.Evaluate(callerPolicies, req)             // d.Policy, d.Sid, d.Statement go to the audit log
//	if !d.Allowed {
//		return accessDenied(iam.DeniedMessage(req, d))
//	}
//
// LookupAction and OperationActions say, per the Service Authorization Reference, which
// resource type an action is asked about and which other actions an operation needs.
//
// # Invariants
//
//   - Parse accepts a document only if every part of it is understood; nothing in a stored
//     policy is ignored at evaluation. Every refusal is a *ParseError with the 1-based line
//     and column (in characters) of the offending value, its path in the document
//     (Statement[0].Condition.StringEquals.aws:TagKeys[1]) and the rule it breaks.
//   - A *Policy is immutable after Parse and safe for concurrent use. Only Parse builds
//     usable policies: a hand-assembled Statement has no compiled matchers and matches
//     nothing, Deny statements included.
//   - Evaluate denies unless a statement allows; a matching Deny wins over every Allow.
//     The Decision names the first matching Deny, or else the first matching Allow, in the
//     order the policies and statements were given.
//
// # Grammar (as IAM documents it)
//
// Version is "2012-10-17" or "2008-10-17" and defaults to "2008-10-17" when absent, as in
// IAM. Id is an optional string. Statement is one object or a non-empty array of objects.
// A statement has an optional Sid (letters and digits only, unique within the policy, as
// IAM requires for identity policies), Effect "Allow" or "Deny" (case-sensitive), exactly
// one of Action and NotAction, exactly one of Resource and NotResource, and an optional
// Condition. Action-like and Resource-like elements are a string or a non-empty array of
// non-empty strings. An action is "*" or service:action; a resource is "*" or an ARN with
// its six parts (arn:partition:service:region:account:resource). Principal and
// NotPrincipal are refused: they belong to resource-based policies. Member names are
// case-sensitive; unknown members are refused with a hint when only the case is wrong.
//
// Actions match case-insensitively and resources case-sensitively, with '*' (any run of
// characters) and '?' (one character). In Resource, wildcards stay within a
// colon-separated ARN segment, except that a '*' ending a segment may expand past the
// following colons, which is IAM's documented rule ("arn:aws:emr-containers:*:*:/virtualclusters/*").
//
// # Conditions
//
// Operators: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
// StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals, ArnNotEquals, ArnLike,
// ArnNotLike, Bool and Null; all but Null also with the IfExists suffix and the
// ForAnyValue: and ForAllValues: qualifiers. Values under one key are ORed; keys under an
// operator and operators in a block are ANDed. Condition key names match
// case-insensitively. ArnEquals and ArnLike are the same test, as IAM documents: each of
// the six ARN components is matched separately, wildcards allowed. JSON numbers and
// booleans are accepted as values and compared by their text.
//
// Absent keys follow IAM's documented rules: a positive operator fails; a negated one
// (StringNotEquals, StringNotLike, ArnNotLike, ...) holds; ...IfExists holds;
// ForAllValues: holds and ForAnyValue: fails; Null "true" holds. A key present with an
// empty list of values counts as absent. aws:PrincipalArn defaults to Request.Principal,
// since IAM always supplies it.
//
// Choices where IAM's documentation is silent, made to refuse rather than guess:
//   - Without a qualifier, a key with several values holds for a positive operator when any
//     value matches and for a negated one when none does.
//   - Bool and Null values must be "true" or "false" (any case); Bool compares ignoring case.
//   - Arn* values must be ARNs: a value without the six components could never match.
//   - Null takes neither IfExists nor a set qualifier.
//   - Duplicate JSON members, and one condition key written twice in different case under
//     one operator, are refused rather than resolved by order.
//
// # Not implemented
//
//   - Resource-based policies, permission boundaries, service and resource control
//     policies, session policies and cross-account evaluation: only identity-based
//     policies of one account are evaluated.
//   - Policy variables (${aws:username}, ${*}, ...): a 2012-10-17 policy using one in a
//     resource or condition value is refused rather than matched as literal text.
//   - The Numeric*, Date*, BinaryEquals and IpAddress operators: refused as unsupported.
//     No emr-containers condition key needs them.
//   - The newer AccessDenied suffix naming the denying policy's ARN (AWS's access
//     troubleshooter preview): DeniedMessage uses the established wording.
package iam
