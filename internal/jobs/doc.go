// Package jobs is sparkplane's domain: virtual clusters, job runs, job templates, security
// configurations and their tags; the validation rules of the emr-containers API model; job
// template substitution; clientToken idempotency; and the job-run state machine.
//
// It knows nothing of HTTP or Kubernetes. Adapters depend on it: the api package decodes
// requests into the input types here and calls Service; store packages implement Store; a
// lifecycle controller lists non-terminal runs and advances them with Service.UpdateJobRun,
// which enforces the state machine.
package jobs
