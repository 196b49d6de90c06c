package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/server"
)

func init() {
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the emr-containers-compatible API server",
		Long: "Run the emr-containers-compatible API server. With no flags it listens on 127.0.0.1:8790,\n" +
			"keeps SQLite in ${XDG_DATA_HOME:-~/.local/share}/sparkplane and generates an access key on first start.\n" +
			"Configuration precedence: defaults < --config YAML file < SPARKPLANE_* environment < flags.",
		Args: cobra.NoArgs,
	}
	flags := config.RegisterFlags(cmd.Flags())
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config.Load(flags, os.Getenv)
		if err != nil {
			return err
		}
		var level slog.Level
		if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return fmt.Errorf("config logLevel: %w", err)
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serve(ctx, cfg, log)
	}
	root.AddCommand(cmd)
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	app, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := app.Close(); err != nil {
			log.Error("close the store", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	out := os.Stdout
	if g := app.Generated; g != nil {
		// Printed once, on the start that created it; never logged.
		fmt.Fprintf(out, "Generated an access key (saved with 0600 permissions in %s):\n  aws_access_key_id     = %s\n  aws_secret_access_key = %s\n",
			cfg.CredentialsFile, g.AccessKeyID, g.SecretAccessKey)
	}
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(out, "sparkplane server listening on %s://%s\n", scheme, ln.Addr())
	log.Info("server started", "listen", ln.Addr().String(), "dataDir", cfg.DataDir, "region", cfg.Region)
	return app.Run(ctx, ln)
}
