package sparksim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	javaVersion = "17.0.10"
	osInfo      = "Linux, 6.1.0-27-cloud-amd64, amd64"
)

// driverLog renders the driver pod's log: SparkContext's start-up, the Kubernetes scheduler
// backend asking for executors and registering them, the DAGScheduler and TaskSetManager
// running each job, executors lost, and the stop, with the uncaught exception of a failed run.
func (p *plan) driverLog() []Line {
	var b logBuf
	a, v := p.app, p.ver
	t0 := p.start
	b.log(t0, "WARN", "NativeCodeLoader", "Unable to load native-hadoop library for your platform... using builtin-java classes where applicable")
	b.info(t0, "SparkContext", "Running Spark version %s", a.SparkVersion)
	if v.atLeast(3, 4) {
		b.info(t0, "SparkContext", "OS info %s", osInfo)
		b.info(t0, "SparkContext", "Java version %s", javaVersion)
	}
	t := p.at(bootContext)
	resourceBanner(&b, t, "driver")
	b.info(t, "SparkContext", "Submitted application: %s", a.AppName)
	cores, mem := p.executorShape()
	if v.atLeast(3, 1) {
		b.info(t, "ResourceProfile", "Default ResourceProfile created, executor resources: Map(cores -> name: cores, amount: %d, script: , vendor: , memory -> name: memory, amount: %d, script: , vendor: , offHeap -> name: offHeap, amount: 0, script: , vendor: ), task resources: Map(cpus -> name: cpus, amount: 1.0)", cores, mem)
		b.info(t, "ResourceProfile", "Limiting resource is cpus at %d tasks per executor", cores)
		b.info(t, "ResourceProfileManager", "Added ResourceProfile id: 0")
	}
	securityManager(&b, t, a.User, v)
	t = t.Add(scaled(450*time.Millisecond, p.scale))
	b.info(t, "Utils", "Successfully started service 'sparkDriver' on port %d.", driverPort)
	b.info(t, "SparkEnv", "Registering MapOutputTracker")
	b.info(t, "SparkEnv", "Registering BlockManagerMaster")
	b.info(t, "BlockManagerMasterEndpoint", "Using org.apache.spark.storage.DefaultTopologyMapper for getting topology information")
	b.info(t, "BlockManagerMasterEndpoint", "BlockManagerMasterEndpoint up")
	b.info(t, "SparkEnv", "Registering BlockManagerMasterHeartbeat")
	b.info(t, "DiskBlockManager", "Created local directory at /var/data/spark-%s/blockmgr-%s", p.driverDirs[0], p.driverDirs[1])
	b.info(t, "MemoryStore", "MemoryStore started with capacity %s", bytesString(p.driverMaxMem))
	b.info(t, "SparkEnv", "Registering OutputCommitCoordinator")
	t = p.at(bootUI)
	if v.atLeast(3, 4) {
		b.info(t, "JettyUtils", "Start Jetty 0.0.0.0:%d for SparkUI", uiPort)
		b.info(t, "Utils", "Successfully started service 'SparkUI' on port %d.", uiPort)
	} else {
		b.info(t, "Utils", "Successfully started service 'SparkUI' on port %d.", uiPort)
		b.info(t, "SparkUI", "Bound SparkUI to 0.0.0.0, and started at http://%s:%d", a.DriverHost, uiPort)
	}
	b.info(p.at(bootK8sClient), "SparkKubernetesClientFactory", "Auto-configuring K8S client using current context from users K8S config file")

	// ExecutorPodsAllocator asks for spark.kubernetes.allocation.batch.size (5) pods at a
	// time, a batch a second.
	n := len(p.execs)
	for batch := 0; batch*5 < n; batch++ {
		t := p.at(bootRequest + time.Duration(batch)*time.Second)
		size := min(5, n-batch*5)
		b.info(t, "ExecutorPodsAllocator", "Going to request %d executors from Kubernetes for ResourceProfile Id: 0, target: %d, known: %d, sharedSlotFromPendingPods: 2147483647.", size, n, batch*5)
		if v.atLeast(3, 4) && batch == 0 {
			b.info(t, "ExecutorPodsAllocator", "Found 0 reusable PVCs from 0 PVCs")
		}
		if batch == 0 {
			p.driverBlockManager(&b)
		}
		if v.atLeast(3, 1) {
			for range size {
				b.info(t.Add(scaled(200*time.Millisecond, p.scale)), "BasicExecutorFeatureStep", "Decommissioning not enabled, skipping shutdown script")
			}
		}
	}
	if n == 0 {
		p.driverBlockManager(&b)
	}
	if strings.EqualFold(strings.TrimSpace(a.Conf["spark.eventLog.enabled"]), "true") {
		// Spark logs where it writes the event log only when it writes one.
		b.info(p.at(bootEventLog), "SingleEventLogFileWriter", "Logging events to %s/%s.inprogress", strings.TrimSuffix(a.EventLogDir, "/"), p.eventLogName())
	}

	for _, e := range p.execs {
		profile := ""
		if v.atLeast(3, 1) {
			profile = ",  ResourceProfileId 0" // sic: Spark writes two spaces
		}
		b.info(e.Added, "KubernetesClusterSchedulerBackend$KubernetesDriverEndpoint", "Registered executor NettyRpcEndpointRef(spark-client://Executor) (%s:%d) with ID %s%s",
			e.Host, e.rpcPort, e.ID, profile)
		b.info(e.Added.Add(bmRegister), "BlockManagerMasterEndpoint", "Registering block manager %s:%d with %s RAM, BlockManagerId(%s, %s, %d, None)",
			e.Host, e.bmPort, bytesString(e.maxMem), e.ID, e.Host, e.bmPort)
	}
	if p.readyRatio {
		b.info(p.ready, "KubernetesClusterSchedulerBackend", "SchedulerBackend is ready for scheduling beginning after reached minRegisteredResourcesRatio: 0.8")
	} else if p.ready.Before(p.end) {
		b.info(p.ready, "KubernetesClusterSchedulerBackend", "SchedulerBackend is ready for scheduling beginning after waiting maxRegisteredResourcesWaitingTime: 30000000000(ns)")
	}

	free := p.driverMaxMem
	for _, job := range p.jobs {
		free = p.driverJob(&b, job, free)
	}
	p.driverLostExecutors(&b)
	p.driverStop(&b)
	return b.sorted()
}

