package sparksim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Spark's defaults on Kubernetes: spark.driver.port, spark.driver.blockManager.port, the UI
// port and spark.broadcast.blockSize.
const (
	driverPort       = 7078
	driverBlockPort  = 7079
	uiPort           = 4040
	broadcastBlockSz = 4 << 20 // spark.broadcast.blockSize, shown as "estimated total size"
)

// Offsets of the driver's start-up, from Start, for an application of 20 s or more; shorter
// ones scale them down (bootScale).
const (
	bootContext   = 150 * time.Millisecond  // resources, security, SparkEnv
	bootUI        = 900 * time.Millisecond  // Jetty and the UI
	bootK8sClient = 1100 * time.Millisecond // Kubernetes client
	bootRequest   = 2000 * time.Millisecond // first executor pods requested
	bootBlockMgr  = 2200 * time.Millisecond // block manager; the scheduler backend is up
	bootEventLog  = 2300 * time.Millisecond // event log opened, first events written
	execBoot      = 1300 * time.Millisecond // an executor JVM's start to its registration
	bmRegister    = 150 * time.Millisecond  // registration to the executor's block manager
)

// Gaps between the scheduler's steps, and the end of the application.
const (
	dagDelay   = 15 * time.Millisecond // job submitted to its first stage submitted
	stageGap   = 8 * time.Millisecond  // a stage completed to the next one submitted
	launchLag  = 5 * time.Millisecond  // a stage submitted to its first task launched
	tailTarget = 150 * time.Millisecond
)

// plan is the simulated application's timeline, from which all three outputs are rendered.
type plan struct {
	app   App
	ver   version
	rng   *rand.Rand
	scale float64

	start, end time.Time // ApplicationStart and ApplicationEnd
	tail       time.Duration

	driverMaxMem int64
	driverDirs   [4]string // local dir, blockmgr, spark dir, tmp dir UUIDs
	scalaVersion string

	execs      []*execPlan // in the order they registered
	ready      time.Time   // scheduler backend ready for jobs
	readyRatio bool        // ready because enough executors registered (not on timeout)
	jobs       []*jobPlan
	stages     []*stagePlan
	exception  *javaException // the failure, for failed runs
	jobTracker string         // Hadoop job tracker ID of output commits
}

type execPlan struct {
	Executor
	boot      time.Time // JVM start: the executor log's first line
	rpcPort   int
	bmPort    int
	pid       int
	maxMem    int64
	dirs      [3]string // local dir, blockmgr and spark dir UUIDs
	connectMs [2]int    // the two connections to the driver at start-up
	ran       int       // tasks run so far, while metrics are filled in
	gcCount   int64
	gcTime    int64
}

type jobPlan struct {
	id         int
	name       string // call site of its last stage
	stages     []*stagePlan
	submitted  time.Time
	completed  time.Time
	took       time.Duration // as runJob measures it: a little more than completed - submitted
	failed     bool
	failure    string // message of the exception a failed job carries
	scopeID    int
	properties map[string]string
}

type stageKind int

const (
	shuffleMapStage stageKind = iota
	resultStage
)

func (k stageKind) String() string {
	if k == resultStage {
		return "ResultStage"
	}
	return "ShuffleMapStage"
}

func (k stageKind) taskType() string {
	if k == resultStage {
		return "ResultTask"
	}
	return "ShuffleMapTask"
}

type rddInfo struct {
	id       int
	name     string // class or data set name, e.g. "MapPartitionsRDD"
	callsite string
	scope    string // JSON of its RDDOperationScope
	parents  []int
}

type stagePlan struct {
	id        int
	job       *jobPlan
	kind      stageKind
	name      string
	numTasks  int
	parent    *stagePlan // the stage whose shuffle output this one reads
	shuffleID int        // the shuffle this stage writes, for shuffle map stages
	input     bool       // reads the job's input
	output    bool       // writes the job's output
	inputPath string
	rdds      []rddInfo // the stage's final RDD first

	broadcast      int
	broadcastSize  int64 // values in memory
	broadcastPiece int64 // serialized piece
	taskBytes      int   // serialized task size
	accumBase      int   // first accumulator ID of the stage's task metrics

	submitted time.Time
	completed time.Time
	failure   string // Failure Reason, for the failed stage
	abort     time.Time
	attempts  []*attempt // by TID
}

