// Package api is the HTTP front door of sparkplane: it speaks the emr-containers REST-JSON
// protocol (same paths, members, enums, timestamps, pagination and error shapes as AWS), so
// the aws CLI, boto3 and aws-sdk-go-v2 work against it with --endpoint-url.
//
// # Authentication
//
// Every request except GET /healthz, GET /readyz (and /metrics, behind its own token) must carry a valid
// AWS Signature Version 4 (service emr-containers) made with an access key the Credentials
// know: the configuration's administrator keys, or a user's key from the store
// (internal/access). The expected signature is recomputed with aws-sdk-go-v2's signer over the
// request as received (body hash included) and compared in constant time. Unsigned or badly
// signed requests get 403 with the AWS error code and never reach the domain.
//
// # Authorization
//
// Each route names its action (emr-containers:<Operation>, or sparkplane:<Action> for the
// extension routes) and an authorizer that builds the questions the call asks, as the
// Service Authorization Reference lists them: the resource ARN the call is on (or "*"), and
// the condition keys of the request (emr-containers:ExecutionRoleArn after the job template is
// applied, emr-containers:JobTemplateArn, aws:RequestTag/*, aws:TagKeys, and aws:ResourceTag/*
// read from the resource, only for callers whose policies use them). internal/iam evaluates
// them against the caller's policies before the handler runs; a refusal answers 403
// AccessDeniedException with IAM's message and the handler never runs. ListVirtualClusters
// and ListJobRuns leave out what the caller may not describe.
//
// # Audit
//
// Every call, authenticated or not, becomes one audit.Event with its action, resource and
// outcome; calls that change something, and refusals, are answered only once the event is
// stored (not a call the database was unavailable for: its event is queued). Domain errors are
// mapped to AWS error codes in one place (writeError); a store that is unavailable
// (jobs.ErrUnavailable) is HTTP 503 InternalServerException, which the SDKs retry, saying that
// the call changed nothing, or that its commit was cut off (jobs.ErrOutcomeUnknown).
package api
