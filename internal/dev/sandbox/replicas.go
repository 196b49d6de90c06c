package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/pgtest"
)

// The stores a sandbox can run on.
const (
	// StoreSQLite is one sparkplane server on SQLite, the default.
	StoreSQLite = "sqlite"
	// StorePostgres is a PostgreSQL server and several sparkplane replicas on it, behind the
	// sandbox's proxy, one of them leading by a Lease on the kwok cluster.
	StorePostgres = "postgres"
)

// The parts a sandbox on PostgreSQL adds; its servers are ReplicaPart(1), ReplicaPart(2), ...
const (
	PartPostgres = "postgres"
	PartProxy    = "proxy"
)

// The names of the replicas' database, of the key they share, and of their Lease.
const (
	pgDatabase     = "sparkplane"
	secretsKeyFile = "secrets.key"
	leaseNamespace = "default"
)

// ReplicaPart is the part name of the i-th server (from 1) of a sandbox on PostgreSQL.
func ReplicaPart(i int) string { return "server-" + strconv.Itoa(i) }

// parts lists the processes of the sandbox st describes, in start order.
func (st *State) parts() []string {
	if st.Store != StorePostgres {
		return Parts
	}
	out := []string{PartKarpenter, PartS3, PartEmulator, PartPostgres}
	for i := range st.ReplicaPorts {
		out = append(out, ReplicaPart(i+1))
	}
	return append(out, PartProxy)
}

func (st *State) postgresDSN() string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s?sslmode=disable", pgtest.Superuser, url.QueryEscape(st.PostgresPassword), st.PostgresPort, pgDatabase)
}