type outcome int

const (
	succeeded outcome = iota
	failed
	killed
)

type attempt struct {
	tid      int
	index    int
	number   int // attempt number
	exec     *execPlan
	launch   time.Time
	finish   time.Time
	outcome  outcome
	m        taskMetrics
	gc       [2]int64 // executor GC count and time after the task, for its executor metrics
	heap     int64    // executor heap in use, for its executor metrics
	commitMs int      // output commit time, for tasks that write output
}

// taskMetrics are one attempt's Task Metrics; times in ms except the CPU times (ns).
type taskMetrics struct {
	deserTime, deserCPU, runTime, cpuTime, resultSize, gcTime, resultSer, peakMem int64
	memSpilled, diskSpilled                                                       int64
	inBytes, inRecords, outBytes, outRecords                                      int64
	remoteBlocks, localBlocks, fetchWait, remoteBytes, localBytes, readRecords    int64
	writeBytes, writeTime, writeRecords                                           int64
}

func newPlan(a App) (*plan, error) {
	rng := rand.New(rand.NewPCG(uint64(a.Seed), uint64(a.Seed)^0x5eed5eed5eed5eed))
	app, v, err := a.normalize(rng)
	if err != nil {
		return nil, err
	}
	p := &plan{
		app:          app,
		ver:          v,
		rng:          rng,
		scale:        bootScale(app.Duration),
		start:        app.Start,
		end:          app.Start.Add(app.Duration),
		driverMaxMem: storageMemory(driverMemoryMiB),
		scalaVersion: "2.12.18",
	}
	if v.atLeast(4, 0) {
		p.scalaVersion = "2.13.16"
	}
	p.tail = min(tailTarget, app.Duration/20)
	for i := range p.driverDirs {
		p.driverDirs[i] = p.uuid()
	}
	p.jobTracker = p.start.Format("20060102150405") + fmt.Sprintf("%04d", p.rng.IntN(10000))
	if app.Failed {
		p.exception = parseException(app.Exception, app.MainClass)
	}
	p.planExecutors()
	if err := p.planJobs(); err != nil {
		return nil, err
	}
	return p, nil
}

// storageMemory is what Spark's unified memory manager gives a JVM with this heap:
// (heap - 300 MiB reserved) * spark.memory.fraction 0.6, the "MemoryStore started with
// capacity" and the block manager's Maximum Memory.
func storageMemory(heapMiB int) int64 {
	return int64(float64(int64(heapMiB-300)<<20) * 0.6)
}

func (p *plan) at(d time.Duration) time.Time { return p.start.Add(scaled(d, p.scale)) }

func (p *plan) uniform(lo, hi float64) float64 { return lo + p.rng.Float64()*(hi-lo) }

func (p *plan) intn(lo, hi int) int { return lo + p.rng.IntN(hi-lo+1) }

func (p *plan) int64n(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + p.rng.Int64N(hi-lo+1)
}

