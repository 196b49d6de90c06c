// Package buildinfo holds what the build stamped into the binary: the release it was built
// from and the commit. `make build` and `make image` set both with -ldflags -X (see the
// Makefile); a plain `go build` leaves Version "dev" and Revision empty.
package buildinfo

// Version is the release this binary was built from (git describe --tags --always --dirty),
// "dev" when the build stamped none. `sparkplane --version` prints it.
var Version = "dev"

// Revision is the full commit hash the binary was built from, empty when the build stamped
// none.
var Revision = ""
