package cli

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

func (a *app) virtualClustersCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "virtual-clusters",
		Short: "Create, describe, list and delete virtual clusters (a namespace jobs run in)",
	}
	c.AddCommand(a.vcCreateCmd(), a.vcDescribeCmd(), a.vcListCmd(), a.vcDeleteCmd())
	return c
}

func (a *app) vcCreateCmd() *cobra.Command {
	var name, provider, clientToken, tags, secConf string
	c := &cobra.Command{
		Use:   "create",
		Short: "Create a virtual cluster (CreateVirtualCluster)",
		Example: `  sparkplane virtual-clusters create --name analytics \
    --container-provider '{"id":"local","type":"EKS","info":{"eksInfo":{"namespace":"spark-jobs"}}}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := &emrcontainers.CreateVirtualClusterInput{Name: aws.String(name)}
			if err := parseParam("container-provider", provider, &in.ContainerProvider); err != nil {
				return err
			}
			if err := optionalParam("tags", tags, &in.Tags); err != nil {
				return err
			}
			in.ClientToken = optional(clientToken)
			in.SecurityConfigurationId = optional(secConf)
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			out, err := cl.CreateVirtualCluster(ctx, in)
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "name of the virtual cluster (required)")
	f.StringVar(&provider, "container-provider", "", "ContainerProvider JSON: {\"id\":..., \"type\":\"EKS\", \"info\":{\"eksInfo\":{\"namespace\":...}}} (required)")
	f.StringVar(&clientToken, "client-token", "", "idempotency token (default: generated)")
	f.StringVar(&tags, "tags", "", "tags as JSON {\"k\":\"v\"} or k=v,k2=v2")
	f.StringVar(&secConf, "security-configuration-id", "", "security configuration to attach")
	mustRequire(c, "name", "container-provider")
	return c
}

func (a *app) vcDescribeCmd() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   "describe",
		Short: "Describe a virtual cluster (DescribeVirtualCluster)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			out, err := cl.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(id)})
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().StringVar(&id, "id", "", "ID of the virtual cluster (required)")
	mustRequire(c, "id")
	return c
}

func (a *app) vcDeleteCmd() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   "delete",
		Short: "Delete a virtual cluster (DeleteVirtualCluster)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			out, err := cl.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: aws.String(id)})
			if err != nil {
				return apiError(err)
			}
			return a.printDetail(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().StringVar(&id, "id", "", "ID of the virtual cluster (required)")
	mustRequire(c, "id")
	return c
}

func (a *app) vcListCmd() *cobra.Command {
	var (
		providerID, providerType, after, before string
		states                                  []string
		accessEntry                             bool
		pages                                   paging
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List virtual clusters (ListVirtualClusters), following every page",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := emrcontainers.ListVirtualClustersInput{ContainerProviderId: optional(providerID)}
			var err error
			if providerType != "" {
				if err := checkEnumFlag[types.ContainerProviderType]("container-provider-type", providerType); err != nil {
					return err
				}
				in.ContainerProviderType = types.ContainerProviderType(providerType)
			}
			if in.CreatedAfter, err = parseTimeFlag("created-after", after); err != nil {
				return err
			}
			if in.CreatedBefore, err = parseTimeFlag("created-before", before); err != nil {
				return err
			}
			if in.States, err = parseEnumList[types.VirtualClusterState]("states", states); err != nil {
				return err
			}
			if cmd.Flags().Changed("eks-access-entry-integrated") {
				in.EksAccessEntryIntegrated = aws.Bool(accessEntry)
			}
			if err := pages.validate(); err != nil {
				return err
			}
			ctx := ctxOf(cmd)
			cl, err := a.client(ctx)
			if err != nil {
				return err
			}
			items, next, err := collect(ctx, pages, func(ctx contextT, token *string, size *int32) ([]types.VirtualCluster, *string, error) {
				req := in
				req.NextToken, req.MaxResults = token, size
				out, err := cl.ListVirtualClusters(ctx, &req)
				if err != nil {
					return nil, nil, err
				}
				return out.VirtualClusters, out.NextToken, nil
			})
			if err != nil {
				return err
			}
			out := &emrcontainers.ListVirtualClustersOutput{VirtualClusters: items, NextToken: next}
			return printList(a, cmd.OutOrStdout(), out, items, []column[types.VirtualCluster]{
				{"ID", func(v types.VirtualCluster) string { return aws.ToString(v.Id) }},
				{"NAME", func(v types.VirtualCluster) string { return aws.ToString(v.Name) }},
				{"STATE", func(v types.VirtualCluster) string { return string(v.State) }},
				{"PROVIDER", func(v types.VirtualCluster) string { return providerOf(v.ContainerProvider) }},
				{"NAMESPACE", func(v types.VirtualCluster) string { return namespaceOf(v.ContainerProvider) }},
				{"CREATED", func(v types.VirtualCluster) string { return timeCell(v.CreatedAt) }},
			}, next)
		},
	}
	f := c.Flags()
	f.StringVar(&providerID, "container-provider-id", "", "only clusters on this container provider (Kubernetes cluster) id")
	f.StringVar(&providerType, "container-provider-type", "", "only clusters of this container provider type (EKS)")
	f.StringVar(&after, "created-after", "", "only clusters created after this time (ISO-8601, date or Unix seconds)")
	f.StringVar(&before, "created-before", "", "only clusters created before this time")
	f.StringSliceVar(&states, "states", nil, "only clusters in these states (RUNNING, TERMINATING, TERMINATED, ARRESTED); repeat or separate with commas")
	f.BoolVar(&accessEntry, "eks-access-entry-integrated", false, "only clusters with (true) or without (false) EKS access entry integration")
	pages.addFlags(c)
	return c
}

func providerOf(p *types.ContainerProvider) string {
	if p == nil {
		return ""
	}
	return string(p.Type) + "/" + aws.ToString(p.Id)
}

func namespaceOf(p *types.ContainerProvider) string {
	if p == nil {
		return ""
	}
	if eks, ok := p.Info.(*types.ContainerInfoMemberEksInfo); ok {
		return aws.ToString(eks.Value.Namespace)
	}
	return ""
}

func timeCell(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