func (p *plan) uuid() string {
	hi, lo := p.rng.Uint64(), p.rng.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// planExecutors orders the executors by registration and settles when the scheduler may run
// jobs: once spark.scheduler.minRegisteredResourcesRatio (0.8 on Kubernetes) of them have
// registered, or after spark.scheduler.maxRegisteredResourcesWaitingTime (30 s).
func (p *plan) planExecutors() {
	for _, e := range p.app.Executors {
		ep := &execPlan{
			Executor:  e,
			rpcPort:   p.intn(32768, 60999),
			bmPort:    p.intn(32768, 60999),
			pid:       p.intn(12, 40),
			maxMem:    storageMemory(e.MemoryMiB),
			dirs:      [3]string{p.uuid(), p.uuid(), p.uuid()},
			connectMs: [2]int{p.intn(40, 140), p.intn(1, 6)},
		}
		// The JVM starts once the pod runs, which is after the driver asked for it.
		ep.boot = e.Added.Add(-scaled(execBoot, p.scale))
		if request := p.at(bootRequest); ep.boot.Before(request) {
			ep.boot = minTime(request, e.Added)
		}
		p.execs = append(p.execs, ep)
	}
	slices.SortStableFunc(p.execs, func(x, y *execPlan) int { return x.Added.Compare(y.Added) })

	backend := p.at(bootBlockMgr)
	timeout := backend.Add(30 * time.Second)
	p.ready = timeout
	if n := len(p.execs); n > 0 {
		need := int(math.Ceil(0.8 * float64(n)))
		if t := p.execs[need-1].Added; !t.After(timeout) {
			p.ready, p.readyRatio = maxTime(t, backend), true
		}
	}
}

// planJobs lays the jobs out one after another between the first executor's registration
// and the end, then their stages, task attempts and metrics.
func (p *plan) planJobs() error {
	a := p.app
	if a.Jobs == 0 {
		return nil
	}
	first := p.execs[0].Added.Add(bmRegister + 50*time.Millisecond)
	begin := maxTime(p.ready, first)
	begin = begin.Add(min(scaled(1500*time.Millisecond, p.scale), p.end.Sub(begin)/10)).Truncate(time.Millisecond)
	jobsEnd := p.end.Add(-p.tail)
	budget := jobsEnd.Sub(begin)
	stages := a.Jobs * a.StagesPerJob
	perStage := dagDelay + stageGap + launchLag + 10*time.Millisecond
	if budget < time.Duration(stages)*perStage {
		return invalid("Duration", "%s leaves %s for %d jobs after the executors registered (at %s); need at least %s",
			a.Duration, budget.Truncate(time.Millisecond), a.Jobs, p.ready.Format(time.RFC3339Nano), time.Duration(stages)*perStage)
	}
	jobGap := min(max(budget/50/time.Duration(a.Jobs), 20*time.Millisecond), 1500*time.Millisecond)

	file := simpleName(a.MainClass) + ".scala"
	rddID, scope, shuffle, accum := 0, 0, 0, 100
	for j := 0; j < a.Jobs; j++ {
		job := &jobPlan{id: j}
		line := 24 + 11*j
		for s := 0; s < a.StagesPerJob; s++ {
			st := &stagePlan{
				id:             len(p.stages),
				job:            job,
				kind:           shuffleMapStage,
				numTasks:       a.TasksPerStage,
				input:          s == 0,
				broadcast:      len(p.stages),
				broadcastSize:  p.int64n(5<<10, 14<<10),
				broadcastPiece: p.int64n(2500, 7<<10),
				taskBytes:      p.intn(7700, 9400),
				accumBase:      accum,
			}
			accum += 30
			if s == a.StagesPerJob-1 {
				st.kind, st.output = resultStage, true
			}
			if s > 0 {
				st.parent = job.stages[s-1]
			}
			if st.kind == shuffleMapStage {
				st.shuffleID = shuffle
				shuffle++
			}
			// Name the stage after the call site of its last RDD, as Spark does.
			var op string
			switch {
			case st.kind == resultStage:
				op = pick(p, "saveAsTextFile", "saveAsObjectFile", "parquet", "save")
			case s == 0:
				op = pick(p, "map", "flatMap", "mapPartitions", "keyBy")
			default:
				op = pick(p, "map", "mapValues", "flatMap")
			}
			callsite := fmt.Sprintf("%s at %s:%d", op, file, line+2*s+1)
			st.name = callsite
			var source rddInfo
			if s == 0 {
				st.inputPath = fmt.Sprintf("s3a://%s-data/input/%s/job-%d", strings.ToLower(simpleName(a.MainClass)), sanitizeDirName(a.AppName), j)
				source = rddInfo{id: rddID, name: st.inputPath, callsite: fmt.Sprintf("textFile at %s:%d", file, line)}
			} else {
				agg := pick(p, "reduceByKey", "groupByKey", "aggregateByKey", "sortByKey")
				source = rddInfo{id: rddID, name: "ShuffledRDD", callsite: fmt.Sprintf("%s at %s:%d", agg, file, line+2*s), parents: []int{rddID - 1}}
			}
			source.scope = fmt.Sprintf(`{"id":"%d","name":"%s"}`, scope, strings.Fields(source.callsite)[0])
			final := rddInfo{id: rddID + 1, name: "MapPartitionsRDD", callsite: callsite, parents: []int{rddID},
				scope: fmt.Sprintf(`{"id":"%d","name":"%s"}`, scope+1, op)}
			rddID += 2
			scope += 2
			st.rdds = []rddInfo{final, source}
			job.stages = append(job.stages, st)
			p.stages = append(p.stages, st)
		}
		last := job.stages[len(job.stages)-1]
		job.name = last.name
		job.scopeID = scope
		scope++
		job.properties = map[string]string{
			"spark.rdd.scope":            fmt.Sprintf(`{"id":"%d","name":"%s"}`, job.scopeID, strings.Fields(last.name)[0]),
			"spark.rdd.scope.noOverride": "true",
		}
		p.jobs = append(p.jobs, job)
	}
	if a.Failed {
		lastJob := p.jobs[len(p.jobs)-1]
		lastJob.failed = true
	}

	// Lay the stages out in time. Each stage gets a share of what is left, by a random weight,
	// so time one stage does not use goes to the ones after it.
	weights := make([]float64, len(p.stages))
	for i := range weights {
		weights[i] = p.uniform(0.6, 1.4)
	}
	cursor := begin
	for j, job := range p.jobs {
		if j > 0 {
			cursor = cursor.Add(jobGap)
		}
		job.submitted = cursor
		cursor = cursor.Add(dagDelay)
		for _, st := range job.stages {
			st.submitted = cursor
			futureStages := len(p.stages) - st.id - 1
			futureJobs := len(p.jobs) - j - 1
			reserve := time.Duration(futureStages)*(stageGap+launchLag+dagDelay) + time.Duration(futureJobs)*(jobGap+dagDelay)
			left := jobsEnd.Sub(cursor) - reserve
			var rest float64
			for _, w := range weights[st.id:] {
				rest += w
			}
			window := time.Duration(float64(left) * weights[st.id] / rest).Truncate(time.Millisecond)
			failing := job.failed && st == job.stages[len(job.stages)-1]
			if err := p.schedule(st, cursor.Add(launchLag), cursor.Add(window), failing); err != nil {
				return err
			}
			cursor = st.completed.Add(stageGap)
		}
		last := job.stages[len(job.stages)-1]
		job.completed = last.completed.Add(2 * time.Millisecond)
		job.took = job.completed.Sub(job.submitted) + time.Duration(p.int64n(20_000, 990_000))
		if job.failed {
			job.failure = last.failure
		}
		cursor = job.completed
	}
	for _, st := range p.stages {
		if !st.submitted.IsZero() {
			p.fillMetrics(st)
		}
	}
	return nil
}

func pick(p *plan, choices ...string) string { return choices[p.rng.IntN(len(choices))] }

// slot is one executor core, free from start to end within a stage's window.
type slot struct {
	exec       *execPlan
	start, end time.Time
	last       bool // the last task of its core in this stage
}

// schedule runs a stage's tasks in [from, to]. Each core of each executor that is registered
// then is a slot; tasks are shared among the slots by the time each has and run one after
// another in it, so every task ends inside the window and none runs on an executor after it
// was removed. Task indexes follow launch order, as Spark launches them.
//
// For the failing stage, the last task to launch fails MaxTaskFailures times in its slot;
// the stage is aborted when the last attempt fails: running tasks are killed and those not
// yet launched never are.
func (p *plan) schedule(st *stagePlan, from, to time.Time, failing bool) error {
	var slots []slot
	var total time.Duration
	for _, e := range p.execs {
		start := maxTime(from, e.Added.Add(bmRegister+50*time.Millisecond))
		end := to
		if !e.Removed.IsZero() {
			end = minTime(end, e.Removed.Add(-50*time.Millisecond))
		}
		if end.Sub(start) < 2*time.Millisecond {
			continue
		}
		for range e.Cores {
			slots = append(slots, slot{exec: e, start: start, end: end})
			total += end.Sub(start)
		}
	}
	if len(slots) == 0 {
		return invalid("Executors", "no executor is registered between %s and %s to run stage %d of job %d",
			from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), st.id, st.job.id)
	}
	// Largest remainder: slot i gets about numTasks * its time / all the time.
	counts := make([]int, len(slots))
	rems := make([]float64, len(slots))
	given := 0
	for i, s := range slots {
		exact := float64(st.numTasks) * float64(s.end.Sub(s.start)) / float64(total)
		counts[i] = int(exact)
		rems[i] = exact - float64(counts[i])
		given += counts[i]
	}
	order := make([]int, len(slots))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		if rems[x] > rems[y] {
			return -1
		}
		if rems[x] < rems[y] {
			return 1
		}
		return 0
	})
	for k := 0; given < st.numTasks; k++ {
		counts[order[k%len(order)]]++
		given++
	}
	var subs []slot
	for i, s := range slots {
		if counts[i] == 0 {
			continue
		}
		u := s.end.Sub(s.start) / time.Duration(counts[i])
		for k := range counts[i] {
			subs = append(subs, slot{exec: s.exec, start: s.start.Add(u * time.Duration(k)), end: s.start.Add(u * time.Duration(k+1)), last: k == counts[i]-1})
		}
	}
	slices.SortStableFunc(subs, func(x, y slot) int { return x.start.Compare(y.start) })

	var attempts []*attempt
	for i, s := range subs {
		u := s.end.Sub(s.start)
		if failing && i == len(subs)-1 {
			q := u / MaxTaskFailures
			for k := range MaxTaskFailures {
				launch := s.start.Add(q * time.Duration(k)).Add(time.Millisecond).Truncate(time.Millisecond)
				run := max(time.Duration(float64(q)*p.uniform(0.55, 0.85)).Truncate(time.Millisecond), time.Millisecond)
				attempts = append(attempts, &attempt{index: i, number: k, exec: s.exec, launch: launch, finish: launch.Add(run), outcome: failed})
			}
			continue
		}
		lag := min(u/40, 3*time.Millisecond)
		launch := s.start.Add(lag).Add(time.Millisecond).Truncate(time.Millisecond)
		run := max(time.Duration(float64(u)*p.uniform(0.72, 0.95)).Truncate(time.Millisecond), time.Millisecond)
		if failing && s.last && p.rng.Float64() < 0.6 {
			// Still running when the stage is aborted, so it is killed.
			run = to.Sub(launch) + time.Second
		}
		attempts = append(attempts, &attempt{index: i, exec: s.exec, launch: launch, finish: launch.Add(run)})
	}
	if failing {
		abort := attempts[len(attempts)-1].finish.Add(2 * time.Millisecond)
		st.abort = abort
		kept := attempts[:0]
		for _, at := range attempts {
			switch {
			case at.outcome == failed || !at.finish.After(abort):
				kept = append(kept, at)
			case at.launch.Before(abort):
				at.outcome = killed
				at.finish = abort.Add(time.Duration(float64(p.tail) * p.uniform(0.05, 0.25))).Truncate(time.Millisecond)
				kept = append(kept, at)
			}
		}
		attempts = kept
	}
	slices.SortStableFunc(attempts, func(x, y *attempt) int { return x.launch.Compare(y.launch) })
	tid := 0 // TIDs count up over the whole application
	for _, prev := range p.stages[:st.id] {
		tid += len(prev.attempts)
	}
	for _, at := range attempts {
		at.tid = tid
		tid++
	}
	st.attempts = attempts
	if failing {
		st.completed = st.abort.Add(3 * time.Millisecond)
		st.failure = p.abortMessage(st)
		return nil
	}
	var last time.Time
	for _, at := range attempts {
		last = maxTime(last, at.finish)
	}
	st.completed = last.Add(3 * time.Millisecond)
	return nil
}

