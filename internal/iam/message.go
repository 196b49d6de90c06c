package iam

// DeniedMessage words a refusal the way AWS words an AccessDenied error for identity-based
// policies, so people and tools that read AWS's messages read sparkplane's the same way:
//
//	User: <principal> is not authorized to perform: <action> on resource: <resource> because no identity-based policy allows the <action> action
//	User: <principal> is not authorized to perform: <action> on resource: <resource> with an explicit deny in an identity-based policy
//
// The two suffixes are the ones AWS documents for implicit and explicit denials by an
// identity-based policy (IAM User Guide, "Troubleshooting access denied error messages").
// Like AWS, the message does not name the denying policy; Decision carries that for the
// audit log. It returns "" for an allowed request.
func DeniedMessage(req Request, d Decision) string {
	if d.Allowed {
		return ""
	}
	msg := "User: " + req.Principal + " is not authorized to perform: " + req.Action + " on resource: " + req.Resource
	if d.ExplicitDeny {
		return msg + " with an explicit deny in an identity-based policy"
	}
	return msg + " because no identity-based policy allows the " + req.Action + " action"
}
