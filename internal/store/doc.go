// Package store keeps sparkplane's resources and cost records, in SQLite (the embedded
// default) or in PostgreSQL (several server replicas on one database). Both implement
// jobs.Store and cost.Store with the same semantics, checked by one conformance suite
// (storetest.Run and storetest.RunCost), and Backend, which the server holds; OpenDatabase
// picks one by the form of the database setting (a postgres:// URL or a file path).
//
// SQLite uses the pure-Go modernc.org/sqlite driver (so the binary stays static), in WAL mode
// with synchronous=FULL: a write has reached the disk when its call returns. All writes go
// through one writer goroutine that groups the writes waiting at the same moment into one
// transaction (group commit): each caller still gets its own result, and one fsync is shared
// by many StartJobRun calls. Each write runs in its own savepoint, so one failing write does
// not undo the others. Reads use a separate pool of connections and never wait for the
// writer. That writer must be the database's only one: Open holds an exclusive flock on
// <path>.lock until Close, and refuses a second opener (another server process, a second
// replica) with the pid that holds it.
//
// PostgreSQL uses pgx's connection pool (size it with pool_max_conns in the URL). Every write
// is its own transaction, committed when its call returns (so durable as long as the server
// keeps synchronous_commit on). Where SQLite serialises writes, PostgreSQL takes row locks:
// UpdateJobRun, UpdateTags and SavePodUsage read the row FOR UPDATE and write it in the same
// transaction, and concurrent creates with one clientToken meet on its unique index
// (INSERT ... ON CONFLICT DO NOTHING), so exactly one stores a resource and the others return
// it. A write, once it holds a connection, is not interrupted when its caller gives up, so
// the caller learns whether it committed. Give sparkplane a database (or a schema, through
// search_path) of its own. Replicas tell the one that runs the controller about job runs they
// accepted through NOTIFY on channel sparkplane_job_runs (NotifyJobRuns, ListenJobRuns): a
// hint that hastens the controller, never the record of the run.
//
// A database that cannot be reached or goes away during a call (a refused or reset connection,
// the server shutting down or starting up, SQLite busy beyond its timeout or failing disk I/O)
// makes the call fail with an error that wraps jobs.ErrUnavailable: the call changed nothing.
// The one exception also wraps jobs.ErrOutcomeUnknown: the connection was lost after a write
// was sent and before its commit was confirmed (a statement that commits by itself, or COMMIT),
// so it may have been applied; a retry with the same clientToken finds it if it was. After
// such an error the PostgreSQL pool drops its connections, so that the first calls after the
// server is back do not fail on connections it closed; new connections wait at most 10 s
// unless the URL sets connect_timeout.
//
// Both keep each resource as its JSON document beside the columns queries filter and sort on,
// list newest first with keyset pagination on (created_at, id), and hand out the same opaque
// nextToken. Each schema is versioned by numbered files applied in order at open and recorded
// in schema_migrations: migrations/*.sql for SQLite, migrations/postgres/*.sql for PostgreSQL,
// where replicas that start together take turns on an advisory lock so each file is applied
// once.
//
// Two operator's tools work on a database with no server (sparkplane store): CopyToPostgres
// moves a SQLite installation into an empty PostgreSQL database in one transaction, every
// table column by column as copiedTables lists them, and compares both sides row by row
// before it commits; BackupSQLite writes a consistent, checked copy of a SQLite database while
// its server runs, from one read snapshot through SQLite's online backup API.
package store
