// Package pgtest runs a throwaway PostgreSQL server for tests and benchmarks: the real server
// binary (Debian's postgresql-15, which hack/postgres.sh installs), a fresh data directory in
// a temporary directory, reachable only through a unix socket in that directory, so parallel
// test binaries never compete for a TCP port.
//
// PostgreSQL refuses to run as root. When the test runs as root, initdb and postgres run as an
// unprivileged account (SPARKPLANE_POSTGRES_USER, default "postgres", which the Debian package
// creates), set as the child's credentials by the kernel at exec, with no su or sudo in between.
// Otherwise they run as the calling user.
//
// The server is the test process's own child: Stop ends it by its pid (fast shutdown, then
// immediate, then kill) and removes the directory, and the kernel sends it SIGQUIT if the test
// process dies first (an immediate shutdown that also ends its backends).
//
// Crash ends the server as a crash would (an immediate shutdown by its pid: sessions cut, no
// checkpoint) and Restart starts it again on the same data directory and socket, for tests of
// a database lost at run time; such a server is started with CrashSafe settings, so that a
// confirmed commit survives the crash.
//
// A package shares one server among its tests through a Shared started on first use and stopped
// from TestMain; each test gets a new, empty database on it:
//
//	var pg pgtest.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		if err := pg.Stop(); err != nil { ... }
//		os.Exit(code)
//	}
//
//	func TestSomething(t *testing.T) {
//		dsn := pg.Database(t) // postgres://sparkplane@/db3?host=/tmp/sparkplane-pg-...
//	}
//
// A missing PostgreSQL fails the test with what to install; nothing is skipped for it. The
// sandbox's PostgreSQL (sparkplane-sandbox up --store postgres) is made with the same BinDir,
// Credential, InitDB and ChildEnv, but runs as a sandbox part of its own.
package pgtest
