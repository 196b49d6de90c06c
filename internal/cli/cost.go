package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// signingName is the SigV4 service name of the emr-containers API, extensions included.
const signingName = "emr-containers"

// withJobCost adds `jobs cost` to the jobs command group.
func (a *app) withJobCost(jobs *cobra.Command) *cobra.Command {
	jobs.AddCommand(a.jobCostCmd())
	return jobs
}

func (a *app) jobCostCmd() *cobra.Command {
	var id, vc string
	c := &cobra.Command{
		Use:   "cost [ID]",
		Short: "Show what a job run cost: driver and executors, spot and on-demand, per pod (sparkplane extension)",
		Long: `Show what a job run's pods cost so far, priced by the server's price catalog: totals split
into driver and executors and into spot and on-demand, the savings against all on-demand, one
line per pod and the prices used. The job run is named by --id or as the argument.`,
		Example: `  sparkplane jobs cost --virtual-cluster-id abc123 --id 0000000abcdefghijkl
  sparkplane jobs cost 0000000abcdefghijkl --virtual-cluster-id abc123 -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := jobRunIDArg(&id, args); err != nil {
				return err
			}
			return showExtension(a, cmd, "/virtualclusters/"+url.PathEscape(vc)+"/jobruns/"+url.PathEscape(id)+"/cost", nil,
				"job run cost", printJobCost)
		},
	}
	c.Flags().StringVar(&id, "id", "", "ID of the job run (or give it as the argument)")
	c.Flags().StringVar(&vc, "virtual-cluster-id", "", "virtual cluster of the job run (required)")
	mustRequire(c, "virtual-cluster-id")
	return c
}

func (a *app) costCmd() *cobra.Command {
	var vc, since, until string
	c := &cobra.Command{
		Use:   "cost",
		Short: "Show what a virtual cluster's job runs cost over a time range (sparkplane extension)",
		Long: `Show what a virtual cluster's job runs cost within a time range: the totals (driver and
executors, spot and on-demand, savings against all on-demand), one line per job run and per
UTC day, and the idle cost of nodes that ran only this virtual cluster's pods, which is shown
beside the totals and never inside them.

--since and --until take a duration back from now (7d, 36h, 90m), a date (2026-11-01, midnight
UTC) or an ISO-8601 time (2026-11-01T12:00:00Z). The default range is the last 7 days.`,
		Example: `  sparkplane cost --virtual-cluster-id abc123 --since 7d
  sparkplane cost --virtual-cluster-id abc123 --since 2026-11-01 --until 2026-11-08 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now().UTC()
			q := url.Values{}
			for _, f := range []struct{ flag, value, param string }{{"since", since, "createdAfter"}, {"until", until, "createdBefore"}} {
				if f.value == "" {
					continue
				}
				t, err := parseSince(f.value, now)
				if err != nil {
					return fmt.Errorf("--%s: %w", f.flag, err)
				}
				q.Set(f.param, t.Format(time.RFC3339))
			}
			return showExtension(a, cmd, "/virtualclusters/"+url.PathEscape(vc)+"/cost", q, "virtual cluster cost", printVCCost)
		},
	}
	f := c.Flags()
	f.StringVar(&vc, "virtual-cluster-id", "", "virtual cluster whose job runs to price (required; also --virtual-cluster)")
	f.StringVar(&since, "since", "", "start of the range: 7d, 36h, a date 2026-11-01 or an ISO-8601 time (default 7d)")
	f.StringVar(&until, "until", "", "end of the range, in the same forms (default now)")
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "virtual-cluster" {
			name = "virtual-cluster-id"
		}
		return pflag.NormalizedName(name)
	})
	mustRequire(c, "virtual-cluster-id")
	return c
}

// parseSince reads a point in time: a duration back from now with d (days), h, m or s units
// ("7d", "36h", "1d12h"), a date (midnight UTC), or an RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if d, ok := parseDays(v); ok {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q: the duration must be positive", v)
		}
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a duration (7d, 36h), a date (2026-11-01) or an ISO-8601 time (2026-11-01T12:00:00Z)", v)
}

