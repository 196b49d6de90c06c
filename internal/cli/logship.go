package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/logship"
	"github.com/sparkplane/sparkplane/internal/logship/s3bucket"
)

// PathStyleEnv, when "true", makes log-shipper address buckets by path, as --path-style does.
const PathStyleEnv = "SPARKPLANE_S3_PATH_STYLE"

// Defaults of log-wrap when the pod wiring passes no containerLogRotationConfiguration.
const ()

// PodCommands returns the commands that run inside a job's driver and executor pods rather
// than at a person's terminal: log-wrap (the Spark container's command, and the init
// container that installs sparkplane for it) and log-shipper (the native sidecar). They take
// none of the client's global flags.
func PodCommands() []*cobra.Command {
	return []*cobra.Command{logWrapCmd(), logShipperCmd()}
}

// usageError prints err as the pod commands do (they silence cobra's printing, so that a
// wrapped command's exit code passes through without a message) and ends with
// logship.ExitUsage.
func usageError(cmd *cobra.Command, err error) error {
	fmt.Fprintf(cmd.ErrOrStderr(), "sparkplane %s: %v\n", cmd.Name(), err)
	return &CodeError{Code: logship.ExitUsage, Err: err}
}

func logWrapCmd() *cobra.Command {
	var (
		dir, rotation, install, entrypoint string
		maxFiles                           int
	)
	c := &cobra.Command{
		Use:   "log-wrap --dir DIR [flags] -- COMMAND [ARG...]",
		Short: "Run a command with its stdout and stderr also in rotating files for log-shipper (inside job pods)",
		Long: "Run COMMAND (the Spark container's entrypoint and arguments) with its stdout and stderr copied,\n" +
			"in order, both to this process's stdout and stderr (so kubectl logs works as before) and to the\n" +
			"rotating files DIR/stdout and DIR/stderr that the log-shipper sidecar ships to S3. A file is\n" +
			"rotated to DIR/<stream>.<seq> when it reaches --rotation-size; of the rotated files the shipper\n" +
			"has not taken yet, the newest --max-files are kept. Signals (TERM, INT, HUP, QUIT, USR1, USR2) are\n" +
			"passed on; the exit code is COMMAND's, or 128+N when signal N killed it. DIR/exit is written with\n" +
			"it once all output is in the files. Bad flags exit 2 without running COMMAND.\n\n" +
			"With --entrypoint PATH[,PATH...], COMMAND is the first of those paths that exists in the container,\n" +
			"run with the ARGs: the Spark image's entrypoint, wherever the image has it (/opt/entrypoint.sh in\n" +
			"Apache's images, /usr/bin/entrypoint.sh in EMR's), with the arguments Spark gave the container.\n\n" +
			"With --install PATH it copies its own executable to PATH (mode 0755) and exits: the init\n" +
			"container that puts sparkplane on the volume the Spark container runs log-wrap from.",
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if install != "" {
				for _, name := range []string{"dir", "rotation-size", "max-files", "entrypoint"} {
					if cmd.Flags().Changed(name) {
						return usageError(cmd, fmt.Errorf("--install takes no --%s", name))
					}
				}
				if len(args) > 0 {
					return usageError(cmd, errors.New("--install takes no command"))
				}
				if err := logship.Install(install); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "sparkplane log-wrap: %v\n", err)
					return &CodeError{Code: ExitError, Err: err}
				}
				return nil
			}
			if entrypoint != "" {
				path, err := logship.FindEntrypoint(strings.Split(entrypoint, ","))
				if err != nil {
					return usageError(cmd, fmt.Errorf("--entrypoint: %w", err))
				}
				args = append([]string{path}, args...)
			}
			size, err := logship.ParseSize(rotation)
			if err != nil {
				return usageError(cmd, fmt.Errorf("--rotation-size: %w", err))
			}
			w := &logship.Wrapper{Dir: dir, RotationSize: size, MaxFiles: maxFiles,
				Stdin: cmd.InOrStdin(), Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()}
			if err := w.Validate(args); err != nil {
				return usageError(cmd, err)
			}
			if code := w.Run(args); code != 0 {
				return &CodeError{Code: code, Err: fmt.Errorf("%s exited with code %d", args[0], code)}
			}
			return nil
		},
	}
	f := c.Flags()
	// Everything from COMMAND on is COMMAND's, flags included, with or without "--".
	f.SetInterspersed(false)
	f.StringVar(&dir, "dir", "", "log directory shared with log-shipper (required)")
	f.StringVar(&rotation, "rotation-size", logship.DefaultRotationSize, "rotate a file when it reaches this size, ^\\d+(\\.\\d+)?[KMG][Bb]?$ between 2KB and 2GB (containerLogRotationConfiguration.rotationSize)")
	f.IntVar(&maxFiles, "max-files", logship.DefaultMaxFiles, "rotated files of each stream kept until shipped, 1 to 50 (containerLogRotationConfiguration.maxFilesToKeep)")
	f.StringVar(&install, "install", "", "copy this executable to PATH (mode 0755) and exit")
	f.StringVar(&entrypoint, "entrypoint", "", "comma-separated paths: run the first that exists, with the arguments as ARGs")
	c.SetFlagErrorFunc(usageError)
	return c
}

