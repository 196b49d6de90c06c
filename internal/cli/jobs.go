package cli

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

func (a *app) jobsCmd() *cobra.Command {
	return group("jobs", "Start, describe, list, cancel and wait for job runs",
		a.jobStartCmd(), a.jobDescribeCmd(), a.jobListCmd(), a.jobCancelCmd(), a.jobWaitCmd())
}

func (a *app) jobStartCmd() *cobra.Command {
	var (
		vc, name, role, release, driver, overrides, retry, tags, tmplID, tmplParams, clientToken, input string
		wait                                                                                            waitFlags
		doWait                                                                                          bool
	)
	c := &cobra.Command{
		Use:   "start",
		Short: "Start a job run (StartJobRun)",
		Example: `  sparkplane jobs start --virtual-cluster-id abc123 --name pi \
    --execution-role-arn arn:aws:iam::111122223333:role/spark --release-label emr-7.2.0-latest \
    --job-driver '{"sparkSubmitJobDriver":{"entryPoint":"local:///opt/spark/examples/src/main/python/pi.py","entryPointArguments":["100"]}}'
  sparkplane jobs start --virtual-cluster-id abc123 --job-template-id t1 \
    --job-template-parameters Date=2024-05-01 --execution-role-arn ... --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := &emrcontainers.StartJobRunInput{}
			if err := optionalParam("cli-input-json", input, in); err != nil {
				return err
			}
			set := func(dst **string, v string) {
				if v != "" {
					*dst = aws.String(v)
				}
			}
			set(&in.VirtualClusterId, vc)
			set(&in.Name, name)
			set(&in.ExecutionRoleArn, role)
			set(&in.ReleaseLabel, release)
			set(&in.JobTemplateId, tmplID)
			set(&in.ClientToken, clientToken)
			for _, p := range []struct {
				flag, raw string
				dst       any
			}{
				{"job-driver", driver, &in.JobDriver},
				{"configuration-overrides", overrides, &in.ConfigurationOverrides},
				{"retry-policy-configuration", retry, &in.RetryPolicyConfiguration},
				{"tags", tags, &in.Tags},
				{"job-template-parameters", tmplParams, &in.JobTemplateParameters},
			} {
				if err := optionalParam(p.flag, p.raw, p.dst); err != nil {
					return err
				}
			}
			if in.VirtualClusterId == nil {
				return errRequired("virtual-cluster-id")
			}
			if doWait {
				if err := wait.validate(); err != nil {
					return err
				}
			}
			return a.withClient(cmd, func(ctx context.Context, cl *emrcontainers.Client) error {
				out, err := cl.StartJobRun(ctx, in)
				if err != nil {
					return apiError(err)
				}
				if !doWait {
					return a.printDetail(cmd.OutOrStdout(), out)
				}
				if a.g.output == "table" {
					if err := a.printDetail(cmd.OutOrStdout(), out); err != nil {
						return err
					}
				}
				return a.waitJob(cmd, cl, aws.ToString(out.VirtualClusterId), aws.ToString(out.Id), wait)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&vc, "virtual-cluster-id", "", "virtual cluster to run in (required)")
	f.StringVar(&name, "name", "", "name of the job run")
	f.StringVar(&role, "execution-role-arn", "", "execution role the job's pods run as")
	f.StringVar(&release, "release-label", "", "release label of the Spark runtime, e.g. emr-7.2.0-latest")
	f.StringVar(&driver, "job-driver", "", "JobDriver JSON: {\"sparkSubmitJobDriver\":{\"entryPoint\":...,\"entryPointArguments\":[...],\"sparkSubmitParameters\":...}}")
	f.StringVar(&overrides, "configuration-overrides", "", "ConfigurationOverrides JSON: {\"applicationConfiguration\":[...],\"monitoringConfiguration\":{...}}")
	f.StringVar(&retry, "retry-policy-configuration", "", "RetryPolicyConfiguration JSON {\"maxAttempts\":2} or maxAttempts=2")
	f.StringVar(&tmplID, "job-template-id", "", "job template to start from")
	f.StringVar(&tmplParams, "job-template-parameters", "", "template parameter values as JSON {\"Name\":\"value\"} or Name=value,...")
	addCreateFlags(c, &clientToken, &tags)
	f.StringVar(&input, "cli-input-json", "", "the whole StartJobRun request as JSON; flags given as well override its fields")
	f.BoolVar(&doWait, "wait", false, "after starting, wait for the job run to end as 'jobs wait' does")
	wait.addFlags(c)
	return c
}

func (a *app) jobDescribeCmd() *cobra.Command {
	return jobRunCmd(a, "describe", "Describe a job run (DescribeJobRun)",
		func(ctx context.Context, cl *emrcontainers.Client, id, vc *string) (*emrcontainers.DescribeJobRunOutput, error) {
			return cl.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{Id: id, VirtualClusterId: vc})
		})
}

func (a *app) jobCancelCmd() *cobra.Command {
	return jobRunCmd(a, "cancel", "Cancel a job run (CancelJobRun)",
		func(ctx context.Context, cl *emrcontainers.Client, id, vc *string) (*emrcontainers.CancelJobRunOutput, error) {
			return cl.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{Id: id, VirtualClusterId: vc})
		})
}

func (a *app) jobListCmd() *cobra.Command {
	var (
		vc, name, createdBy string
		states, tags        []string
		created             createdFlags
		pages               paging
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List the job runs of a virtual cluster (ListJobRuns), following every page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc), Name: optional(name)}
			var err error
			if in.CreatedAfter, in.CreatedBefore, err = created.parse(); err != nil {
				return err
			}
			if in.States, err = parseEnumList[types.JobRunState]("states", states); err != nil {
				return err
			}
			// sparkplane's filters beyond ListJobRuns' own go as extra query parameters.
			extra := url.Values{}
			if createdBy != "" {
				extra.Set("createdBy", createdBy)
			}
			for _, t := range tags {
				if k, _, ok := strings.Cut(t, "="); !ok || k == "" {
					return fmt.Errorf("--tag: must be key=value, such as team=analytics, got %q", t)
				}
				extra.Add("tag", t)
			}
			return list(a, cmd, pages, listing[emrcontainers.ListJobRunsOutput, types.JobRun]{
				page: func(ctx context.Context, cl *emrcontainers.Client, token *string, size *int32) (*emrcontainers.ListJobRunsOutput, error) {
					req := in
					req.NextToken, req.MaxResults = token, size
					return cl.ListJobRuns(ctx, &req, withQuery(extra))
				},
				fields: func(o *emrcontainers.ListJobRunsOutput) (*[]types.JobRun, **string) { return &o.JobRuns, &o.NextToken },
				columns: []column[types.JobRun]{
					{"ID", func(j types.JobRun) string { return aws.ToString(j.Id) }},
					{"NAME", func(j types.JobRun) string { return aws.ToString(j.Name) }},
					{"STATE", func(j types.JobRun) string { return string(j.State) }},
					{"RELEASE", func(j types.JobRun) string { return aws.ToString(j.ReleaseLabel) }},
					{"CREATED", func(j types.JobRun) string { return timeCell(j.CreatedAt) }},
					{"FINISHED", func(j types.JobRun) string { return timeCell(j.FinishedAt) }},
				},
			})
		},
	}
	f := c.Flags()
	f.StringVar(&vc, "virtual-cluster-id", "", "virtual cluster whose job runs to list (required)")
	f.StringVar(&name, "name", "", "only job runs with this name")
	created.addFlags(c, "job runs")
	f.StringSliceVar(&states, "states", nil, "only job runs in these states (PENDING, SUBMITTED, RUNNING, FAILED, CANCELLED, CANCEL_PENDING, COMPLETED); repeat or separate with commas")
	f.StringVar(&createdBy, "created-by", "", "only job runs started by this principal ARN (sparkplane extension)")
	f.StringArrayVar(&tags, "tag", nil, "only job runs with this tag, key=value; repeat for several, all must match (sparkplane extension)")
	pages.addFlags(c)
	mustRequire(c, "virtual-cluster-id")
	return c
}

// withQuery adds query parameters to an operation's request: sparkplane's extension filters,
// which the emr-containers model does not have. They are added before the request is signed.
func withQuery(extra url.Values) func(*emrcontainers.Options) {
	return func(o *emrcontainers.Options) {
		if len(extra) == 0 {
			return
		}
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Build.Add(middleware.BuildMiddlewareFunc("sparkplaneQuery", func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					q := req.URL.Query()
					for k, vs := range extra {
						for _, v := range vs {
							q.Add(k, v)
						}
					}
					req.URL.RawQuery = q.Encode()
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
		})
	}
}
