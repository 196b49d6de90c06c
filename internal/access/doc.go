// Package access is who may call sparkplane: IAM-style users, their access keys and their
// inline policies, kept in the store so every replica sees them, and the identities the API
// authenticates requests against and authorizes them with (internal/iam evaluates the
// policies).
//
// # Identities
//
// Two kinds of caller exist. Keys from the configuration file (and the sandbox's key) are
// administrators: their identity carries one policy allowing "*" on "*". Users are created
// through the API (sparkplane iam create-user) and may do what their inline policies allow;
// a user with no policy may do nothing.
//
// # Secrets at rest
//
// SigV4 needs the secret itself to check a signature (the signing key is derived from the
// secret and the request's date), so a secret cannot be stored as a one-way hash. Each secret
// is sealed with AES-256-GCM under the server's secrets key, which lives outside the database
// (a file, or SPARKPLANE_SECRETS_KEY), with the access key id as additional data: a copy of
// the database alone yields no secret, and a sealed secret moved to another key's row does
// not open. The sealed value records a fingerprint of the key, so a server started with the
// wrong key says so instead of refusing every signature. The secret is returned once, by
// CreateAccessKey, and never logged.
//
// # Console sessions
//
// The web console signs a browser in with a session (Session, kept by a SessionStore): the
// browser holds a random token and the store keeps only its SHA-256, so the database alone
// signs no one in. A one-time sign-in link is a session of kind SessionKindLink that
// TakeSession deletes as it reads it, so it works once however many replicas race for it.
//
// # Caching and replicas
//
// Lookup caches an identity (key, secret, parsed policies) for CacheTTL (5 s). A change made
// through this server drops the cached entries of that user at once; a change made through
// another replica is seen here within CacheTTL, as IAM's own changes propagate within
// seconds. Unknown key ids are remembered as unknown for the same time, so a flood of
// made-up keys does not reach the database on every request.
package access
