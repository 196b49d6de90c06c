package cli

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

func (a *app) jobTemplatesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "job-templates",
		Short: "Create, describe, list and delete job templates",
	}
	c.AddCommand(a.tmplCreateCmd(), a.tmplDescribeCmd(), a.tmplListCmd(), a.tmplDeleteCmd())
	return c
}

func (a *app) tmplCreateCmd() *cobra.Command {
	var name, data, clientToken, tags, kms string
	c := &cobra.Command{
		Use:     "create",
		Short:   "Create a job template (CreateJobTemplate)",
		Example: `  sparkplane job-templates create --name daily --job-template-data file://template.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := &emrcontainers.CreateJobTemplateInput{Name: aws.String(name), ClientToken: optional(clientToken), KmsKeyArn: optional(kms)}
			if err := parseParam("job-template-data", data, &in.JobTemplateData); err != nil {
				return err
			}
			if err := optionalParam("tags", tags, &in.Tags); err != nil {
				return err
			}
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			out, err := cl.CreateJobTemplate(ctx, in)
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "name of the job template (required)")
	f.StringVar(&data, "job-template-data", "", "JobTemplateData JSON: the StartJobRun fields with ${Param} placeholders and parameterConfiguration (required)")
	f.StringVar(&clientToken, "client-token", "", "idempotency token (default: generated)")
	f.StringVar(&tags, "tags", "", "tags as JSON {\"k\":\"v\"} or k=v,k2=v2")
	f.StringVar(&kms, "kms-key-arn", "", "KMS key that encrypts the template")
	mustRequire(c, "name", "job-template-data")
	return c
}

func (a *app) tmplDescribeCmd() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   "describe",
		Short: "Describe a job template (DescribeJobTemplate)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			out, err := cl.DescribeJobTemplate(ctx, &emrcontainers.DescribeJobTemplateInput{Id: aws.String(id)})
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().StringVar(&id, "id", "", "ID of the job template (required)")
	mustRequire(c, "id")
	return c
}

func (a *app) tmplDeleteCmd() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   "delete",
		Short: "Delete a job template (DeleteJobTemplate)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			out, err := cl.DeleteJobTemplate(ctx, &emrcontainers.DeleteJobTemplateInput{Id: aws.String(id)})
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().StringVar(&id, "id", "", "ID of the job template (required)")
	mustRequire(c, "id")
	return c
}

func (a *app) tmplListCmd() *cobra.Command {
	var (
		after, before string
		pages         paging
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List job templates (ListJobTemplates), following every page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var in emrcontainers.ListJobTemplatesInput
			var err error
			if in.CreatedAfter, err = parseTimeFlag("created-after", after); err != nil {
				return err
			}
			if in.CreatedBefore, err = parseTimeFlag("created-before", before); err != nil {
				return err
			}
			if err := pages.validate(); err != nil {
				return err
			}
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			items, next, err := collect(ctx, pages, func(ctx contextT, token *string, size *int32) ([]types.JobTemplate, *string, error) {
				req := in
				req.NextToken, req.MaxResults = token, size
				out, err := cl.ListJobTemplates(ctx, &req)
				if err != nil {
					return nil, nil, err
				}
				return out.Templates, out.NextToken, nil
			})
			if err != nil {
				return err
			}
			out := &emrcontainers.ListJobTemplatesOutput{Templates: items, NextToken: next}
			return printList(a, cmd.OutOrStdout(), out, items, []column[types.JobTemplate]{
				{"ID", func(t types.JobTemplate) string { return aws.ToString(t.Id) }},
				{"NAME", func(t types.JobTemplate) string { return aws.ToString(t.Name) }},
				{"RELEASE", func(t types.JobTemplate) string {
					if t.JobTemplateData == nil {
						return ""
					}
					return aws.ToString(t.JobTemplateData.ReleaseLabel)
				}},
				{"CREATED", func(t types.JobTemplate) string { return timeCell(t.CreatedAt) }},
			}, next)
		},
	}
	f := c.Flags()
	f.StringVar(&after, "created-after", "", "only templates created after this time (ISO-8601, date or Unix seconds)")
	f.StringVar(&before, "created-before", "", "only templates created before this time")
	pages.addFlags(c)
	return c
}
