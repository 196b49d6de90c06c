// Package api is the HTTP front door of sparkplane: it speaks the emr-containers REST-JSON
// protocol (same paths, members, enums, timestamps, pagination and error shapes as AWS), so
// the aws CLI, boto3 and aws-sdk-go-v2 work against it with --endpoint-url.
//
// Every request except GET /healthz must carry a valid AWS Signature Version 4 (service
// emr-containers) made with an access key from the server configuration; the expected
// signature is recomputed with aws-sdk-go-v2's signer over the request as received (body hash
// included) and compared in constant time. Unsigned or badly signed requests get 403 with the
// AWS error code and never reach the domain. Domain errors are mapped to AWS error codes in
// one place (writeError).
package api
