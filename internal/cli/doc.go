// Package cli is the sparkplane command-line client: the commands that talk to a sparkplane
// server (or to any emr-containers endpoint) through the official aws-sdk-go-v2 emrcontainers
// client.
//
// The commands mirror `aws emr-containers` under shorter nouns, with the same flag names and
// the same JSON inputs:
//
//	sparkplane virtual-clusters create|describe|list|delete
//	sparkplane jobs start|describe|list|cancel|wait
//	sparkplane job-templates create|describe|list|delete
//	sparkplane security-configurations create|describe|list
//	sparkplane tags list|add|remove
//
// and sparkplane's extensions, which call routes the AWS model lacks with the same SigV4
// signing:
//
//	sparkplane jobs cost, sparkplane cost
//	sparkplane jobs ui, sparkplane jobs logs
//	sparkplane jobs spark-ui (a local proxy to the live Spark UI route)
//	sparkplane execution-roles trust-policy
//	sparkplane virtual-clusters put-settings|get-settings|delete-settings
//	sparkplane iam create-user|get-user|list-users|delete-user
//	sparkplane iam create-access-key|list-access-keys|delete-access-key
//	sparkplane iam put-user-policy|get-user-policy|list-user-policies|delete-user-policy
//	sparkplane audit list
//
// The store commands are an operator's offline tools: they work on a server's database
// directly, with no server and no API call, so they take no endpoint or credentials:
//
//	sparkplane store migrate --from sqlite:PATH --to postgres://...
//	sparkplane store backup --database PATH --to FILE
//
// The iam commands take the flags of `aws iam` (--user-name, --policy-name,
// --policy-document, --access-key-id) and print its shapes ({"User": {...}},
// {"AccessKey": {...}}, PolicyDocument as a JSON object), as JSON by default; the calls whose
// answer is empty print nothing, as the aws CLI does.
//
// So `aws emr-containers start-job-run --virtual-cluster-id X --job-driver '{...}'` becomes
// `sparkplane jobs start --virtual-cluster-id X --job-driver '{...}'`. Every JSON flag also
// takes file://path (and fileb://path), read relative to the working directory as the aws CLI
// does; flat maps and shapes (--tags, --job-template-parameters, --retry-policy-configuration)
// also take the shorthand k1=v1,k2=v2. JSON inputs are checked field by field against the SDK's
// shapes (names, types, enum values) before any request is sent, and a mistake is reported
// with the flag and the path inside it, for example
// `--job-driver: sparkSubmitJobDriver.entryPointArguments: want a list, got a string`.
//
// Connection settings: --endpoint-url (or SPARKPLANE_ENDPOINT) is required; --region (or
// AWS_REGION, AWS_DEFAULT_REGION, the profile; default us-east-1) and --profile select how
// requests are signed; credentials come from the standard AWS chain
// (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, shared credentials file, profile).
//
// Output: an aligned table by default; -o json prints the API response with the API's own
// field names (camelCase, as the aws CLI prints them) and ISO-8601 UTC times; -o yaml the same
// as YAML. List commands follow nextToken to the end unless --max-items is given, in which case
// the token to continue from is printed (nextToken in JSON) for --starting-token.
//
// Errors the service returns print as "Error: <Code>: <message>" (for example
// "Error: ValidationException: releaseLabel ...") and exit 1. `jobs wait` polls
// DescribeJobRun with backoff, prints one line per state change, and exits 0 on COMPLETED,
// ExitJobFailed (3) on FAILED, ExitJobCancelled (4) on CANCELLED and ExitTimeout (124) when
// --timeout passes first.
package cli
