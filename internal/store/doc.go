// Package store keeps sparkplane's resources in SQLite, the embedded default store. It
// implements jobs.Store with the pure-Go modernc.org/sqlite driver (so the binary stays
// static), in WAL mode with synchronous=FULL: a write has reached the disk when its call
// returns.
//
// All writes go through one writer goroutine that groups the writes waiting at the same moment
// into one transaction (group commit): each caller still gets its own result, and one fsync is
// shared by many StartJobRun calls. Each write runs in its own savepoint, so one failing write
// does not undo the others. Reads use a separate pool of connections and never wait for the
// writer.
//
// The schema is versioned by the numbered files in migrations/, applied in order at Open and
// recorded in schema_migrations.
package store
