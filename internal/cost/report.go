package cost

import (
	"fmt"
	"sort"
	"time"
)

// Totals add up charges. Cost = Driver + Executors + Other = Spot + OnDemand = CPU + Memory.
type Totals struct {
	Cost      float64 `json:"cost"`
	Driver    float64 `json:"driver"`
	Executors float64 `json:"executors"`
	Other     float64 `json:"other,omitempty"`
	// Spot is what pods on spot nodes cost; OnDemand what pods on on-demand (and reserved)
	// nodes cost.
	Spot     float64 `json:"spot"`
	OnDemand float64 `json:"onDemand"`
	CPU      float64 `json:"cpu"`
	Memory   float64 `json:"memory"`
	// OnDemandEquivalent is what the same reservations would have cost with every node
	// on-demand; Savings = OnDemandEquivalent - Cost. Pods whose type has no on-demand price
	// count at their own cost in both (no savings claimed for them).
	OnDemandEquivalent float64 `json:"onDemandEquivalent"`
	Savings            float64 `json:"savings"`
}

// Add adds one pod's charge, in its role, to the totals.
func (t *Totals) Add(role Role, c Charge) {
	if !c.Priced {
		return
	}
	t.Cost += c.Cost
	switch role {
	case RoleDriver:
		t.Driver += c.Cost
	case RoleExecutor:
		t.Executors += c.Cost
	default:
		t.Other += c.Cost
	}
	if c.CapacityType == Spot {
		t.Spot += c.Cost
	} else {
		t.OnDemand += c.Cost
	}
	t.CPU += c.CPUCost
	t.Memory += c.MemoryCost
	od := c.Cost
	if c.OnDemandKnown {
		od = c.OnDemandCost
	}
	t.OnDemandEquivalent += od
	t.Savings = t.OnDemandEquivalent - t.Cost
}

// PodCost is one pod's line in a job report.
type PodCost struct {
	Pod          string       `json:"pod"` // namespace/name
	Role         Role         `json:"role"`
	Node         string       `json:"node,omitempty"`
	InstanceType string       `json:"instanceType,omitempty"`
	CapacityType CapacityType `json:"capacityType,omitempty"`
	Zone         string       `json:"zone,omitempty"`
	Start        time.Time    `json:"start"`
	End          time.Time    `json:"end,omitempty"` // zero: still running
	CPUCores     float64      `json:"cpuCores"`
	MemoryGiB    float64      `json:"memoryGiB"`
	Charge       Charge       `json:"charge"`
}

// PriceUse is one price a report used and how many pods it priced.
type PriceUse struct {
	Source Source  `json:"source"`
	Detail string  `json:"detail"`
	Hourly float64 `json:"hourly"`
	Pods   int     `json:"pods"`
}

// JobReport is what one job run cost, from the pods it ran.
type JobReport struct {
	JobRunID         string    `json:"jobRunId"`
	VirtualClusterID string    `json:"virtualClusterId"`
	Currency         string    `json:"currency"`
	Totals           Totals    `json:"totals"`
	Start            time.Time `json:"start,omitempty"` // first pod scheduled
	End              time.Time `json:"end,omitempty"`   // last pod ended; zero while any runs
	// Running is true while any pod still holds a node: the totals then grow.
	Running bool       `json:"running"`
	Pods    []PodCost  `json:"pods"`
	Prices  []PriceUse `json:"prices"`
	// Unpriced lists pods that could not be priced and why; they count as zero in Totals.
	Unpriced []string `json:"unpriced,omitempty"`
	// Catalog lists the source and date of the price catalog used.
	Catalog []string `json:"catalog"`
}

