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
// # The Spark UI
//
// While it plays a driver, unless spark.ui.enabled is false, the emulator runs a stand-in for
// the driver's Spark UI (sparkui.go): a real HTTP server on 127.0.0.1, on a port of its own,
// and a kwok PortForward object (internal/dev/kwokforward) with the driver pod's name that
// sends the driver's spark.ui.port (default 4040) there, so that the API server's
// pods/portforward reaches it as it would reach Spark's Jetty in a real pod. It serves the
// jobs, stages and executors tabs with their detail pages, a stylesheet, and the REST API's
// /api/v1/applications (and the application's jobs, stages and executors), all built on each
// request from the same simulated application as the logs, as its event log stands at that
// moment (read back with internal/eventlog, as a history server would). Its links follow
// Spark's base-path rule (UIUtils.uiRoot: the X-Forwarded-Context header, as no
// spark.ui.proxyBase or APPLICATION_WEB_PROXY_BASE is set in a pod), and "/" redirects to
// "/jobs/" as Spark 3.x does: an absolute URL on the request's host, without the base path.
// Running jobs and stages show Spark's kill links; the stand-in simulates no kill. The server
// stops and the PortForward object goes when the driver ends, is deleted, or the emulator
// stops; it needs Options.Dynamic.
//
// The emulator is level-triggered: everything it needs (which executors exist, since when they
// all run, whether the driver was told to end) is read back from the cluster on every pass, so
// it can be stopped and restarted at any time. Only how many lines each log file holds is
// kept in memory, and a restarted emulator counts them in the files, so no line is written
// twice; the stand-in UIs are processes of the emulator, and a restarted one starts them
// again for the drivers that run and points their PortForward objects at the new ports.
package emulator
