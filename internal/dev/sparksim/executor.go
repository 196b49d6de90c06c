package sparksim

import (
	"fmt"
	"strings"
	"time"
)

// executorLog renders one executor pod's log: CoarseGrainedExecutorBackend starting and
// registering with the driver, the Executor running each task it was given (with the
// broadcast, input, shuffle and output lines such a task logs), and its end: told to shut down
// by a stopping driver, or terminated when its pod was deleted.
func (p *plan) executorLog(e *execPlan) []Line {
	var b logBuf
	a, v := p.app, p.ver
	t := e.boot
	step := func(d time.Duration) time.Time { return e.boot.Add(scaled(d, p.scale)) }
	b.info(t, "CoarseGrainedExecutorBackend", "Started daemon with process name: %d@%s", e.pid, e.Pod)
	for _, sig := range []string{"TERM", "HUP", "INT"} {
		b.info(t, "SignalUtils", "Registering signal handler for %s", sig)
	}
	b.log(step(300*time.Millisecond), "WARN", "NativeCodeLoader", "Unable to load native-hadoop library for your platform... using builtin-java classes where applicable")
	securityManager(&b, step(400*time.Millisecond), a.User, v)
	b.info(step(700*time.Millisecond), "TransportClientFactory", "Successfully created connection to %s/%s:%d after %d ms (0 ms spent in bootstraps)", a.DriverHost, a.DriverIP, driverPort, e.connectMs[0])
	securityManager(&b, step(800*time.Millisecond), a.User, v)
	b.info(step(900*time.Millisecond), "TransportClientFactory", "Successfully created connection to %s/%s:%d after %d ms (0 ms spent in bootstraps)", a.DriverHost, a.DriverIP, driverPort, e.connectMs[1])
	t = step(1000 * time.Millisecond)
	b.info(t, "DiskBlockManager", "Created local directory at /var/data/spark-%s/blockmgr-%s", e.dirs[0], e.dirs[1])
	b.info(t, "MemoryStore", "MemoryStore started with capacity %s", bytesString(e.maxMem))
	t = step(1100 * time.Millisecond)
	b.info(t, "CoarseGrainedExecutorBackend", "Connecting to driver: spark://CoarseGrainedScheduler@%s:%d", a.DriverHost, driverPort)
	resourceBanner(&b, t, "executor")

	t = e.Added
	id := fmt.Sprintf("BlockManagerId(%s, %s, %d, None)", e.ID, e.Host, e.bmPort)
	b.info(t, "CoarseGrainedExecutorBackend", "Successfully registered with driver")
	b.info(t.Add(10*time.Millisecond), "Executor", "Starting executor ID %s on host %s", e.ID, e.Host)
	if v.atLeast(3, 4) {
		b.info(t.Add(10*time.Millisecond), "Executor", "OS info %s", osInfo)
		b.info(t.Add(10*time.Millisecond), "Executor", "Java version %s", javaVersion)
	}
	t = t.Add(50 * time.Millisecond)
	b.info(t, "Utils", "Successfully started service 'org.apache.spark.network.netty.NettyBlockTransferService' on port %d.", e.bmPort)
	b.info(t, "NettyBlockTransferService", "Server created on %s:%d", e.Host, e.bmPort)
	b.info(t, "BlockManager", "Using org.apache.spark.storage.RandomBlockReplicationPolicy for block replication policy")
	b.info(t, "BlockManagerMaster", "Registering BlockManager %s", id)
	t = e.Added.Add(bmRegister)
	b.info(t, "BlockManagerMaster", "Registered BlockManager %s", id)
	b.info(t, "BlockManager", "Initialized BlockManager: %s", id)
	if v.atLeast(3, 4) {
		b.info(t, "Executor", "Starting executor with user classpath (userClassPathFirst = false): ''")
	}

	free := e.maxMem
	for _, st := range p.stages {
		first := true
		for _, at := range st.attempts {
			if at.exec != e {
				continue
			}
			free = p.executorTask(&b, e, st, at, first, free)
			first = false
		}
	}

	if !e.Removed.IsZero() {
		// The pod was deleted: the kubelet sends SIGTERM and the JVM runs its shutdown hooks.
		t := e.Removed.Add(-30 * time.Millisecond)
		b.log(t, "ERROR", "CoarseGrainedExecutorBackend", "RECEIVED SIGNAL TERM")
		b.info(t.Add(5*time.Millisecond), "ShutdownHookManager", "Shutdown hook called")
		b.info(t.Add(7*time.Millisecond), "ShutdownHookManager", "Deleting directory /var/data/spark-%s/spark-%s", e.dirs[0], e.dirs[2])
	} else {
		t := p.end.Add(stopAskExecutors + 12*time.Millisecond)
		b.info(t, "CoarseGrainedExecutorBackend", "Driver commanded a shutdown")
		b.info(t.Add(20*time.Millisecond), "MemoryStore", "MemoryStore cleared")
		b.info(t.Add(21*time.Millisecond), "BlockManager", "BlockManager stopped")
		b.info(t.Add(40*time.Millisecond), "ShutdownHookManager", "Shutdown hook called")
		b.info(t.Add(42*time.Millisecond), "ShutdownHookManager", "Deleting directory /var/data/spark-%s/spark-%s", e.dirs[0], e.dirs[2])
	}
	return b.sorted()
}

