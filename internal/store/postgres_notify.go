package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// jobRunChannel is the PostgreSQL notification channel on which replicas tell the one that
// runs the controller about job runs they accepted or were asked to cancel.
const jobRunChannel = "sparkplane_job_runs"

// maxPayload keeps a notification under PostgreSQL's 8000-byte payload limit.
const maxPayload = 7900

// NotifyJobRuns sends the ids of job runs that changed on this replica to every replica that
// listens (ListenJobRuns), in as few notifications as the payload limit allows. A notification
// is a hint that makes the controller look sooner: one that is lost (nobody listened, the
// connection broke) only waits for the controller's next resync.
func (p *Postgres) NotifyJobRuns(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		var b strings.Builder
		n := 0
		for ; n < len(ids) && (n == 0 || b.Len()+1+len(ids[n]) <= maxPayload); n++ {
			if n > 0 {
				b.WriteByte(',')
			}
			b.WriteString(ids[n])
		}
		if _, err := p.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, jobRunChannel, b.String()); err != nil {
			return fmt.Errorf("notify job runs: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

// ListenJobRuns listens for NotifyJobRuns from any replica on a connection of its own (not
// the pool's), calls listening once it does, then fn with every id, until ctx ends (nil) or
// the connection fails (the error; the caller listens again). Notifications sent while nobody
// listened are not delivered later.
func (p *Postgres) ListenJobRuns(ctx context.Context, listening func(), fn func(id string)) error {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("listen for job runs: connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+jobRunChannel); err != nil {
		return fmt.Errorf("listen for job runs: %w", err)
	}
	if listening != nil {
		listening()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("listen for job runs: %w", err)
		}
		for id := range strings.SplitSeq(n.Payload, ",") {
			if id != "" {
				fn(id)
			}
		}
	}
}
