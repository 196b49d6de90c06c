package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sparkplane/sparkplane/internal/dev/sparksim"
	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/yaml"
)

// Annotations the emulator keeps its progress in, on the driver pod, so that a restarted
// emulator continues where the last one stopped.
const (
	// AnnotationExitCode asks the cluster's kwok stages to end the pod's containers with this
	// exit code (Succeeded for 0, Failed otherwise).
	AnnotationExitCode = "sparkplane.io/emulator-exit-code"
	// AnnotationRunningSince records when all executors were first seen running.
	AnnotationRunningSince = "sparkplane.io/emulator-running-since"
	// AnnotationMessage says why the emulated driver failed, when it failed on its own conf.
	AnnotationMessage = "sparkplane.io/emulator-message"
	// SparkConfVolume is the driver volume that carries the spark.properties ConfigMap.
	SparkConfVolume = "spark-conf-volume-driver"
	// SparkPropertiesKey is the ConfigMap key of spark.properties.
	SparkPropertiesKey = "spark.properties"
)

// Options tune an Emulator; the zero value is usable.
type Options struct {
	// Namespace limits the emulator to one namespace; empty means all.
	Namespace string
	// Log receives the emulator's structured log; nil discards it.
	Log *slog.Logger
	// Resync re-examines every driver this often even without events (default 30s).
	Resync time.Duration
	// OnReady, when set, is called once the emulator watches the cluster.
	OnReady func()
	// S3, when set, receives the event logs of drivers with spark.eventLog.enabled (at
	// spark.eventLog.dir, an s3a:// or s3:// URI); nil writes none.
	S3 *s3.Client
	// Dynamic and LogDir, when both are set, make the emulator write each driver's and
	// executor's Spark log to LogDir/<namespace>/<pod>/<container>.log (an absolute path on
	// the kwok controller's host) and create the pods' kwok Logs objects, through Dynamic, so
	// that `kubectl logs` reads them. Either unset writes no logs.
	Dynamic dynamic.Interface
	LogDir  string
	// LogShipper is the sparkplane binary the emulator runs as the log-shipping sidecar of
	// pods that have one (see shipping.go); ShipperEnv is added to its environment (the S3
	// credentials that stand in for the job's role). Empty LogShipper: such pods' status says
	// their logs could not be shipped.
	LogShipper string
	ShipperEnv []string
}

// Emulator plays the Spark driver for the driver pods of a cluster with simulated kubelets.
type Emulator struct {
	client kubernetes.Interface
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	queue  workqueue.TypedRateLimitingInterface[string]
	pods   corelisters.PodLister
	// logs is the log state of each driver by namespace/name (see podLogs).
	logs map[string]*podLogs
	// ship is the log shipping of the pods that have it (see shipping.go).
	ship shippers
	// uis are the stand-in Spark UIs of the drivers by namespace/name (sparkui.go).
	uis map[string]*uiServer
}

// New returns an Emulator that acts through client; call Run to start it.
func New(client kubernetes.Interface, opts Options) *Emulator {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.Resync <= 0 {
		opts.Resync = 30 * time.Second
	}
	if opts.LogDir != "" {
		// kwok reads the files by the path in the Logs object, from its own working directory.
		if dir, err := filepath.Abs(opts.LogDir); err == nil {
			opts.LogDir = dir
		}
	}
	return &Emulator{client: client, opts: opts, log: log.With("component", "emulator"), now: time.Now, logs: map[string]*podLogs{}}
}

// Run watches driver and executor pods and drives every emulated driver until ctx ends.
func (e *Emulator) Run(ctx context.Context) error {
	e.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 30*time.Second),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "emulator"})
	defer e.queue.ShutDown()

	factory := informers.NewSharedInformerFactoryWithOptions(e.client, e.opts.Resync,
		informers.WithNamespace(e.opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = wellknown.LabelSparkRole + " in (driver,executor)"
		}))
	inf := factory.Core().V1().Pods()
	e.pods = inf.Lister()
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    e.enqueue,
		UpdateFunc: func(_, obj any) { e.enqueue(obj) },
		DeleteFunc: e.enqueue,
	}); err != nil {
		return fmt.Errorf("emulator: watch pods: %w", err)
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	defer e.stopShippers()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return fmt.Errorf("emulator: pod cache did not sync: %w", ctx.Err())
	}
	e.log.Info("driver emulator running", "namespace", e.opts.Namespace)
	if e.opts.OnReady != nil {
		e.opts.OnReady()
	}
	go func() {
		<-ctx.Done()
		e.queue.ShutDown()
	}()
	for e.next(ctx) {
	}
	e.stopUIs()
	return nil
}

