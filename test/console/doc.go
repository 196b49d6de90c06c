// Package console holds the web console's browser tests: a real headless Chromium, driven from
// Go with chromedp, uses the console of a full sparkplane server (server.New: SigV4 API,
// SQLite store, controller, cost recorder, console) on the package's shared test cluster
// (kwok with Karpenter's kwok provider, the sandbox NodePool, the Spark driver emulator and an
// S3 server for event logs and shipped container logs). Runs are submitted through the
// official aws-sdk-go-v2 client, and every check is made on the page as a user sees it: what
// the DOM shows, what the page's own script does (live rows, in-place cancel, log follow), and
// what the browser refuses (forged forms, injected markup), never by reading the HTTP answers
// behind the page. internal/console's own tests cover the HTTP layer.
//
// Chromium is found through SPARKPLANE_CHROMIUM, else `chromium` on PATH (hack/chromium.sh
// installs it; `make test` runs that). Without it the package fails: a browser test that
// skips would pass without testing anything. -short skips the package, as it skips every
// package that needs the cluster.
//
// Each test saves screenshots of what it checks in t.ArtifactDir(); `go test -artifacts
// -outputdir DIR` keeps them under DIR/_artifacts/test/console/ (`make test` uses
// .artifacts/).
//
// The package has no non-test code.
package console
