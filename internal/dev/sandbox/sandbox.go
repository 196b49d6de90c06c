package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/deploy"
	"github.com/sparkplane/sparkplane/internal/config"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Fixed names of the sandbox.
const (
	ClusterName        = "sparkplane"
	Bucket             = "sparkplane-sandbox"
	Namespace          = "spark"
	VirtualClusterName = "sandbox"
	ContainerProvider  = "sandbox"
	Region             = "us-west-2"
	AccountID          = "000000000000"
	ExecutionRoleARN   = "arn:aws:iam::000000000000:role/sparkplane-sandbox-job"
)

// The parts `up` starts as processes, in start order.
const (
	PartKarpenter = "karpenter"
	PartS3        = "versitygw"
	PartEmulator  = "emulator"
	PartServer    = "server"
)

// Parts lists the processes of a sandbox in start order.
var Parts = []string{PartKarpenter, PartS3, PartEmulator, PartServer}

// State is what `up` chose once and every later command reuses: ports and keys.
type State struct {
	APIPort          int `json:"apiPort"`
	S3Port           int `json:"s3Port"`
	KarpenterMetrics int `json:"karpenterMetricsPort"`
	KarpenterHealth  int `json:"karpenterHealthPort"`
	// AccessKeyID and SecretAccessKey sign requests to both the API and S3, so that one
	// set of AWS_* variables serves `aws emr-containers` and `aws s3`.
	AccessKeyID      string `json:"accessKeyId"`
	SecretAccessKey  string `json:"secretAccessKey"`
	VirtualClusterID string `json:"virtualClusterId,omitempty"`
	// Store is StoreSQLite (one server on APIPort, the default) or StorePostgres (a
	// PostgreSQL server on PostgresPort, and Replicas servers on ReplicaPorts behind the
	// proxy on APIPort).
	Store            string `json:"store,omitempty"`
	Replicas         int    `json:"replicas,omitempty"`
	ReplicaPorts     []int  `json:"replicaPorts,omitempty"`
	PostgresPort     int    `json:"postgresPort,omitempty"`
	PostgresPassword string `json:"postgresPassword,omitempty"`
	// PostgresDir holds PostgreSQL's data directory (data/), once chosen.
	PostgresDir string `json:"postgresDir,omitempty"`
}

// Sandbox is a sandbox whose state lives in Dir.
type Sandbox struct {
	Dir string
	// Self is the sparkplane-sandbox binary, which runs the driver emulator.
	Self string
	// Server is the sparkplane binary the sandbox runs as its server.
	Server string
	Out    io.Writer
	// Store and Replicas choose, for Up, the store and the number of servers (see State);
	// empty and 0 keep what the sandbox ran with before, else SQLite and one server.
	Store    string
	Replicas int
}

// abs makes Dir absolute, as every path the sandbox writes down must survive a change of
// working directory.
func (s *Sandbox) abs() error {
	d, err := filepath.Abs(s.Dir)
	if err != nil {
		return fmt.Errorf("sandbox directory %s: %w", s.Dir, err)
	}
	s.Dir = d
	return nil
}

func (s *Sandbox) path(parts ...string) string {
	return filepath.Join(append([]string{s.Dir}, parts...)...)
}

func (s *Sandbox) printf(format string, args ...any) {
	if s.Out != nil {
		fmt.Fprintf(s.Out, format, args...)
	}
}

func (s *Sandbox) cluster(tools toolcache.Tools) *Cluster {
	return NewCluster(tools, ClusterName, s.path("kwok"))
}

func (s *Sandbox) loadState() (*State, error) {
	raw, err := os.ReadFile(s.path("state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox state: %w", err)
	}
	st := &State{}
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("sandbox state %s: %w", s.path("state.json"), err)
	}
	return st, nil
}

func (s *Sandbox) saveState(st *State) error {
	raw, _ := json.MarshalIndent(st, "", "  ")
	return os.WriteFile(s.path("state.json"), raw, 0o600)
}