// executorShape is the default resource profile's executor: cores and memory of the first
// executor (Spark's executors are all alike), or Spark's defaults.
func (p *plan) executorShape() (cores, memMiB int) {
	if len(p.app.Executors) == 0 {
		return DefaultCores, DefaultMemoryMiB
	}
	e := p.app.Executors[0]
	return e.Cores, e.MemoryMiB
}

func resourceBanner(b *logBuf, t time.Time, component string) {
	const rule = "=============================================================="
	b.info(t, "ResourceUtils", rule)
	b.info(t, "ResourceUtils", "No custom resources configured for spark.%s.", component)
	b.info(t, "ResourceUtils", rule)
}

func securityManager(b *logBuf, t time.Time, user string, v version) {
	b.info(t, "SecurityManager", "Changing view acls to: %s", user)
	b.info(t, "SecurityManager", "Changing modify acls to: %s", user)
	b.info(t, "SecurityManager", "Changing view acls groups to: ")
	b.info(t, "SecurityManager", "Changing modify acls groups to: ")
	if v.atLeast(3, 4) {
		b.info(t, "SecurityManager", "SecurityManager: authentication disabled; ui acls disabled; users with view permissions: %s; groups with view permissions: EMPTY; users with modify permissions: %s; groups with modify permissions: EMPTY", user, user)
	} else {
		b.info(t, "SecurityManager", "SecurityManager: authentication disabled; ui acls disabled; users  with view permissions: Set(%s); groups with view permissions: Set(); users  with modify permissions: Set(%s); groups with modify permissions: Set()", user, user)
	}
}

func (p *plan) driverBlockManager(b *logBuf) {
	a := p.app
	t := p.at(bootBlockMgr)
	id := fmt.Sprintf("BlockManagerId(driver, %s, %d, None)", a.DriverHost, driverBlockPort)
	b.info(t, "Utils", "Successfully started service 'org.apache.spark.network.netty.NettyBlockTransferService' on port %d.", driverBlockPort)
	b.info(t, "NettyBlockTransferService", "Server created on %s %s:%d", a.DriverHost, a.DriverIP, driverBlockPort)
	b.info(t, "BlockManager", "Using org.apache.spark.storage.RandomBlockReplicationPolicy for block replication policy")
	b.info(t, "BlockManagerMaster", "Registering BlockManager %s", id)
	b.info(t, "BlockManagerMasterEndpoint", "Registering block manager %s:%d with %s RAM, %s", a.DriverHost, driverBlockPort, bytesString(p.driverMaxMem), id)
	b.info(t, "BlockManagerMaster", "Registered BlockManager %s", id)
	b.info(t, "BlockManager", "Initialized BlockManager: %s", id)
}

