package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/spf13/cobra"
)

// Exit codes of the client. Scripts can tell a job that ended badly from a job that is still
// running when the wait gave up, and both from a usage or API error.
const (
	// ExitError is returned for bad input, unreachable endpoints and API errors.
	ExitError = 1
	// ExitJobFailed is returned by "jobs wait" when the job run ended FAILED.
	ExitJobFailed = 3
	// ExitJobCancelled is returned by "jobs wait" when the job run ended CANCELLED.
	ExitJobCancelled = 4
	// ExitTimeout is returned by "jobs wait" when --timeout passed before the job run ended
	// (the same code GNU timeout uses).
	ExitTimeout = 124
)

// EndpointEnv is the environment variable read when --endpoint-url is not given.
const EndpointEnv = "SPARKPLANE_ENDPOINT"

// defaultRegion is used when neither a flag, the environment nor the profile names a region:
// a self-hosted endpoint does not need a real AWS region, only the one its keys are signed for.
const defaultRegion = "us-east-1"

// CodeError is an error that asks the process to end with a specific exit code.
type CodeError struct {
	// Code is the process exit code.
	Code int
	// Err is what is printed.
	Err error
}

// Error returns the message of the wrapped error.
func (e *CodeError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *CodeError) Unwrap() error { return e.Err }

// ExitCode returns the exit code the process should end with after a command returned err:
// 0 for nil, the code of a *CodeError, and ExitError for anything else.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ce *CodeError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ExitError
}

// Options configures the command tree.
type Options struct {
	// Exit, when set, is called with the exit code of a command that ends with a code other
	// than ExitError (a failed, cancelled or timed-out wait) after the error is printed to the
	// command's error output. The binary passes os.Exit; tests leave it nil and read the code
	// with ExitCode.
	Exit func(code int)
}

// globals are the flags every client command shares, mirroring the aws CLI's global options.
type globals struct {
	endpoint    string
	region      string
	profile     string
	output      string
	noVerifySSL bool
	debug       bool
}

// app holds the state of one command tree.
type app struct {
	opts Options
	g    globals
}

// Commands returns the client's top-level command groups (virtual-clusters, jobs,
// job-templates, security-configurations, tags, cost, execution-roles, iam, audit), ready to
// be added to the root command.
func Commands(opts Options) []*cobra.Command {
	a := &app{opts: opts}
	groups := []struct {
		cmd *cobra.Command
		// output is the group's default --output: json for iam, whose users expect what
		// aws iam prints, table for the others.
		output string
	}{
		{a.withSettings(a.virtualClustersCmd()), "table"},
		{a.withJobSparkUI(a.withJobLogs(a.withJobUI(a.withJobCost(a.jobsCmd())))), "table"},
		{a.jobTemplatesCmd(), "table"},
		{a.securityConfigurationsCmd(), "table"},
		{a.tagsCmd(), "table"},
		{a.costCmd(), "table"},
		{a.executionRolesCmd(), "table"},
		{a.iamCmd(), "json"},
		{a.auditCmd(), "table"},
		{a.consoleCmd(), "table"},
	}
	cmds := make([]*cobra.Command, len(groups))
	for i, g := range groups {
		a.addGlobalFlags(g.cmd, g.output)
		a.wrapExit(g.cmd)
		cmds[i] = g.cmd
	}
	return cmds
}

func (a *app) addGlobalFlags(c *cobra.Command, output string) {
	f := c.PersistentFlags()
	f.StringVar(&a.g.endpoint, "endpoint-url", "", "URL of the sparkplane API (env "+EndpointEnv+")")
	f.StringVar(&a.g.region, "region", "", "region the requests are signed for (env AWS_REGION, AWS_DEFAULT_REGION; default "+defaultRegion+")")
	f.StringVar(&a.g.profile, "profile", "", "named profile from the AWS config and credentials files (env AWS_PROFILE)")
	f.StringVarP(&a.g.output, "output", "o", output, "output format: table, json or yaml")
	f.BoolVar(&a.g.noVerifySSL, "no-verify-ssl", false, "do not verify the server's TLS certificate")
	f.BoolVar(&a.g.debug, "debug", false, "log each API call to stderr")
}