// failedAttempts returns the attempts of the failing task, in order.
func (st *stagePlan) failedAttempts() []*attempt {
	var out []*attempt
	for _, at := range st.attempts {
		if at.outcome == failed {
			out = append(out, at)
		}
	}
	return out
}

// fillMetrics gives every attempt of a stage its Task Metrics. Input stages read the job's
// input, shuffle map stages write shuffle output that the next stage reads (the total read is
// exactly the total written), and the result stage writes the job's output. Failed and
// killed attempts report their times only.
func (p *plan) fillMetrics(st *stagePlan) {
	// What the parent stage wrote, by executor, for local and remote reads.
	var parentBytes, parentRecords int64
	parentTasks := 0
	onExec := map[*execPlan]int64{}
	if st.parent != nil {
		for _, at := range st.parent.attempts {
			if at.outcome == succeeded {
				parentBytes += at.m.writeBytes
				parentRecords += at.m.writeRecords
				parentTasks++
				onExec[at.exec]++
			}
		}
	}
	shares := p.split(parentBytes, st.numTasks)
	recordShares := p.split(parentRecords, st.numTasks)

	for _, at := range st.attempts { // by TID, which is launch order
		e := at.exec
		total := max(at.finish.Sub(at.launch).Milliseconds(), 1)
		m := &at.m
		if e.ran == 0 {
			m.deserTime = min(p.int64n(250, 700), total/3)
		} else {
			m.deserTime = min(p.int64n(2, 25), total/4)
		}
		e.ran++
		m.resultSer = min(p.int64n(0, 2), total/10)
		m.runTime = max(total-m.deserTime-m.resultSer, 1)
		m.deserCPU = int64(float64(m.deserTime) * p.uniform(0.4, 0.8) * 1e6)
		m.cpuTime = int64(float64(m.runTime) * p.uniform(0.55, 0.9) * 1e6)
		m.gcTime = int64(float64(m.runTime) * p.uniform(0, 0.06))
		e.gcCount += p.int64n(0, 3)
		e.gcTime += m.gcTime
		at.gc = [2]int64{e.gcCount, e.gcTime}
		at.heap = int64(float64(int64(e.MemoryMiB)<<20) * p.uniform(0.15, 0.55))
		at.commitMs = p.intn(2, 40)
		if at.outcome != succeeded {
			continue
		}
		m.resultSize = p.int64n(1500, 2700)
		var base, baseRecords int64
		if st.input {
			m.inBytes = p.int64n(48<<20, 128<<20)
			m.inRecords = int64(float64(m.inBytes) / p.uniform(90, 160))
			base, baseRecords = m.inBytes, m.inRecords
		}
		if st.parent != nil {
			share, records := shares[at.index], recordShares[at.index]
			local := int64(float64(share) * float64(onExec[e]) / float64(max(parentTasks, 1)))
			m.localBytes, m.remoteBytes = local, share-local
			m.localBlocks = onExec[e]
			m.remoteBlocks = int64(parentTasks) - onExec[e]
			m.readRecords = records
			if m.remoteBytes > 0 {
				m.fetchWait = p.int64n(0, 30)
			}
			m.peakMem = int64(float64(share) * p.uniform(1, 2))
			if p.rng.Float64() < 0.35 {
				m.memSpilled = int64(float64(share) * p.uniform(1.5, 3))
				m.diskSpilled = int64(float64(m.memSpilled) * p.uniform(0.25, 0.45))
			}
			base, baseRecords = share, records
		}
		if st.kind == shuffleMapStage {
			m.writeBytes = int64(float64(base) * p.uniform(0.25, 0.45))
			m.writeRecords = int64(float64(baseRecords) * p.uniform(0.3, 0.9))
			m.writeTime = int64(float64(m.writeBytes) * p.uniform(3, 8)) // ns, about 200 MB/s
			m.peakMem = max(m.peakMem, p.int64n(16<<20, 64<<20))
		}
		if st.output {
			m.outBytes = int64(float64(base) * p.uniform(0.2, 0.4))
			m.outRecords = int64(float64(baseRecords) * p.uniform(0.5, 1))
		}
	}
}

