// Command sparkplane is the one binary of sparkplane: the API server, the command-line client,
// and the local sandbox. Each file in this folder wires one group of subcommands into root.
package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/buildinfo"
	"github.com/sparkplane/sparkplane/internal/cli"
)

// root is the top-level command; the files beside this one add their subcommands in init.
// Version gives it --version, which prints the release the build stamped (internal/buildinfo).
var root = &cobra.Command{
	Use:           "sparkplane",
	Version:       buildinfo.Version,
	Short:         "A self-hosted, emr-containers-compatible job service for Apache Spark on Kubernetes",
	SilenceUsage:  true,
	SilenceErrors: false,
}

func main() {
	if err := root.Execute(); err != nil {
		// Exit codes tell scripts why: `jobs wait` distinguishes failed, cancelled and timeout.
		os.Exit(cli.ExitCode(err))
	}
}
