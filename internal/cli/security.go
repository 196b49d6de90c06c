package cli

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

func (a *app) securityConfigurationsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "security-configurations",
		Short: "Create, describe and list security configurations",
	}
	c.AddCommand(a.secCreateCmd(), a.secDescribeCmd(), a.secListCmd())
	return c
}

func (a *app) secCreateCmd() *cobra.Command {
	var name, data, provider, clientToken, tags string
	c := &cobra.Command{
		Use:   "create",
		Short: "Create a security configuration (CreateSecurityConfiguration)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := &emrcontainers.CreateSecurityConfigurationInput{Name: aws.String(name), ClientToken: optional(clientToken)}
			if err := parseParam("security-configuration-data", data, &in.SecurityConfigurationData); err != nil {
				return err
			}
			if err := optionalParam("container-provider", provider, &in.ContainerProvider); err != nil {
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
			out, err := cl.CreateSecurityConfiguration(ctx, in)
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "name of the security configuration (required)")
	f.StringVar(&data, "security-configuration-data", "", "SecurityConfigurationData JSON (required)")
	f.StringVar(&provider, "container-provider", "", "ContainerProvider JSON the configuration applies to")
	f.StringVar(&clientToken, "client-token", "", "idempotency token (default: generated)")
	f.StringVar(&tags, "tags", "", "tags as JSON {\"k\":\"v\"} or k=v,k2=v2")
	mustRequire(c, "name", "security-configuration-data")
	return c
}

func (a *app) secDescribeCmd() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   "describe",
		Short: "Describe a security configuration (DescribeSecurityConfiguration)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			out, err := cl.DescribeSecurityConfiguration(ctx, &emrcontainers.DescribeSecurityConfigurationInput{Id: aws.String(id)})
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().StringVar(&id, "id", "", "ID of the security configuration (required)")
	mustRequire(c, "id")
	return c
}

func (a *app) secListCmd() *cobra.Command {
	var (
		after, before string
		pages         paging
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List security configurations (ListSecurityConfigurations), following every page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var in emrcontainers.ListSecurityConfigurationsInput
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
			items, next, err := collect(ctx, pages, func(ctx contextT, token *string, size *int32) ([]types.SecurityConfiguration, *string, error) {
				req := in
				req.NextToken, req.MaxResults = token, size
				out, err := cl.ListSecurityConfigurations(ctx, &req)
				if err != nil {
					return nil, nil, err
				}
				return out.SecurityConfigurations, out.NextToken, nil
			})
			if err != nil {
				return err
			}
			out := &emrcontainers.ListSecurityConfigurationsOutput{SecurityConfigurations: items, NextToken: next}
			return printList(a, cmd.OutOrStdout(), out, items, []column[types.SecurityConfiguration]{
				{"ID", func(s types.SecurityConfiguration) string { return aws.ToString(s.Id) }},
				{"NAME", func(s types.SecurityConfiguration) string { return aws.ToString(s.Name) }},
				{"CREATED", func(s types.SecurityConfiguration) string { return timeCell(s.CreatedAt) }},
			}, next)
		},
	}
	f := c.Flags()
	f.StringVar(&after, "created-after", "", "only configurations created after this time (ISO-8601, date or Unix seconds)")
	f.StringVar(&before, "created-before", "", "only configurations created before this time")
	pages.addFlags(c)
	return c
}
