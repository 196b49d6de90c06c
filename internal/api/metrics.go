package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Request metrics, labelled by operation (the route pattern) and HTTP status.
var (
	requestsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkplane_api_requests_total",
		Help: "emr-containers API requests answered, by route and HTTP status.",
	}, []string{"route", "status"})
	requestSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sparkplane_api_request_duration_seconds",
		Help:    "Time to answer an authenticated emr-containers API request, by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"route"})
	authFailuresTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkplane_api_auth_failures_total",
		Help: "Requests refused before reaching the domain (missing or bad signature), by status.",
	}, []string{"status"})
)

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// observe records one answered request.
func observe(route string, status int, start time.Time) {
	if status == 0 {
		status = http.StatusOK
	}
	requestsTotal.WithLabelValues(route, strconv.Itoa(status)).Inc()
	requestSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
}
