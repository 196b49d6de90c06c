package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/spf13/cobra"
)

func (a *app) tagsCmd() *cobra.Command {
	return group("tags", "List, add and remove the tags of a resource (by ARN)",
		a.tagsListCmd(), a.tagsAddCmd(), a.tagsRemoveCmd())
}

func (a *app) tagsListCmd() *cobra.Command {
	var arn string
	c := &cobra.Command{
		Use:   "list",
		Short: "List the tags of a resource (ListTagsForResource)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withClient(cmd, func(ctx context.Context, cl *emrcontainers.Client) error {
				out, err := cl.ListTagsForResource(ctx, &emrcontainers.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
				if err != nil {
					return apiError(err)
				}
				keys := make([]string, 0, len(out.Tags))
				for k := range out.Tags {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				return printList(a, cmd.OutOrStdout(), out, keys, []column[string]{
					{"KEY", func(k string) string { return k }},
					{"VALUE", func(k string) string { return out.Tags[k] }},
				}, nil)
			})
		},
	}
	c.Flags().StringVar(&arn, "resource-arn", "", "ARN of the virtual cluster, job run or job template (required)")
	mustRequire(c, "resource-arn")
	return c
}

func (a *app) tagsAddCmd() *cobra.Command {
	var arn, tags string
	c := &cobra.Command{
		Use:   "add",
		Short: "Add or replace tags on a resource (TagResource)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := &emrcontainers.TagResourceInput{ResourceArn: aws.String(arn)}
			if err := parseParam("tags", tags, &in.Tags); err != nil {
				return err
			}
			return call(a, cmd, func(ctx context.Context, cl *emrcontainers.Client) (*emrcontainers.TagResourceOutput, error) {
				return cl.TagResource(ctx, in)
			})
		},
	}
	c.Flags().StringVar(&arn, "resource-arn", "", "ARN of the resource (required)")
	c.Flags().StringVar(&tags, "tags", "", "tags as JSON {\"k\":\"v\"} or k=v,k2=v2 (required)")
	mustRequire(c, "resource-arn", "tags")
	return c
}

func (a *app) tagsRemoveCmd() *cobra.Command {
	var (
		arn  string
		keys []string
	)
	c := &cobra.Command{
		Use:   "remove",
		Short: "Remove tags from a resource (UntagResource)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var tagKeys []string
			for _, k := range keys {
				if k = strings.TrimSpace(k); k == "" {
					return fmt.Errorf("--tag-keys: empty key")
				}
				tagKeys = append(tagKeys, k)
			}
			return call(a, cmd, func(ctx context.Context, cl *emrcontainers.Client) (*emrcontainers.UntagResourceOutput, error) {
				return cl.UntagResource(ctx, &emrcontainers.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: tagKeys})
			})
		},
	}
	c.Flags().StringVar(&arn, "resource-arn", "", "ARN of the resource (required)")
	c.Flags().StringSliceVar(&keys, "tag-keys", nil, "keys to remove; repeat or separate with commas (required)")
	mustRequire(c, "resource-arn", "tag-keys")
	return c
}