// split divides total into n random parts that add up to it exactly.
func (p *plan) split(total int64, n int) []int64 {
	out := make([]int64, n)
	if n == 0 || total == 0 {
		return out
	}
	weights := make([]float64, n)
	var sum float64
	for i := range weights {
		weights[i] = p.uniform(0.8, 1.2)
		sum += weights[i]
	}
	var given int64
	for i := range out {
		out[i] = int64(float64(total) * weights[i] / sum)
		given += out[i]
	}
	out[n-1] += total - given
	return out
}

// abortMessage is the message of the exception that fails the job (and the stage's Failure
// Reason): DAGScheduler's "Job aborted due to stage failure" around the task's failure.
func (p *plan) abortMessage(st *stagePlan) string {
	fails := st.failedAttempts()
	last := fails[len(fails)-1]
	return fmt.Sprintf("Job aborted due to stage failure: Task %d in stage %d.0 failed %d times, most recent failure: Lost task %d.%d in stage %d.0 (TID %d) (%s executor %s): %s\nDriver stacktrace:",
		last.index, st.id, MaxTaskFailures, last.index, last.number, st.id, last.tid, last.exec.Host, last.exec.ID, p.exception.fullStackTrace(st.kind))
}

func (p *plan) eventLogName() string { return sanitizeDirName(p.app.AppID) }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// simpleName is a class's name without its package.
func simpleName(class string) string {
	if i := strings.LastIndexByte(class, '.'); i >= 0 {
		return class[i+1:]
	}
	return class
}
