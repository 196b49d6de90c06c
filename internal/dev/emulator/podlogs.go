package emulator

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkplane/sparkplane/internal/dev/kwoklogs"
	"github.com/sparkplane/sparkplane/internal/dev/sparksim"
)

// DriverContainerName is the driver's container name when no template names one.
const DriverContainerName = "spark-kubernetes-driver"

// logStream is where a Spark container's log goes: Spark's default log4j2 console appender
// writes to stderr, and so does the JVM with an uncaught exception.
const logStream = kwoklogs.Stderr

// logTick is how often the emulator looks at a running driver when it writes logs, so that
// lines reach `kubectl logs -f` about when Spark would have written them.
const logTick = time.Second

// podLogs is what the emulator keeps in memory about the logs of one driver and its
// executors, between passes. Losing it costs nothing: the simulation is rebuilt from the
// cluster, the lines written are counted in the files, and Serve is idempotent. Only the one
// worker that reconciles drivers touches it.
type podLogs struct {
	uid types.UID
	// final is the simulation of the driver's application once all its executors ran; it is
	// built once and kept, so that the logs and the event log come from the same one.
	final *sparksim.Simulation
	// provisional serves the driver's start-up lines until then (see bootHorizon).
	provisional    *sparksim.Simulation
	provisionalApp sparksim.App
	// failed is set once the application could not be simulated, so that it is said once.
	failed bool
	// served holds the pods whose Logs object this emulator made.
	served map[types.UID]bool
	// written is how many records of its simulated log each file holds.
	written map[string]int
	// tees are where the lines of each file also go: the pod's log shipping (shipping.go).
	tees map[string]io.Writer
}

func (e *Emulator) logsEnabled() bool { return e.opts.Dynamic != nil && e.opts.LogDir != "" }

// podLogsOf returns the log state of a driver, fresh for a driver pod it has not seen.
func (e *Emulator) podLogsOf(key string, driver *corev1.Pod) *podLogs {
	pl := e.logs[key]
	if pl == nil || pl.uid != driver.UID {
		pl = &podLogs{uid: driver.UID, served: map[types.UID]bool{}, written: map[string]int{}, tees: map[string]io.Writer{}}
		e.logs[key] = pl
	}
	return pl
}

// simulate returns the simulation of a driver's application: the final one when r.end is
// set (built once, then kept), else the provisional one.
func (e *Emulator) simulate(pl *podLogs, driver *corev1.Pod, conf Conf, r run) (*sparksim.Simulation, error) {
	if !r.end.IsZero() && pl.final != nil {
		return pl.final, nil
	}
	app := buildApp(driver, conf, r)
	if r.end.IsZero() && pl.provisional != nil && reflect.DeepEqual(app, pl.provisionalApp) {
		return pl.provisional, nil
	}
	sim, err := app.Simulate()
	if err != nil {
		return nil, fmt.Errorf("simulate application %s: %w", app.AppID, err)
	}
	if r.end.IsZero() {
		pl.provisional, pl.provisionalApp = sim, app
	} else {
		pl.final = sim
	}
	return sim, nil
}

// writeLogs serves the logs of a driver and of its executor pods (r.executors) through kwok,
// and appends to each file the lines of sim written at or before until. With the provisional
// simulation (r.end not known yet) it writes only the driver's start-up, up to the boot
// horizon.
func (e *Emulator) writeLogs(ctx context.Context, pl *podLogs, driver *corev1.Pod, conf Conf, sim *sparksim.Simulation, r run, until time.Time) error {
	provisional := r.end.IsZero()
	var errs []error
	driverFile, err := e.serve(ctx, pl, driver, sparkContainer(driver, conf.get("spark.kubernetes.driver.podTemplateContainerName", DriverContainerName)))
	if err != nil {
		errs = append(errs, err)
	} else {
		t := until
		if provisional {
			if h := sim.App().Start.Add(bootHorizon(r.hold)); h.Before(t) {
				t = h
			}
		}
		errs = append(errs, pl.appendLines(driverFile, sparksim.Until(sim.Driver(), t)))
	}
	ids := map[string]string{} // executor pod name to its id in the simulation
	if !provisional {
		for _, x := range sim.App().Executors {
			ids[x.Pod] = x.ID
		}
	}
	for _, p := range r.executors {
		file, err := e.serve(ctx, pl, p, sparkContainer(p, conf.get("spark.kubernetes.executor.podTemplateContainerName", ExecutorContainerName)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if id, ok := ids[p.Name]; ok {
			lines, _ := sim.Executor(id)
			errs = append(errs, pl.appendLines(file, sparksim.Until(lines, until)))
		}
	}
	return errors.Join(errs...)
}

// sparkContainer is the name of a pod's Spark container: the one named name, else the last,
// where Spark puts its container after a template's.
func sparkContainer(pod *corev1.Pod, name string) string {
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return name
		}
	}
	if n := len(pod.Spec.Containers); n > 0 {
		return pod.Spec.Containers[n-1].Name
	}
	return name
}