// wrapExit makes every runnable command below c honour Options.Exit.
func (a *app) wrapExit(c *cobra.Command) {
	for _, sub := range c.Commands() {
		a.wrapExit(sub)
	}
	if c.RunE == nil {
		return
	}
	run := c.RunE
	c.RunE = func(cmd *cobra.Command, args []string) error {
		// Every group binds its --output to the same variable, which holds the default of
		// the group defined last; a command run without -o takes its own group's.
		if f := cmd.Flags().Lookup("output"); f != nil && !f.Changed {
			a.g.output = f.DefValue
		}
		if err := a.checkOutput(); err != nil {
			return err
		}
		err := run(cmd, args)
		if code := ExitCode(err); a.opts.Exit != nil && code != 0 && code != ExitError {
			fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
			a.opts.Exit(code)
		}
		return err
	}
}

func (a *app) checkOutput() error {
	switch a.g.output {
	case "table", "json", "yaml":
		return nil
	}
	return fmt.Errorf("--output: %q is not one of table, json, yaml", a.g.output)
}

// endpointURL returns the endpoint from the flag or the environment, checked.
func (a *app) endpointURL() (string, error) {
	ep, from := a.g.endpoint, "--endpoint-url"
	if ep == "" {
		ep, from = os.Getenv(EndpointEnv), EndpointEnv
	}
	if ep == "" {
		return "", fmt.Errorf("no endpoint: set --endpoint-url or the %s environment variable to the sparkplane API URL (for example https://sparkplane.example.com)", EndpointEnv)
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http:// or https:// URL", from, ep)
	}
	return ep, nil
}

// client builds the emr-containers client from the global flags and the standard AWS
// configuration chain (environment, shared config and credentials files, profiles).
func (a *app) client(ctx context.Context) (*emrcontainers.Client, error) {
	ep, err := a.endpointURL()
	if err != nil {
		return nil, err
	}
	var loads []func(*config.LoadOptions) error
	switch {
	case a.g.region != "":
		loads = append(loads, config.WithRegion(a.g.region))
	case os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") != "":
		// The Go SDK reads only AWS_REGION; the aws CLI also reads AWS_DEFAULT_REGION.
		loads = append(loads, config.WithRegion(os.Getenv("AWS_DEFAULT_REGION")))
	}
	if a.g.profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(a.g.profile))
	}
	if a.g.noVerifySSL {
		loads = append(loads, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by --no-verify-ssl
		})))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	var logger *slog.Logger
	if a.g.debug {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return emrcontainers.NewFromConfig(cfg, func(o *emrcontainers.Options) {
		o.BaseEndpoint = aws.String(ep)
		if logger != nil {
			o.APIOptions = append(o.APIOptions, logCalls(logger, ep))
		}
	}), nil
}

// logCalls logs every API call with its duration and outcome; it never logs headers, so no
// signature or key reaches the log.
func logCalls(logger *slog.Logger, endpoint string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("sparkplaneLogCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				op := middleware.GetOperationName(ctx)
				if err != nil {
					logger.Debug("api call failed", "operation", op, "endpoint", endpoint, "duration", time.Since(start), "error", err)
				} else {
					logger.Debug("api call", "operation", op, "endpoint", endpoint, "duration", time.Since(start))
				}
				return out, md, err
			}), middleware.After)
	}
}

// apiError turns an SDK error into the message the user sees: "<Code>: <message>" for errors
// the service returned, the list of problems for parameters the SDK rejected before sending,
// and a plain sentence when the endpoint cannot be reached.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	var ip smithy.InvalidParamsError
	if errors.As(err, &ip) {
		var msgs []string
		for _, e := range ip.Errs() {
			msgs = append(msgs, strings.TrimSuffix(e.Error(), "."))
		}
		return fmt.Errorf("invalid parameters: %s", strings.Join(msgs, "; "))
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return fmt.Errorf("cannot reach the endpoint: %w", ne)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("HTTP %d from the endpoint: %w", re.HTTPStatusCode(), re.Err)
	}
	return err
}

// ctxOf returns the command's context, or a background one when the command runs without one.
func ctxOf(c *cobra.Command) context.Context {
	if ctx := c.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
