package sandbox

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
)

// KwokStages are the kwok Stages of every sparkplane cluster: kwokctl's usual node and pod
// lifecycle plus the stages that end a pod the driver emulator annotated with its exit code.
//
//go:embed kwok-stages.yaml
var KwokStages []byte

// Cluster is a kwokctl cluster with the binary runtime: real etcd, kube-apiserver,
// kube-scheduler and kube-controller-manager from the tool cache, and kwok's controller in
// place of kubelets.
type Cluster struct {
	Name string
	// Workdir is KWOK_WORKDIR: kwokctl keeps the cluster's state, binaries, pids and logs there.
	Workdir string
	// Kubeconfig is the path of an admin kubeconfig for the cluster.
	Kubeconfig string
	tools      toolcache.Tools
}

// NewCluster names a cluster kept under workdir; it neither creates nor checks it.
func NewCluster(tools toolcache.Tools, name, workdir string) *Cluster {
	return &Cluster{Name: name, Workdir: workdir, Kubeconfig: filepath.Join(workdir, "kubeconfig"), tools: tools}
}

// Exists reports whether kwokctl has state for the cluster.
func (c *Cluster) Exists() bool {
	_, err := os.Stat(filepath.Join(c.Workdir, "clusters", c.Name, "kwok.yaml"))
	return err == nil
}

// Create brings the cluster up and waits until it serves; out receives kwokctl's output.
func (c *Cluster) Create(ctx context.Context, out io.Writer) error {
	if err := os.MkdirAll(c.Workdir, 0o755); err != nil {
		return fmt.Errorf("create cluster %s: %w", c.Name, err)
	}
	stages := filepath.Join(c.Workdir, "kwok-stages.yaml")
	if err := os.WriteFile(stages, KwokStages, 0o644); err != nil {
		return fmt.Errorf("create cluster %s: write stages: %w", c.Name, err)
	}
	err := c.kwokctl(ctx, out, "create", "cluster",
		"--name", c.Name,
		"--runtime", "binary",
		"--kubeconfig", c.Kubeconfig,
		"--config", stages,
		"--etcd-binary", c.tools.Etcd,
		"--kube-apiserver-binary", c.tools.KubeAPIServer,
		"--kube-scheduler-binary", c.tools.KubeScheduler,
		"--kube-controller-manager-binary", c.tools.KubeControllerManager,
		"--kwok-controller-binary", c.tools.Kwok,
		// Karpenter's kwok provider creates nodes with the karpenter.sh/unregistered NoExecute
		// taint and lifts it within milliseconds. The scheduler can then bind a pod before the
		// taint-eviction controller has seen the taint go, and that controller deletes the
		// pod at once (seen about once in five runs). Real nodes take seconds to register, so
		// on a real cluster the race does not show. kwok keeps every node Ready, so no other
		// NoExecute taint appears here, and the cluster runs without that controller;
		// Karpenter still drains the nodes it removes through the eviction API.
		"--extra-args", "kube-controller-manager=controllers=*,-taint-eviction-controller",
		// kwok's controller serves the kubelet's /containerLogs endpoint from the files that
		// per-pod Logs objects name (package kwoklogs creates them), so that the API server's
		// pods/log works on simulated pods. This installs the Logs CRD and makes the
		// controller watch it; with the binary runtime the nodes' Hostname address
		// (localhost) and kubeletEndpoint port lead the API server to that server.
		"--enable-crds", "Logs",
		// The same server answers the kubelet's /portForward endpoint from per-pod
		// PortForward objects (package kwokforward creates them), so that the API server's
		// pods/portforward reaches a process on this host standing in for a container's port
		// (the driver emulator's stand-in Spark UI).
		"--enable-crds", "PortForward",
		"--wait", "2m",
	)
	if err != nil {
		return fmt.Errorf("create cluster %s: %w", c.Name, err)
	}
	return nil
}

// Start restarts the processes of an existing cluster that stopped (after a reboot).
func (c *Cluster) Start(ctx context.Context, out io.Writer) error {
	if err := c.kwokctl(ctx, out, "start", "cluster", "--name", c.Name, "--wait", "2m"); err != nil {
		return fmt.Errorf("start cluster %s: %w", c.Name, err)
	}
	return nil
}

// Delete stops the cluster's processes and removes its state. kwokctl signals the components
// and returns at once; Delete waits until they have exited, and kills those that linger.
func (c *Cluster) Delete(ctx context.Context, out io.Writer) error {
	pids := c.Pids()
	if err := c.kwokctl(ctx, out, "delete", "cluster", "--name", c.Name, "--kubeconfig", c.Kubeconfig); err != nil {
		return fmt.Errorf("delete cluster %s: %w", c.Name, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for comp, pid := range pids {
		for Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if Alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			for i := 0; i < 100 && Alive(pid); i++ {
				time.Sleep(50 * time.Millisecond)
			}
			if Alive(pid) {
				return fmt.Errorf("delete cluster %s: %s (pid %d) survives SIGKILL", c.Name, comp, pid)
			}
		}
	}
	return nil
}

// Pids returns the pids of the cluster's component processes, by component.
func (c *Cluster) Pids() map[string]int {
	dir := filepath.Join(c.Workdir, "clusters", c.Name, "pids")
	entries, _ := os.ReadDir(dir)
	out := map[string]int{}
	for _, e := range entries {
		name := e.Name()
		if filepath.Ext(name) != ".pid" {
			continue
		}
		comp := name[:len(name)-len(".pid")]
		out[comp] = ReadPid(dir, comp)
	}
	return out
}

func (c *Cluster) kwokctl(ctx context.Context, out io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, c.tools.Kwokctl, args...)
	cmd.Env = append(os.Environ(), "KWOK_WORKDIR="+c.Workdir)
	var buf bytes.Buffer
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout = io.MultiWriter(out, &buf)
	cmd.Stderr = io.MultiWriter(out, &buf)
	if err := cmd.Run(); err != nil {
		tail := buf.Bytes()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("kwokctl %s: %w\n%s", args[0]+" "+args[1], err, tail)
	}
	return nil
}

// RESTConfig reads the cluster's kubeconfig.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", c.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// Healthy asks the API server for /readyz.
func (c *Cluster) Healthy(ctx context.Context) error {
	cfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
		return fmt.Errorf("cluster %s: kube-apiserver not ready: %w", c.Name, err)
	}
	return nil
}
