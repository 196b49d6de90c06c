package cost

import (
	"fmt"
	"time"
)

// Role is the Spark role of a pod, from its spark-role label.
type Role string

// Roles a pod can have; pods of a job run without a spark-role label are RoleOther.
const (
	RoleDriver   Role = "driver"
	RoleExecutor Role = "executor"
	RoleOther    Role = "other"
)

const gib = 1 << 30

// PodUsage is what cost needs to know about one pod of a job run: what it reserved, on which
// node, and for how long. The Recorder builds it from the pod and persists it, so the charge
// survives the pod's deletion.
type PodUsage struct {
	UID              string    `json:"uid"`
	Cluster          string    `json:"cluster"`
	Namespace        string    `json:"namespace"`
	Name             string    `json:"name"`
	JobRunID         string    `json:"jobRunId"`
	VirtualClusterID string    `json:"virtualClusterId"`
	Role             Role      `json:"role"`
	NodeName         string    `json:"nodeName,omitempty"`
	CPUMillis        int64     `json:"cpuMillis"`   // requested CPU, millicores
	MemoryBytes      int64     `json:"memoryBytes"` // requested memory
	CPUUsageMillis   int64     `json:"cpuUsageMillis,omitempty"`
	MemoryUsageBytes int64     `json:"memoryUsageBytes,omitempty"`
	Start            time.Time `json:"start"`         // scheduled onto its node; zero: never ran
	End              time.Time `json:"end,omitempty"` // finished or deleted; zero: still holds its node
}

// NodeKey identifies a node: its name within one cluster (container provider).
type NodeKey struct {
	Cluster string `json:"cluster"`
	Name    string `json:"name"`
}

// NodeKey is the key of the node the pod ran on.
func (p PodUsage) NodeKey() NodeKey { return NodeKey{Cluster: p.Cluster, Name: p.NodeName} }

// NodeFacts is what cost needs to know about a node to price it.
type NodeFacts struct {
	Cluster      string       `json:"cluster"`
	Name         string       `json:"name"`
	UID          string       `json:"uid"`
	InstanceType string       `json:"instanceType"`
	CapacityType CapacityType `json:"capacityType"`
	Zone         string       `json:"zone"`
	Region       string       `json:"region"`
	PriceLabel   string       `json:"priceLabel,omitempty"`
	CPUMillis    int64        `json:"cpuMillis"`   // allocatable CPU, millicores
	MemoryBytes  int64        `json:"memoryBytes"` // allocatable memory
	Created      time.Time    `json:"created"`
	Deleted      time.Time    `json:"deleted,omitempty"`
}

// Key is the node's key.
func (n NodeFacts) Key() NodeKey { return NodeKey{Cluster: n.Cluster, Name: n.Name} }

// Window is a half-open time range [From, To). A zero From is unbounded; a zero To is now.
type Window struct {
	From time.Time
	To   time.Time
}

// Charge is what one pod costs in a window.
type Charge struct {
	// Priced is false when the node or its price is unknown; Reason then says why, and every
	// amount is zero.
	Priced bool   `json:"priced"`
	Reason string `json:"reason,omitempty"`
	// Hours is how long the pod held its node within the window.
	Hours          float64 `json:"hours"`
	CPUCoreHours   float64 `json:"cpuCoreHours"`
	MemoryGiBHours float64 `json:"memoryGiBHours"`
	CPUCost        float64 `json:"cpuCost"`
	MemoryCost     float64 `json:"memoryCost"`
	Cost           float64 `json:"cost"`
	// OnDemandCost is the same reservation at the on-demand price of the same type: equal to
	// Cost for on-demand nodes, the savings baseline for spot ones. OnDemandKnown is false
	// when the catalog has no on-demand price for the type.
	OnDemandCost  float64      `json:"onDemandCost"`
	OnDemandKnown bool         `json:"onDemandKnown"`
	Price         Price        `json:"price"`
	CapacityType  CapacityType `json:"capacityType"`
}