// logFile is where the log of one container of a pod is written.
func (e *Emulator) logFile(pod *corev1.Pod, container string) string {
	return filepath.Join(e.opts.LogDir, pod.Namespace, pod.Name, container+".log")
}

// serve makes kwok serve the log file of a pod's container, once per pod, and returns the
// file. A pod directory left by an earlier pod of the same name is emptied first: its lines
// are not this pod's, as a kubelet does not show a deleted pod's logs for a new one.
func (e *Emulator) serve(ctx context.Context, pl *podLogs, pod *corev1.Pod, container string) (string, error) {
	file := e.logFile(pod, container)
	if pl.served[pod.UID] {
		return file, nil
	}
	dir := filepath.Dir(file)
	marker := filepath.Join(dir, ".uid")
	if b, err := os.ReadFile(marker); err == nil && string(b) != string(pod.UID) {
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("remove the logs of an earlier pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		for f := range pl.written {
			if filepath.Dir(f) == dir {
				delete(pl.written, f)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("log directory of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if err := os.WriteFile(marker, []byte(pod.UID), 0o644); err != nil {
		return "", fmt.Errorf("log directory of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if err := kwoklogs.Serve(ctx, e.opts.Dynamic, pod, kwoklogs.Container{Name: container, File: file}); err != nil {
		return "", err
	}
	tee, err := e.startShipping(ctx, pod, container)
	if err != nil {
		return "", err
	}
	if tee != nil {
		pl.tees[file] = tee
	}
	pl.served[pod.UID] = true
	return file, nil
}

// appendLines appends to file the records of lines it does not hold yet. How many it holds is
// remembered between passes, and counted in the file the first time (after a restart), so
// that no record is written twice: the simulation is the same on every pass, and each call
// gives a longer prefix of the same lines.
func (pl *podLogs) appendLines(file string, lines []sparksim.Line) error {
	done, ok := pl.written[file]
	if !ok {
		n, err := countLines(file)
		if err != nil {
			return err
		}
		done = recordsIn(lines, n)
		pl.written[file] = done
	}
	if done >= len(lines) {
		return nil
	}
	var buf, plain bytes.Buffer
	for _, l := range lines[done:] {
		if err := kwoklogs.WriteLine(&buf, logStream, l.At, l.Text); err != nil {
			return err
		}
		plain.WriteString(strings.TrimSuffix(l.Text, "\n") + "\n")
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log %s: %w", file, err)
	}
	// One Write of whole lines: kwok, following the file, never reads half a line.
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write log %s: %w", file, err)
	}
	// The same bytes the container printed, to its log shipping, as log-wrap tees them.
	if tee := pl.tees[file]; tee != nil {
		_, _ = tee.Write(plain.Bytes())
	}
	pl.written[file] = len(lines)
	return nil
}

// countLines counts the lines of a file; a missing file has none.
func countLines(file string) (int, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read log %s: %w", file, err)
	}
	defer f.Close()
	n := 0
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		b, err := r.ReadSlice('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			n++
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return 0, fmt.Errorf("read log %s: %w", file, err)
		}
	}
}

// recordsIn is how many leading records of lines fill n lines of a file: a record with line
// breaks (a stack trace) takes one file line per part, as WriteLine writes it.
func recordsIn(lines []sparksim.Line, n int) int {
	k := 0
	for k < len(lines) {
		parts := strings.Count(strings.TrimSuffix(lines[k].Text, "\n"), "\n") + 1
		if parts > n {
			break
		}
		n -= parts
		k++
	}
	return k
}

// confFailureLog writes what the JVM prints when a driver dies before its SparkContext
// starts, for drivers whose conf the emulator cannot read: the uncaught exception.
func (e *Emulator) confFailureLog(ctx context.Context, pl *podLogs, driver *corev1.Pod, message string) error {
	file, err := e.serve(ctx, pl, driver, sparkContainer(driver, DriverContainerName))
	if err != nil {
		return err
	}
	line := sparksim.Line{At: e.now(), Text: `Exception in thread "main" org.apache.spark.SparkException: ` + message}
	return pl.appendLines(file, []sparksim.Line{line})
}