// enqueue queues the driver a pod event concerns: the pod itself, or an executor's owner.
func (e *Emulator) enqueue(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	switch pod.Labels[wellknown.LabelSparkRole] {
	case wellknown.SparkRoleDriver:
		e.queue.Add(pod.Namespace + "/" + pod.Name)
	case wellknown.SparkRoleExecutor:
		for _, ref := range pod.OwnerReferences {
			if ref.Kind == "Pod" && ref.APIVersion == "v1" {
				e.queue.Add(pod.Namespace + "/" + ref.Name)
			}
		}
	}
}

func (e *Emulator) next(ctx context.Context) bool {
	key, quit := e.queue.Get()
	if quit {
		return false
	}
	defer e.queue.Done(key)
	after, err := e.reconcile(ctx, key)
	switch {
	case err != nil:
		e.log.Warn("emulating driver failed, retrying", "pod", key, "err", err)
		e.queue.AddRateLimited(key)
	case after > 0:
		e.queue.Forget(key)
		e.queue.AddAfter(key, after)
	default:
		e.queue.Forget(key)
	}
	return true
}

// reconcile makes one step for a driver and says when to look again (0: on the next event).
func (e *Emulator) reconcile(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	driver, err := e.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		delete(e.logs, key)
		e.stopUI(key)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if driver.DeletionTimestamp != nil || driver.Status.Phase != corev1.PodRunning ||
		driver.Annotations[AnnotationExitCode] != "" {
		delete(e.logs, key)
		e.stopUI(key)
		return 0, nil
	}
	log := e.log.With("pod", key)

	conf, template, err := e.readConf(ctx, driver)
	if errors.Is(err, errNotMounted) {
		log.Debug("waiting for the driver's config maps", "err", err)
		return 200 * time.Millisecond, nil
	}
	if err != nil {
		var ce *confError
		if errors.As(err, &ce) {
			log.Warn("driver conf is unusable; ending the driver as Spark would", "err", err)
			return 0, e.finish(ctx, driver, conf, run{code: 1, message: err.Error()})
		}
		return 0, err
	}
	e.syncUI(ctx, driver, conf)
	hold, err := conf.Duration()
	var code int
	if err == nil {
		code, err = conf.ExitCode()
	}
	var count int
	if err == nil {
		count, err = conf.ExecutorCount()
	}
	var want []*corev1.Pod
	for id := 1; err == nil && id <= count; id++ {
		var p *corev1.Pod
		if p, err = BuildExecutor(driver, conf, template, id); err == nil {
			want = append(want, p)
		}
	}
	if err != nil {
		log.Warn("driver conf is unusable; ending the driver as Spark would", "err", err)
		return 0, e.finish(ctx, driver, conf, run{code: 1, message: err.Error()})
	}

	if since := driver.Annotations[AnnotationRunningSince]; since != "" {
		start, err := time.Parse(time.RFC3339Nano, since)
		if err != nil {
			start = e.now()
		}
		r := run{hold: hold, end: start.Add(hold), count: count, code: code}
		left := r.end.Sub(e.now())
		if left <= 0 {
			log.Info("simulated job done", "exitCode", code)
			return 0, e.finish(ctx, driver, conf, r)
		}
		if !e.logsEnabled() {
			return left, nil
		}
		if r.executors, err = e.executors(driver, conf); err != nil {
			return 0, err
		}
		e.syncLogs(ctx, driver, conf, r, e.now())
		return min(left, logTick), nil
	}

	have, err := e.executors(driver, conf)
	if err != nil {
		return 0, err
	}
	running := 0
	for _, p := range want {
		got, ok := have[p.Name]
		if !ok {
			_, err := e.client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return 0, fmt.Errorf("create executor pod %s/%s: %w", ns, p.Name, err)
			}
			log.Info("created executor", "executor", p.Name)
			continue
		}
		if got.Status.Phase == corev1.PodRunning {
			running++
		}
	}
	if running < len(want) {
		if !e.logsEnabled() {
			return 0, nil
		}
		// The driver's start-up goes on while its executors are coming.
		e.syncLogs(ctx, driver, conf, run{hold: hold, executors: have, count: count, code: code}, e.now())
		return logTick, nil
	}
	log.Info("all executors running; holding them", "executors", len(want), "duration", hold)
	if err := e.annotate(ctx, driver, map[string]string{AnnotationRunningSince: e.now().UTC().Format(time.RFC3339Nano)}); err != nil {
		return 0, err
	}
	if e.logsEnabled() {
		return min(hold, logTick), nil
	}
	return hold, nil
}

