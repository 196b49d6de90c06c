package sparksim

import (
	"fmt"
	"strconv"
	"strings"
)

// javaException is the failure of a failed run: the exception the application's code throws,
// with the frames it was thrown from.
type javaException struct {
	className string
	message   string
	user      []string // the application's own frames, "pkg.Class.method(File.scala:12)"
	mainClass string
}

// parseException reads App.Exception: "class: message" on the first line, then optional
// frames, one a line, with or without their "at ". Without frames, the exception is thrown
// from a closure of the main class, as most task failures are.
func parseException(text, mainClass string) *javaException {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	head := strings.TrimSpace(lines[0])
	e := &javaException{className: head, mainClass: mainClass}
	if class, msg, ok := strings.Cut(head, ": "); ok && !strings.ContainsAny(class, " \t") {
		e.className, e.message = class, msg
	}
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, "at ")
		if l != "" {
			e.user = append(e.user, l)
		}
	}
	if len(e.user) == 0 {
		file := simpleName(mainClass) + ".scala"
		e.user = []string{
			fmt.Sprintf("%s$.$anonfun$main$1(%s:27)", mainClass, file),
			"scala.collection.Iterator$$anon$10.next(Iterator.scala:461)",
		}
	}
	return e
}

// header is the exception's first line as Throwable.toString prints it.
func (e *javaException) header() string {
	if e.message == "" {
		return e.className
	}
	return e.className + ": " + e.message
}

// Frames every task runs under, from the task type's runTask down to the executor's thread
// (Spark 3.5 on Java 17).
var (
	resultTaskFrames = []string{
		"org.apache.spark.scheduler.ResultTask.runTask(ResultTask.scala:93)",
	}
	shuffleMapTaskFrames = []string{
		"org.apache.spark.shuffle.sort.BypassMergeSortShuffleWriter.write(BypassMergeSortShuffleWriter.java:140)",
		"org.apache.spark.shuffle.ShuffleWriteProcessor.write(ShuffleWriteProcessor.scala:59)",
		"org.apache.spark.scheduler.ShuffleMapTask.runTask(ShuffleMapTask.scala:104)",
		"org.apache.spark.scheduler.ShuffleMapTask.runTask(ShuffleMapTask.scala:54)",
	}
	taskRunnerFrames = []string{
		"org.apache.spark.TaskContext.runTaskWithListeners(TaskContext.scala:166)",
		"org.apache.spark.scheduler.Task.run(Task.scala:141)",
		"org.apache.spark.executor.Executor$TaskRunner.$anonfun$run$4(Executor.scala:620)",
		"org.apache.spark.util.SparkErrorUtils.tryWithSafeFinally(SparkErrorUtils.scala:64)",
		"org.apache.spark.util.SparkErrorUtils.tryWithSafeFinally$(SparkErrorUtils.scala:61)",
		"org.apache.spark.util.Utils$.tryWithSafeFinally(Utils.scala:94)",
		"org.apache.spark.executor.Executor$TaskRunner.run(Executor.scala:623)",
		"java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)",
		"java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)",
		"java.base/java.lang.Thread.run(Thread.java:840)",
	}
	// The driver's side of a job aborted by a task failure, from the scheduler's event loop
	// to the action the main method called.
	abortFrames = []string{
		"org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2856)",
		"org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$2(DAGScheduler.scala:2792)",
		"org.apache.spark.scheduler.DAGScheduler.$anonfun$abortStage$2$adapted(DAGScheduler.scala:2791)",
		"scala.collection.mutable.ResizableArray.foreach(ResizableArray.scala:62)",
		"scala.collection.mutable.ResizableArray.foreach$(ResizableArray.scala:55)",
		"scala.collection.mutable.ArrayBuffer.foreach(ArrayBuffer.scala:49)",
		"org.apache.spark.scheduler.DAGScheduler.abortStage(DAGScheduler.scala:2791)",
		"org.apache.spark.scheduler.DAGScheduler.$anonfun$handleTaskSetFailed$1(DAGScheduler.scala:1247)",
		"org.apache.spark.scheduler.DAGScheduler.$anonfun$handleTaskSetFailed$1$adapted(DAGScheduler.scala:1247)",
		"scala.Option.foreach(Option.scala:407)",
		"org.apache.spark.scheduler.DAGScheduler.handleTaskSetFailed(DAGScheduler.scala:1247)",
		"org.apache.spark.scheduler.DAGSchedulerEventProcessLoop.doOnReceive(DAGScheduler.scala:3060)",
		"org.apache.spark.scheduler.DAGSchedulerEventProcessLoop.onReceive(DAGScheduler.scala:2994)",
		"org.apache.spark.scheduler.DAGSchedulerEventProcessLoop.onReceive(DAGScheduler.scala:2983)",
		"org.apache.spark.util.EventLoop$$anon$1.run(EventLoop.scala:49)",
		"org.apache.spark.scheduler.DAGScheduler.runJob(DAGScheduler.scala:989)",
		"org.apache.spark.SparkContext.runJob(SparkContext.scala:2398)",
		"org.apache.spark.SparkContext.runJob(SparkContext.scala:2419)",
		"org.apache.spark.SparkContext.runJob(SparkContext.scala:2451)",
		"org.apache.spark.rdd.RDDOperationScope$.withScope(RDDOperationScope.scala:151)",
		"org.apache.spark.rdd.RDDOperationScope$.withScope(RDDOperationScope.scala:112)",
		"org.apache.spark.rdd.RDD.withScope(RDD.scala:410)",
	}
	// How spark-submit calls the main method in the driver.
	submitFrames = []string{
		"java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
		"java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke(NativeMethodAccessorImpl.java:77)",
		"java.base/jdk.internal.reflect.DelegatingMethodAccessorImpl.invoke(DelegatingMethodAccessorImpl.java:43)",
		"java.base/java.lang.reflect.Method.invoke(Method.java:569)",
		"org.apache.spark.deploy.JavaMainApplication.start(SparkApplication.scala:52)",
		"org.apache.spark.deploy.SparkSubmit.org$apache$spark$deploy$SparkSubmit$$runMain(SparkSubmit.scala:1029)",
		"org.apache.spark.deploy.SparkSubmit.doRunMain$1(SparkSubmit.scala:194)",
		"org.apache.spark.deploy.SparkSubmit.submit(SparkSubmit.scala:217)",
		"org.apache.spark.deploy.SparkSubmit.doSubmit(SparkSubmit.scala:91)",
		"org.apache.spark.deploy.SparkSubmit$$anon$2.doSubmit(SparkSubmit.scala:1120)",
		"org.apache.spark.deploy.SparkSubmit$.main(SparkSubmit.scala:1129)",
		"org.apache.spark.deploy.SparkSubmit.main(SparkSubmit.scala)",
	}
)