func stageRef(st *stagePlan) string { return fmt.Sprintf("%s %d", st.kind, st.id) }

func rddRef(st *stagePlan) string {
	r := st.rdds[0]
	return fmt.Sprintf("%s[%d] at %s", r.name, r.id, r.callsite)
}

func taskName(st *stagePlan, at *attempt) string {
	return fmt.Sprintf("task %d.%d in stage %d.0 (TID %d)", at.index, at.number, st.id, at.tid)
}

// driverJob logs one job as DAGScheduler, TaskSchedulerImpl and TaskSetManager do, and
// returns the driver's free storage memory after its broadcasts.
func (p *plan) driverJob(b *logBuf, job *jobPlan, free int64) int64 {
	t := job.submitted
	final := job.stages[len(job.stages)-1]
	b.info(t, "SparkContext", "Starting job: %s", job.name)
	for _, st := range job.stages {
		if st.kind == shuffleMapStage {
			b.info(t, "DAGScheduler", "Registering RDD %d (%s) as input to shuffle %d", st.rdds[0].id, st.rdds[0].callsite, st.shuffleID)
		}
	}
	b.info(t, "DAGScheduler", "Got job %d (%s) with %d output partitions", job.id, job.name, final.numTasks)
	b.info(t, "DAGScheduler", "Final stage: %s (%s)", stageRef(final), final.name)
	parents := "List()"
	if final.parent != nil {
		parents = "List(" + stageRef(final.parent) + ")"
	}
	b.info(t, "DAGScheduler", "Parents of final stage: %s", parents)
	b.info(t, "DAGScheduler", "Missing parents: %s", parents)

	for i, st := range job.stages {
		if st.submitted.IsZero() {
			break
		}
		free = p.driverStage(b, st, free)
		if st.failure != "" {
			break
		}
		if st.kind == shuffleMapStage {
			t := st.completed
			b.info(t, "DAGScheduler", "looking for newly runnable stages")
			b.info(t, "DAGScheduler", "running: Set()")
			var waiting []string
			for _, next := range job.stages[i+1:] {
				waiting = append(waiting, stageRef(next))
			}
			b.info(t, "DAGScheduler", "waiting: Set(%s)", strings.Join(waiting, ", "))
			b.info(t, "DAGScheduler", "failed: Set()")
		}
	}
	took := job.took
	if job.failed {
		b.info(job.completed, "DAGScheduler", "Job %d failed: %s, took %s", job.id, job.name, jobTime(took, p.ver))
		return free
	}
	b.info(final.completed, "DAGScheduler", "Job %d is finished. Cancelling potential speculative or zombie tasks for this job", job.id)
	b.info(final.completed, "TaskSchedulerImpl", "Killing all running tasks in stage %d: Stage finished", final.id)
	b.info(job.completed, "DAGScheduler", "Job %d finished: %s, took %s", job.id, job.name, jobTime(took, p.ver))
	return free
}

