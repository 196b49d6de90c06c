// Package e2e holds end-to-end tests that run the whole of sparkplane against the shared test
// cluster: a full server (server.New: SigV4 API, SQLite store, controller, cost recorder) on a
// kwok cluster with Karpenter's kwok provider, the sandbox NodePool and the Spark driver
// emulator. They submit job runs through the official aws-sdk-go-v2 client, watch the cluster
// on their own, and check what the server reports against a computation done in the test.
//
// The package has no non-test code. Run it with
//
//	go test ./internal/e2e/
//
// (-short skips it: it needs the cluster testenv starts).
package e2e
