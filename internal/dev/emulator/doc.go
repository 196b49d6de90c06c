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
// # What the pods write
//
// Each driver the emulator plays is one simulated Spark application (internal/dev/sparksim),
// built from what the emulator knows of it (buildApp): the app id and name from
// spark.properties, the executor pods it created with their ids, IPs and start times, the
// driver's start, an end at the hold's end, and the exit code. The seed follows from the app
// id, so the application is the same on every pass and after a restart.
//
// With Options.Dynamic and Options.LogDir set, the emulator writes that application's driver
// log and each executor's log (Spark's log4j lines on stderr, in the CRI format) to
// LogDir/<namespace>/<pod>/<container>.log and makes kwok serve them (internal/dev/kwoklogs),
// so that `kubectl logs` and `kubectl logs -f` read them as a real container's output. On
// every pass, about once a second while a driver runs, it appends the lines whose time has
// come. Until all executors run the application's length is not known, so only the driver's
// start-up is written (see bootHorizon); the rest follows once it is. When the driver ends,
// the rest of every log (the exception of a failed run, the shutdown) is written before the
// executors are deleted and before the driver's exit code is set, as a JVM's last lines come
// before its container exits; a deleted pod's log goes with it, as on a kubelet. With
// spark.eventLog.enabled and Options.S3, the same application's event log goes to S3.
//
// The emulator is level-triggered: everything it needs (which executors exist, since when they
// all run, whether the driver was told to end) is read back from the cluster on every pass, so
// it can be stopped and restarted at any time. Only how many lines each log file holds is
// kept in memory, and a restarted emulator counts them in the files, so no line is written
// twice.
package emulator