// syncLogs writes a driver's and its executors' logs up to until (the driver's start-up only,
// before r.end is known) and returns the simulation they come from, nil if there is none. A
// log that cannot be written is reported and the driver goes on, as a JVM whose console is
// gone does.
func (e *Emulator) syncLogs(ctx context.Context, driver *corev1.Pod, conf Conf, r run, until time.Time) *sparksim.Simulation {
	key := driver.Namespace + "/" + driver.Name
	pl := e.podLogsOf(key, driver)
	sim, err := e.simulate(pl, driver, conf, r)
	if err != nil {
		if !pl.failed {
			e.log.Warn("no Spark logs for this driver", "pod", key, "err", err)
			pl.failed = true
		}
		return nil
	}
	if err := e.writeLogs(ctx, pl, driver, conf, sim, r, until); err != nil {
		e.log.Warn("pod logs not written", "pod", key, "err", err)
	}
	return sim
}

// executors lists the driver's executor pods by name.
func (e *Emulator) executors(driver *corev1.Pod, conf Conf) (map[string]*corev1.Pod, error) {
	sel := labels.SelectorFromSet(labels.Set{wellknown.LabelSparkRole: "executor"})
	pods, err := e.pods.Pods(driver.Namespace).List(sel)
	if err != nil {
		return nil, err
	}
	out := map[string]*corev1.Pod{}
	for _, p := range pods {
		if metav1.IsControlledBy(p, driver) {
			out[p.Name] = p
		}
	}
	return out, nil
}

// finish does what a stopping Spark driver does, then ends the driver with r.code: it writes
// the rest of its log and its executors' (their last lines, the exception of a failed run, the
// shutdown) and its event log, deletes the app's Services
// (spark.kubernetes.driver.service.deleteOnTermination, default true) and its executors
// (spark.kubernetes.executor.deleteOnTermination, default true; when false they are ended
// with exit code 0 instead and left behind). The application ends at r.end, or now when the
// driver ends before its executors all ran (on a conf Spark would refuse).
func (e *Emulator) finish(ctx context.Context, driver *corev1.Pod, conf Conf, r run) error {
	ns := driver.Namespace
	key := ns + "/" + driver.Name
	if conf != nil {
		appID := conf.get("spark.app.id", driver.Labels[wellknown.LabelSparkAppSelector])
		if del, err := conf.boolean("spark.kubernetes.driver.service.deleteOnTermination", true); err == nil && del && appID != "" {
			svcs, err := e.client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{LabelSelector: wellknown.LabelSparkAppSelector + "=" + appID})
			if err != nil {
				return fmt.Errorf("list services of %s: %w", appID, err)
			}
			for _, s := range svcs.Items {
				if err := e.client.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return fmt.Errorf("delete service %s/%s: %w", ns, s.Name, err)
				}
			}
		}
		execs, err := e.executors(driver, conf)
		if err != nil {
			return err
		}
		r.executors = execs
		if r.end.IsZero() {
			r.end = e.now()
		}
		var sim *sparksim.Simulation
		if e.logsEnabled() {
			// Everything, before the pods end: a deleted pod's log goes with it, and a
			// driver's last lines come before its container exits.
			sim = e.syncLogs(ctx, driver, conf, r, farFuture)
		} else if on, _ := conf.boolean("spark.eventLog.enabled", false); on && e.opts.S3 != nil {
			if sim, err = e.simulate(e.podLogsOf(key, driver), driver, conf, r); err != nil {
				e.log.Warn("event log not written", "pod", key, "err", err)
			}
		}
		if sim != nil {
			if err := e.writeEventLog(ctx, driver, conf, sim); err != nil {
				e.log.Warn("event log not written", "pod", key, "err", err)
			}
		}
		del, err := conf.boolean("spark.kubernetes.executor.deleteOnTermination", true)
		if err != nil {
			del = true
		}
		// Their sidecars ship the executors' logs before the pods go, as on a kubelet within
		// the termination grace period.
		var wg sync.WaitGroup
		for _, p := range execs {
			wg.Go(func() {
				if err := e.endShipping(ctx, p, 0); err != nil {
					e.log.Warn("executor log shipping not ended", "pod", ns+"/"+p.Name, "err", err)
				}
			})
		}
		wg.Wait()
		for _, p := range execs {
			if del {
				err = e.client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{})
			} else if p.Annotations[AnnotationExitCode] == "" && p.Status.Phase == corev1.PodRunning {
				err = e.annotate(ctx, p, map[string]string{AnnotationExitCode: "0"})
			}
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("end executor %s/%s: %w", ns, p.Name, err)
			}
		}
	} else if e.logsEnabled() {
		if err := e.confFailureLog(ctx, e.podLogsOf(key, driver), driver, r.message); err != nil {
			e.log.Warn("pod logs not written", "pod", key, "err", err)
		}
	}
	if err := e.endShipping(ctx, driver, r.code); err != nil {
		return err
	}
	ann := map[string]string{AnnotationExitCode: strconv.Itoa(r.code)}
	if r.message != "" {
		ann[AnnotationMessage] = r.message
	}
	if err := e.annotate(ctx, driver, ann); err != nil {
		return err
	}
	delete(e.logs, key)
	return nil
}

