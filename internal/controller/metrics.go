package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Controller metrics. Job run counts are labelled by virtual cluster, so one dashboard shows
// every team's jobs.
var (
	jobRunsFinishedTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkplane_job_runs_finished_total",
		Help: "Job runs that reached an end state, by virtual cluster, state and failure reason.",
	}, []string{"virtual_cluster", "state", "failure_reason"})
	driverSubmissionsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "sparkplane_driver_submissions_total",
		Help: "Driver attempts whose objects were created, by virtual cluster.",
	}, []string{"virtual_cluster"})
	submitSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "sparkplane_driver_submit_duration_seconds",
		Help:    "Time to plan and create one driver attempt's objects.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	reconcileErrorsTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "sparkplane_controller_reconcile_errors_total",
		Help: "Reconciles that failed and were requeued with backoff (Kubernetes or store unreachable, conflicts).",
	})
)