func newState() (*State, error) {
	ports := make([]int, 0, 4)
	for len(ports) < 4 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		dup := false
		for _, q := range ports {
			dup = dup || p == q
		}
		if !dup {
			ports = append(ports, p)
		}
	}
	return &State{
		APIPort: ports[0], S3Port: ports[1], KarpenterMetrics: ports[2], KarpenterHealth: ports[3],
		AccessKeyID:     "SPSBX" + strings.ToUpper(randomString(15, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")),
		SecretAccessKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
	}, nil
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Up starts every part that does not already run, waits for each to be healthy, creates the
// virtual cluster, and writes <Dir>/env. Running it again is harmless.
func (s *Sandbox) Up(ctx context.Context) error {
	start := time.Now()
	if err := s.abs(); err != nil {
		return err
	}
	tools, err := toolcache.Locate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	st, err := s.loadState()
	if err != nil {
		return err
	}
	if st == nil {
		if st, err = newState(); err != nil {
			return err
		}
	}
	if err := s.chooseStore(st); err != nil {
		return err
	}
	if err := s.saveState(st); err != nil {
		return err
	}

	c := s.cluster(tools)
	switch {
	case !c.Exists():
		s.printf("creating kwok cluster %s ...\n", ClusterName)
		if err := c.Create(ctx, nil); err != nil {
			return err
		}
	case c.Healthy(ctx) != nil:
		s.printf("restarting kwok cluster %s ...\n", ClusterName)
		if err := c.Start(ctx, nil); err != nil {
			return err
		}
	default:
		s.printf("kwok cluster %s already runs\n", ClusterName)
	}
	cfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := InstallKarpenter(ctx, cfg, tools); err != nil {
		return err
	}
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}},
		metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", Namespace, err)
	}

	s3 := S3{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", st.S3Port), AccessKeyID: st.AccessKeyID,
		SecretAccessKey: st.SecretAccessKey, Region: Region}
	if err := os.MkdirAll(s.path("s3"), 0o755); err != nil {
		return err
	}
	if err := s.writeServerConfigs(st, c.Kubeconfig); err != nil {
		return err
	}
	specs := map[string]ProcessSpec{
		PartKarpenter: KarpenterSpec(tools, s.Dir, c.Kubeconfig, KarpenterPorts{Metrics: st.KarpenterMetrics, Health: st.KarpenterHealth}),
		PartS3:        S3Spec(tools, s.Dir, s.path("s3"), st.S3Port, Region, st.AccessKeyID, st.SecretAccessKey),
		PartEmulator: {Name: PartEmulator, Dir: s.Dir, Path: s.Self,
			Args: []string{"emulator", "--kubeconfig", c.Kubeconfig, "--ready-file", s.path("emulator.ready"),
				"--log-dir", s.path("pod-logs"), "--log-shipper", s.Server},
			// The drivers' event logs go to the sandbox's S3 server, with its key, as a driver's
			// would with the job's role; the pods' Spark logs to files kwok serves.
			Env: []string{"SPARKPLANE_EMULATOR_S3_ENDPOINT=" + fmt.Sprintf("http://127.0.0.1:%d", st.S3Port),
				"AWS_ACCESS_KEY_ID=" + st.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + st.SecretAccessKey, "AWS_REGION=" + Region}},
		PartServer: {Name: PartServer, Dir: s.Dir, Path: s.Server, Args: []string{"server", "--config", s.path("server.yaml")}},
	}
	healthy := map[string]func(context.Context, func() bool) error{
		PartKarpenter: func(ctx context.Context, alive func() bool) error {
			return WaitHTTP(ctx, KarpenterHealthURL(st.KarpenterHealth), alive)
		},
		PartS3: func(ctx context.Context, alive func() bool) error {
			if err := s3.WaitReady(ctx, alive); err != nil {
				return err
			}
			return s3.EnsureBucket(ctx, Bucket)
		},
		PartEmulator: func(ctx context.Context, alive func() bool) error {
			return waitFile(ctx, s.path("emulator.ready"), alive)
		},
		PartServer: func(ctx context.Context, alive func() bool) error {
			return WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", st.APIPort), alive)
		},
	}
	if st.Store == StorePostgres {
		if err := s.replicaParts(st, specs, healthy); err != nil {
			return err
		}
	}
	// A Karpenter that runs but does not answer, or answers but no longer provisions, is
	// restarted: stopping it here makes the loop below start it again.
	if pid := ReadPid(s.Dir, PartKarpenter); Alive(pid) {
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := WaitHTTP(hctx, KarpenterHealthURL(st.KarpenterHealth), nil)
		cancel()
		if err == nil {
			if _, err = ProvisionProbe(ctx, cfg); errors.Is(err, ErrProbeInconclusive) {
				err = nil
			}
		}
		if err != nil {
			s.printf("karpenter  runs (pid %d) but does not do its job (%v); restarting it\n", pid, err)
			if err := StopPid(pid, 10*time.Second); err != nil {
				return fmt.Errorf("stop karpenter: %w", err)
			}
		}
	}
	for _, part := range st.parts() {
		alive := func() bool { return Alive(ReadPid(s.Dir, part)) }
		if alive() {
			s.printf("%-10s already runs (pid %d)\n", part, ReadPid(s.Dir, part))
		} else {
			if part == PartEmulator {
				_ = os.Remove(s.path("emulator.ready"))
			}
			if part == PartPostgres {
				if err := s.initPostgres(ctx, st); err != nil {
					return err
				}
			}
			p, err := StartProcess(specs[part])
			if err != nil {
				return err
			}
			alive = func() bool { return !p.Exited() }
			s.printf("%-10s started (pid %d, log %s)\n", part, p.Pid, p.LogPath)
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := healthy[part](wctx, alive)
		cancel()
		if err != nil {
			return fmt.Errorf("%s is not healthy (log %s): %w", part, s.path(part+".log"), err)
		}
	}

	if err := s.ensureVirtualCluster(ctx, st); err != nil {
		return err
	}
	if err := s.saveState(st); err != nil {
		return err
	}
	if err := s.writeEnv(st, c.Kubeconfig); err != nil {
		return err
	}
	s.printf("\nsandbox up in %s. Use it with:\n\n  source %s\n"+
		"  aws emr-containers list-virtual-clusters --endpoint-url $SPARKPLANE_ENDPOINT\n"+
		"  aws emr-containers start-job-run --endpoint-url $SPARKPLANE_ENDPOINT --virtual-cluster-id $VIRTUAL_CLUSTER_ID \\\n"+
		"      --name pi --execution-role-arn $EMR_ROLE_ARN --release-label emr-6.15.0-latest \\\n"+
		"      --job-driver '{\"sparkSubmitJobDriver\":{\"entryPoint\":\"local:///usr/lib/spark/examples/src/main/python/pi.py\"}}'\n"+
		"  aws s3 ls s3://$S3BUCKET --endpoint-url $SPARKPLANE_S3_ENDPOINT\n"+
		"  kubectl get nodes,pods -A\n\n"+
		"Kubelets and the work inside Spark containers are simulated; the control plane, Karpenter,\n"+
		"S3 and sparkplane are real. Stop everything with: bin/sparkplane-sandbox down (or make sandbox-down)\n",
		time.Since(start).Round(100*time.Millisecond), s.path("env"))
	return nil
}

