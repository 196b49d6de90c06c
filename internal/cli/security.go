package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

func (a *app) securityConfigurationsCmd() *cobra.Command {
	return group("security-configurations", "Create, describe and list security configurations",
		a.secCreateCmd(), a.secDescribeCmd(), a.secListCmd())
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
			return call(a, cmd, func(ctx context.Context, cl *emrcontainers.Client) (*emrcontainers.CreateSecurityConfigurationOutput, error) {
				return cl.CreateSecurityConfiguration(ctx, in)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "name of the security configuration (required)")
	f.StringVar(&data, "security-configuration-data", "", "SecurityConfigurationData JSON (required)")
	f.StringVar(&provider, "container-provider", "", "ContainerProvider JSON the configuration applies to")
	addCreateFlags(c, &clientToken, &tags)
	mustRequire(c, "name", "security-configuration-data")
	return c
}

func (a *app) secDescribeCmd() *cobra.Command {
	return byIDCmd(a, "describe", "Describe a security configuration (DescribeSecurityConfiguration)", "ID of the security configuration (required)",
		func(ctx context.Context, cl *emrcontainers.Client, id *string) (*emrcontainers.DescribeSecurityConfigurationOutput, error) {
			return cl.DescribeSecurityConfiguration(ctx, &emrcontainers.DescribeSecurityConfigurationInput{Id: id})
		})
}

func (a *app) secListCmd() *cobra.Command {
	var (
		created createdFlags
		pages   paging
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List security configurations (ListSecurityConfigurations), following every page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var in emrcontainers.ListSecurityConfigurationsInput
			var err error
			if in.CreatedAfter, in.CreatedBefore, err = created.parse(); err != nil {
				return err
			}
			return list(a, cmd, pages, listing[emrcontainers.ListSecurityConfigurationsOutput, types.SecurityConfiguration]{
				page: func(ctx context.Context, cl *emrcontainers.Client, token *string, size *int32) (*emrcontainers.ListSecurityConfigurationsOutput, error) {
					req := in
					req.NextToken, req.MaxResults = token, size
					return cl.ListSecurityConfigurations(ctx, &req)
				},
				fields: func(o *emrcontainers.ListSecurityConfigurationsOutput) (*[]types.SecurityConfiguration, **string) {
					return &o.SecurityConfigurations, &o.NextToken
				},
				columns: []column[types.SecurityConfiguration]{
					{"ID", func(s types.SecurityConfiguration) string { return aws.ToString(s.Id) }},
					{"NAME", func(s types.SecurityConfiguration) string { return aws.ToString(s.Name) }},
					{"CREATED", func(s types.SecurityConfiguration) string { return timeCell(s.CreatedAt) }},
				},
			})
		},
	}
	created.addFlags(c, "configurations")
	pages.addFlags(c)
	return c
}
