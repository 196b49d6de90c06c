// Package trust writes the IAM trust policies that let a job's pods assume its execution role
// through IAM roles for service accounts (IRSA), the step `aws emr-containers
// update-role-trust-policy` does for EMR on EKS.
//
// sparkplane runs every pod of a job run (driver and executors) as one service account per
// execution role and namespace, named by submission.ServiceAccountName and annotated with
// eks.amazonaws.com/role-arn. EKS's pod identity webhook then gives those pods a web identity
// token; STS exchanges it for the role's credentials only if the role's trust policy has a
// statement for the cluster's OIDC provider whose condition names that service account. This
// package builds that statement, exactly (StringEquals on the subject and the audience, no
// wildcard), and refuses to build it for a role the virtual cluster may not use.
//
// Everything here is a pure function: no AWS call is made and nothing is stored. The server's
// extension route (GET /virtualclusters/{virtualClusterId}/trustpolicy) calls ForVirtualCluster
// after looking the virtual cluster up; the CLI prints what the route answers.
package trust