func waitFile(ctx context.Context, path string, alive func() bool) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if !alive() {
			return fmt.Errorf("exited before %s appeared", path)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not appear: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeServerConfigs writes the configuration of the server, or of each replica.
func (s *Sandbox) writeServerConfigs(st *State, kubeconfig string) error {
	if st.Store != StorePostgres {
		return s.writeServerConfig(st, kubeconfig, PartServer, nil)
	}
	for i, port := range st.ReplicaPorts {
		part := ReplicaPart(i + 1)
		err := s.writeServerConfig(st, kubeconfig, part, func(c *config.Config) {
			c.Listen = fmt.Sprintf("127.0.0.1:%d", port)
			c.DataDir = s.path("data", part)
			c.Database = st.postgresDSN()
			// Replicas on one database share the key that seals users' secrets.
			c.SecretsKeyFile = s.path(secretsKeyFile)
			// On by default with PostgreSQL; the Lease's place is spelled out for status.
			c.LeaderElection = config.LeaderElection{Namespace: leaseNamespace, Name: config.DefaultLeaseName}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// writeServerConfig writes <part>.yaml, the configuration of a server: the sandbox's access
// key, its execution role for every virtual cluster, the kwok cluster as container provider
// (namespaces created on demand), and the sandbox's S3 server for s3:// pod templates; then
// adjust changes what differs between replicas.
func (s *Sandbox) writeServerConfig(st *State, kubeconfig, part string, adjust func(*config.Config)) error {
	settings, err := jobs.ParseVirtualClusterSettings(deploy.SandboxSettings)
	if err != nil {
		return fmt.Errorf("sandbox virtual cluster settings: %w", err)
	}
	cfg := config.Config{
		DefaultSettings: &settings,
		EventLogURI:     "s3://" + Bucket + "/spark-event-logs",
		// The pods' log-shipping sidecars write to the sandbox's S3 server.
		LogShipping:        config.LogShipping{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", st.S3Port), ForcePathStyle: true},
		Listen:             fmt.Sprintf("127.0.0.1:%d", st.APIPort),
		DataDir:            s.path("data"),
		Region:             Region,
		AccountID:          AccountID,
		Credentials:        []config.Credential{{AccessKeyID: st.AccessKeyID, SecretAccessKey: st.SecretAccessKey}},
		ExecutionRoles:     []config.ExecutionRole{{Arn: ExecutionRoleARN, VirtualClusters: []string{"*"}}},
		ContainerProviders: []config.ContainerProvider{{ID: ContainerProvider, Kubeconfig: kubeconfig, CreateNamespaces: true}},
		S3: config.S3{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", st.S3Port), Region: Region,
			AccessKeyID: st.AccessKeyID, SecretAccessKey: st.SecretAccessKey, ForcePathStyle: true},
	}
	if adjust != nil {
		adjust(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("sandbox server configuration: %w", err)
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	header := "# Written by `sparkplane-sandbox up`; holds the sandbox's access key, keep it private.\n"
	return os.WriteFile(s.path(part+".yaml"), append([]byte(header), raw...), 0o600)
}

func (s *Sandbox) emr(st *State) *emrcontainers.Client {
	return emrcontainers.New(emrcontainers.Options{
		Region:       Region,
		BaseEndpoint: aws.String(fmt.Sprintf("http://127.0.0.1:%d", st.APIPort)),
		Credentials:  credentials.NewStaticCredentialsProvider(st.AccessKeyID, st.SecretAccessKey, ""),
	})
}

// ensureVirtualCluster creates the sandbox's virtual cluster on namespace spark unless the one
// recorded in the state is still running.
func (s *Sandbox) ensureVirtualCluster(ctx context.Context, st *State) error {
	client := s.emr(st)
	if st.VirtualClusterID != "" {
		out, err := client.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(st.VirtualClusterID)})
		if err == nil && out.VirtualCluster != nil && out.VirtualCluster.State == emrtypes.VirtualClusterStateRunning {
			return nil
		}
	}
	out, err := client.CreateVirtualCluster(ctx, &emrcontainers.CreateVirtualClusterInput{
		Name:        aws.String(VirtualClusterName),
		ClientToken: aws.String("sparkplane-sandbox-" + st.AccessKeyID),
		ContainerProvider: &emrtypes.ContainerProvider{
			Id:   aws.String(ContainerProvider),
			Type: emrtypes.ContainerProviderTypeEks,
			Info: &emrtypes.ContainerInfoMemberEksInfo{Value: emrtypes.EksInfo{Namespace: aws.String(Namespace)}},
		},
	})
	if err != nil {
		return fmt.Errorf("create virtual cluster %s on namespace %s: %w", VirtualClusterName, Namespace, err)
	}
	st.VirtualClusterID = aws.ToString(out.Id)
	s.printf("virtual cluster %s (%s) on namespace %s\n", VirtualClusterName, st.VirtualClusterID, Namespace)
	return nil
}

func (s *Sandbox) writeEnv(st *State, kubeconfig string) error {
	lines := []string{
		"# Written by `sparkplane-sandbox up`. Use with: source " + s.path("env"),
		"export KUBECONFIG=" + kubeconfig,
		"export AWS_ACCESS_KEY_ID=" + st.AccessKeyID,
		"export AWS_SECRET_ACCESS_KEY=" + st.SecretAccessKey,
		"export AWS_DEFAULT_REGION=" + Region,
		fmt.Sprintf("export SPARKPLANE_ENDPOINT=http://127.0.0.1:%d", st.APIPort),
		fmt.Sprintf("export SPARKPLANE_S3_ENDPOINT=http://127.0.0.1:%d", st.S3Port),
		"export S3BUCKET=" + Bucket,
		"export EMR_ROLE_ARN=" + ExecutionRoleARN,
		"export VIRTUAL_CLUSTER_ID=" + st.VirtualClusterID,
	}
	return os.WriteFile(s.path("env"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// Down deletes Karpenter's NodeClaims while Karpenter still runs, stops every process `up`
// started (by the pids in its pid files, whole process groups), and deletes the kwok cluster.
// The state directory keeps its logs; the cluster's data is gone.
func (s *Sandbox) Down(ctx context.Context) error {
	if err := s.abs(); err != nil {
		return err
	}
	tools, err := toolcache.Locate()
	if err != nil {
		return err
	}
	st, err := s.loadState()
	if err != nil {
		return err
	}
	parts := Parts
	if st != nil {
		parts = st.parts()
	}
	c := s.cluster(tools)
	if c.Exists() && c.Healthy(ctx) == nil && Alive(ReadPid(s.Dir, PartKarpenter)) {
		if cfg, err := c.RESTConfig(); err == nil {
			if dyn, err := dynamic.NewForConfig(cfg); err == nil {
				deleteNodeClaims(ctx, dyn)
			}
		}
	}
	var errs []error
	for i := len(parts) - 1; i >= 0; i-- {
		part := parts[i]
		pid := ReadPid(s.Dir, part)
		if pid == 0 {
			continue
		}
		if Alive(pid) {
			if err := StopPid(pid, 10*time.Second); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", part, err))
				continue
			}
			s.printf("%-10s stopped (pid %d)\n", part, pid)
		}
		_ = os.Remove(PidFile(s.Dir, part))
	}
	if c.Exists() {
		if err := c.Delete(ctx, nil); err != nil {
			errs = append(errs, err)
		} else {
			s.printf("kwok cluster %s deleted\n", ClusterName)
		}
	}
	if st != nil {
		// The virtual cluster lived in the server's database, which goes with the cluster.
		st.VirtualClusterID = ""
		if st.PostgresDir != "" {
			_ = os.RemoveAll(st.PostgresDir)
			st.PostgresDir = ""
		}
		// The next up runs what it is asked for, by default SQLite and one server.
		st.Store, st.Replicas = "", 0
		_ = s.saveState(st)
	}
	_ = os.RemoveAll(s.path("data"))
	_ = os.RemoveAll(s.path(PartPostgres))
	_ = os.Remove(s.path("env"))
	return errors.Join(errs...)
}

var nodeClaimsGVR = schema.GroupVersionResource{Group: "karpenter.sh", Version: "v1", Resource: "nodeclaims"}

func deleteNodeClaims(ctx context.Context, dyn dynamic.Interface) {
	_ = dyn.Resource(nodeClaimsGVR).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		l, err := dyn.Resource(nodeClaimsGVR).List(ctx, metav1.ListOptions{})
		if err != nil || len(l.Items) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// PartStatus is one line of `sandbox status`.
type PartStatus struct {
	Name    string
	Pid     int
	Running bool
	Healthy bool
	Detail  string
}

// Status reports each part: whether its process runs and whether it answers.
func (s *Sandbox) Status(ctx context.Context) ([]PartStatus, error) {
	if err := s.abs(); err != nil {
		return nil, err
	}
	tools, err := toolcache.Locate()
	if err != nil {
		return nil, err
	}
	st, err := s.loadState()
	if err != nil {
		return nil, err
	}
	c := s.cluster(tools)
	out := []PartStatus{}
	cs := PartStatus{Name: "cluster", Detail: "not created"}
	if c.Exists() {
		pids := c.Pids()
		cs.Pid = pids["kube-apiserver"]
		cs.Running = Alive(cs.Pid)
		if err := c.Healthy(ctx); err == nil {
			cs.Healthy, cs.Detail = true, "kubeconfig "+c.Kubeconfig
		} else {
			cs.Detail = err.Error()
		}
	}
	out = append(out, cs)
	probeCtx := ctx
	parts := Parts
	if st != nil {
		parts = st.parts()
	}
	for _, part := range parts {
		// Each part gets 5 s to answer, whatever the ones before it took.
		ctx, cancel := context.WithTimeout(probeCtx, 5*time.Second)
		defer cancel()
		ps := PartStatus{Name: part, Pid: ReadPid(s.Dir, part)}
		ps.Running = Alive(ps.Pid)
		if ps.Running && st != nil {
			var err error
			switch part {
			case PartKarpenter:
				err = WaitHTTP(ctx, KarpenterHealthURL(st.KarpenterHealth), func() bool { return false })
				ps.Detail = fmt.Sprintf("metrics http://127.0.0.1:%d/metrics", st.KarpenterMetrics)
				if err == nil && cs.Healthy {
					// Answering /healthz is not enough: it must still provision.
					var took time.Duration
					switch took, err = s.probe(probeCtx, c); {
					case err == nil:
						ps.Detail += fmt.Sprintf("; it provisioned for a probe pod in %s", took.Round(100*time.Millisecond))
					case errors.Is(err, ErrProbeInconclusive):
						ps.Detail += "; provisioning not probed: " + err.Error()
						err = nil
					default:
						ps.Detail = "answers /healthz but does not provision: " + err.Error() + "; `sparkplane-sandbox up` restarts it"
					}
				}
			case PartS3:
				ps.Detail = fmt.Sprintf("http://127.0.0.1:%d bucket %s", st.S3Port, Bucket)
				err = portCheck(st.S3Port)
			case PartServer:
				err = WaitHTTP(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", st.APIPort), func() bool { return false })
				ps.Detail = fmt.Sprintf("http://127.0.0.1:%d virtual cluster %s", st.APIPort, st.VirtualClusterID)
			case PartEmulator:
				_, err = os.Stat(s.path("emulator.ready"))
			default:
				ps.Detail, err = s.replicaStatus(ctx, st, c, part)
			}
			ps.Healthy = err == nil
		}
		if !ps.Running {
			ps.Detail = "not running"
		}
		out = append(out, ps)
	}
	return out, nil
}

// probe runs ProvisionProbe on the sandbox's cluster.
func (s *Sandbox) probe(ctx context.Context, c *Cluster) (time.Duration, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return 0, err
	}
	return ProvisionProbe(ctx, cfg)
}

func portCheck(port int) error {
	if !portOpen(fmt.Sprintf("127.0.0.1:%d", port)) {
		return fmt.Errorf("nothing listens on port %d", port)
	}
	return nil
}
