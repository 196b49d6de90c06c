// Package cost tells what each job run and each virtual cluster cost: a price catalog of
// instance types, the allocation of node prices to pods the way OpenCost does it, a Recorder
// that persists what pods reserved on which nodes for how long (so executors deleted at the end
// of a job are still charged), reports per job run and per virtual cluster, and Prometheus
// metrics.
//
// # Prices
//
// The embedded catalog (prices.yaml, source and date stated in it) gives on-demand and spot
// hourly prices per region for the seed's instance families and their Graviton counterparts.
// A node is priced, in this order, by the catalog's explicit price for its type, capacity
// type, region and zone; by its eks-node-viewer/instance-price label (Karpenter's kwok
// provider sets it); for spot, by the catalog's on-demand price less the family's
// spotDiscount; otherwise it has no price (SourceUnknown): its pods are listed as unpriced and
// count as zero. Every report lists the prices it used and their sources. A file overlays the
// catalog (LoadCatalog):
//
//	source: "where the numbers come from"
//	date: "2026-11-27"
//	currency: USD
//	split: {cpuCoreHour: 0.031611, memoryGiBHour: 0.004237}  # ratio used to split a node price
//	spotDiscount: {default: 0.30, c5d: 0.65}                  # fraction below on-demand
//	regions:
//	  us-west-2:
//	    onDemand: {c5d.9xlarge: 1.728}
//	    spot: {c5d.9xlarge: 1.2096}                           # region-wide
//	    spotByZone: {us-west-2a: {c5d.9xlarge: 1.1}}          # wins over spot
//
// # Allocation
//
// A pod is charged for max(request, usage) of CPU and of memory (usage only when a metrics
// source filled it in), from when it was bound to its node (PodScheduled) until its containers
// finished or it was deleted, or until now while it runs. The node's hourly price is split
// between CPU and memory in the ratio of the catalog's split unit prices (OpenCost's default
// $0.031611 per vCPU-hour : $0.004237 per GiB-hour): with r that ratio, memory costs
// price/(r*cores+GiB) per GiB-hour and CPU r times that per core-hour, over the node's
// allocatable CPU and memory, so pods that reserve a whole node are charged exactly its price.
// Driver, executors, spot and on-demand are totalled separately; savings are what the same
// reservations would cost at the on-demand price of the same types, less what they cost.
//
// Idle cost is a node's price over the report's range less what its pods were charged. It is
// attributed to a virtual cluster only when every recorded pod on the node within the range
// belongs to that virtual cluster, and it is shown beside the totals, never inside them. Pods
// that are not job run pods (daemon sets) are not recorded, so their share is part of idle.
//
// # Wiring
//
// One Recorder per cluster, fed by pod informers (all pods with the
// emr-containers.amazonaws.com/job.id label, drivers and executors) and node informers through
// Handlers; Resync after the informers synced closes what vanished while the server was down.
// A Reporter over the same Store answers JobRun and VirtualCluster queries.
package cost