// taskFrames are the frames of the exception as a task of the given kind throws it.
func (e *javaException) taskFrames(kind stageKind) []string {
	frames := append([]string{}, e.user...)
	if kind == resultStage {
		frames = append(frames, resultTaskFrames...)
	} else {
		frames = append(frames, shuffleMapTaskFrames...)
	}
	return append(frames, taskRunnerFrames...)
}

// mainFrames are the frames of the main method calling into Spark.
func (e *javaException) mainFrames() []string {
	file := simpleName(e.mainClass) + ".scala"
	frames := []string{
		fmt.Sprintf("%s$.main(%s:31)", e.mainClass, file),
		fmt.Sprintf("%s.main(%s)", e.mainClass, file),
	}
	return append(frames, submitFrames...)
}

// fullStackTrace is the exception as printStackTrace prints it in a task, which is what
// ExceptionFailure's "Full Stack Trace" holds; it ends with a line break.
func (e *javaException) fullStackTrace(kind stageKind) string {
	return stackText(e.header(), e.taskFrames(kind))
}

func stackText(header string, frames []string) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteByte('\n')
	for _, f := range frames {
		b.WriteString("\tat ")
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String()
}

// uncaught is what the JVM prints when the exception leaves the driver's main method. For a
// job aborted by a task failure that is a SparkException carrying the job's failure, caused
// by the task's exception; with no job, the application's exception itself.
func (e *javaException) uncaught(abort string, kind stageKind) string {
	var text string
	if abort == "" {
		frames := e.user
		if len(frames) > 0 && strings.Contains(frames[0], "$anonfun$") {
			frames = nil // a task closure's frames do not apply to the driver
		}
		text = stackText(e.header(), append(append([]string{}, frames...), e.mainFrames()...))
	} else {
		frames := append(append([]string{}, abortFrames...), e.mainFrames()...)
		text = stackText("org.apache.spark.SparkException: "+abort, frames) +
			stackText("Caused by: "+e.header(), e.taskFrames(kind))
	}
	return `Exception in thread "main" ` + strings.TrimSuffix(text, "\n")
}

// stackJSON is a stack as JsonProtocol writes it: one object per StackTraceElement.
func stackJSON(frames []string) []object {
	out := make([]object, 0, len(frames))
	for _, f := range frames {
		out = append(out, frameJSON(f))
	}
	return out
}

func frameJSON(frame string) object {
	// "module/pkg.Class.method(File.java:12)"; the module is not part of the class name.
	if i := strings.IndexByte(frame, '/'); i >= 0 && i < strings.IndexByte(frame, '(') {
		frame = frame[i+1:]
	}
	call, loc, _ := strings.Cut(frame, "(")
	loc = strings.TrimSuffix(loc, ")")
	class, method := call, ""
	if i := strings.LastIndexByte(call, '.'); i >= 0 {
		class, method = call[:i], call[i+1:]
	}
	var file any
	line := -1
	switch {
	case loc == "Native Method":
		line = -2
	case loc != "":
		name, num, ok := strings.Cut(loc, ":")
		file = name
		if ok {
			if n, err := strconv.Atoi(num); err == nil {
				line = n
			}
		}
	}
	return object{
		{"Declaring Class", class},
		{"Method Name", method},
		{"File Name", file},
		{"Line Number", line},
	}
}