// farFuture is a time after every line of any simulation: writing up to it writes all.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func (e *Emulator) annotate(ctx context.Context, pod *corev1.Pod, ann map[string]string) error {
	patch := map[string]any{"metadata": map[string]any{"annotations": ann}}
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = e.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, raw, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("annotate pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// errNotMounted is a driver whose ConfigMap volumes do not exist yet: it is retried, as a
// kubelet keeps the container waiting until they do.
var errNotMounted = errors.New("volume not mounted yet")

// confError is a driver whose conf cannot be read: Spark would fail at start-up.
type confError struct{ msg string }

func (c *confError) Error() string { return c.msg }

// readConf reads the driver's spark.properties from the ConfigMap behind its
// spark-conf-volume-driver volume, and the executor pod template when one is configured.
func (e *Emulator) readConf(ctx context.Context, driver *corev1.Pod) (Conf, *corev1.Pod, error) {
	var cmName string
	for _, v := range driver.Spec.Volumes {
		if v.Name == SparkConfVolume && v.ConfigMap != nil {
			cmName = v.ConfigMap.Name
		}
	}
	if cmName == "" {
		return nil, nil, &confError{fmt.Sprintf("driver pod has no volume %s backed by a ConfigMap", SparkConfVolume)}
	}
	text, err := e.configMapKey(ctx, driver.Namespace, cmName, SparkPropertiesKey)
	if err != nil {
		return nil, nil, err
	}
	props, err := ParseProperties(text)
	if err != nil {
		return nil, nil, &confError{err.Error()}
	}
	conf := Conf(props)
	file, ok := conf.firstSet("spark.kubernetes.executor.podTemplateFile")
	if !ok {
		return conf, nil, nil
	}
	tmplCM, key, err := mountedConfigMapFile(driver, file)
	if err != nil {
		return conf, nil, &confError{err.Error()}
	}
	raw, err := e.configMapKey(ctx, driver.Namespace, tmplCM, key)
	if err != nil {
		return conf, nil, err
	}
	tmpl := &corev1.Pod{}
	if err := yaml.Unmarshal([]byte(raw), tmpl); err != nil {
		return conf, nil, &confError{fmt.Sprintf("spark.kubernetes.executor.podTemplateFile=%s: not a pod: %v", file, err)}
	}
	return conf, tmpl, nil
}

func (e *Emulator) configMapKey(ctx context.Context, ns, name, key string) (string, error) {
	cm, err := e.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		// A real kubelet does not start the container before its ConfigMap volumes exist
		// (spark-submit creates them just after the pod); kwok marks the pod running at
		// once, so wait here as the kubelet would.
		return "", fmt.Errorf("ConfigMap %s/%s does not exist yet: %w", ns, name, errNotMounted)
	}
	if err != nil {
		return "", fmt.Errorf("read ConfigMap %s/%s: %w", ns, name, err)
	}
	v, ok := cm.Data[key]
	if !ok {
		return "", &confError{fmt.Sprintf("ConfigMap %s/%s has no key %s", ns, name, key)}
	}
	return v, nil
}

// mountedConfigMapFile finds which ConfigMap and key a file path inside the driver container
// comes from, through the container's volume mounts and the volume's items.
func mountedConfigMapFile(driver *corev1.Pod, file string) (cm, key string, err error) {
	for _, c := range driver.Spec.Containers {
		for _, m := range c.VolumeMounts {
			dir := strings.TrimSuffix(m.MountPath, "/")
			rel, ok := strings.CutPrefix(path.Clean(file), dir+"/")
			if !ok {
				continue
			}
			for _, v := range driver.Spec.Volumes {
				if v.Name != m.Name || v.ConfigMap == nil {
					continue
				}
				if len(v.ConfigMap.Items) == 0 {
					return v.ConfigMap.Name, rel, nil
				}
				for _, it := range v.ConfigMap.Items {
					if it.Path == rel {
						return v.ConfigMap.Name, it.Key, nil
					}
				}
			}
		}
	}
	return "", "", fmt.Errorf("spark.kubernetes.executor.podTemplateFile=%s: no ConfigMap volume of the driver holds that file", file)
}