// BuildJobReport prices every pod of one job run on its node and adds them up. Prices come
// from cat at report time, so a corrected catalog re-prices history.
func BuildJobReport(jobRunID string, pods []PodUsage, nodes map[NodeKey]NodeFacts, cat *Catalog, now time.Time) JobReport {
	r := JobReport{JobRunID: jobRunID, Currency: cat.Currency(), Catalog: cat.Sources(), Pods: []PodCost{}, Prices: []PriceUse{}}
	prices := newPriceUses()
	sorted := append([]PodUsage(nil), pods...)
	sort.Slice(sorted, func(i, j int) bool {
		if !sorted[i].Start.Equal(sorted[j].Start) {
			return sorted[i].Start.Before(sorted[j].Start)
		}
		return sorted[i].Namespace+"/"+sorted[i].Name < sorted[j].Namespace+"/"+sorted[j].Name
	})
	for _, p := range sorted {
		if r.VirtualClusterID == "" {
			r.VirtualClusterID = p.VirtualClusterID
		}
		n := nodes[p.NodeKey()]
		c := charge(p, n, cat, Window{}, now)
		r.Totals.Add(p.Role, c)
		r.Pods = append(r.Pods, PodCost{
			Pod: p.Namespace + "/" + p.Name, Role: p.Role, Node: p.NodeName,
			InstanceType: n.InstanceType, CapacityType: n.CapacityType, Zone: n.Zone,
			Start: p.Start, End: p.End,
			CPUCores: float64(max(p.CPUMillis, p.CPUUsageMillis)) / 1000, MemoryGiB: float64(max(p.MemoryBytes, p.MemoryUsageBytes)) / gib,
			Charge: c,
		})
		if !c.Priced {
			r.Unpriced = append(r.Unpriced, fmt.Sprintf("%s/%s: %s", p.Namespace, p.Name, c.Reason))
		} else if c.Hours > 0 {
			prices.add(c.Price)
		}
		if p.Start.IsZero() {
			continue
		}
		if r.Start.IsZero() || p.Start.Before(r.Start) {
			r.Start = p.Start
		}
		if p.End.IsZero() {
			r.Running = true
		} else if p.End.After(r.End) {
			r.End = p.End
		}
	}
	if r.Running {
		r.End = time.Time{}
	}
	r.Prices = prices.list()
	return r
}

// JobTotal is one job run's line in a virtual cluster report.
type JobTotal struct {
	JobRunID string `json:"jobRunId"`
	Totals   Totals `json:"totals"`
}

// DayTotal is one UTC day's line in a virtual cluster report.
type DayTotal struct {
	Day    string  `json:"day"` // 2006-01-02, UTC
	Totals Totals  `json:"totals"`
	Idle   float64 `json:"idle"`
}

// NodeIdle is a node that ran only one virtual cluster's pods in the window, with the part of
// its price no pod was charged.
type NodeIdle struct {
	Node         string       `json:"node"`
	InstanceType string       `json:"instanceType"`
	CapacityType CapacityType `json:"capacityType"`
	Hours        float64      `json:"hours"`
	NodeCost     float64      `json:"nodeCost"`
	Charged      float64      `json:"charged"`
	Idle         float64      `json:"idle"`
}

// VirtualClusterReport is what a virtual cluster's job runs cost over a time range.
type VirtualClusterReport struct {
	VirtualClusterID string    `json:"virtualClusterId"`
	Currency         string    `json:"currency"`
	From             time.Time `json:"from"`
	To               time.Time `json:"to"`
	// Totals cover the pods' charges only; Idle is shown separately.
	Totals Totals `json:"totals"`
	// Idle is the uncharged cost of nodes that ran only this virtual cluster's pods in the
	// range (see IdleNodes); nodes shared with other virtual clusters are not attributed.
	Idle      float64    `json:"idle"`
	IdleNodes []NodeIdle `json:"idleNodes"`
	Jobs      []JobTotal `json:"jobs"`
	Days      []DayTotal `json:"days"`
	Prices    []PriceUse `json:"prices"`
	Unpriced  []string   `json:"unpriced,omitempty"`
	Catalog   []string   `json:"catalog"`
}

