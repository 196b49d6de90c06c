package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CopyBeforeVerify returns opts that run fn in the copy's transaction between the copy and
// its verification, where a test tampers with the copy.
func CopyBeforeVerify(opts CopyOptions, fn func(ctx context.Context, tx pgx.Tx) error) CopyOptions {
	opts.beforeVerify = fn
	return opts
}

// BackupAfterSnapshot returns options that run fn once the backup's snapshot is taken and
// counted, before its pages are copied.
func BackupAfterSnapshot(fn func()) BackupOptions { return BackupOptions{afterSnapshot: fn} }
