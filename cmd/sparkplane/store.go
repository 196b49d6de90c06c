package main

import "github.com/sparkplane/sparkplane/internal/cli"

// The store commands (migrate, backup) work on a server's database directly, with no server;
// they live in internal/cli beside the client's.
func init() {
	root.AddCommand(cli.StoreCommands()...)
}
