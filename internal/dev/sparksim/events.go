package sparksim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// eventLog renders the event log as Spark's EventLoggingListener writes it with JsonProtocol:
// one JSON object per line, its type first in "Event", members in Spark's order. Members
// that appeared in later Spark versions are written only for those versions.
func (p *plan) eventLog() []Line {
	var ev eventBuf
	a, v := p.app, p.ver
	hdr := p.at(bootEventLog)
	ev.floor = hdr

	ev.add(hdr, object{{"Event", "SparkListenerLogStart"}, {"Spark Version", a.SparkVersion}})
	if v.atLeast(3, 1) {
		cores, mem := p.executorShape()
		ev.add(hdr, object{
			{"Event", "SparkListenerResourceProfileAdded"},
			{"Resource Profile Id", 0},
			{"Executor Resource Requests", object{
				{"cores", resourceRequest("cores", cores)},
				{"memory", resourceRequest("memory", mem)},
				{"offHeap", resourceRequest("offHeap", 0)},
			}},
			{"Task Resource Requests", object{{"cpus", object{{"Resource Name", "cpus"}, {"Amount", double(1)}}}}},
		})
	}
	ev.add(hdr, blockManagerAdded("driver", a.DriverHost, driverBlockPort, p.driverMaxMem, p.at(bootBlockMgr)))
	ev.add(hdr, p.environment())
	ev.add(hdr, object{
		{"Event", "SparkListenerApplicationStart"},
		{"App Name", a.AppName},
		{"App ID", a.AppID},
		{"Timestamp", ms(p.start)},
		{"User", a.User},
	})

	for _, e := range p.execs {
		info := object{{"Host", e.Host}, {"Total Cores", e.Cores}, {"Log Urls", map[string]string{}}, {"Attributes", map[string]string{}}, {"Resources", object{}}}
		if v.atLeast(3, 1) {
			info = append(info, member{"Resource Profile Id", 0})
		}
		ev.add(e.Added, object{{"Event", "SparkListenerExecutorAdded"}, {"Timestamp", ms(e.Added)}, {"Executor ID", e.ID}, {"Executor Info", info}})
		t := e.Added.Add(bmRegister)
		ev.add(t, blockManagerAdded(e.ID, e.Host, e.bmPort, e.maxMem, t))
		if !e.Removed.IsZero() {
			ev.add(e.Removed, object{{"Event", "SparkListenerExecutorRemoved"}, {"Timestamp", ms(e.Removed)}, {"Executor ID", e.ID}, {"Removed Reason", e.RemovedReason}})
			t := e.Removed.Add(2 * time.Millisecond)
			ev.add(t, object{{"Event", "SparkListenerBlockManagerRemoved"}, {"Block Manager ID", blockManagerID(e.ID, e.Host, e.bmPort)}, {"Timestamp", ms(t)}})
		}
	}

	for _, job := range p.jobs {
		infos := make([]object, len(job.stages))
		ids := make([]int, len(job.stages))
		for i, st := range job.stages {
			infos[i] = p.stageInfo(st, false, nil)
			ids[i] = st.id
		}
		ev.add(job.submitted, object{
			{"Event", "SparkListenerJobStart"},
			{"Job ID", job.id},
			{"Submission Time", ms(job.submitted)},
			{"Stage Infos", infos},
			{"Stage IDs", ids},
			{"Properties", job.properties},
		})
		for _, st := range job.stages {
			if st.submitted.IsZero() {
				break
			}
			p.stageEvents(&ev, st)
		}
		result := object{{"Result", "JobSucceeded"}}
		if job.failed {
			frames := append(append([]string{}, abortFrames...), p.exception.mainFrames()...)
			result = object{{"Result", "JobFailed"}, {"Exception", object{{"Message", job.failure}, {"Stack Trace", stackJSON(frames)}}}}
		}
		ev.add(job.completed, object{{"Event", "SparkListenerJobEnd"}, {"Job ID", job.id}, {"Completion Time", ms(job.completed)}, {"Job Result", result}})
	}

	end := object{{"Event", "SparkListenerApplicationEnd"}, {"Timestamp", ms(p.end)}}
	if v.atLeast(4, 0) {
		end = append(end, member{"ExitCode", a.ExitCode})
	}
	ev.add(p.end, end)
	return ev.sorted()
}

