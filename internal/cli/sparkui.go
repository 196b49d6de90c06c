package cli

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/eventlog"
)

// withJobUI adds `jobs ui` to the jobs command group.
func (a *app) withJobUI(jobs *cobra.Command) *cobra.Command {
	jobs.AddCommand(a.jobUICmd())
	return jobs
}

func (a *app) jobUICmd() *cobra.Command {
	var (
		id, vc  string
		attempt int
	)
	c := &cobra.Command{
		Use:   "ui [ID]",
		Short: "Show what Spark's UI would show of a job run: application, jobs, stages, executors, SQL (sparkplane extension)",
		Long: `Show what a Spark history server would show of a job run's attempt, read by the server from
the Spark event log the driver wrote to S3: the application (name, user, Spark version, start,
end, exit code), its jobs, the stage attempts that ran with their tasks, input, output, shuffle
and spill, the executors with when and why they were removed, and the SQL executions.

A log Spark is still writing, or one that was cut, gives what it holds so far; the report then
says it is incomplete and why. A job run keeps an event log when its monitoringConfiguration
names an s3MonitoringConfiguration.logUri, or when the server configures an eventLogUri and
persistentAppUI is not DISABLED. The job run is named by --id or as the argument; -o json and
-o yaml print the server's answer as it came.`,
		Example: `  sparkplane jobs ui --virtual-cluster-id abc123 --id 0000000abcdefghijkl
  sparkplane jobs ui 0000000abcdefghijkl --virtual-cluster-id abc123 --attempt 1 -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := jobRunIDArg(&id, args); err != nil {
				return err
			}
			var q url.Values
			if cmd.Flags().Changed("attempt") {
				if attempt < 1 {
					return fmt.Errorf("--attempt: must be a positive number, got %d", attempt)
				}
				q = url.Values{"attempt": {strconv.Itoa(attempt)}}
			}
			return showExtension(a, cmd, "/virtualclusters/"+url.PathEscape(vc)+"/jobruns/"+url.PathEscape(id)+"/ui", q,
				"job run UI", printJobRunUI)
		},
	}
	f := c.Flags()
	f.StringVar(&id, "id", "", "ID of the job run (or give it as the argument)")
	f.StringVar(&vc, "virtual-cluster-id", "", "virtual cluster of the job run (required)")
	f.IntVar(&attempt, "attempt", 0, "attempt of the job run, from 1 (default: its current attempt)")
	mustRequire(c, "virtual-cluster-id")
	return c
}

// jobRunUI is GET .../jobruns/{id}/ui: where the event log was read from, then the
// application summary internal/eventlog rebuilt from it, whose members the answer carries
// as they are.
type jobRunUI struct {
	JobRunID string `json:"jobRunId"`
	Attempt  int    `json:"attempt"`
	AppID    string `json:"sparkApplicationId"`
	EventLog string `json:"eventLog"`
	eventlog.Summary
}

// Widths at which free text (names, descriptions, failure reasons) is cut so that the
// tables stay readable; -o json has them whole.
const (
	nameWidth   = 48
	reasonWidth = 160
)

// printJobRunUI prints the report: the application, a line saying the log is incomplete when
// it is, then the jobs, stages, executors and SQL executions as tables.
func printJobRunUI(w io.Writer, r jobRunUI) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	app := r.Application
	fmt.Fprintf(tw, "Job run\t%s (attempt %d)\n", text(r.JobRunID, 0), r.Attempt)
	// A log cut before SparkListenerApplicationStart names no application: the id the
	// server gave the attempt's driver is the one it would have named.
	appID := app.ID
	if appID == "" {
		appID = r.AppID
	}
	appID = text(appID, 0)
	if app.AttemptID != "" {
		appID += " (attempt " + text(app.AttemptID, 0) + ")"
	}
	fmt.Fprintf(tw, "Application\t%s\n", appID)
	fmt.Fprintf(tw, "Name\t%s\n", text(app.Name, 0))
	fmt.Fprintf(tw, "User\t%s\n", text(app.User, 0))
	fmt.Fprintf(tw, "Spark version\t%s\n", text(app.SparkVersion, 0))
	fmt.Fprintf(tw, "Start\t%s\n", timeText(app.StartTime))
	fmt.Fprintf(tw, "End\t%s\n", timeText(app.EndTime))
	if app.EndTime.IsZero() {
		fmt.Fprintf(tw, "Duration\t- (no end in the log)\n")
		fmt.Fprintf(tw, "Last event\t%s\n", timeText(app.LastEventTime))
	} else {
		fmt.Fprintf(tw, "Duration\t%s\n", durationText(app.DurationMs))
	}
	exit := "-"
	if app.ExitCode != nil {
		exit = strconv.Itoa(*app.ExitCode)
	}
	fmt.Fprintf(tw, "Exit code\t%s\n", exit)
	fmt.Fprintf(tw, "Event log\t%s\n", text(r.EventLog, 0))
	// Notes also come with a complete log (a rolling log without its status marker, say);
	// they are shown either way, under a heading that says whether the report is whole.
	switch {
	case !r.Complete:
		fmt.Fprintln(tw, "\nINCOMPLETE: the event log does not hold the whole application; what follows is what it holds.")
	case len(r.Notes) > 0:
		fmt.Fprintln(tw, "\nNOTES")
	}
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "  - %s\n", text(n, 0))
	}

	if len(r.Jobs) == 0 {
		fmt.Fprintln(tw, "\nJOBS: none")
	} else {
		fmt.Fprintf(tw, "\nJOBS (%d)\n", len(r.Jobs))
		fmt.Fprintln(tw, "ID\tSTATUS\tSTAGES\tTASKS\tDURATION\tNAME")
		for _, j := range r.Jobs {
			name := j.Description
			if name == "" {
				name = j.Name
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", j.ID, text(j.Status, 0), jobStagesText(j), jobTasksText(j),
				endedDuration(j.DurationMs, j.CompletionTime), text(name, nameWidth))
		}
		for _, j := range r.Jobs {
			if j.FailureReason != "" {
				fmt.Fprintf(tw, "Job %d failed: %s\n", j.ID, firstLine(j.FailureReason))
			}
		}
	}

	if len(r.Stages) == 0 {
		fmt.Fprintln(tw, "\nSTAGES: none ran")
	} else {
		fmt.Fprintf(tw, "\nSTAGES (%d)\n", len(r.Stages))
		fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tDURATION\tTASKS\tINPUT\tOUTPUT\tSHUFFLE READ\tSHUFFLE WRITE\tSPILL (MEMORY/DISK)")
		for _, s := range r.Stages {
			m := s.Metrics
			fmt.Fprintf(tw, "%d.%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.StageID, s.AttemptID, text(s.Name, nameWidth), text(s.Status, 0),
				endedDuration(s.DurationMs, s.CompletionTime), stageTasksText(s), bytesText(m.InputBytes), bytesText(m.OutputBytes),
				bytesText(m.ShuffleReadBytes), bytesText(m.ShuffleWriteBytes), spillText(m))
		}
		for _, s := range r.Stages {
			if s.FailureReason != "" {
				fmt.Fprintf(tw, "Stage %d.%d failed: %s\n", s.StageID, s.AttemptID, firstLine(s.FailureReason))
			}
		}
	}

	if len(r.Executors) == 0 {
		fmt.Fprintln(tw, "\nEXECUTORS: none")
	} else {
		fmt.Fprintf(tw, "\nEXECUTORS (%d)\n", len(r.Executors))
		fmt.Fprintln(tw, "ID\tHOST\tCORES\tTASKS\tADDED\tREMOVED\tREASON")
		for _, e := range r.Executors {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", text(e.ID, 0), text(e.Host, 0), e.TotalCores, strconv.FormatInt(e.Tasks.Completed, 10)+taskOutcomes(e.Tasks),
				timeText(e.AddTime), timeText(e.RemoveTime), text(e.RemovedReason, reasonWidth))
		}
	}

	if len(r.SQL) > 0 {
		fmt.Fprintf(tw, "\nSQL EXECUTIONS (%d)\n", len(r.SQL))
		fmt.Fprintln(tw, "ID\tDESCRIPTION\tDURATION\tSTATUS\tJOBS")
		for _, q := range r.SQL {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", q.ExecutionID, text(q.Description, nameWidth), endedDuration(q.DurationMs, q.EndTime),
				text(q.Status, 0), idsText(q.JobIDs))
		}
		for _, q := range r.SQL {
			if q.ErrorMessage != "" {
				fmt.Fprintf(tw, "SQL execution %d failed: %s\n", q.ExecutionID, firstLine(q.ErrorMessage))
			}
		}
	}
	return tw.Flush()
}

// jobStagesText is the job's stages as Spark's UI shows them: completed out of those that
// were not skipped, then the failed and skipped ones.
func jobStagesText(j eventlog.Job) string {
	s := fmt.Sprintf("%d/%d", j.NumCompletedStages, len(j.StageIDs)-j.NumSkippedStages)
	if j.NumFailedStages > 0 {
		s += fmt.Sprintf(" (%d failed)", j.NumFailedStages)
	}
	if j.NumSkippedStages > 0 {
		s += fmt.Sprintf(" (%d skipped)", j.NumSkippedStages)
	}
	return s
}

// jobTasksText is the job's tasks as Spark's UI shows them: completed out of those that were
// not skipped, then the failed, killed and skipped ones.
func jobTasksText(j eventlog.Job) string {
	s := fmt.Sprintf("%d/%d", j.NumCompletedTasks, j.NumTasks-j.NumSkippedTasks)
	for _, c := range []struct {
		n    int64
		what string
	}{{j.NumFailedTasks, "failed"}, {j.NumKilledTasks, "killed"}, {j.NumSkippedTasks, "skipped"}} {
		if c.n > 0 {
			s += fmt.Sprintf(" (%d %s)", c.n, c.what)
		}
	}
	return s
}

// stageTasksText is the stage attempt's completed tasks out of its tasks, then the failed,
// killed and still running ones.
func stageTasksText(s eventlog.Stage) string {
	return fmt.Sprintf("%d/%d", s.Tasks.Completed, s.NumTasks) + taskOutcomes(s.Tasks)
}

// taskOutcomes lists the failed, killed and running tasks of counts that are not zero.
func taskOutcomes(t eventlog.TaskCounts) string {
	var s string
	for _, c := range []struct {
		n    int64
		what string
	}{{t.Failed, "failed"}, {t.Killed, "killed"}, {t.Active, "running"}} {
		if c.n > 0 {
			s += fmt.Sprintf(" (%d %s)", c.n, c.what)
		}
	}
	return s
}

// spillText is the memory and disk spill of a stage attempt, or "-" when it spilled nothing.
func spillText(m eventlog.StageMetrics) string {
	if m.MemoryBytesSpilled == 0 && m.DiskBytesSpilled == 0 {
		return "-"
	}
	return bytesText(m.MemoryBytesSpilled) + " / " + bytesText(m.DiskBytesSpilled)
}

// bytesText formats a byte count in binary units with one decimal, as Spark's UI does; zero
// is "-", as an empty cell there.
func bytesText(n int64) string {
	if n == 0 {
		return "-"
	}
	if n < 1024 && n > -1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := -1
	for (v >= 1024 || v <= -1024) && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// durationText formats milliseconds as Spark's UI does: ms under a second, then seconds,
// minutes and hours with one decimal.
func durationText(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", ms)
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.1f min", d.Minutes())
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

// endedDuration is the duration of something that has ended, and "-" for something that has
// not (its duration is zero until then).
func endedDuration(ms int64, end time.Time) string {
	if end.IsZero() {
		return "-"
	}
	return durationText(ms)
}

// timeText is a time in UTC to the second, or "-" when unknown.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func idsText(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return text(strings.Join(parts, ","), 0)
}

// firstLine is the first non-empty line of a message such as a Java stack trace, cut to
// reasonWidth.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			return text(l, reasonWidth)
		}
	}
	return "-"
}

// text makes a table cell of text that came from the event log, which the job's own code
// wrote (application names, descriptions, failure messages): white space becomes one space,
// other control and format characters (a terminal's escape sequences, bidirectional
// overrides) become U+FFFD so that they cannot act on the terminal, and text longer than
// width runes (0: no limit) is cut with "...".
func text(s string, width int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return unicode.ReplacementChar
		}
		return r
	}, s)
	s = cell(s)
	if width > 3 {
		if rs := []rune(s); len(rs) > width {
			s = strings.TrimRight(string(rs[:width-3]), " ") + "..."
		}
	}
	return s
}
