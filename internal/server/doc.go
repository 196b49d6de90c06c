// Package server wires sparkplane together and runs it; it is the one package that knows every
// part. New builds, from a config.Config, the store, the domain service, the emr-containers
// HTTP handler, and for each configured Kubernetes cluster one client and one set of shared
// informers (job pods, trimmed by controller.TrimPod, and nodes) that feed both the lifecycle
// controller and the cost recorder. Run starts them side by side (the HTTP server, the
// controller, one cost recorder per cluster) and stops them together: none of them starts
// another. Metrics of every part go to one Prometheus registry per Server, which /metrics
// serves.
//
// Every replica serves the API; the controller and the cost recorders run on one at a time.
// With leader election (config leaderElection, on by default with PostgreSQL) that is the
// holder of a Kubernetes Lease: each term of leadership builds its informers, controller and
// recorders anew, so a new leader starts from the store and the cluster with nothing in memory
// from before; a term ends (its work stopped and waited for) when the Lease cannot be renewed
// for renewDeadline, shorter than the leaseDuration after which another replica may take it,
// and at shutdown the Lease is released only once the work has stopped, so a rolling update
// hands over at once. Without leader election the one server leads from start to stop.
// Replicas that do not lead pass the job runs they accept or cancel to the leader through the
// store (PostgreSQL NOTIFY); the leader's periodic resync finds any that a lost notification
// named. sparkplane_leader on /metrics says whether a replica leads. A replica that leads
// nothing because the API server holding the Lease does not answer says so on the new runs it
// accepts (stateDetails "waiting for Kubernetes: ..."), since no controller can.
//
// /readyz and sparkplane_database_up ask the store whether its database answers; /healthz
// does not, so a database outage does not get the replicas restarted.
//
// cmd/sparkplane calls New and Run; the tests start the same Server through
// internal/dev/apitest, so what they exercise is what ships.
package server
