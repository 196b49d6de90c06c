package main

import (
	"os"

	"github.com/sparkplane/sparkplane/internal/cli"
)

// The client commands (virtual-clusters, jobs, job-templates, security-configurations, tags)
// and the commands of job pods (log-wrap, log-shipper) live in internal/cli; os.Exit lets
// "jobs wait" end with its own exit codes.
func init() {
	root.AddCommand(cli.Commands(cli.Options{Exit: os.Exit})...)
	root.AddCommand(cli.PodCommands()...)
}
