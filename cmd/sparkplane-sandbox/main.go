// Command sparkplane-sandbox runs sparkplane on one machine for trying it and for its tests:
// `up`, `down` and `status` manage the local sandbox (a kwok cluster, Karpenter's kwok provider,
// an S3 server, the Spark driver emulator and a `sparkplane server`), and `emulator` is the
// driver emulator itself, which `up` starts. It is development tooling: nothing here ships in
// the product binary, cmd/sparkplane.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sparkplane/sparkplane/internal/dev/emulator"
	"github.com/sparkplane/sparkplane/internal/dev/sandbox"
)

func main() {
	var dir, server string
	cmd := &cobra.Command{
		Use:          "sparkplane-sandbox",
		SilenceUsage: true,
		Short:        "Run sparkplane locally on a real control plane with simulated nodes",
		Long: "The sandbox runs, all on loopback: a kwok cluster (real etcd, kube-apiserver, scheduler and\n" +
			"controller-manager; simulated kubelets), Karpenter with its kwok provider, versitygw as S3,\n" +
			"the Spark driver emulator and the sparkplane server. Its state, pid files and logs live in --dir.",
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", ".sandbox", "directory for the sandbox's state, pid files and logs")
	cmd.PersistentFlags().StringVar(&server, "server-binary", "", "the sparkplane binary the sandbox runs as its server (default: sparkplane beside this binary)")
	sb := func() (*sandbox.Sandbox, error) {
		self, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the sparkplane-sandbox binary: %w", err)
		}
		if server == "" {
			server = filepath.Join(filepath.Dir(self), "sparkplane")
		}
		if _, err := os.Stat(server); err != nil {
			return nil, fmt.Errorf("--server-binary: %w (build it with make build)", err)
		}
		return &sandbox.Sandbox{Dir: dir, Self: self, Server: server, Out: os.Stdout}, nil
	}
	var store string
	var replicas int
	up := &cobra.Command{
		Use:   "up",
		Short: "Start every part of the sandbox that does not run yet, and print how to use it",
		Long: "Start every part of the sandbox that does not run yet, and print how to use it.\n\n" +
			"--store postgres --replicas N runs a PostgreSQL server (Debian's postgresql-15, installed by\n" +
			"hack/postgres.sh when missing) and N sparkplane servers on it behind one endpoint (a round-robin\n" +
			"proxy that skips a replica that refuses connections); one of them leads, by a Lease on the cluster.\n" +
			"Without the flags, up keeps what the sandbox ran with before, else SQLite and one server.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sb()
			if err != nil {
				return err
			}
			s.Store, s.Replicas = store, replicas
			return s.Up(cmd.Context())
		},
	}
	up.Flags().StringVar(&store, "store", "", "sqlite (one server) or postgres (several replicas)")
	up.Flags().IntVar(&replicas, "replicas", 0, "sparkplane servers behind the sandbox's endpoint (postgres only; default 2 with postgres)")
	var listen string
	var backends []string
	proxy := &cobra.Command{
		Use:   "proxy",
		Short: "Serve one endpoint in front of several sparkplane replicas, round-robin (up starts it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := sandbox.NewProxy(backends)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			}()
			fmt.Fprintf(os.Stderr, "proxy on %s over %v\n", ln.Addr(), backends)
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	proxy.Flags().StringVar(&listen, "listen", "127.0.0.1:8790", "address to serve on")
	proxy.Flags().StringArrayVar(&backends, "backend", nil, "a replica's URL, http://host:port (repeat for each)")
	cmd.AddCommand(up, proxy, &cobra.Command{
		Use:   "down",
		Short: "Stop every process `sandbox up` started and delete the cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sb()
			if err != nil {
				return err
			}
			return s.Down(cmd.Context())
		},
	}, &cobra.Command{
		Use:   "status",
		Short: "Say which parts of the sandbox run and answer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := sb()
			if err != nil {
				return err
			}
			parts, err := s.Status(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "PART\tPID\tRUNNING\tHEALTHY\tDETAIL")
			down := false
			for _, p := range parts {
				fmt.Fprintf(w, "%s\t%d\t%t\t%t\t%s\n", p.Name, p.Pid, p.Running, p.Healthy, p.Detail)
				down = down || !p.Healthy
			}
			w.Flush()
			if down {
				return fmt.Errorf("the sandbox is not fully up; run: sparkplane-sandbox up --dir %s", dir)
			}
			return nil
		},
	})

	var kubeconfig, readyFile, namespace, logDir, logShipper string
	emu := &cobra.Command{
		Use:   "emulator",
		Short: "Run the Spark driver emulator against a cluster with simulated kubelets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
			}
			// The emulator stands in for every node's kubelet at once (each with a budget of its
			// own on a real cluster): client-go's default 5 requests/s would queue a big job's end.
			cfg.QPS, cfg.Burst = 200, 400
			client, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			dyn, err := dynamic.NewForConfig(cfg)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("log-dir") {
				logDir = filepath.Join(dir, "pod-logs")
			}
			if logShipper == "" {
				if self, err := os.Executable(); err == nil {
					logShipper = filepath.Join(filepath.Dir(self), "sparkplane")
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			var s3c *s3.Client
			if endpoint := os.Getenv("SPARKPLANE_EMULATOR_S3_ENDPOINT"); endpoint != "" {
				// Credentials and region from the environment, as a driver's SDK takes them.
				s3c = s3.New(s3.Options{Region: os.Getenv("AWS_REGION"), BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
					Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), "")})
			}
			var shipperEnv []string
			if s3c != nil {
				// The S3 key stands in for the jobs' roles (IRSA needs STS, which the sandbox has not).
				shipperEnv = []string{"AWS_ACCESS_KEY_ID=" + os.Getenv("AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY=" + os.Getenv("AWS_SECRET_ACCESS_KEY"),
					"AWS_REGION=" + os.Getenv("AWS_REGION")}
			}
			return emulator.New(client, emulator.Options{Namespace: namespace, Log: log, S3: s3c, Dynamic: dyn, LogDir: logDir,
				LogShipper: logShipper, ShipperEnv: shipperEnv, OnReady: func() {
					if readyFile != "" {
						if err := os.WriteFile(readyFile, []byte("ready\n"), 0o644); err != nil {
							log.Error("write ready file", "err", err)
						}
					}
				}}).Run(ctx)
		},
	}
	emu.Flags().StringVar(&kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster")
	emu.Flags().StringVar(&readyFile, "ready-file", "", "file to create once the emulator watches the cluster")
	emu.Flags().StringVar(&namespace, "namespace", "", "only emulate drivers in this namespace (default all)")
	emu.Flags().StringVar(&logShipper, "log-shipper", "", "the sparkplane binary to run as the pods' log-shipping sidecars (default: sparkplane beside this binary)")
	emu.Flags().StringVar(&logDir, "log-dir", "", "directory for the pods' Spark logs, which kwok serves to `kubectl logs`; empty writes none (default <dir>/pod-logs)")
	cmd.AddCommand(emu)
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