// UnitPrices splits a node's hourly price between its CPU and memory the way OpenCost does
// when only a node's total price is known: memory's unit price m and CPU's unit price r*m, with
// r the split's CPU:memory ratio, chosen so that cores*r*m + GiB*m equals the node's price. A
// pod reserving the whole node is then charged exactly the node's price.
func UnitPrices(hourly float64, cpuMillis, memoryBytes int64, s Split) (perCoreHour, perGiBHour float64) {
	cores := float64(cpuMillis) / 1000
	mem := float64(memoryBytes) / gib
	ratio := s.CPUCoreHour / s.MemoryGiBHour
	denom := ratio*cores + mem
	if denom <= 0 || hourly <= 0 {
		return 0, 0
	}
	perGiBHour = hourly / denom
	return perGiBHour * ratio, perGiBHour
}

// Overlap returns the hours that [start, end) (a zero end meaning now) shares with w, also
// clipped to the node's life when given.
func Overlap(start, end time.Time, w Window, nodeCreated, nodeDeleted, now time.Time) float64 {
	if start.IsZero() {
		return 0
	}
	if end.IsZero() || end.After(now) {
		end = now
	}
	to := w.To
	if to.IsZero() || to.After(now) {
		to = now
	}
	if !w.From.IsZero() && w.From.After(start) {
		start = w.From
	}
	if to.Before(end) {
		end = to
	}
	if !nodeCreated.IsZero() && nodeCreated.After(start) {
		start = nodeCreated
	}
	if !nodeDeleted.IsZero() && nodeDeleted.Before(end) {
		end = nodeDeleted
	}
	if !end.After(start) {
		return 0
	}
	return end.Sub(start).Hours()
}

// ChargePod prices one pod's reservation within w, OpenCost's way: the pod holds
// max(request, usage) of CPU and of memory from when it was scheduled until it ended (or now),
// charged at its node's per-unit prices (UnitPrices of price over the node's allocatable).
// onDemand is the on-demand price of the same type, the baseline for spot savings.
func ChargePod(p PodUsage, n NodeFacts, price, onDemand Price, s Split, w Window, now time.Time) Charge {
	c := Charge{Price: price, CapacityType: n.CapacityType}
	if c.CapacityType == "" {
		c.CapacityType = OnDemand
	}
	c.Hours = Overlap(p.Start, p.End, w, n.Created, n.Deleted, now)
	cores := float64(max(p.CPUMillis, p.CPUUsageMillis)) / 1000
	mem := float64(max(p.MemoryBytes, p.MemoryUsageBytes)) / gib
	c.CPUCoreHours = cores * c.Hours
	c.MemoryGiBHours = mem * c.Hours
	switch {
	case c.Hours == 0:
		// Never scheduled, or not within the window: nothing to charge, nothing unknown.
		c.Priced = true
		c.CPUCoreHours, c.MemoryGiBHours = 0, 0
		return c
	case n.Name == "":
		c.Reason = fmt.Sprintf("node %s was never observed", p.NodeName)
		return c
	case !price.Known():
		c.Reason = price.Detail
		return c
	case n.CPUMillis <= 0 && n.MemoryBytes <= 0:
		c.Reason = fmt.Sprintf("node %s has no allocatable CPU or memory recorded", n.Name)
		return c
	}
	c.Priced = true
	perCore, perGiB := UnitPrices(price.Hourly, n.CPUMillis, n.MemoryBytes, s)
	c.CPUCost = c.CPUCoreHours * perCore
	c.MemoryCost = c.MemoryGiBHours * perGiB
	c.Cost = c.CPUCost + c.MemoryCost
	if onDemand.Known() {
		odCore, odGiB := UnitPrices(onDemand.Hourly, n.CPUMillis, n.MemoryBytes, s)
		c.OnDemandCost = c.CPUCoreHours*odCore + c.MemoryGiBHours*odGiB
		c.OnDemandKnown = true
	}
	return c
}

// NodeCost is the price of a node over the part of w it existed (until now if it still
// does), and the hours that covers.
func NodeCost(n NodeFacts, price Price, w Window, now time.Time) (cost, hours float64) {
	if !price.Known() {
		return 0, 0
	}
	hours = Overlap(n.Created, n.Deleted, w, time.Time{}, time.Time{}, now)
	return price.Hourly * hours, hours
}
