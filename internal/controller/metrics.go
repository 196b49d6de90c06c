package controller

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controller's Prometheus metrics. Job run counts are labelled by virtual
// cluster, so one dashboard shows every team's jobs.
type Metrics struct {
	jobRunsFinished    *prometheus.CounterVec
	driverSubmissions  *prometheus.CounterVec
	submitSeconds      prometheus.Histogram
	reconcileErrors    prometheus.Counter
	reconcileSeconds   prometheus.Histogram
	waitingKubernetes  prometheus.Counter
	queueDepthObserved prometheus.Gauge
	paused             prometheus.Gauge
}

// NewMetrics creates the controller's metrics and registers them with reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		jobRunsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparkplane_job_runs_finished_total",
			Help: "Job runs that reached an end state, by virtual cluster, state and failure reason.",
		}, []string{"virtual_cluster", "state", "failure_reason"}),
		driverSubmissions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparkplane_driver_submissions_total",
			Help: "Driver attempts whose objects were created, by virtual cluster.",
		}, []string{"virtual_cluster"}),
		submitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sparkplane_driver_submit_duration_seconds",
			Help:    "Time to plan and create one driver attempt's objects.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		reconcileErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sparkplane_controller_reconcile_errors_total",
			Help: "Reconciles that failed and were requeued with backoff (Kubernetes or store unreachable, conflicts).",
		}),
		reconcileSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "sparkplane_controller_reconcile_duration_seconds",
			Help:    "Time one reconcile of a job run took.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		waitingKubernetes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sparkplane_controller_kubernetes_timeouts_total",
			Help: "Reconciles whose Kubernetes calls did not answer within the controller's deadline.",
		}),
		queueDepthObserved: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sparkplane_controller_active_job_runs",
			Help: "Non-terminal job runs found at the last resync.",
		}),
		paused: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sparkplane_controller_paused",
			Help: "1 while the controller waits for its database to answer again (it takes no work from its queue meanwhile), else 0.",
		}),
	}
	if reg != nil {
		var errs []error
		for _, c := range []prometheus.Collector{m.jobRunsFinished, m.driverSubmissions, m.submitSeconds, m.reconcileErrors,
			m.reconcileSeconds, m.waitingKubernetes, m.queueDepthObserved, m.paused} {
			errs = append(errs, reg.Register(c))
		}
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	return m, nil
}
