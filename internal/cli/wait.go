package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

// maxPollInterval caps the backoff of "jobs wait": a long job is still seen ending within
// half a minute, and a thousand waiting scripts cost the server little.
const maxPollInterval = 30 * time.Second

// waitFlags are the flags of "jobs wait" and "jobs start --wait".
type waitFlags struct {
	timeout time.Duration
	poll    time.Duration
}

func (w *waitFlags) addFlags(c *cobra.Command) {
	c.Flags().DurationVar(&w.timeout, "timeout", 30*time.Minute, "give up after this long (exit code 124); 0 waits forever")
	c.Flags().DurationVar(&w.poll, "poll-interval", 2*time.Second, "first interval between polls; it grows by half each poll up to 30s")
}

func (w *waitFlags) validate() error {
	if w.timeout < 0 {
		return fmt.Errorf("--timeout: must not be negative, got %s", w.timeout)
	}
	if w.poll <= 0 {
		return fmt.Errorf("--poll-interval: must be positive, got %s", w.poll)
	}
	return nil
}

func (a *app) jobWaitCmd() *cobra.Command {
	var (
		id, vc string
		w      waitFlags
	)
	c := &cobra.Command{
		Use:   "wait",
		Short: "Wait for a job run to end, printing each state change",
		Long: `Wait polls DescribeJobRun with backoff and prints a line (time, state, stateDetails) each
time the state or its details change. It exits 0 when the job run COMPLETED, 3 when it FAILED,
4 when it was CANCELLED, and 124 when --timeout passed first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := w.validate(); err != nil {
				return err
			}
			return a.withClient(cmd, func(_ context.Context, cl *emrcontainers.Client) error {
				return a.waitJob(cmd, cl, vc, id, w)
			})
		},
	}
	c.Flags().StringVar(&id, "id", "", "ID of the job run (required)")
	c.Flags().StringVar(&vc, "virtual-cluster-id", "", "virtual cluster of the job run (required)")
	w.addFlags(c)
	mustRequire(c, "id", "virtual-cluster-id")
	return c
}

// waitJob polls the job run until it ends. Progress lines go to stdout for table output and to
// stderr for JSON/YAML, where stdout carries only the final DescribeJobRun output.
func (a *app) waitJob(cmd *cobra.Command, cl *emrcontainers.Client, vc, id string, w waitFlags) error {
	ctx, stop := signal.NotifyContext(ctxOf(cmd), os.Interrupt)
	defer stop()
	progress := cmd.OutOrStdout()
	if a.g.output != "table" {
		progress = cmd.ErrOrStderr()
	}
	out, err := pollJob(ctx, cl, vc, id, w, progress)
	if out != nil && a.g.output != "table" {
		if perr := a.printDetail(cmd.OutOrStdout(), out); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// pollJob is the loop of waitJob; it returns the last DescribeJobRun output it saw.
func pollJob(ctx context.Context, cl *emrcontainers.Client, vc, id string, w waitFlags, progress io.Writer) (*emrcontainers.DescribeJobRunOutput, error) {
	parent := ctx
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.timeout)
		defer cancel()
	}
	var (
		last     *emrcontainers.DescribeJobRunOutput
		lastSeen string
		interval = w.poll
	)
	timedOut := func() error {
		state := "unknown"
		if last != nil && last.JobRun != nil {
			state = string(last.JobRun.State)
		}
		return &CodeError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s waiting for job run %s; its last state was %s", w.timeout, id, state)}
	}
	for {
		out, err := cl.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{Id: aws.String(id), VirtualClusterId: aws.String(vc)})
		if err != nil {
			if parent.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return last, timedOut()
			}
			return last, apiError(err)
		}
		last = out
		jr := out.JobRun
		if jr == nil {
			return last, fmt.Errorf("DescribeJobRun returned no jobRun for %s", id)
		}
		seen := string(jr.State) + "\x00" + aws.ToString(jr.StateDetails)
		if seen != lastSeen {
			lastSeen = seen
			line := fmt.Sprintf("%s  %-14s  %s", time.Now().UTC().Format(time.RFC3339), jr.State, aws.ToString(jr.StateDetails))
			fmt.Fprintln(progress, strings.TrimRight(line, " "))
		}
		switch jr.State {
		case types.JobRunStateCompleted:
			return last, nil
		case types.JobRunStateFailed:
			return last, &CodeError{Code: ExitJobFailed, Err: fmt.Errorf("job run %s FAILED (%s): %s", id, jr.FailureReason, aws.ToString(jr.StateDetails))}
		case types.JobRunStateCancelled:
			return last, &CodeError{Code: ExitJobCancelled, Err: fmt.Errorf("job run %s CANCELLED: %s", id, aws.ToString(jr.StateDetails))}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if parent.Err() == nil {
				return last, timedOut()
			}
			return last, fmt.Errorf("stopped waiting for job run %s: %w", id, parent.Err())
		case <-t.C:
		}
		interval = min(interval*3/2, maxPollInterval)
	}
}
