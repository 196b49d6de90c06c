package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sparkplane/sparkplane/internal/audit"
)

func (a *app) auditCmd() *cobra.Command {
	return group("audit", "Read the server's audit log of calls (sparkplane extension)", a.auditListCmd())
}

func (a *app) auditListCmd() *cobra.Command {
	var (
		since, until, principal, action string
		pages                           paging
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List the calls the server answered: who asked for what, and what came of it",
		Long: `List the audit log's events within a time range, oldest first, following every page: the
time, the caller (principal ARN and access key), the action and resource, and the outcome
(allowed, denied by a policy or a bad signature, or failed with an error code).

--since and --until take a duration back from now (1h, 7d, 90m), a date (2026-11-01, midnight
UTC) or an ISO-8601 time (2026-11-01T12:00:00Z). Without --since the server lists the last
hour. --action is a full action name as policies write it (sparkplane:CreateUser,
emr-containers:StartJobRun), matched without regard to case.`,
		Example: `  sparkplane audit list --since 1h
  sparkplane audit list --since 7d --action emr-containers:StartJobRun
  sparkplane audit list --since 2026-11-01 --until 2026-11-02 --principal arn:aws:iam::000000000000:user/ana -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			now := time.Now().UTC()
			for _, f := range []struct{ flag, value string }{{"since", since}, {"until", until}} {
				if f.value == "" {
					continue
				}
				t, err := parseSince(f.value, now)
				if err != nil {
					return fmt.Errorf("--%s: %w", f.flag, err)
				}
				q.Set(f.flag, t.UTC().Format(time.RFC3339Nano))
			}
			if action != "" {
				if !strings.Contains(action, ":") {
					return fmt.Errorf("--action: %q must be a full action name with its service prefix, such as emr-containers:StartJobRun or sparkplane:CreateUser", action)
				}
				q.Set("action", action)
			}
			if principal != "" {
				q.Set("principal", principal)
			}
			if err := pages.validate(); err != nil {
				return err
			}
			events, next, err := collect(ctxOf(cmd), pages, func(ctx context.Context, token *string, size *int32) ([]json.RawMessage, *string, error) {
				return a.auditPage(ctx, q, token, size)
			})
			if err != nil {
				return err
			}
			return a.printAudit(cmd, events, next)
		},
	}
	f := c.Flags()
	f.StringVar(&since, "since", "", "start of the range: 1h, 7d, a date 2026-11-01 or an ISO-8601 time (default 1h)")
	f.StringVar(&until, "until", "", "end of the range, in the same forms (default now)")
	f.StringVar(&principal, "principal", "", "only calls by this principal ARN")
	f.StringVar(&action, "action", "", "only calls of this action, such as sparkplane:CreateUser")
	pages.addFlags(c)
	return c
}

// auditPage requests one page of GET /audit/events; the events are kept as the server wrote
// them, so that -o json prints every member it has.
func (a *app) auditPage(ctx context.Context, filter url.Values, token *string, size *int32) ([]json.RawMessage, *string, error) {
	q := url.Values{}
	for k, v := range filter {
		q[k] = v
	}
	if token != nil {
		q.Set("nextToken", *token)
	}
	if size != nil {
		q.Set("maxResults", strconv.Itoa(int(*size)))
	}
	raw, err := a.send(ctx, http.MethodGet, "/audit/events", q, nil)
	if err != nil {
		return nil, nil, err
	}
	var page struct {
		Events    []json.RawMessage `json:"events"`
		NextToken *string           `json:"nextToken"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, nil, fmt.Errorf("decode audit events: %w", err)
	}
	return page.Events, page.NextToken, nil
}

// printAudit prints the gathered events: {"events": [...], "nextToken"} for JSON and YAML (the
// token only when --max-items stopped the listing), a table otherwise.
func (a *app) printAudit(cmd *cobra.Command, events []json.RawMessage, next *string) error {
	w := cmd.OutOrStdout()
	if events == nil {
		events = []json.RawMessage{}
	}
	all, err := json.Marshal(struct {
		Events    []json.RawMessage `json:"events"`
		NextToken *string           `json:"nextToken,omitempty"`
	}{events, next})
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	if ok, err := a.printRaw(w, all); ok {
		return err
	}
	rows := make([]audit.Event, len(events))
	for i, e := range events {
		if err := json.Unmarshal(e, &rows[i]); err != nil {
			return fmt.Errorf("decode audit event: %w", err)
		}
	}
	return printList(a, w, nil, rows, []column[audit.Event]{
		{"TIME", func(e audit.Event) string { return e.Time.UTC().Format(time.RFC3339) }},
		{"PRINCIPAL", func(e audit.Event) string { return e.Principal }},
		{"ACTION", func(e audit.Event) string { return e.Action }},
		{"RESOURCE", func(e audit.Event) string { return e.Resource }},
		{"OUTCOME", func(e audit.Event) string { return e.Outcome }},
		{"CODE", func(e audit.Event) string { return e.ErrorCode }},
	}, next)
}
