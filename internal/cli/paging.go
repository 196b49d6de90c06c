package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
)

// paging holds the pagination flags of list commands, with the aws CLI's names: --max-results
// is the page size asked of the API, --max-items caps the total and prints the token to resume
// from, --starting-token resumes.
type paging struct {
	maxResults    int32
	maxItems      int32
	startingToken string
}

func (p *paging) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.Int32Var(&p.maxResults, "max-results", 0, "page size asked of the API on each request (default: the server's)")
	f.Int32Var(&p.maxItems, "max-items", 0, "stop after this many items and print the token to continue from (default: all)")
	f.StringVar(&p.startingToken, "starting-token", "", "nextToken from an earlier listing to continue from")
}

func (p *paging) validate() error {
	if p.maxResults < 0 {
		return fmt.Errorf("--max-results: must be a positive number, got %d", p.maxResults)
	}
	if p.maxItems < 0 {
		return fmt.Errorf("--max-items: must be a positive number, got %d", p.maxItems)
	}
	return nil
}

// fetchPage requests one page: token is the nextToken to send (nil for the first page), size
// the maxResults (nil for the server's default).
type fetchPage[T any] func(ctx context.Context, token *string, size *int32) (items []T, next *string, err error)

// collect follows nextToken until the listing ends or --max-items items are gathered. With
// --max-items each request asks for no more than is still needed, so the returned token
// resumes exactly after the last item printed.
func collect[T any](ctx context.Context, p paging, fetch fetchPage[T]) ([]T, *string, error) {
	var (
		all   []T
		token *string
		seen  = map[string]bool{}
	)
	if p.startingToken != "" {
		token = aws.String(p.startingToken)
	}
	for {
		var size *int32
		if p.maxResults > 0 {
			size = aws.Int32(p.maxResults)
		}
		if p.maxItems > 0 {
			left := p.maxItems - int32(len(all))
			if size == nil || *size > left {
				size = aws.Int32(left)
			}
		}
		items, next, err := fetch(ctx, token, size)
		if err != nil {
			return nil, nil, apiError(err)
		}
		all = append(all, items...)
		if next == nil || *next == "" {
			return all, nil, nil
		}
		if seen[*next] {
			return nil, nil, errors.New("the server returned the same nextToken twice; stopping to avoid an endless listing")
		}
		seen[*next] = true
		token = next
		if p.maxItems > 0 && int32(len(all)) >= p.maxItems {
			return all[:p.maxItems], next, nil
		}
	}
}
