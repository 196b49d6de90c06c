package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

func (a *app) jobTemplatesCmd() *cobra.Command {
	return group("job-templates", "Create, describe, list and delete job templates",
		a.tmplCreateCmd(), a.tmplDescribeCmd(), a.tmplListCmd(), a.tmplDeleteCmd())
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
			return call(a, cmd, func(ctx context.Context, cl *emrcontainers.Client) (*emrcontainers.CreateJobTemplateOutput, error) {
				return cl.CreateJobTemplate(ctx, in)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "name of the job template (required)")
	f.StringVar(&data, "job-template-data", "", "JobTemplateData JSON: the StartJobRun fields with ${Param} placeholders and parameterConfiguration (required)")
	addCreateFlags(c, &clientToken, &tags)
	f.StringVar(&kms, "kms-key-arn", "", "KMS key that encrypts the template")
	mustRequire(c, "name", "job-template-data")
	return c
}

func (a *app) tmplDescribeCmd() *cobra.Command {
	return byIDCmd(a, "describe", "Describe a job template (DescribeJobTemplate)", "ID of the job template (required)",
		func(ctx context.Context, cl *emrcontainers.Client, id *string) (*emrcontainers.DescribeJobTemplateOutput, error) {
			return cl.DescribeJobTemplate(ctx, &emrcontainers.DescribeJobTemplateInput{Id: id})
		})
}

func (a *app) tmplDeleteCmd() *cobra.Command {
	return byIDCmd(a, "delete", "Delete a job template (DeleteJobTemplate)", "ID of the job template (required)",
		func(ctx context.Context, cl *emrcontainers.Client, id *string) (*emrcontainers.DeleteJobTemplateOutput, error) {
			return cl.DeleteJobTemplate(ctx, &emrcontainers.DeleteJobTemplateInput{Id: id})
		})
}

func (a *app) tmplListCmd() *cobra.Command {
	var (
		created createdFlags
		pages   paging
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List job templates (ListJobTemplates), following every page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var in emrcontainers.ListJobTemplatesInput
			var err error
			if in.CreatedAfter, in.CreatedBefore, err = created.parse(); err != nil {
				return err
			}
			return list(a, cmd, pages, listing[emrcontainers.ListJobTemplatesOutput, types.JobTemplate]{
				page: func(ctx context.Context, cl *emrcontainers.Client, token *string, size *int32) (*emrcontainers.ListJobTemplatesOutput, error) {
					req := in
					req.NextToken, req.MaxResults = token, size
					return cl.ListJobTemplates(ctx, &req)
				},
				fields: func(o *emrcontainers.ListJobTemplatesOutput) (*[]types.JobTemplate, **string) {
					return &o.Templates, &o.NextToken
				},
				columns: []column[types.JobTemplate]{
					{"ID", func(t types.JobTemplate) string { return aws.ToString(t.Id) }},
					{"NAME", func(t types.JobTemplate) string { return aws.ToString(t.Name) }},
					{"RELEASE", func(t types.JobTemplate) string {
						if t.JobTemplateData == nil {
							return ""
						}
						return aws.ToString(t.JobTemplateData.ReleaseLabel)
					}},
					{"CREATED", func(t types.JobTemplate) string { return timeCell(t.CreatedAt) }},
				},
			})
		},
	}
	created.addFlags(c, "templates")
	pages.addFlags(c)
	return c
}
