package cost

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series of job cost. The counters grow when a pod ends (its
// charge is then final), so rate() over them is spend per second and their sum over a range
// is what finished pods cost; a job's running pods are in JobRunReport, not here.
type Metrics struct {
	cost     *prometheus.CounterVec
	savings  *prometheus.CounterVec
	hours    *prometheus.CounterVec
	unpriced *prometheus.CounterVec
}

// NewMetrics creates the cost metrics and registers them with reg (when not nil):
//
//	sparkplane_job_cost_dollars_total{virtual_cluster_id, role, capacity_type}
//	sparkplane_job_spot_savings_dollars_total{virtual_cluster_id}
//	sparkplane_job_pod_hours_total{virtual_cluster_id, role, capacity_type}
//	sparkplane_job_unpriced_pods_total{virtual_cluster_id}
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparkplane_job_cost_dollars_total",
			Help: "Cost of finished job run pods (requests x time x node price split between CPU and memory), in the catalog's currency.",
		}, []string{"virtual_cluster_id", "role", "capacity_type"}),
		savings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparkplane_job_spot_savings_dollars_total",
			Help: "What finished job run pods on spot nodes saved against the on-demand price of the same instance types.",
		}, []string{"virtual_cluster_id"}),
		hours: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparkplane_job_pod_hours_total",
			Help: "Hours finished job run pods held their nodes.",
		}, []string{"virtual_cluster_id", "role", "capacity_type"}),
		unpriced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sparkplane_job_unpriced_pods_total",
			Help: "Finished job run pods that could not be priced (unknown instance type without a price label, or node never observed).",
		}, []string{"virtual_cluster_id"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.cost, m.savings, m.hours, m.unpriced} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register cost metrics: %w", err)
			}
		}
	}
	return m, nil
}

// observe adds one finished pod's charge.
func (m *Metrics) observe(vc string, role Role, c Charge) {
	if m == nil {
		return
	}
	if !c.Priced {
		m.unpriced.WithLabelValues(vc).Inc()
		return
	}
	ct := string(c.CapacityType)
	m.cost.WithLabelValues(vc, string(role), ct).Add(c.Cost)
	m.hours.WithLabelValues(vc, string(role), ct).Add(c.Hours)
	if c.OnDemandKnown && c.OnDemandCost > c.Cost {
		m.savings.WithLabelValues(vc).Add(c.OnDemandCost - c.Cost)
	}
}
