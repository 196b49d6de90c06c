package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/audit"
	"github.com/sparkplane/sparkplane/internal/store"
)

// TestLogLosesNothing records events before the writer runs, while it runs (waiting and not,
// from many goroutines at once), and after it stopped: every one is stored exactly once.
func TestLogLosesNothing(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := audit.New(st, 0, nil)
	ctx := t.Context()
	ev := func(i int) audit.Event {
		return audit.Event{Time: time.Now(), RequestID: fmt.Sprintf("r%04d", i), Action: "emr-containers:ListJobRuns", Outcome: audit.Allowed, Status: 200}
	}
	if err := l.Record(ctx, ev(0), true); err != nil {
		t.Fatalf("before Run: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.Run(runCtx)
	}()
	var wg sync.WaitGroup
	for i := 1; i <= 400; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Record(ctx, ev(i), i%2 == 0); err != nil {
				t.Errorf("event %d: %v", i, err)
			}
		}()
		if i == 300 {
			stop() // the writer stops while events still come in
		}
	}
	wg.Wait()
	<-done
	if err := l.Record(ctx, ev(401), true); err != nil {
		t.Fatalf("after Run: %v", err)
	}
	seen := map[string]int{}
	q := audit.Query{Limit: 1000}
	for {
		events, next, err := st.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			seen[e.RequestID]++
		}
		if next == "" {
			break
		}
		q.Token = next
	}
	for i := 0; i <= 401; i++ {
		if n := seen[fmt.Sprintf("r%04d", i)]; n != 1 {
			t.Errorf("event %d stored %d times", i, n)
		}
	}
}
