package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultBinDir is where Debian's postgresql-15 package puts initdb and postgres.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// Superuser is the role initdb creates and every DSN of the server connects as.
const Superuser = "sparkplane"

// port only names the socket file (.s.PGSQL.<port>); the server listens on no TCP port.
const port = 5432

// Options tune the server.
type Options struct {
	// Durable keeps PostgreSQL's durability (fsync, full_page_writes, synchronous_commit) as
	// a production server has it, for benchmarks whose numbers should mean something. Tests
	// leave it off: their data is thrown away, and fsync would only make them slow.
	Durable bool
	// Settings are extra server settings, passed as -c name=value.
	Settings map[string]string
}

// CrashSafe are the Settings of a server that a test crashes (Crash) and restarts: without
// Durable, synchronous_commit is off, and a transaction whose commit was confirmed can be lost
// in a crash. With it on, a commit is confirmed once the write-ahead log has reached the
// operating system, which a crash of the server leaves in place (fsync stays off: the machine
// does not crash).
var CrashSafe = map[string]string{"synchronous_commit": "on"}

// Server is a running PostgreSQL server of this process.
type Server struct {
	// Dir holds the data directory (data/), the socket and the server log (postgres.log).
	// Stop removes it.
	Dir string

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the server process has ended
	waitErr  error         // its exit status, once exited is closed
	bin      string
	cred     *syscall.Credential
	args     []string // of the postgres command, for Restart
	dbs      atomic.Int64
	stopOnce sync.Once
	stopErr  error
}

// Start initialises a data directory in a new temporary directory and starts postgres on it.
// It returns once the server accepts connections. On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := credential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(tempRoot(), "sparkplane-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres test server: %w", err)
	}
	// fail removes the directory of a server that did not start.
	fail := func(err error) (*Server, error) { return nil, errors.Join(err, os.RemoveAll(dir)) }
	if cred != nil {
		// The server's account owns its directory; root, running the test, reads it anyway.
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("postgres test server: hand %s to uid %d: %w", dir, cred.Uid, err))
		}
	}
	data := filepath.Join(dir, "data")
	if err := InitDB(ctx, bin, cred, dir, "--auth=trust"); err != nil {
		return fail(fmt.Errorf("postgres test server: %w", err))
	}

	args := []string{"-D", data, "-k", dir, "-p", strconv.Itoa(port)}
	for _, kv := range settings(opts) {
		args = append(args, "-c", kv)
	}
	s := &Server{Dir: dir, bin: bin, cred: cred, args: args}
	if err := s.run(); err != nil {
		return fail(err)
	}
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.Stop())
	}
	return s, nil
}