// executorTask logs one task attempt on its executor; first is whether it is the stage's first
// task there, which fetches the stage's broadcast and map output locations.
func (p *plan) executorTask(b *logBuf, e *execPlan, st *stagePlan, at *attempt, first bool, free int64) int64 {
	a := p.app
	name := taskName(st, at)
	t := at.launch.Add(2 * time.Millisecond)
	b.info(t, "CoarseGrainedExecutorBackend", "Got assigned task %d", at.tid)
	b.info(t.Add(time.Millisecond), "Executor", "Running %s", name)
	// Offsets within the task, for tasks of a second or more; shorter ones shrink them.
	k := min(1, float64(at.finish.Sub(at.launch))/float64(time.Second))
	inner := func(d time.Duration) time.Time { return at.launch.Add(time.Duration(float64(d) * k)) }
	if first {
		t := inner(20 * time.Millisecond)
		b.info(t, "TorrentBroadcast", "Started reading broadcast variable %d with 1 pieces (estimated total size %s)", st.broadcast, bytesString(broadcastBlockSz))
		free -= st.broadcastPiece
		b.info(t, "MemoryStore", "Block broadcast_%d_piece0 stored as bytes in memory (estimated size %s, free %s)", st.broadcast, bytesString(st.broadcastPiece), bytesString(free))
		done := inner(60 * time.Millisecond)
		b.info(done, "TorrentBroadcast", "Reading broadcast variable %d took %d ms", st.broadcast, max(done.Sub(t).Milliseconds(), 1))
		free -= st.broadcastSize
		b.info(done, "MemoryStore", "Block broadcast_%d stored as values in memory (estimated size %s, free %s)", st.broadcast, bytesString(st.broadcastSize), bytesString(free))
	}
	if at.outcome == succeeded && st.input {
		b.info(inner(70*time.Millisecond), "HadoopRDD", "Input split: %s/part-%05d:0+%d", st.inputPath, at.index, at.m.inBytes)
	}
	if st.parent != nil && at.outcome == succeeded {
		m := at.m
		if first {
			t := inner(65 * time.Millisecond)
			b.info(t, "MapOutputTrackerWorker", "Don't have map outputs for shuffle %d, fetching them", st.parent.shuffleID)
			b.info(t, "MapOutputTrackerWorker", "Doing the fetch; tracker endpoint = NettyRpcEndpointRef(spark://MapOutputTracker@%s:%d)", a.DriverHost, driverPort)
			b.info(t, "MapOutputTrackerWorker", "Got the map output locations")
		}
		t := inner(70 * time.Millisecond)
		blocks := fmt.Sprintf("Getting %d (%s) non-empty blocks including %d (%s) local and 0 (0.0 B) host-local and ",
			m.localBlocks+m.remoteBlocks, bytesString(m.localBytes+m.remoteBytes), m.localBlocks, bytesString(m.localBytes))
		if p.ver.atLeast(3, 2) {
			blocks += "0 (0.0 B) push-merged-local and "
		}
		blocks += fmt.Sprintf("%d (%s) remote blocks", m.remoteBlocks, bytesString(m.remoteBytes))
		b.info(t, "ShuffleBlockFetcherIterator", "%s", blocks)
		fetches := 0
		if m.remoteBlocks > 0 {
			fetches = int(min(m.remoteBlocks, 5))
		}
		b.info(t, "ShuffleBlockFetcherIterator", "Started %d remote fetches in %d ms", fetches, m.fetchWait+1)
	}
	switch at.outcome {
	case succeeded:
		end := at.finish.Add(-time.Millisecond)
		if st.output {
			b.info(end.Add(-5*time.Millisecond), "SparkHadoopMapRedUtil", "attempt_%s_%04d_m_%06d_%d: Committed. Elapsed time: %d ms.", p.jobTracker, st.job.id, at.index, at.tid, at.commitMs)
		}
		b.info(end, "Executor", "Finished %s. %d bytes result sent to driver", name, at.m.resultSize)
	case failed:
		b.log(at.finish.Add(-time.Millisecond), "ERROR", "Executor", "Exception in %s\n%s", name, strings.TrimSuffix(p.exception.fullStackTrace(st.kind), "\n"))
	case killed:
		b.info(minTime(st.abort.Add(5*time.Millisecond), at.finish.Add(-2*time.Millisecond)), "Executor", "Executor is trying to kill %s, reason: Stage cancelled", name)
		b.info(at.finish.Add(-time.Millisecond), "Executor", "Executor killed %s, reason: Stage cancelled", name)
	}
	return free
}
