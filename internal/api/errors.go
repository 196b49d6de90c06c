package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sparkplane/sparkplane/internal/access"
	"github.com/sparkplane/sparkplane/internal/jobs"
)

// AWS error codes the server answers with.
const (
	CodeValidation       = "ValidationException"
	CodeNotFound         = "ResourceNotFoundException"
	CodeInternal         = "InternalServerException"
	CodeInvalidSignature = "InvalidSignatureException"
)

// The answers to a call the store could not serve (jobs.ErrUnavailable). Both are HTTP 503
// with InternalServerException: the one server fault the emr-containers model defines (so
// every SDK decodes it as its typed error), and a status that aws-sdk-go-v2, botocore and the
// aws CLI all retry. The text says nothing of the database's address or the driver's error,
// which the server log keeps.
const (
	msgUnavailable    = "sparkplane's database is unreachable; this call changed nothing. Retry it."
	msgOutcomeUnknown = "sparkplane lost its database connection while committing this call; it may or may not have been applied. " +
		"Retry it: a call with the same clientToken returns what was stored, if it was."
)

// lastUnavailableLog is when a call last logged that the database was unavailable (unix
// nanoseconds). Once every unavailableLogEvery says that an outage lasts; a line for every
// call would flood the log while it does (the request metrics count them by status).
var lastUnavailableLog atomic.Int64

const unavailableLogEvery = 10 * time.Second

// apiError is an error already in AWS terms.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// writeError is the one place domain and transport errors become AWS error responses: an
// X-Amzn-Errortype header and a JSON {"message"} body.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var (
		ae *apiError
		ve *jobs.ValidationError
		au *authError
		ac *access.Error
	)
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ac):
		ae = accessError(ac)
	case errors.As(err, &au):
		ae = &apiError{http.StatusForbidden, au.code, au.message}
	case isAccessValidation(err):
		field, rule, _ := access.IsValidation(err)
		ae = &apiError{http.StatusBadRequest, CodeValidation, field + ": " + rule}
	case errors.As(err, &ve):
		ae = &apiError{http.StatusBadRequest, CodeValidation, ve.Error()}
	case errors.Is(err, jobs.ErrNotFound):
		ae = &apiError{http.StatusNotFound, CodeNotFound, err.Error()}
	case errors.Is(err, jobs.ErrConflict):
		ae = &apiError{http.StatusBadRequest, CodeValidation, err.Error()}
	case errors.Is(err, jobs.ErrOutcomeUnknown):
		log.Warn("database connection lost while committing", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{http.StatusServiceUnavailable, CodeInternal, msgOutcomeUnknown}
	case errors.Is(err, jobs.ErrUnavailable):
		if now := time.Now().UnixNano(); now-lastUnavailableLog.Load() > int64(unavailableLogEvery) {
			lastUnavailableLog.Store(now)
			log.Warn("database unavailable: calls are answered 503 until it is back", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		ae = &apiError{http.StatusServiceUnavailable, CodeInternal, msgUnavailable}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		ae = &apiError{http.StatusServiceUnavailable, CodeInternal, "request cancelled or timed out"}
	default:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		ae = &apiError{http.StatusInternalServerError, CodeInternal, "internal error; see the server log"}
	}
	w.Header().Set("X-Amzn-Errortype", ae.code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": ae.message})
}

// accessError answers the Directory's errors with IAM's codes (as exception names, the way
// this API names its errors) and statuses.
func accessError(e *access.Error) *apiError {
	switch {
	case errors.Is(e, access.ErrNoSuchEntity):
		return &apiError{http.StatusNotFound, "NoSuchEntityException", e.Message}
	case errors.Is(e, access.ErrEntityAlreadyExists):
		return &apiError{http.StatusConflict, "EntityAlreadyExistsException", e.Message}
	case errors.Is(e, access.ErrDeleteConflict):
		return &apiError{http.StatusConflict, "DeleteConflictException", e.Message}
	case errors.Is(e, access.ErrLimitExceeded):
		return &apiError{http.StatusConflict, "LimitExceededException", e.Message}
	case errors.Is(e, access.ErrMalformedPolicy):
		return &apiError{http.StatusBadRequest, "MalformedPolicyDocumentException", e.Message}
	}
	return &apiError{http.StatusBadRequest, CodeValidation, e.Message}
}

func isAccessValidation(err error) bool {
	_, _, ok := access.IsValidation(err)
	return ok
}
