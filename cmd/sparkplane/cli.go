package main

import (
	"os"

	"github.com/sparkplane/sparkplane/internal/cli"
)

// The client commands (virtual-clusters, jobs, job-templates, security-configurations, tags)
// live in internal/cli; os.Exit lets "jobs wait" end with its own exit codes.
func init() {
	root.AddCommand(cli.Commands(cli.Options{Exit: os.Exit})...)
}
