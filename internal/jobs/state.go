package jobs

import (
	"fmt"
	"strings"
	"time"
)

// transitions lists, for each state, the states a job run may move to next:
// PENDING → SUBMITTED → RUNNING → COMPLETED | FAILED, and any non-terminal state may fail or
// move to CANCEL_PENDING, which ends in CANCELLED (or FAILED if cancelling itself fails).
// RUNNING → SUBMITTED is a retry: a failed attempt with attempts left starts a new driver.
var transitions = map[JobRunState][]JobRunState{
	StatePending:       {StateSubmitted, StateFailed, StateCancelPending},
	StateSubmitted:     {StateRunning, StateCompleted, StateFailed, StateCancelPending},
	StateRunning:       {StateSubmitted, StateCompleted, StateFailed, StateCancelPending},
	StateCancelPending: {StateCancelled, StateFailed},
}

// CanTransition reports whether a job run may move from one state to another. Staying in the
// same state is allowed: a controller may update details without moving, and records its own
// bookkeeping (such as the cleanup of finished pods) on terminal runs.
func CanTransition(from, to JobRunState) bool {
	if from == to {
		return true
	}
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// ValidJobRunState reports whether s is one of the API's job run states.
func ValidJobRunState(s JobRunState) bool {
	switch s {
	case StatePending, StateSubmitted, StateRunning, StateFailed, StateCancelled, StateCancelPending, StateCompleted:
		return true
	}
	return false
}

// checkTransition validates the move of a job run from before to after, including the fields
// a terminal state must carry.
func checkTransition(before, after *JobRun) error {
	if !CanTransition(before.State, after.State) {
		return fmt.Errorf("job run %s: illegal state transition %s -> %s: %w", before.ID, before.State, after.State, ErrConflict)
	}
	if before.State.Terminal() && (after.StateDetails != before.StateDetails || after.FailureReason != before.FailureReason ||
		!timesEqual(after.FinishedAt, before.FinishedAt)) {
		return fmt.Errorf("job run %s has ended (%s); its outcome cannot change: %w", before.ID, before.State, ErrConflict)
	}
	if after.State == StateFailed && after.FailureReason == "" {
		return &ValidationError{Field: "failureReason", Rule: "must be set when a job run fails"}
	}
	switch after.FailureReason {
	case "", FailureInternalError, FailureUserError, FailureValidationError, FailureClusterUnavailable:
	default:
		return &ValidationError{Field: "failureReason", Rule: fmt.Sprintf("must be one of INTERNAL_ERROR, USER_ERROR, VALIDATION_ERROR, CLUSTER_UNAVAILABLE, got %q", after.FailureReason)}
	}
	if after.ID != before.ID || after.VirtualClusterID != before.VirtualClusterID || !after.CreatedAt.Equal(before.CreatedAt) {
		return &ValidationError{Field: "id", Rule: "identity fields of a job run cannot change"}
	}
	return nil
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// MonitoringNote says, for a run's stateDetails, what becomes of its monitoringConfiguration
// that a user could otherwise look for in vain: there is no CloudWatch to send to, and where
// its container logs go, or why they are not shipped (Attempt.LogsNote, set when the attempt
// is planned). "" when there is nothing to say.
func (r JobRun) MonitoringNote() string {
	if r.ConfigurationOverrides == nil || r.ConfigurationOverrides.MonitoringConfiguration == nil {
		return ""
	}
	m := r.ConfigurationOverrides.MonitoringConfiguration
	var notes []string
	if m.CloudWatchMonitoringConfiguration != nil {
		notes = append(notes, "cloudWatchMonitoringConfiguration is ignored: sparkplane sends no logs to CloudWatch")
	}
	if m.S3MonitoringConfiguration != nil && r.Attempt.LogsNote != "" {
		notes = append(notes, r.Attempt.LogsNote)
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}
