package cli

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// withJobLogs adds `jobs logs` to the jobs command group.
func (a *app) withJobLogs(jobs *cobra.Command) *cobra.Command {
	jobs.AddCommand(a.jobLogsCmd())
	return jobs
}

func (a *app) jobLogsCmd() *cobra.Command {
	var (
		id, vc, executor, since string
		all, follow             bool
		tail                    int64
	)
	c := &cobra.Command{
		Use:   "logs [ID]",
		Short: "Print a job run's driver or executor log, or follow it until the run ends (sparkplane extension)",
		Long: `Print the log of a job run's driver (the default) or of one executor (--executor 2), or of
every executor with each line prefixed [exec-N] (--all), as the Kubernetes API server has it:
what kubectl logs prints. With --follow, lines print as the pod writes them and the command
ends when the job run does, with a last line saying how it ended.

Logs are read from the pod while it exists. A driver pod is deleted some time after its run
ends (the server's driverTTL) and Spark deletes executors it no longer needs: the logs of a run
with an s3MonitoringConfiguration.logUri are then read from what was shipped to S3, and those
of a run without one are gone with its pods.`,
		Example: `  sparkplane jobs logs --virtual-cluster-id abc123 --id 0000000abcdefghijkl --follow
  sparkplane jobs logs 0000000abcdefghijkl --virtual-cluster-id abc123 --executor 1 --since 10m --tail 100
  sparkplane jobs logs 0000000abcdefghijkl --virtual-cluster-id abc123 --all`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := jobRunIDArg(&id, args); err != nil {
				return err
			}
			q := url.Values{}
			switch {
			case all && executor != "":
				return fmt.Errorf("--executor and --all: give one")
			case all:
				q.Set("executor", "all")
			case executor != "":
				if n, err := strconv.Atoi(executor); err != nil || n < 1 {
					return fmt.Errorf("--executor: must be an executor id such as 1, got %q", executor)
				}
				q.Set("executor", executor)
			}
			if follow {
				q.Set("follow", "true")
			}
			if since != "" {
				if d, err := time.ParseDuration(since); err != nil || d <= 0 {
					if _, err := time.Parse(time.RFC3339, since); err != nil {
						return fmt.Errorf("--since: must be a duration such as 10m or an RFC 3339 time such as 2024-01-31T12:00:00Z, got %q", since)
					}
				}
				q.Set("since", since)
			}
			if cmd.Flags().Changed("tail") {
				if tail < 0 {
					return fmt.Errorf("--tail: must be 0 or more lines, got %d", tail)
				}
				q.Set("tail", strconv.FormatInt(tail, 10))
			}
			resp, err := a.open(ctxOf(cmd), "GET", "/virtualclusters/"+url.PathEscape(vc)+"/jobruns/"+url.PathEscape(id)+"/logs", q, nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			// Copied as it arrives: io.Copy writes each chunk the server flushed.
			if _, err := io.Copy(cmd.OutOrStdout(), resp.Body); err != nil {
				return fmt.Errorf("read the log stream: %w", err)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&id, "id", "", "ID of the job run (or give it as the argument)")
	f.StringVar(&vc, "virtual-cluster-id", "", "virtual cluster of the job run (required)")
	f.StringVar(&executor, "executor", "", "executor id whose log to print (default: the driver's)")
	f.BoolVar(&all, "all", false, "print every executor's log, each line prefixed [exec-N]")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new lines until the job run ends")
	f.StringVar(&since, "since", "", "start this long ago (10m) or at this time (RFC 3339)")
	f.Int64Var(&tail, "tail", 0, "start with this many of the last lines (default: the whole log)")
	mustRequire(c, "virtual-cluster-id")
	return c
}