func logShipperCmd() *cobra.Command {
	var (
		dir, dest, endpoint, terminationLog string
		pathStyle                           bool
		drainTimeout, pollInterval          time.Duration
	)
	c := &cobra.Command{
		Use:   "log-shipper --dir DIR --dest s3://BUCKET/PREFIX [flags]",
		Short: "Ship the files log-wrap writes to S3 as stdout.gz and stderr.gz (the sidecar of job pods)",
		Long: "Ship DIR/stdout* and DIR/stderr*, as log-wrap writes them, to DEST/stdout.gz and DEST/stderr.gz: each\n" +
			"stream is one multipart upload, fed a gzip member per rotated file as it appears and finished with the\n" +
			"active file once DIR/exit appears or SIGTERM or SIGINT comes (within --drain-timeout). Progress is kept\n" +
			"in DIR/.shipper-state.json: a restarted shipper resumes the same upload.\n\n" +
			"Credentials and region come from the AWS SDK's default chain (IRSA's AWS_ROLE_ARN and\n" +
			"AWS_WEB_IDENTITY_TOKEN_FILE in a pod), the endpoint from --endpoint-url, AWS_ENDPOINT_URL_S3 or\n" +
			"AWS_ENDPOINT_URL. The outcome is one line in --termination-log, starting \"" + logship.SuccessPrefix + "\" or \"" +
			logship.FailurePrefix + " to s3://...\", and on stderr. It exits 0 either way: logs never fail the job.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Errorf("takes no arguments, got %q", args))
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError(cmd, errors.New("--dir: required: the log directory log-wrap writes"))
			}
			if dest == "" {
				return usageError(cmd, errors.New("--dest: required: s3://bucket/prefix of this pod's logs"))
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("component", "log-shipper")
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			bucket, prefix, err := logship.ParseS3URI(dest)
			if err != nil {
				logship.ReportUnshippable(ctx, dir, terminationLog, dest, fmt.Errorf("--dest: %w", err), log)
				return nil
			}
			client, err := s3bucket.NewClient(ctx, s3bucket.Options{Endpoint: endpoint, PathStyle: pathStyle})
			if err != nil {
				logship.ReportUnshippable(ctx, dir, terminationLog, dest, fmt.Errorf("S3 client: %w", err), log)
				return nil
			}
			sh := &logship.Shipper{Dir: dir, Bucket: s3bucket.New(client, bucket), Prefix: prefix,
				DrainTimeout: drainTimeout, PollInterval: pollInterval, TerminationLog: terminationLog, Log: log}
			sh.Run(ctx)
			return nil
		},
	}
	pathStyleDefault, _ := strconv.ParseBool(os.Getenv(PathStyleEnv))
	f := c.Flags()
	f.StringVar(&dir, "dir", "", "log directory log-wrap writes (required)")
	f.StringVar(&dest, "dest", "", "s3://bucket/prefix the objects stdout.gz and stderr.gz go under (required)")
	f.StringVar(&endpoint, "endpoint-url", "", "S3 endpoint (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or AWS's)")
	f.BoolVar(&pathStyle, "path-style", pathStyleDefault, "address buckets by path, for S3-compatible servers (env "+PathStyleEnv+"=true)")
	f.DurationVar(&drainTimeout, "drain-timeout", logship.DefaultDrainTimeout, "time to finish after the command exited or SIGTERM came")
	f.DurationVar(&pollInterval, "poll-interval", logship.DefaultPollInterval, "how often DIR is looked at")
	f.StringVar(&terminationLog, "termination-log", "/dev/termination-log", "file the outcome is written to; Kubernetes reads it into the container status (empty: none)")
	c.SetFlagErrorFunc(usageError)
	return c
}