// chooseStore settles the store and the number of servers of this Up: those asked for, else
// those the sandbox ran with, else SQLite and one server. A sandbox whose servers run is not
// switched to another store or count: it must go down first.
func (s *Sandbox) chooseStore(st *State) error {
	store, replicas := s.Store, s.Replicas
	if store == "" && replicas == 0 {
		store, replicas = st.Store, st.Replicas
	}
	if store == "" {
		store = StoreSQLite
		if replicas > 1 {
			store = StorePostgres
		}
	}
	switch store {
	case StoreSQLite:
		if replicas > 1 {
			return fmt.Errorf("--replicas %d: SQLite supports one server; use --store postgres for several", replicas)
		}
		replicas = 1
	case StorePostgres:
		if replicas == 0 {
			replicas = 2
		}
		if replicas < 1 || replicas > 9 {
			return fmt.Errorf("--replicas must be between 1 and 9, got %d", replicas)
		}
	default:
		return fmt.Errorf("--store must be %s or %s, got %q", StoreSQLite, StorePostgres, store)
	}
	was, wasReplicas := st.Store, st.Replicas
	if was == "" {
		was, wasReplicas = StoreSQLite, 1
	}
	if was != store || wasReplicas != replicas {
		for _, part := range st.parts() {
			if part != PartKarpenter && part != PartS3 && part != PartEmulator && Alive(ReadPid(s.Dir, part)) {
				return fmt.Errorf("the sandbox runs with --store %s --replicas %d; stop it first (sparkplane-sandbox down)", was, wasReplicas)
			}
		}
	}
	st.Store, st.Replicas = store, replicas
	if store != StorePostgres {
		return nil
	}
	used := []int{st.APIPort, st.S3Port, st.KarpenterMetrics, st.KarpenterHealth, st.PostgresPort}
	used = append(used, st.ReplicaPorts...)
	port := func() (int, error) {
		for {
			p, err := FreePort()
			if err != nil || !slices.Contains(used, p) {
				used = append(used, p)
				return p, err
			}
		}
	}
	var err error
	if st.PostgresPort == 0 {
		if st.PostgresPort, err = port(); err != nil {
			return err
		}
	}
	for len(st.ReplicaPorts) < replicas {
		p, err := port()
		if err != nil {
			return err
		}
		st.ReplicaPorts = append(st.ReplicaPorts, p)
	}
	st.ReplicaPorts = st.ReplicaPorts[:replicas]
	if st.PostgresPassword == "" {
		st.PostgresPassword = randomString(24, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
	}
	return nil
}

// replicaParts adds the processes of a sandbox on PostgreSQL and their health checks:
// PostgreSQL from Debian's package (installed by hack/postgres.sh when missing) running as an
// unprivileged account on loopback, the replicas, and the proxy on the sandbox's API port.
func (s *Sandbox) replicaParts(st *State, specs map[string]ProcessSpec, healthy map[string]func(context.Context, func() bool) error) error {
	bin, err := postgresBin(s.Out)
	if err != nil {
		return err
	}
	cred, err := pgtest.Credential()
	if err != nil {
		return err
	}
	dir, err := s.postgresDir(st, cred)
	if err != nil {
		return err
	}
	specs[PartPostgres] = ProcessSpec{Name: PartPostgres, Dir: s.Dir, Path: filepath.Join(bin, "postgres"),
		Args: []string{"-D", filepath.Join(dir, "data"), "-p", strconv.Itoa(st.PostgresPort),
			"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"},
		Env: pgtest.ChildEnv(dir), Credential: cred, WorkDir: dir}
	healthy[PartPostgres] = func(ctx context.Context, alive func() bool) error { return s.ensureDatabase(ctx, st, alive) }
	backends := []string{}
	for i, port := range st.ReplicaPorts {
		part := ReplicaPart(i + 1)
		specs[part] = ProcessSpec{Name: part, Dir: s.Dir, Path: s.Server, Args: []string{"server", "--config", s.path(part + ".yaml")}}
		healthy[part] = func(ctx context.Context, alive func() bool) error {
			return WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", port), alive)
		}
		backends = append(backends, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	args := []string{"proxy", "--listen", fmt.Sprintf("127.0.0.1:%d", st.APIPort)}
	for _, b := range backends {
		args = append(args, "--backend", b)
	}
	specs[PartProxy] = ProcessSpec{Name: PartProxy, Dir: s.Dir, Path: s.Self, Args: args}
	healthy[PartProxy] = func(ctx context.Context, alive func() bool) error {
		return WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", st.APIPort), alive)
	}
	// Replicas on one database share the key that seals users' secrets; the first start
	// creates it.
	if _, err := access.LoadOrCreateKeyFile(s.path(secretsKeyFile), true); err != nil {
		return fmt.Errorf("sandbox secrets key: %w", err)
	}
	return nil
}

// postgresDir is where PostgreSQL's data directory lives: <Dir>/postgres when PostgreSQL runs
// as the caller; when the caller is root it runs as an unprivileged account, which may not be
// able to reach a directory under root's home, so the directory is a temporary one under
// /tmp (as pgtest's), named in the state and linked from <Dir>/postgres.
func (s *Sandbox) postgresDir(st *State, cred *syscall.Credential) (string, error) {
	if st.PostgresDir != "" {
		return st.PostgresDir, nil
	}
	if cred == nil {
		st.PostgresDir = s.path(PartPostgres)
	} else {
		dir, err := os.MkdirTemp("/tmp", "sparkplane-sandbox-pg-")
		if err != nil {
			return "", fmt.Errorf("postgres: %w", err)
		}
		st.PostgresDir = dir
		_ = os.Remove(s.path(PartPostgres))
		if err := os.Symlink(dir, s.path(PartPostgres)); err != nil {
			return "", fmt.Errorf("postgres: %w", err)
		}
	}
	return st.PostgresDir, s.saveState(st)
}

// postgresBin finds PostgreSQL's binaries, running hack/postgres.sh (Debian's postgresql-15)
// first when they are missing and the script is at hand.
func postgresBin(out interface{ Write([]byte) (int, error) }) (string, error) {
	bin, err := pgtest.BinDir()
	if err == nil {
		return bin, nil
	}
	if _, serr := os.Stat("hack/postgres.sh"); serr != nil {
		return "", err
	}
	cmd := exec.Command("bash", "hack/postgres.sh")
	cmd.Stdout, cmd.Stderr = out, out
	if out == nil {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if rerr := cmd.Run(); rerr != nil {
		return "", fmt.Errorf("%w; hack/postgres.sh failed: %v", err, rerr)
	}
	return pgtest.BinDir()
}

// initPostgres creates PostgreSQL's data directory under the sandbox's, owned by the account
// the server runs as, with a password for the sandbox's superuser over TCP, unless it exists.
func (s *Sandbox) initPostgres(ctx context.Context, st *State) error {
	dir := st.PostgresDir
	if _, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err == nil {
		return nil
	}
	bin, err := pgtest.BinDir()
	if err != nil {
		return err
	}
	cred, err := pgtest.Credential()
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(st.PostgresPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer func() { _ = os.Remove(pwfile) }() // read by initdb only
	if cred != nil {
		for _, p := range []string{dir, pwfile} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return fmt.Errorf("postgres: hand %s to uid %d: %w", p, cred.Uid, err)
			}
		}
	}
	s.printf("%-10s initialising %s\n", PartPostgres, filepath.Join(dir, "data"))
	if err := pgtest.InitDB(ctx, bin, cred, dir, "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pwfile); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// ensureDatabase waits for PostgreSQL to accept the sandbox's superuser and creates the
// replicas' database unless it exists.
func (s *Sandbox) ensureDatabase(ctx context.Context, st *State, alive func() bool) error {
	admin := strings.Replace(st.postgresDSN(), "/"+pgDatabase+"?", "/postgres?", 1)
	var last error
	for {
		conn, err := pgx.Connect(ctx, admin)
		if err == nil {
			var exists bool
			err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, pgDatabase).Scan(&exists)
			if err == nil && !exists {
				_, err = conn.Exec(ctx, "CREATE DATABASE "+pgDatabase)
			}
			err = errors.Join(err, conn.Close(context.WithoutCancel(ctx)))
			if err == nil {
				return nil
			}
		}
		last = err
		if alive != nil && !alive() {
			return fmt.Errorf("exited: %w", last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL on port %d did not answer: %w", st.PostgresPort, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// replicaStatus checks a part of a sandbox on PostgreSQL and describes it; a replica says
// whether it leads (from its sparkplane_leader metric), the proxy which replica holds the
// Lease (from the Lease on the cluster).
func (s *Sandbox) replicaStatus(ctx context.Context, st *State, c *Cluster, part string) (string, error) {
	switch part {
	case PartPostgres:
		return fmt.Sprintf("127.0.0.1:%d database %s", st.PostgresPort, pgDatabase), s.ensureDatabase(ctx, st, func() bool { return false })
	case PartProxy:
		err := WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", st.APIPort), func() bool { return false })
		detail := fmt.Sprintf("http://127.0.0.1:%d round-robin over %d replicas, virtual cluster %s; %s", st.APIPort, len(st.ReplicaPorts),
			st.VirtualClusterID, s.leaseHolder(ctx, st, c))
		return detail, err
	}
	i, err := strconv.Atoi(strings.TrimPrefix(part, "server-"))
	if err != nil || i < 1 || i > len(st.ReplicaPorts) {
		return "", fmt.Errorf("unknown part %s", part)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", st.ReplicaPorts[i-1])
	if err := WaitHTTP(ctx, base+"/healthz", func() bool { return false }); err != nil {
		return base, err
	}
	leads, err := leaderMetric(ctx, base+"/metrics")
	switch {
	case err != nil:
		return base + ", leadership unknown: " + err.Error(), nil
	case leads:
		return base + ", leads: runs the controller and the cost recorders", nil
	default:
		return base + ", standby: serves the API", nil
	}
}

// leaseHolder says which replica holds the sandbox's Lease.
func (s *Sandbox) leaseHolder(ctx context.Context, st *State, c *Cluster) string {
	name := leaseNamespace + "/" + config.DefaultLeaseName
	rc, err := c.RESTConfig()
	if err != nil {
		return "Lease " + name + " unknown: " + err.Error()
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return "Lease " + name + " unknown: " + err.Error()
	}
	lease, err := client.CoordinationV1().Leases(leaseNamespace).Get(ctx, config.DefaultLeaseName, metav1.GetOptions{})
	if err != nil {
		return "Lease " + name + " unknown: " + err.Error()
	}
	holder := ""
	if lease.Spec.HolderIdentity != nil {
		holder = *lease.Spec.HolderIdentity
	}
	if holder == "" {
		return "Lease " + name + " held by nobody"
	}
	for i := range st.ReplicaPorts {
		part := ReplicaPart(i + 1)
		if pid := ReadPid(s.Dir, part); pid > 0 && strings.Contains(holder, "_"+strconv.Itoa(pid)+"_") {
			return fmt.Sprintf("Lease %s held by %s (pid %d)", name, part, pid)
		}
	}
	return fmt.Sprintf("Lease %s held by %s, no replica of this sandbox", name, holder)
}

// leaderMetric reads sparkplane_leader from a replica's /metrics.
func leaderMetric(ctx context.Context, metricsURL string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("GET %s: HTTP %d", metricsURL, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "sparkplane_leader "); ok {
			return strings.TrimSpace(v) == "1", nil
		}
	}
	return false, fmt.Errorf("no sparkplane_leader in %s", metricsURL)
}
