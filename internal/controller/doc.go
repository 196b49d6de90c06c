// Package controller drives accepted job runs to an end on Kubernetes. It is level-triggered:
// every reconcile reads the stored job run and the cluster (through pod informers filtered to
// sparkplane's driver pods), takes one step — submit the driver objects of the current attempt,
// record the state the driver pod shows, start the next attempt, cancel — writes the result
// with a compare-and-set update, and requeues with backoff on error. Nothing is kept only in
// memory, so a restarted server resumes every non-terminal job where it stood, and a job is
// submitted at most once per attempt because object names derive from the job run id and the
// attempt number (AlreadyExists is success).
//
// A store that is unavailable (jobs.ErrUnavailable: its database was restarted or cannot be
// reached) pauses the controller rather than failing each run's reconcile with a growing
// backoff: the workers take no work, one probe asks the store again (250 ms, doubling to 5 s),
// and its first answer resumes them and resyncs (storewait.go).
package controller
