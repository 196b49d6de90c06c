package iam

// The two policy language versions IAM accepts. They share the grammar; they differ only in
// that 2012-10-17 reads ${...} as a policy variable, which Parse refuses (see doc.go).
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is what a matching statement does to a request.
type Effect string

// The only two effects IAM knows; the spelling is case-sensitive, as in IAM.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is one parsed identity policy, ready to evaluate. Policies are built only by
// Parse: the exported fields show what the document says (for display and audit), and the
// compiled matchers beside them are what Evaluate uses. A Policy is immutable after Parse
// and safe to share between goroutines.
type Policy struct {
	// Name identifies the policy in decisions and audit records; Parse takes it from the
	// caller because the document itself has no name.
	Name string
	// Version is the document's Version, or Version2008 when the document has none, which
	// is IAM's default.
	Version string
	// ID is the optional Id element.
	ID         string
	Statements []Statement
}

// Statement is one element of a policy's Statement. Exactly one of Actions and NotActions
// is set, and exactly one of Resources and NotResources.
type Statement struct {
	// Sid is the optional statement id; Decision reports it together with the statement's
	// index because many statements have none.
	Sid          string
	Effect       Effect
	Actions      []string
	NotActions   []string
	Resources    []string
	NotResources []string
	// Conditions are the Condition block flattened to one entry per operator and key, in
	// document order. All of them must hold for the statement to apply.
	Conditions []Condition

	actions   []glob // lowercased: actions match case-insensitively
	resources []resourcePattern
	notAction bool
	notRes    bool
}

// Condition is one operator/key pair of a Condition block with its values, which are ORed.
type Condition struct {
	// Operator is the operator as written, qualifiers included, e.g.
	// "ForAnyValue:StringLikeIfExists".
	Operator string
	// Key is the condition key as written; keys match case-insensitively.
	Key string
	// Values are the values as written; JSON numbers and booleans keep their literal text.
	Values []string

	op op
	m  matcher
}
