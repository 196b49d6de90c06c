package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// TestPgUnavailable pins which PostgreSQL errors mean the database is unavailable, and when a
// write's outcome is in doubt: only when the connection was lost after the write was sent and
// before its commit was confirmed.
func TestPgUnavailable(t *testing.T) {
	lost := fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF)
	tests := []struct {
		name                 string
		err                  error
		write                bool
		unavailable, unknown bool
	}{
		{"nil", nil, true, false, false},
		{"no rows", pgx.ErrNoRows, false, false, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, true, false, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false, false, false},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, true, false, false},
		{"conflict", jobs.ErrConflict, true, false, false},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true, true, false},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true, true, false},
		{"starting up", &pgconn.PgError{Code: "57P03"}, false, true, false},
		{"too many connections", &pgconn.PgError{Code: "53300"}, false, true, false},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true, true, false},
		{"connect refused", &pgconn.ConnectError{}, true, true, false},
		{"read, connection lost", lost, false, true, false},
		{"write, connection lost", lost, true, true, true},
		{"write, reset", &net.OpError{Op: "read", Net: "unix", Err: syscall.ECONNRESET}, true, true, true},
		{"write, broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true, true, true},
		{"write, lost before commit", &beforeCommit{lost}, true, true, false},
		{"write, store's own deadline", fmt.Errorf("timeout: %w", context.DeadlineExceeded), true, true, true},
		{"already classified", &unavailableError{err: lost}, true, true, false},
		{"other", errors.New("decode stored job run: bad JSON"), true, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pgUnavailable(tc.err, tc.write)
			if u := errors.Is(got, jobs.ErrUnavailable); u != tc.unavailable {
				t.Errorf("unavailable = %v, want %v (%v)", u, tc.unavailable, got)
			}
			if u := errors.Is(got, jobs.ErrOutcomeUnknown); u != tc.unknown {
				t.Errorf("outcome unknown = %v, want %v (%v)", u, tc.unknown, got)
			}
			if tc.err != nil && !errors.Is(got, tc.err) {
				t.Errorf("%v lost the error it marks, %v", got, tc.err)
			}
		})
	}
}