// run starts the postgres process on the server's data directory, its output appended to
// postgres.log.
func (s *Server) run() error {
	logFile, err := os.OpenFile(filepath.Join(s.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("postgres test server: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	// Not CommandContext: the server outlives the context of its start.
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), s.args...)
	cmd.Dir, cmd.Env = s.Dir, ChildEnv(s.Dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// SIGQUIT is an immediate shutdown: the postmaster ends its backends too, so a test binary
	// that crashes or is killed leaves no server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("postgres test server: start %s: %w", cmd.Path, err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited = cmd, exited
	go func() {
		s.waitErr = cmd.Wait()
		close(exited)
	}()
	return nil
}

// Pid is the process id of the server (its postmaster).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Crash stops the server the way a crash does, by its pid, and returns once it has exited: an
// immediate shutdown (SIGQUIT, what pg_ctl stop -m immediate sends), in which the postmaster
// ends every session at once, without a checkpoint, so that the next start recovers from the
// write-ahead log. Clients see their connections cut in the middle of what they were doing.
// The data directory stays, for Restart.
func (s *Server) Crash() error {
	if !s.signal(syscall.SIGQUIT, 30*time.Second) && !s.signal(syscall.SIGKILL, 10*time.Second) {
		return fmt.Errorf("postgres test server pid %d did not stop", s.cmd.Process.Pid)
	}
	return nil
}

// Restart starts the server again on its data directory and socket after Crash, and returns
// once it accepts connections (after its crash recovery).
func (s *Server) Restart(ctx context.Context) error {
	select {
	case <-s.exited:
	default:
		return fmt.Errorf("postgres test server pid %d still runs", s.cmd.Process.Pid)
	}
	if err := s.run(); err != nil {
		return err
	}
	return s.waitReady(ctx)
}

// InitDB creates the data directory dir/data with initdb from bin, as cred (nil: the caller),
// for the superuser Superuser, with the C locale and UTF-8; auth are initdb's authentication
// options (--auth=trust, or --auth-host=scram-sha-256 --pwfile=...). dir must exist and be
// writable by cred's account.
func InitDB(ctx context.Context, bin string, cred *syscall.Credential, dir string, auth ...string) error {
	args := append([]string{"-D", filepath.Join(dir, "data"), "-U", Superuser,
		"--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"}, auth...)
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), args...)
	initdb.Dir, initdb.Env = dir, ChildEnv(dir)
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// settings are the server's -c arguments, sorted so the command line is stable.
func settings(opts Options) []string {
	set := map[string]string{
		"listen_addresses": "", // the unix socket only
		"max_connections":  "200",
		// The test process runs as root while the server does not: its log and socket stay
		// readable to the test.
		"unix_socket_permissions": "0777",
	}
	if !opts.Durable {
		set["fsync"] = "off"
		set["full_page_writes"] = "off"
		set["synchronous_commit"] = "off"
	}
	for k, v := range opts.Settings {
		set[k] = v
	}
	out := make([]string, 0, len(set))
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// waitReady polls until the server answers a query, it exits, or a minute passes.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	for {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			err = errors.Join(conn.Ping(ctx), conn.Close(context.Background()))
			if err == nil {
				return nil
			}
		}
		last = err
		select {
		case <-s.exited:
			return fmt.Errorf("postgres test server exited during start (%v); its log:\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("postgres test server did not accept connections: %w; its log:\n%s", last, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail is the end of the server log, for error messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "postgres.log"))
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// DSN is the URL of a database of the server, through its unix socket.
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d&sslmode=disable", Superuser, database, url.QueryEscape(s.Dir), port)
}

// CreateDatabase creates a new, empty database and returns its name.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("db%d", s.dbs.Add(1))
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create test database %s: %w", name, err)
	}
	return name, nil
}

// DropDatabase drops a database, ending the sessions still connected to it.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop test database %s: %w", name, err)
	}
	return nil
}

func (s *Server) admin(ctx context.Context, stmt string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, stmt)
	return errors.Join(err, conn.Close(context.Background()))
}

// Stop shuts the server down by its pid and removes its directory. A fast shutdown (SIGINT)
// ends the sessions still connected; a server that has not stopped after 30 s gets an
// immediate shutdown, then SIGKILL. It is safe to call twice.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if !s.signal(syscall.SIGINT, 30*time.Second) && !s.signal(syscall.SIGQUIT, 10*time.Second) && !s.signal(syscall.SIGKILL, 10*time.Second) {
			s.stopErr = fmt.Errorf("postgres test server pid %d did not stop; its directory %s is left", s.cmd.Process.Pid, s.Dir)
			return
		}
		if err := os.RemoveAll(s.Dir); err != nil {
			s.stopErr = fmt.Errorf("remove postgres test server directory: %w", err)
		}
	})
	return s.stopErr
}

// signal sends sig to the server process (by its pid) unless it has exited, and reports
// whether it has exited within wait.
func (s *Server) signal(sig syscall.Signal, wait time.Duration) bool {
	select {
	case <-s.exited:
		return true
	default:
	}
	// An error means the process is already gone; exited says so in a moment.
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
		return true
	case <-time.After(wait):
		return false
	}
}

// BinDir finds initdb and postgres: SPARKPLANE_POSTGRES_BIN, Debian's postgresql-15, or the
// PATH; the error says how to install them.
func BinDir() (string, error) { return binDir() }

