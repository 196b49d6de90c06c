package cli

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	"github.com/spf13/cobra"
)

// group builds a command group: a command that only holds its subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
	}
	c.AddCommand(subs...)
	return c
}

// addCreateFlags adds the --client-token and --tags flags of the requests that create a
// resource.
func addCreateFlags(c *cobra.Command, clientToken, tags *string) {
	f := c.Flags()
	f.StringVar(clientToken, "client-token", "", "idempotency token (default: generated)")
	f.StringVar(tags, "tags", "", "tags as JSON {\"k\":\"v\"} or k=v,k2=v2")
}

// withClient builds the API client for cmd and runs fn with it and the command's context.
func (a *app) withClient(cmd *cobra.Command, fn func(ctx context.Context, cl *emrcontainers.Client) error) error {
	ctx := ctxOf(cmd)
	cl, err := a.client(ctx)
	if err != nil {
		return err
	}
	return fn(ctx, cl)
}

// call makes one API call and prints its output as a detail (see printDetail); an error of
// the call is reported as apiError does.
func call[T any](a *app, cmd *cobra.Command, fn func(ctx context.Context, cl *emrcontainers.Client) (T, error)) error {
	return a.withClient(cmd, func(ctx context.Context, cl *emrcontainers.Client) error {
		out, err := fn(ctx, cl)
		if err != nil {
			return apiError(err)
		}
		return a.printDetail(cmd.OutOrStdout(), out)
	})
}

// byIDCmd builds a command such as "describe" or "delete" whose only flag is the required
// --id of the resource it calls fn on; it prints the output of the call.
func byIDCmd[T any](a *app, use, short, idUsage string, fn func(ctx context.Context, cl *emrcontainers.Client, id *string) (T, error)) *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(a, cmd, func(ctx context.Context, cl *emrcontainers.Client) (T, error) {
				return fn(ctx, cl, aws.String(id))
			})
		},
	}
	c.Flags().StringVar(&id, "id", "", idUsage)
	mustRequire(c, "id")
	return c
}

// jobRunCmd builds a command such as "jobs describe" that names a job run by the required
// --id and --virtual-cluster-id flags and prints the output of calling fn on it.
func jobRunCmd[T any](a *app, use, short string, fn func(ctx context.Context, cl *emrcontainers.Client, id, vc *string) (T, error)) *cobra.Command {
	var vc string
	c := byIDCmd(a, use, short, "ID of the job run (required)", func(ctx context.Context, cl *emrcontainers.Client, id *string) (T, error) {
		return fn(ctx, cl, id, aws.String(vc))
	})
	c.Flags().StringVar(&vc, "virtual-cluster-id", "", "virtual cluster of the job run (required)")
	mustRequire(c, "virtual-cluster-id")
	return c
}

// createdFlags are the --created-after and --created-before flags of list commands.
type createdFlags struct {
	after, before string
}

// addFlags adds the flags to c; what names the listed resources in their help.
func (cf *createdFlags) addFlags(c *cobra.Command, what string) {
	f := c.Flags()
	f.StringVar(&cf.after, "created-after", "", "only "+what+" created after this time (ISO-8601, date or Unix seconds)")
	f.StringVar(&cf.before, "created-before", "", "only "+what+" created before this time")
}

// parse reads the flags; an unset flag gives nil.
func (cf *createdFlags) parse() (after, before *time.Time, err error) {
	if after, err = parseTimeFlag("created-after", cf.after); err != nil {
		return nil, nil, err
	}
	if before, err = parseTimeFlag("created-before", cf.before); err != nil {
		return nil, nil, err
	}
	return after, before, nil
}

// listing is what a list command states about its paginated List operation, whose output
// type is Out and whose items are T.
type listing[Out, T any] struct {
	// page requests one page: token is the nextToken to send, size the maxResults.
	page func(ctx context.Context, cl *emrcontainers.Client, token *string, size *int32) (*Out, error)
	// fields points at the items and the nextToken of an output; it reads each page and
	// fills the output printed for JSON and YAML.
	fields func(out *Out) (items *[]T, next **string)
	// columns are the table's columns.
	columns []column[T]
}

// list validates the pagination flags, gathers the pages (see collect) and prints them: the
// whole listing as one output for JSON and YAML, the items as a table otherwise.
func list[Out, T any](a *app, cmd *cobra.Command, pages paging, l listing[Out, T]) error {
	if err := pages.validate(); err != nil {
		return err
	}
	return a.withClient(cmd, func(ctx context.Context, cl *emrcontainers.Client) error {
		items, next, err := collect(ctx, pages, func(ctx context.Context, token *string, size *int32) ([]T, *string, error) {
			out, err := l.page(ctx, cl, token, size)
			if err != nil {
				return nil, nil, err
			}
			items, next := l.fields(out)
			return *items, *next, nil
		})
		if err != nil {
			return err
		}
		all := new(Out)
		allItems, allNext := l.fields(all)
		*allItems, *allNext = items, next
		return printList(a, cmd.OutOrStdout(), all, items, l.columns, next)
	})
}