// BuildVirtualClusterReport prices the virtual cluster's pods (pods) within [from, to), totals
// them per job run and per UTC day, and attributes idle cost: a node whose pods in the range
// (nodePods: every recorded pod on the nodes that pods used) all belong to this virtual
// cluster is charged its price over the range less what its pods were charged.
func BuildVirtualClusterReport(vcID string, from, to time.Time, pods, nodePods []PodUsage, nodes map[NodeKey]NodeFacts, cat *Catalog, now time.Time) VirtualClusterReport {
	w := Window{From: from, To: to}
	r := VirtualClusterReport{VirtualClusterID: vcID, Currency: cat.Currency(), From: from, To: to,
		IdleNodes: []NodeIdle{}, Jobs: []JobTotal{}, Days: []DayTotal{}, Catalog: cat.Sources()}
	prices := newPriceUses()
	jobs := map[string]*Totals{}
	days := map[string]*DayTotal{}
	day := func(t time.Time) *DayTotal {
		k := t.UTC().Format(time.DateOnly)
		if days[k] == nil {
			days[k] = &DayTotal{Day: k}
		}
		return days[k]
	}
	for _, p := range pods {
		n := nodes[p.NodeKey()]
		c := charge(p, n, cat, w, now)
		if !c.Priced {
			r.Unpriced = append(r.Unpriced, fmt.Sprintf("%s/%s (job run %s): %s", p.Namespace, p.Name, p.JobRunID, c.Reason))
			continue
		}
		if c.Hours == 0 {
			continue
		}
		prices.add(c.Price)
		r.Totals.Add(p.Role, c)
		if jobs[p.JobRunID] == nil {
			jobs[p.JobRunID] = &Totals{}
		}
		jobs[p.JobRunID].Add(p.Role, c)
		for _, dw := range splitDays(w, p.Start, p.End, now) {
			day(dw.From).Totals.Add(p.Role, charge(p, n, cat, dw, now))
		}
	}
	// Idle: nodes used by this virtual cluster and by no other within the range. A pod
	// without the virtual cluster label belongs to its job run's virtual cluster.
	jobVC := map[string]string{}
	for _, p := range pods {
		jobVC[p.JobRunID] = vcID
	}
	for _, p := range nodePods {
		if p.VirtualClusterID != "" && jobVC[p.JobRunID] == "" {
			jobVC[p.JobRunID] = p.VirtualClusterID
		}
	}
	charged := map[NodeKey]float64{}
	foreign := map[NodeKey]bool{}
	for _, p := range nodePods {
		k := p.NodeKey()
		if Overlap(p.Start, p.End, w, time.Time{}, time.Time{}, now) == 0 {
			continue
		}
		if vc := p.VirtualClusterID; vc != vcID && (vc != "" || jobVC[p.JobRunID] != vcID) {
			foreign[k] = true
			continue
		}
		charged[k] += charge(p, nodes[k], cat, w, now).Cost
	}
	keys := make([]NodeKey, 0, len(charged))
	for k := range charged {
		if !foreign[k] {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Cluster+"/"+keys[i].Name < keys[j].Cluster+"/"+keys[j].Name })
	for _, k := range keys {
		n, ok := nodes[k]
		if !ok {
			continue
		}
		price := cat.NodePrice(n)
		cost, hours := NodeCost(n, price, w, now)
		if hours == 0 {
			continue
		}
		idle := max(cost-charged[k], 0)
		r.Idle += idle
		r.IdleNodes = append(r.IdleNodes, NodeIdle{Node: n.Name, InstanceType: n.InstanceType, CapacityType: n.CapacityType,
			Hours: hours, NodeCost: cost, Charged: charged[k], Idle: idle})
		// Spread the node's idle cost over the days it existed in the range, by time.
		for _, dw := range splitDays(w, n.Created, n.Deleted, now) {
			dh := Overlap(n.Created, n.Deleted, dw, time.Time{}, time.Time{}, now)
			day(dw.From).Idle += idle * dh / hours
		}
	}
	for id, t := range jobs {
		r.Jobs = append(r.Jobs, JobTotal{JobRunID: id, Totals: *t})
	}
	sort.Slice(r.Jobs, func(i, j int) bool { return r.Jobs[i].JobRunID < r.Jobs[j].JobRunID })
	for _, d := range days {
		r.Days = append(r.Days, *d)
	}
	sort.Slice(r.Days, func(i, j int) bool { return r.Days[i].Day < r.Days[j].Day })
	r.Prices = prices.list()
	return r
}

// charge prices one pod with the catalog.
func charge(p PodUsage, n NodeFacts, cat *Catalog, w Window, now time.Time) Charge {
	var price, od Price
	if n.Name != "" {
		price, od = cat.NodePrice(n), cat.OnDemandPrice(n)
	}
	return ChargePod(p, n, price, od, cat.Split(), w, now)
}

// splitDays cuts the part of [start, end) inside w into UTC-day windows.
func splitDays(w Window, start, end, now time.Time) []Window {
	if start.IsZero() {
		return nil
	}
	if !w.From.IsZero() && w.From.After(start) {
		start = w.From
	}
	if end.IsZero() || end.After(now) {
		end = now
	}
	if !w.To.IsZero() && w.To.Before(end) {
		end = w.To
	}
	var out []Window
	for t := start.UTC(); t.Before(end); {
		next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		if next.After(end) {
			next = end
		}
		out = append(out, Window{From: t, To: next})
		t = next
	}
	return out
}

type priceUses struct {
	m map[string]*PriceUse
}

func newPriceUses() *priceUses { return &priceUses{m: map[string]*PriceUse{}} }

func (u *priceUses) add(p Price) {
	k := string(p.Source) + "|" + p.Detail
	if u.m[k] == nil {
		u.m[k] = &PriceUse{Source: p.Source, Detail: p.Detail, Hourly: p.Hourly}
	}
	u.m[k].Pods++
}

func (u *priceUses) list() []PriceUse {
	out := make([]PriceUse, 0, len(u.m))
	for _, p := range u.m {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Detail < out[j].Detail })
	return out
}
