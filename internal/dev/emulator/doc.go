// Package emulator is the Spark driver emulator: the one place in sparkplane where Spark itself
// is simulated. It stands in for the JVM inside the driver container, and nothing else, on
// clusters whose kubelets are simulated (the sandbox and the integration tests, both on kwok).
//
// For every driver pod (label spark-role=driver) that is Running, it reads the pod's mounted
// spark.properties ConfigMap and does what a Spark driver does on Kubernetes: it creates the
// executor pods (Spark's names, labels, owner reference, cpu and memory requests with overhead,
// node selectors and executor pod template), waits until they run, holds them for the job's
// simulated duration, deletes them (unless spark.kubernetes.executor.deleteOnTermination=false)
// and ends the driver with the job's exit code. Ending a pod is left to the cluster's kwok stages:
// the emulator writes the exit code into the annotation AnnotationExitCode and a kwok Stage
// moves the pod to Succeeded or Failed with that container exit code.
//
// Two settings, read from spark.properties, steer a simulated job:
//
//	spark.sparkplane.sandbox.duration  how long the executors are held once all run:
//	                                   a Go duration ("90s", "2m") or seconds ("45"); default 30s
//	spark.sparkplane.sandbox.exitCode  the driver's exit code, 0-255; default 0
//
// The emulator is level-triggered: everything it needs (which executors exist, since when they
// all run, whether the driver was told to end) is read back from the cluster on every pass, so
// it can be stopped and restarted at any time.
package emulator