// parseDays is time.ParseDuration with a leading whole number of days allowed ("7d", "1d12h").
func parseDays(v string) (time.Duration, bool) {
	var days time.Duration
	if i := strings.IndexByte(v, 'd'); i > 0 {
		n, err := strconv.Atoi(v[:i])
		if err != nil || n < 0 || n > 36600 {
			return 0, false
		}
		days, v = time.Duration(n)*24*time.Hour, v[i+1:]
		if v == "" {
			return days, true
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, false
	}
	return days + d, true
}

// extension sends a GET to one of sparkplane's extension routes (see send).
func (a *app) extension(ctx context.Context, path string, query url.Values) ([]byte, error) {
	return a.send(ctx, http.MethodGet, path, query, nil)
}

// showExtension gets an extension route and prints its answer: as it came for JSON and YAML,
// else decoded into R (what names R in the error of a bad answer) and printed by table.
func showExtension[R any](a *app, cmd *cobra.Command, path string, query url.Values, what string, table func(io.Writer, R) error) error {
	raw, err := a.extension(ctxOf(cmd), path, query)
	if err != nil {
		return err
	}
	if ok, err := a.printRaw(cmd.OutOrStdout(), raw); ok {
		return err
	}
	var rep R
	if err := json.Unmarshal(raw, &rep); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return table(cmd.OutOrStdout(), rep)
}

// printRaw prints a response as indented JSON or as YAML when asked, and reports whether it
// did.
func (a *app) printRaw(w io.Writer, raw []byte) (bool, error) {
	switch a.g.output {
	case "json":
		var b bytes.Buffer
		if err := json.Indent(&b, bytes.TrimSpace(raw), "", "    "); err != nil {
			return true, fmt.Errorf("encode output: %w", err)
		}
		b.WriteByte('\n')
		_, err := w.Write(b.Bytes())
		return true, err
	case "yaml":
		y, err := yaml.JSONToYAML(raw)
		if err != nil {
			return true, fmt.Errorf("encode output: %w", err)
		}
		_, err = w.Write(y)
		return true, err
	}
	return false, nil
}

// costTotals is the totals shape of the cost extension routes.
type costTotals struct {
	Cost               float64 `json:"cost"`
	Driver             float64 `json:"driver"`
	Executors          float64 `json:"executors"`
	Other              float64 `json:"other"`
	Spot               float64 `json:"spot"`
	OnDemand           float64 `json:"onDemand"`
	OnDemandEquivalent float64 `json:"onDemandEquivalent"`
	Savings            float64 `json:"savings"`
}

type costPrice struct {
	Source string  `json:"source"`
	Detail string  `json:"detail"`
	Hourly float64 `json:"hourly"`
	Pods   int     `json:"pods"`
}

// jobCostReport is the part of GET .../jobruns/{id}/cost the table shows.
type jobCostReport struct {
	JobRunID         string     `json:"jobRunId"`
	VirtualClusterID string     `json:"virtualClusterId"`
	Currency         string     `json:"currency"`
	Totals           costTotals `json:"totals"`
	Start            time.Time  `json:"start"`
	End              time.Time  `json:"end"`
	Running          bool       `json:"running"`
	Pods             []struct {
		Pod          string    `json:"pod"`
		Role         string    `json:"role"`
		Node         string    `json:"node"`
		InstanceType string    `json:"instanceType"`
		CapacityType string    `json:"capacityType"`
		Start        time.Time `json:"start"`
		End          time.Time `json:"end"`
		CPUCores     float64   `json:"cpuCores"`
		MemoryGiB    float64   `json:"memoryGiB"`
		Charge       struct {
			Priced bool    `json:"priced"`
			Hours  float64 `json:"hours"`
			Cost   float64 `json:"cost"`
		} `json:"charge"`
	} `json:"pods"`
	Prices   []costPrice `json:"prices"`
	Unpriced []string    `json:"unpriced"`
	Catalog  []string    `json:"catalog"`
}

// vcCostReport is the part of GET /virtualclusters/{id}/cost the table shows.
type vcCostReport struct {
	VirtualClusterID string     `json:"virtualClusterId"`
	Currency         string     `json:"currency"`
	From             time.Time  `json:"from"`
	To               time.Time  `json:"to"`
	Totals           costTotals `json:"totals"`
	Idle             float64    `json:"idle"`
	IdleNodes        []struct {
		Node         string  `json:"node"`
		InstanceType string  `json:"instanceType"`
		CapacityType string  `json:"capacityType"`
		Hours        float64 `json:"hours"`
		NodeCost     float64 `json:"nodeCost"`
		Charged      float64 `json:"charged"`
		Idle         float64 `json:"idle"`
	} `json:"idleNodes"`
	Jobs []struct {
		JobRunID string     `json:"jobRunId"`
		Totals   costTotals `json:"totals"`
	} `json:"jobs"`
	Days []struct {
		Day    string     `json:"day"`
		Totals costTotals `json:"totals"`
		Idle   float64    `json:"idle"`
	} `json:"days"`
	Prices   []costPrice `json:"prices"`
	Unpriced []string    `json:"unpriced"`
}

// money formats an amount to a hundredth of a cent: short sandbox jobs cost fractions of one.
func money(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// savingsCell shows savings and their share of the on-demand equivalent.
func savingsCell(t costTotals) string {
	if t.OnDemandEquivalent <= 0 {
		return money(t.Savings)
	}
	return fmt.Sprintf("%s (%.1f%%)", money(t.Savings), 100*t.Savings/t.OnDemandEquivalent)
}

func printTotals(tw io.Writer, currency string, t costTotals) {
	fmt.Fprintf(tw, "Total (%s)\t%s\n", currency, money(t.Cost))
	fmt.Fprintf(tw, "  driver\t%s\n", money(t.Driver))
	fmt.Fprintf(tw, "  executors\t%s\n", money(t.Executors))
	if t.Other != 0 {
		fmt.Fprintf(tw, "  other pods\t%s\n", money(t.Other))
	}
	fmt.Fprintf(tw, "  spot\t%s\n", money(t.Spot))
	fmt.Fprintf(tw, "  on-demand\t%s\n", money(t.OnDemand))
	fmt.Fprintf(tw, "All on-demand would cost\t%s\n", money(t.OnDemandEquivalent))
	fmt.Fprintf(tw, "Savings\t%s\n", savingsCell(t))
}

func printPrices(tw io.Writer, prices []costPrice, unpriced []string) {
	if len(prices) > 0 {
		fmt.Fprintln(tw, "\nPRICE SOURCE\tDETAIL\tHOURLY\tPODS")
		for _, p := range prices {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", cell(p.Source), cell(p.Detail), money(p.Hourly), p.Pods)
		}
	}
	if len(unpriced) > 0 {
		fmt.Fprintln(tw, "\nUNPRICED (counted as zero)")
		for _, u := range unpriced {
			fmt.Fprintln(tw, cell(u))
		}
	}
}

func printJobCost(w io.Writer, r jobCostReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintf(tw, "Job run\t%s\n", r.JobRunID)
	fmt.Fprintf(tw, "Virtual cluster\t%s\n", cell(r.VirtualClusterID))
	switch {
	case len(r.Pods) == 0:
		fmt.Fprintf(tw, "Pods\tnone has held a node yet\n")
	case r.Running:
		fmt.Fprintf(tw, "Period\t%s - (running: the cost still grows)\n", r.Start.UTC().Format(time.RFC3339))
	default:
		fmt.Fprintf(tw, "Period\t%s - %s\n", r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339))
	}
	printTotals(tw, r.Currency, r.Totals)
	if len(r.Pods) > 0 {
		fmt.Fprintln(tw, "\nPOD\tROLE\tNODE\tINSTANCE TYPE\tCAPACITY\tCPU\tMEMORY GiB\tSECONDS\tCOST")
		for _, p := range r.Pods {
			c := money(p.Charge.Cost)
			if !p.Charge.Priced {
				c = "unpriced"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%g\t%.2f\t%.0f\t%s\n", cell(p.Pod), cell(p.Role), cell(p.Node), cell(p.InstanceType),
				cell(p.CapacityType), p.CPUCores, p.MemoryGiB, p.Charge.Hours*3600, c)
		}
	}
	printPrices(tw, r.Prices, r.Unpriced)
	return tw.Flush()
}

func printVCCost(w io.Writer, r vcCostReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintf(tw, "Virtual cluster\t%s\n", r.VirtualClusterID)
	fmt.Fprintf(tw, "Period\t%s - %s\n", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	printTotals(tw, r.Currency, r.Totals)
	fmt.Fprintf(tw, "Idle (not in the total)\t%s\n", money(r.Idle))
	if len(r.Jobs) > 0 {
		fmt.Fprintln(tw, "\nJOB RUN\tCOST\tDRIVER\tEXECUTORS\tSPOT\tON-DEMAND\tSAVINGS")
		for _, j := range r.Jobs {
			t := j.Totals
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.JobRunID, money(t.Cost), money(t.Driver), money(t.Executors),
				money(t.Spot), money(t.OnDemand), money(t.Savings))
		}
	} else {
		fmt.Fprintln(tw, "\nNo job run held a node in this period.")
	}
	if len(r.Days) > 0 {
		fmt.Fprintln(tw, "\nDAY (UTC)\tCOST\tSPOT\tON-DEMAND\tSAVINGS\tIDLE")
		for _, d := range r.Days {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Day, money(d.Totals.Cost), money(d.Totals.Spot), money(d.Totals.OnDemand),
				money(d.Totals.Savings), money(d.Idle))
		}
	}
	if len(r.IdleNodes) > 0 {
		fmt.Fprintln(tw, "\nIDLE NODE\tINSTANCE TYPE\tCAPACITY\tHOURS\tNODE COST\tCHARGED TO PODS\tIDLE")
		for _, n := range r.IdleNodes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%s\t%s\t%s\n", n.Node, cell(n.InstanceType), cell(n.CapacityType), n.Hours,
				money(n.NodeCost), money(n.Charged), money(n.Idle))
		}
	}
	printPrices(tw, r.Prices, r.Unpriced)
	return tw.Flush()
}
