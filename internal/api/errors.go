package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// AWS error codes the server answers with.
const (
	CodeValidation       = "ValidationException"
	CodeNotFound         = "ResourceNotFoundException"
	CodeInternal         = "InternalServerException"
	CodeInvalidSignature = "InvalidSignatureException"
)

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
	)
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &au):
		ae = &apiError{http.StatusForbidden, au.code, au.message}
	case errors.As(err, &ve):
		ae = &apiError{http.StatusBadRequest, CodeValidation, ve.Error()}
	case errors.Is(err, jobs.ErrNotFound):
		ae = &apiError{http.StatusNotFound, CodeNotFound, err.Error()}
	case errors.Is(err, jobs.ErrConflict):
		ae = &apiError{http.StatusBadRequest, CodeValidation, err.Error()}
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