// Credential is the account PostgreSQL runs as: nil (the caller's) unless the caller is root,
// then SPARKPLANE_POSTGRES_USER (default "postgres").
func Credential() (*syscall.Credential, error) { return credential() }

// binDir finds initdb and postgres.
func binDir() (string, error) {
	if dir := os.Getenv("SPARKPLANE_POSTGRES_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err != nil {
			return "", fmt.Errorf("SPARKPLANE_POSTGRES_BIN=%s holds no postgres binary: %w", dir, err)
		}
		return dir, nil
	}
	if _, err := os.Stat(filepath.Join(DefaultBinDir, "postgres")); err == nil {
		return DefaultBinDir, nil
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("PostgreSQL is not installed: no %s/postgres and no postgres on PATH; "+
		"run hack/postgres.sh (installs Debian's postgresql-15), or set SPARKPLANE_POSTGRES_BIN to the directory "+
		"holding initdb and postgres, or test SQLite alone with go test -short", DefaultBinDir)
}

// credential is the account the server runs as: nil (the caller's) unless the caller is root.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	name := os.Getenv("SPARKPLANE_POSTGRES_USER")
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("postgres refuses to run as root, and account %q to run it as is missing (%w); "+
			"Debian's postgresql-15 package (hack/postgres.sh) creates it, or set SPARKPLANE_POSTGRES_USER to an unprivileged account", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("account %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("account %s: gid %q: %w", name, u.Gid, err)
	}
	if uid == 0 {
		return nil, fmt.Errorf("SPARKPLANE_POSTGRES_USER=%s is root; postgres needs an unprivileged account", name)
	}
	// No supplementary groups: the server gets nothing of root's.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// tempRoot is where the server's directory goes. A unix socket path may not exceed 107 bytes,
// so a long TMPDIR (macOS's, or a test's) gives way to /tmp.
func tempRoot() string {
	if d := os.TempDir(); len(d) <= 60 {
		return d
	}
	return "/tmp"
}

// ChildEnv is the environment of initdb and postgres: the C locale, so the server's messages
// and sorting do not depend on the machine, and a HOME the server's account can read.
func ChildEnv(dir string) []string {
	env := []string{"LC_ALL=C", "LANG=C", "HOME=" + dir, "PATH=/usr/bin:/bin"}
	if tz := os.Getenv("TZ"); tz != "" {
		env = append(env, "TZ="+tz)
	}
	return env
}

// Shared is one server for all the tests of a package: started when a test first asks for a
// database, stopped by Stop from the package's TestMain. The zero value is ready to use.
type Shared struct {
	// Options apply to the server when it starts.
	Options Options

	once sync.Once
	srv  *Server
	err  error
}

// Server returns the shared server, starting it on first use. A server that cannot start
// fails tb (every later call fails the same way, without trying again).
func (s *Shared) Server(tb testing.TB) *Server {
	tb.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s.srv, s.err = Start(ctx, s.Options)
	})
	if s.err != nil {
		tb.Fatalf("PostgreSQL tests need a PostgreSQL server: %v", s.err)
	}
	return s.srv
}

// Database creates a new, empty database for tb on the shared server and returns its DSN. The
// database is dropped when tb ends, after the cleanups tb registers later (a store opened on
// it is closed first).
func (s *Shared) Database(tb testing.TB) string {
	tb.Helper()
	srv := s.Server(tb)
	name, err := srv.CreateDatabase(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.DropDatabase(context.Background(), name); err != nil {
			tb.Error(err)
		}
	})
	return srv.DSN(name)
}

// Stop stops the server if it was started.
func (s *Shared) Stop() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Stop()
}

// New starts a server of its own for tb and stops it when tb ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	srv, err := Start(tb.Context(), opts)
	if err != nil {
		tb.Fatalf("PostgreSQL tests need a PostgreSQL server: %v", err)
	}
	tb.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return srv
}