// jobTime is runJob's "took": seconds with six decimals until Spark 4, milliseconds after.
func jobTime(d time.Duration, v version) string {
	if v.atLeast(4, 0) {
		return fmt.Sprintf("%s ms", trimFloat(float64(d.Microseconds())/1e3))
	}
	return fmt.Sprintf("%f s", d.Seconds())
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.6f", f)
	s = strings.TrimRight(s, "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

func (p *plan) driverStage(b *logBuf, st *stagePlan, free int64) int64 {
	a, v := p.app, p.ver
	t := st.submitted
	b.info(t, "DAGScheduler", "Submitting %s (%s), which has no missing parents", stageRef(st), rddRef(st))
	free -= st.broadcastSize
	b.info(t, "MemoryStore", "Block broadcast_%d stored as values in memory (estimated size %s, free %s)", st.broadcast, bytesString(st.broadcastSize), bytesString(free))
	free -= st.broadcastPiece
	b.info(t, "MemoryStore", "Block broadcast_%d_piece0 stored as bytes in memory (estimated size %s, free %s)", st.broadcast, bytesString(st.broadcastPiece), bytesString(free))
	b.info(t, "BlockManagerInfo", "Added broadcast_%d_piece0 in memory on %s:%d (size: %s, free: %s)", st.broadcast, a.DriverHost, driverBlockPort, bytesString(st.broadcastPiece), bytesString(free+st.broadcastSize))
	line := 1513
	if v.atLeast(3, 5) {
		line = 1585
	}
	b.info(t, "SparkContext", "Created broadcast %d from broadcast at DAGScheduler.scala:%d", st.broadcast, line)
	parts := make([]string, min(st.numTasks, 15))
	for i := range parts {
		parts[i] = fmt.Sprint(i)
	}
	b.info(t, "DAGScheduler", "Submitting %d missing tasks from %s (%s) (first 15 tasks are for partitions Vector(%s))", st.numTasks, stageRef(st), rddRef(st), strings.Join(parts, ", "))
	if v.atLeast(3, 1) {
		b.info(t, "TaskSchedulerImpl", "Adding task set %d.0 with %d tasks resource profile 0", st.id, st.numTasks)
	} else {
		b.info(t, "TaskSchedulerImpl", "Adding task set %d.0 with %d tasks", st.id, st.numTasks)
	}

	suffix := " "
	if !v.atLeast(3, 4) {
		suffix = " taskResourceAssignments Map()"
	}
	seen := map[*execPlan]bool{}
	for _, at := range st.attempts {
		e := at.exec
		locality := "PROCESS_LOCAL"
		if st.input {
			locality = "ANY"
		}
		b.info(at.launch, "TaskSetManager", "Starting %s (%s, executor %s, partition %d, %s, %d bytes)%s", taskName(st, at), e.Host, e.ID, at.index, locality, st.taskBytes, suffix)
		if !seen[e] {
			seen[e] = true
			b.info(at.launch.Add(90*time.Millisecond), "BlockManagerInfo", "Added broadcast_%d_piece0 in memory on %s:%d (size: %s, free: %s)", st.broadcast, e.Host, e.bmPort, bytesString(st.broadcastPiece), bytesString(e.maxMem-st.broadcastPiece))
		}
	}

	// Ends, in the order they happen.
	ends := slices.Clone(st.attempts)
	slices.SortStableFunc(ends, func(x, y *attempt) int { return x.finish.Compare(y.finish) })
	done, dup := 0, 0
	for _, at := range ends {
		e := at.exec
		t := at.finish.Add(2 * time.Millisecond)
		switch at.outcome {
		case succeeded:
			done++
			b.info(t, "TaskSetManager", "Finished %s in %d ms on %s (executor %s) (%d/%d)", taskName(st, at), at.finish.Sub(at.launch).Milliseconds(), e.Host, e.ID, done, st.numTasks)
		case failed:
			if dup == 0 {
				b.log(t, "WARN", "TaskSetManager", "Lost %s (%s executor %s): %s", taskName(st, at), e.Host, e.ID, strings.TrimSuffix(p.exception.fullStackTrace(st.kind), "\n"))
			} else {
				b.info(t, "TaskSetManager", "Lost %s on %s, executor %s: %s (%s) [duplicate %d]", taskName(st, at), e.Host, e.ID, p.exception.className, p.exception.message, dup)
			}
			dup++
		case killed:
			b.log(t, "WARN", "TaskSetManager", "Lost %s (%s executor %s): TaskKilled (Stage cancelled)", taskName(st, at), e.Host, e.ID)
		}
	}
	if st.failure == "" {
		t := st.completed.Add(-time.Millisecond)
		b.info(t, "TaskSchedulerImpl", "Removed TaskSet %d.0, whose tasks have all completed, from pool ", st.id)
		b.info(st.completed, "DAGScheduler", "%s (%s) finished in %s s", stageRef(st), st.name, seconds(st.completed.Sub(st.submitted)))
		return free
	}
	last := st.abort
	for _, at := range ends {
		last = maxTime(last, at.finish)
	}
	fails := st.failedAttempts()
	t = st.abort
	b.log(t, "ERROR", "TaskSetManager", "Task %d in stage %d.0 failed %d times; aborting job", fails[0].index, st.id, MaxTaskFailures)
	b.info(t, "TaskSchedulerImpl", "Cancelling stage %d", st.id)
	b.info(t, "TaskSchedulerImpl", "Killing all running tasks in stage %d: Stage cancelled", st.id)
	b.info(t.Add(time.Millisecond), "TaskSchedulerImpl", "Stage %d was cancelled", st.id)
	b.info(st.completed, "DAGScheduler", "%s (%s) failed in %s s due to %s", stageRef(st), st.name, seconds(st.completed.Sub(st.submitted)), st.failure)
	b.info(last.Add(3*time.Millisecond), "TaskSchedulerImpl", "Removed TaskSet %d.0, whose tasks have all completed, from pool ", st.id)
	return free
}

// driverLostExecutors logs the driver's side of each executor removed while the application
// ran, as the Kubernetes lifecycle manager reports a pod gone.
func (p *plan) driverLostExecutors(b *logBuf) {
	epoch := 0
	for _, e := range p.execs {
		if e.Removed.IsZero() {
			continue
		}
		epoch++
		t := e.Removed
		b.log(t, "ERROR", "TaskSchedulerImpl", "Lost executor %s on %s: %s", e.ID, e.Host, e.RemovedReason)
		b.info(t.Add(time.Millisecond), "DAGScheduler", "Executor lost: %s (epoch %d)", e.ID, epoch)
		b.info(t.Add(2*time.Millisecond), "BlockManagerMasterEndpoint", "Trying to remove executor %s from BlockManagerMaster.", e.ID)
		b.info(t.Add(2*time.Millisecond), "BlockManagerMasterEndpoint", "Removing block manager BlockManagerId(%s, %s, %d, None)", e.ID, e.Host, e.bmPort)
		b.info(t.Add(3*time.Millisecond), "BlockManagerMaster", "Removed %s successfully in removeExecutor", e.ID)
		b.info(t.Add(3*time.Millisecond), "DAGScheduler", "Shuffle files lost for executor: %s (epoch %d)", e.ID, epoch)
	}
}

// Offsets of the driver's stop from the application's end.
const (
	stopAskExecutors = 16 * time.Millisecond
	stopDone         = 340 * time.Millisecond
	stopUncaught     = 345 * time.Millisecond
	stopHooks        = 400 * time.Millisecond
)

// driverStop logs SparkContext.stop (which spark-submit calls on Kubernetes when the main
// method returns or throws), then the uncaught exception of a failed run, then the JVM's
// shutdown hooks.
func (p *plan) driverStop(b *logBuf) {
	a, v := p.app, p.ver
	end := p.end
	if v.atLeast(3, 5) {
		code := 0
		if v.atLeast(4, 0) {
			code = a.ExitCode
		}
		b.info(end.Add(-3*time.Millisecond), "SparkContext", "SparkContext is stopping with exitCode %d.", code)
	}
	b.info(end.Add(5*time.Millisecond), "SparkUI", "Stopped Spark web UI at http://%s:%d", a.DriverHost, uiPort)
	b.info(end.Add(15*time.Millisecond), "KubernetesClusterSchedulerBackend", "Shutting down all executors")
	b.info(end.Add(stopAskExecutors), "KubernetesClusterSchedulerBackend$KubernetesDriverEndpoint", "Asking each executor to shut down")
	b.log(end.Add(20*time.Millisecond), "WARN", "ExecutorPodsWatchSnapshotSource", "Kubernetes client has been closed.")
	t := end.Add(320 * time.Millisecond)
	b.info(t, "MapOutputTrackerMasterEndpoint", "MapOutputTrackerMasterEndpoint stopped!")
	b.info(t.Add(5*time.Millisecond), "MemoryStore", "MemoryStore cleared")
	b.info(t.Add(6*time.Millisecond), "BlockManager", "BlockManager stopped")
	b.info(t.Add(8*time.Millisecond), "BlockManagerMaster", "BlockManagerMaster stopped")
	b.info(t.Add(10*time.Millisecond), "OutputCommitCoordinator$OutputCommitCoordinatorEndpoint", "OutputCommitCoordinator stopped!")
	b.info(end.Add(stopDone), "SparkContext", "Successfully stopped SparkContext")
	if a.Failed {
		abort, kind := "", resultStage
		if n := len(p.jobs); n > 0 {
			job := p.jobs[n-1]
			abort, kind = job.failure, job.stages[len(job.stages)-1].kind
		}
		b.raw(end.Add(stopUncaught), p.exception.uncaught(abort, kind))
	}
	t = end.Add(stopHooks)
	b.info(t, "ShutdownHookManager", "Shutdown hook called")
	b.info(t.Add(2*time.Millisecond), "ShutdownHookManager", "Deleting directory /var/data/spark-%s/spark-%s", p.driverDirs[0], p.driverDirs[2])
	b.info(t.Add(4*time.Millisecond), "ShutdownHookManager", "Deleting directory /tmp/spark-%s", p.driverDirs[3])
}
