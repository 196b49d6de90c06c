// Package server wires sparkplane together and runs it; it is the one package that knows every
// part. New builds, from a config.Config, the store, the domain service, the emr-containers
// HTTP handler, and for each configured Kubernetes cluster one client and one set of shared
// informers (job pods, trimmed by controller.TrimPod, and nodes) that feed both the lifecycle
// controller and the cost recorder. Run starts them as runnables side by side (the HTTP
// server, the controller, one cost recorder per cluster) and stops them together: none of
// them starts another. Metrics of every part go to one Prometheus registry per Server, which
// /metrics serves.
//
// cmd/sparkplane calls New and Run; the tests start the same Server through
// internal/dev/apitest, so what they exercise is what ships.
package server