// eventBuf collects events; an event is written no earlier than the log was opened (floor).
type eventBuf struct {
	floor time.Time
	lines []Line
	buf   []byte
}

func (e *eventBuf) add(at time.Time, o object) {
	e.buf = appendJSON(e.buf[:0], o)
	e.lines = append(e.lines, Line{At: maxTime(at, e.floor), Text: string(e.buf)})
}

func (e *eventBuf) sorted() []Line {
	slices.SortStableFunc(e.lines, func(x, y Line) int { return x.At.Compare(y.At) })
	return e.lines
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func resourceRequest(name string, amount int) object {
	return object{{"Resource Name", name}, {"Amount", amount}, {"Discovery Script", ""}, {"Vendor", ""}}
}

func blockManagerID(id, host string, port int) object {
	return object{{"Executor ID", id}, {"Host", host}, {"Port", port}}
}

func blockManagerAdded(id, host string, port int, maxMem int64, t time.Time) object {
	return object{
		{"Event", "SparkListenerBlockManagerAdded"},
		{"Block Manager ID", blockManagerID(id, host, port)},
		{"Maximum Memory", maxMem},
		{"Timestamp", ms(t)},
		{"Maximum Onheap Memory", maxMem},
		{"Maximum Offheap Memory", int64(0)},
	}
}

// redactPattern is spark.redaction.regex's default: Spark hides the values of matching keys
// in the environment it logs.
var redactPattern = regexp.MustCompile(`(?i)secret|password|token|access[.]?key`)

const redacted = "*********(redacted)"

// environment is SparkListenerEnvironmentUpdate, kept small: the properties a Kubernetes
// driver runs with, then App.Conf, and a few JVM facts.
func (p *plan) environment() object {
	a, v := p.app, p.ver
	cores, mem := p.executorShape()
	props := map[string]string{
		"spark.master":                                "k8s://https://kubernetes.default.svc:443",
		"spark.submit.deployMode":                     "cluster",
		"spark.submit.pyFiles":                        "",
		"spark.kubernetes.submitInDriver":             "true",
		"spark.kubernetes.resource.type":              "java",
		"spark.kubernetes.memoryOverheadFactor":       "0.1",
		"spark.driver.port":                           fmt.Sprint(driverPort),
		"spark.driver.blockManager.port":              fmt.Sprint(driverBlockPort),
		"spark.executor.instances":                    fmt.Sprint(len(a.Executors)),
		"spark.executor.cores":                        fmt.Sprint(cores),
		"spark.executor.memory":                       fmt.Sprintf("%dm", mem),
		"spark.eventLog.enabled":                      "true",
		"spark.eventLog.dir":                          a.EventLogDir,
		"spark.scheduler.minRegisteredResourcesRatio": "0.8",
	}
	for k, val := range a.Conf {
		props[k] = val
	}
	// What the running application set itself wins over what was submitted.
	props["spark.app.id"] = a.AppID
	props["spark.app.name"] = a.AppName
	props["spark.app.startTime"] = fmt.Sprint(ms(p.start))
	props["spark.driver.host"] = a.DriverHost
	props["spark.executor.id"] = "driver"
	for k := range props {
		if redactPattern.MatchString(k) {
			props[k] = redacted
		}
	}
	jars := "/opt/spark/jars/"
	scala := p.scalaVersion[:strings.LastIndexByte(p.scalaVersion, '.')]
	env := object{
		{"Event", "SparkListenerEnvironmentUpdate"},
		{"JVM Information", object{
			{"Java Home", "/opt/java/openjdk"},
			{"Java Version", javaVersion + " (Eclipse Adoptium)"},
			{"Scala Version", "version " + p.scalaVersion},
		}},
		{"Spark Properties", props},
		{"Hadoop Properties", map[string]string{
			"fs.defaultFS":        "file:///",
			"fs.s3a.impl":         "org.apache.hadoop.fs.s3a.S3AFileSystem",
			"hadoop.tmp.dir":      "/tmp/hadoop-" + a.User,
			"io.file.buffer.size": "65536",
		}},
		{"System Properties", map[string]string{
			"java.version":     javaVersion,
			"java.vendor":      "Eclipse Adoptium",
			"os.name":          "Linux",
			"os.arch":          "amd64",
			"user.dir":         "/opt/spark/work-dir",
			"user.name":        a.User,
			"file.encoding":    "UTF-8",
			"SPARK_SUBMIT":     "true",
			"sun.java.command": fmt.Sprintf("org.apache.spark.deploy.SparkSubmit --deploy-mode client --conf spark.driver.bindAddress=%s --properties-file /opt/spark/conf/spark.properties --class %s spark-internal", a.DriverIP, a.MainClass),
			"java.io.tmpdir":   "/tmp",
			"line.separator":   "\n",
			"path.separator":   ":",
			"sun.cpu.endian":   "little",
		}},
	}
	if v.atLeast(4, 0) {
		env = append(env, member{"Metrics Properties", map[string]string{
			"*.sink.servlet.class":           "org.apache.spark.metrics.sink.MetricsServlet",
			"*.sink.servlet.path":            "/metrics/json",
			"applications.sink.servlet.path": "/metrics/applications/json",
			"master.sink.servlet.path":       "/metrics/master/json",
		}})
	}
	env = append(env, member{"Classpath Entries", map[string]string{
		"/opt/spark/conf/": "System Classpath",
		jars + fmt.Sprintf("spark-core_%s-%s.jar", scala, a.SparkVersion):       "System Classpath",
		jars + fmt.Sprintf("spark-kubernetes_%s-%s.jar", scala, a.SparkVersion): "System Classpath",
		jars + fmt.Sprintf("scala-library-%s.jar", p.scalaVersion):              "System Classpath",
	}})
	return env
}

// stageInfo is JsonProtocol's StageInfo. JobStart lists stages before they are submitted;
// StageSubmitted and StageCompleted add their times, and StageCompleted the accumulated
// metrics and a failed stage's reason.
func (p *plan) stageInfo(st *stagePlan, submitted bool, accum []object) object {
	v := p.ver
	rdds := make([]object, len(st.rdds))
	for i, r := range st.rdds {
		level := object{{"Use Disk", false}, {"Use Memory", false}}
		if v.atLeast(4, 0) {
			level = append(level, member{"Use Off Heap", false})
		}
		level = append(level, member{"Deserialized", false}, member{"Replication", 1})
		parents := r.parents
		if parents == nil {
			parents = []int{}
		}
		o := object{{"RDD ID", r.id}, {"Name", r.name}, {"Scope", r.scope}, {"Callsite", r.callsite}, {"Parent IDs", parents}, {"Storage Level", level}, {"Barrier", false}}
		if v.atLeast(3, 3) {
			o = append(o, member{"DeterministicLevel", "DETERMINATE"})
		}
		o = append(o, member{"Number of Partitions", st.numTasks}, member{"Number of Cached Partitions", 0}, member{"Memory Size", 0}, member{"Disk Size", 0})
		rdds[i] = o
	}
	parents := []int{}
	if st.parent != nil {
		parents = []int{st.parent.id}
	}
	o := object{
		{"Stage ID", st.id},
		{"Stage Attempt ID", 0},
		{"Stage Name", st.name},
		{"Number of Tasks", st.numTasks},
		{"RDD Info", rdds},
		{"Parent IDs", parents},
		{"Details", p.stageDetails(st)},
	}
	if submitted {
		o = append(o, member{"Submission Time", ms(st.submitted)})
	}
	if accum != nil {
		o = append(o, member{"Completion Time", ms(st.completed)})
		if st.failure != "" {
			o = append(o, member{"Failure Reason", st.failure})
		}
	} else {
		accum = []object{}
	}
	o = append(o, member{"Accumulables", accum})
	if v.atLeast(3, 1) {
		o = append(o, member{"Resource Profile Id", 0})
	}
	if v.atLeast(3, 4) {
		o = append(o, member{"Shuffle Push Enabled", false}, member{"Shuffle Push Mergers Count", 0})
	}
	return o
}

// stageDetails is the call stack that created the stage's RDD: the main method, then
// spark-submit.
func (p *plan) stageDetails(st *stagePlan) string {
	main := p.app.MainClass
	file := simpleName(main) + ".scala"
	line := st.name[strings.LastIndexByte(st.name, ':')+1:]
	frames := []string{fmt.Sprintf("%s$.main(%s:%s)", main, file, line), fmt.Sprintf("%s.main(%s)", main, file)}
	return strings.Join(append(frames, submitFrames...), "\n")
}

// The internal accumulators of a stage's task metrics, in the order of their IDs.
var accumNames = []string{
	"internal.metrics.executorDeserializeTime",
	"internal.metrics.executorDeserializeCpuTime",
	"internal.metrics.executorRunTime",
	"internal.metrics.executorCpuTime",
	"internal.metrics.resultSize",
	"internal.metrics.jvmGCTime",
	"internal.metrics.resultSerializationTime",
	"internal.metrics.memoryBytesSpilled",
	"internal.metrics.diskBytesSpilled",
	"internal.metrics.peakExecutionMemory",
	"internal.metrics.shuffle.read.remoteBlocksFetched",
	"internal.metrics.shuffle.read.localBlocksFetched",
	"internal.metrics.shuffle.read.remoteBytesRead",
	"internal.metrics.shuffle.read.localBytesRead",
	"internal.metrics.shuffle.read.fetchWaitTime",
	"internal.metrics.shuffle.read.recordsRead",
	"internal.metrics.shuffle.write.bytesWritten",
	"internal.metrics.shuffle.write.recordsWritten",
	"internal.metrics.shuffle.write.writeTime",
	"internal.metrics.input.bytesRead",
	"internal.metrics.input.recordsRead",
	"internal.metrics.output.bytesWritten",
	"internal.metrics.output.recordsWritten",
}

const (
	accumRunTime    = 2
	accumResultSize = 4
)

func (m *taskMetrics) accumValues() []int64 {
	return []int64{
		m.deserTime, m.deserCPU, m.runTime, m.cpuTime, m.resultSize, m.gcTime, m.resultSer,
		m.memSpilled, m.diskSpilled, m.peakMem,
		m.remoteBlocks, m.localBlocks, m.remoteBytes, m.localBytes, m.fetchWait, m.readRecords,
		m.writeBytes, m.writeRecords, m.writeTime,
		m.inBytes, m.inRecords, m.outBytes, m.outRecords,
	}
}

// stageEvents writes one stage attempt: submitted, its tasks started and ended (with the
// stage's accumulators as they add up), and completed.
func (p *plan) stageEvents(ev *eventBuf, st *stagePlan) {
	ev.add(st.submitted, object{{"Event", "SparkListenerStageSubmitted"}, {"Stage Info", p.stageInfo(st, true, nil)}, {"Properties", st.job.properties}})
	for _, at := range st.attempts {
		ev.add(at.launch, object{{"Event", "SparkListenerTaskStart"}, {"Stage ID", st.id}, {"Stage Attempt ID", 0}, {"Task Info", p.taskInfo(st, at, false, nil)}})
	}
	ends := slices.Clone(st.attempts)
	slices.SortStableFunc(ends, func(x, y *attempt) int { return x.finish.Compare(y.finish) })
	totals := make([]int64, len(accumNames))
	for _, at := range ends {
		vals := at.m.accumValues()
		var accs []object
		for i, val := range vals {
			if val == 0 {
				continue
			}
			totals[i] += val
			accs = append(accs, object{{"ID", st.accumBase + i}, {"Name", accumNames[i]}, {"Update", val}, {"Value", totals[i]}, {"Internal", true}, {"Count Failed Values", true}})
		}
		if accs == nil {
			accs = []object{}
		}
		ev.add(at.finish, object{
			{"Event", "SparkListenerTaskEnd"},
			{"Stage ID", st.id},
			{"Stage Attempt ID", 0},
			{"Task Type", st.kind.taskType()},
			{"Task End Reason", p.endReason(st, at)},
			{"Task Info", p.taskInfo(st, at, true, accs)},
			{"Task Executor Metrics", p.executorMetrics(at)},
			{"Task Metrics", p.taskMetrics(&at.m)},
		})
	}
	var accum []object
	for i, total := range totals {
		if total != 0 {
			accum = append(accum, object{{"ID", st.accumBase + i}, {"Name", accumNames[i]}, {"Value", total}, {"Internal", true}, {"Count Failed Values", true}})
		}
	}
	if accum == nil {
		accum = []object{}
	}
	ev.add(st.completed, object{{"Event", "SparkListenerStageCompleted"}, {"Stage Info", p.stageInfo(st, true, accum)}})
}

func (p *plan) taskInfo(st *stagePlan, at *attempt, ended bool, accs []object) object {
	o := object{{"Task ID", at.tid}, {"Index", at.index}, {"Attempt", at.number}}
	if p.ver.atLeast(3, 3) {
		o = append(o, member{"Partition ID", at.index})
	}
	var finish int64
	if ended {
		finish = ms(at.finish)
	}
	if accs == nil {
		accs = []object{}
	}
	locality := "PROCESS_LOCAL"
	if st.input {
		locality = "ANY"
	}
	return append(o,
		member{"Launch Time", ms(at.launch)},
		member{"Executor ID", at.exec.ID},
		member{"Host", at.exec.Host},
		member{"Locality", locality},
		member{"Speculative", false},
		member{"Getting Result Time", 0},
		member{"Finish Time", finish},
		member{"Failed", ended && at.outcome == failed},
		member{"Killed", ended && at.outcome == killed},
		member{"Accumulables", accs},
	)
}

// endReason is the TaskEndReason: Success, the task's ExceptionFailure, or TaskKilled for the
// tasks an aborted stage cancelled.
func (p *plan) endReason(st *stagePlan, at *attempt) object {
	updates := []object{
		{{"ID", st.accumBase + accumRunTime}, {"Update", fmt.Sprint(at.m.runTime)}, {"Internal", false}, {"Count Failed Values", true}},
		{{"ID", st.accumBase + accumResultSize}, {"Update", "0"}, {"Internal", false}, {"Count Failed Values", true}},
	}
	switch at.outcome {
	case failed:
		e := p.exception
		frames := e.taskFrames(st.kind)
		return object{
			{"Reason", "ExceptionFailure"},
			{"Class Name", e.className},
			{"Description", e.message},
			{"Stack Trace", stackJSON(frames)},
			{"Full Stack Trace", e.fullStackTrace(st.kind)},
			{"Accumulator Updates", updates},
		}
	case killed:
		return object{{"Reason", "TaskKilled"}, {"Kill Reason", "Stage cancelled"}, {"Accumulator Updates", updates}}
	}
	return object{{"Reason", "Success"}}
}

// executorMetrics is "Task Executor Metrics": the executor's memory and GC peaks while the
// task ran. Spark on Kubernetes does not collect process tree metrics, so those are zero.
func (p *plan) executorMetrics(at *attempt) object {
	v := p.ver
	o := object{
		{"JVMHeapMemory", at.heap},
		{"JVMOffHeapMemory", int64(float64(at.heap) * 0.35)},
		{"OnHeapExecutionMemory", at.m.peakMem},
		{"OffHeapExecutionMemory", int64(0)},
		{"OnHeapStorageMemory", int64(24 << 10)},
		{"OffHeapStorageMemory", int64(0)},
		{"OnHeapUnifiedMemory", at.m.peakMem + 24<<10},
		{"OffHeapUnifiedMemory", int64(0)},
		{"DirectPoolMemory", int64(at.tid%7+1) * 16411},
		{"MappedPoolMemory", int64(0)},
		{"ProcessTreeJVMVMemory", int64(0)},
		{"ProcessTreeJVMRSSMemory", int64(0)},
		{"ProcessTreePythonVMemory", int64(0)},
		{"ProcessTreePythonRSSMemory", int64(0)},
		{"ProcessTreeOtherVMemory", int64(0)},
		{"ProcessTreeOtherRSSMemory", int64(0)},
		{"MinorGCCount", at.gc[0]},
		{"MinorGCTime", at.gc[1]},
		{"MajorGCCount", int64(0)},
		{"MajorGCTime", int64(0)},
	}
	if v.atLeast(3, 3) {
		o = append(o, member{"TotalGCTime", at.gc[1]})
	}
	if v.atLeast(4, 0) {
		o = append(o, member{"ConcurrentGCCount", int64(0)}, member{"ConcurrentGCTime", int64(0)})
	}
	return o
}

func (p *plan) taskMetrics(m *taskMetrics) object {
	v := p.ver
	o := object{
		{"Executor Deserialize Time", m.deserTime},
		{"Executor Deserialize CPU Time", m.deserCPU},
		{"Executor Run Time", m.runTime},
		{"Executor CPU Time", m.cpuTime},
		{"Peak Execution Memory", m.peakMem},
	}
	if v.atLeast(4, 0) {
		o = append(o, member{"Peak On Heap Execution Memory", m.peakMem}, member{"Peak Off Heap Execution Memory", int64(0)})
	}
	read := object{
		{"Remote Blocks Fetched", m.remoteBlocks},
		{"Local Blocks Fetched", m.localBlocks},
		{"Fetch Wait Time", m.fetchWait},
		{"Remote Bytes Read", m.remoteBytes},
		{"Remote Bytes Read To Disk", int64(0)},
		{"Local Bytes Read", m.localBytes},
		{"Total Records Read", m.readRecords},
	}
	if v.atLeast(3, 4) {
		read = append(read, member{"Remote Requests Duration", m.fetchWait}, member{"Push Based Shuffle", object{
			{"Corrupt Merged Block Chunks", 0},
			{"Merged Fetch Fallback Count", 0},
			{"Merged Remote Blocks Fetched", 0},
			{"Merged Local Blocks Fetched", 0},
			{"Merged Remote Chunks Fetched", 0},
			{"Merged Local Chunks Fetched", 0},
			{"Merged Remote Bytes Read", 0},
			{"Merged Local Bytes Read", 0},
			{"Merged Remote Requests Duration", 0},
		}})
	}
	return append(o,
		member{"Result Size", m.resultSize},
		member{"JVM GC Time", m.gcTime},
		member{"Result Serialization Time", m.resultSer},
		member{"Memory Bytes Spilled", m.memSpilled},
		member{"Disk Bytes Spilled", m.diskSpilled},
		member{"Shuffle Read Metrics", read},
		member{"Shuffle Write Metrics", object{{"Shuffle Bytes Written", m.writeBytes}, {"Shuffle Write Time", m.writeTime}, {"Shuffle Records Written", m.writeRecords}}},
		member{"Input Metrics", object{{"Bytes Read", m.inBytes}, {"Records Read", m.inRecords}}},
		member{"Output Metrics", object{{"Bytes Written", m.outBytes}, {"Records Written", m.outRecords}}},
		member{"Updated Blocks", []object{}},
	)
}
