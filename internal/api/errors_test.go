package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// TestWriteErrorUnavailable pins the answer to a call the store could not serve: HTTP 503
// InternalServerException (retried by the SDKs), saying whether the call changed nothing or
// may have been applied, naming nothing of the database.
func TestWriteErrorUnavailable(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		message string
	}{
		{"unavailable", fmt.Errorf("insert job run x: %w", fmt.Errorf("%w: dial unix /run/pg/.s.PGSQL.5432: connect: no such file", jobs.ErrUnavailable)),
			http.StatusServiceUnavailable, msgUnavailable},
		{"commit cut off", fmt.Errorf("insert job run x: %w", errors.Join(jobs.ErrUnavailable, jobs.ErrOutcomeUnknown, io.ErrUnexpectedEOF)),
			http.StatusServiceUnavailable, msgOutcomeUnknown},
		{"request cancelled", context.Canceled, http.StatusServiceUnavailable, "request cancelled or timed out"},
		{"anything else", errors.New("decode stored job run: bad JSON"), http.StatusInternalServerError, "internal error; see the server log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeError(w, httptest.NewRequest(http.MethodPost, "/virtualclusters/v/jobruns", nil), slog.New(slog.NewTextHandler(io.Discard, nil)), tc.err)
			var body struct{ Message string }
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || w.Header().Get("X-Amzn-Errortype") != CodeInternal || body.Message != tc.message {
				t.Errorf("%d %s %q, want %d %s %q", w.Code, w.Header().Get("X-Amzn-Errortype"), body.Message, tc.status, CodeInternal, tc.message)
			}
		})
	}
}
