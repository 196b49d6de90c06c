// Command sparkplane-image builds sparkplane's OCI image without a container engine and
// pushes it: `build` writes an OCI image layout (one image per platform in an image index),
// `push` uploads that layout to a registry. `make image` runs `build`. It is development
// tooling (internal/dev/image); nothing here ships in the product binary, cmd/sparkplane.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/dev/image"
)

func main() {
	root := &cobra.Command{
		Use:          "sparkplane-image",
		Short:        "Build and push sparkplane's OCI image without a container engine",
		SilenceUsage: true,
	}
	root.AddCommand(buildCommand(), pushCommand())
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}

func buildCommand() *cobra.Command {
	var out, platforms, version, source, caCerts string
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the image for each platform into an OCI image layout",
		Long: "Build sparkplane (CGO_ENABLED=0, -trimpath, the version stamped) for each platform, put it on an\n" +
			"empty base with CA certificates, a nonroot user 65532 and /tmp, and write the image index as an OCI\n" +
			"image layout. Version, revision and time come from git (SOURCE_DATE_EPOCH overrides the time), so\n" +
			"two builds of one commit give the same digest.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			stamp, err := image.GitStamp(ctx, ".")
			if err != nil {
				return err
			}
			if version != "" {
				stamp.Version = version
			}
			idx, err := image.Build(ctx, image.Options{
				ModuleDir: ".",
				Platforms: strings.Split(platforms, ","),
				Stamp:     stamp,
				Source:    source,
				CACerts:   caCerts,
				Log:       cmd.ErrOrStderr(),
			})
			if err != nil {
				return err
			}
			digest, err := image.WriteLayout(out, idx, stamp.Version)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sparkplane %s (%s, created %s) for %s\nOCI layout %s, image index %s\n",
				stamp.Version, stamp.Revision, stamp.Created.Format("2006-01-02T15:04:05Z"), platforms, out, digest)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "bin/image", "directory of the OCI image layout to write (replaced)")
	cmd.Flags().StringVar(&platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated platforms: linux/amd64, linux/arm64")
	cmd.Flags().StringVar(&version, "version", "", "version to stamp (default: git describe --tags --always --dirty)")
	cmd.Flags().StringVar(&source, "source", image.DefaultSource, "repository URL for the org.opencontainers.image.source label")
	cmd.Flags().StringVar(&caCerts, "ca-certs", image.DefaultCACerts, "CA bundle to copy into the image")
	return cmd
}

func pushCommand() *cobra.Command {
	var layoutDir string
	cmd := &cobra.Command{
		Use:   "push REFERENCE",
		Short: "Push the image index of an OCI layout to a registry (registry/repository:tag)",
		Long: "Push the image index `build` wrote to a registry, with the credentials of docker login,\n" +
			"crane auth login or a credential helper (the default keychain). Prints the pushed reference by digest.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			idx, err := image.ReadLayout(layoutDir)
			if err != nil {
				return err
			}
			ref, err := image.Push(cmd.Context(), idx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&layoutDir, "layout", "bin/image", "the OCI image layout to push")
	return cmd
}
