package cli

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/spf13/cobra"
)

func (a *app) virtualClustersCmd() *cobra.Command {
	return group("virtual-clusters", "Create, describe, list and delete virtual clusters (a namespace jobs run in)",
		a.vcCreateCmd(), a.vcDescribeCmd(), a.vcListCmd(), a.vcDeleteCmd())
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
			return call(a, cmd, func(ctx context.Context, cl *emrcontainers.Client) (*emrcontainers.CreateVirtualClusterOutput, error) {
				return cl.CreateVirtualCluster(ctx, in)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "name of the virtual cluster (required)")
	f.StringVar(&provider, "container-provider", "", "ContainerProvider JSON: {\"id\":..., \"type\":\"EKS\", \"info\":{\"eksInfo\":{\"namespace\":...}}} (required)")
	addCreateFlags(c, &clientToken, &tags)
	f.StringVar(&secConf, "security-configuration-id", "", "security configuration to attach")
	mustRequire(c, "name", "container-provider")
	return c
}

func (a *app) vcDescribeCmd() *cobra.Command {
	return byIDCmd(a, "describe", "Describe a virtual cluster (DescribeVirtualCluster)", "ID of the virtual cluster (required)",
		func(ctx context.Context, cl *emrcontainers.Client, id *string) (*emrcontainers.DescribeVirtualClusterOutput, error) {
			return cl.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: id})
		})
}

func (a *app) vcDeleteCmd() *cobra.Command {
	return byIDCmd(a, "delete", "Delete a virtual cluster (DeleteVirtualCluster)", "ID of the virtual cluster (required)",
		func(ctx context.Context, cl *emrcontainers.Client, id *string) (*emrcontainers.DeleteVirtualClusterOutput, error) {
			return cl.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: id})
		})
}

func (a *app) vcListCmd() *cobra.Command {
	var (
		providerID, providerType string
		states                   []string
		accessEntry              bool
		created                  createdFlags
		pages                    paging
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
			if in.CreatedAfter, in.CreatedBefore, err = created.parse(); err != nil {
				return err
			}
			if in.States, err = parseEnumList[types.VirtualClusterState]("states", states); err != nil {
				return err
			}
			if cmd.Flags().Changed("eks-access-entry-integrated") {
				in.EksAccessEntryIntegrated = aws.Bool(accessEntry)
			}
			return list(a, cmd, pages, listing[emrcontainers.ListVirtualClustersOutput, types.VirtualCluster]{
				page: func(ctx context.Context, cl *emrcontainers.Client, token *string, size *int32) (*emrcontainers.ListVirtualClustersOutput, error) {
					req := in
					req.NextToken, req.MaxResults = token, size
					return cl.ListVirtualClusters(ctx, &req)
				},
				fields: func(o *emrcontainers.ListVirtualClustersOutput) (*[]types.VirtualCluster, **string) {
					return &o.VirtualClusters, &o.NextToken
				},
				columns: []column[types.VirtualCluster]{
					{"ID", func(v types.VirtualCluster) string { return aws.ToString(v.Id) }},
					{"NAME", func(v types.VirtualCluster) string { return aws.ToString(v.Name) }},
					{"STATE", func(v types.VirtualCluster) string { return string(v.State) }},
					{"PROVIDER", func(v types.VirtualCluster) string { return providerOf(v.ContainerProvider) }},
					{"NAMESPACE", func(v types.VirtualCluster) string { return namespaceOf(v.ContainerProvider) }},
					{"CREATED", func(v types.VirtualCluster) string { return timeCell(v.CreatedAt) }},
				},
			})
		},
	}
	f := c.Flags()
	f.StringVar(&providerID, "container-provider-id", "", "only clusters on this container provider (Kubernetes cluster) id")
	f.StringVar(&providerType, "container-provider-type", "", "only clusters of this container provider type (EKS)")
	created.addFlags(c, "clusters")
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
