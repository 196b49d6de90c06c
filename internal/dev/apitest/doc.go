// Package apitest starts a real sparkplane API server for tests: real SQLite in t.TempDir(),
// real SigV4 authentication, a random loopback port. It hands out an aws-sdk-go-v2
// emrcontainers client and the environment for the real aws CLI, both signed with the
// server's access key.
package apitest
