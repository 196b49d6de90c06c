package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/sparkplane/sparkplane/internal/api"
	"github.com/sparkplane/sparkplane/internal/jobs"
	"github.com/sparkplane/sparkplane/internal/spark"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// executorContainerName is the container Spark names in the executor pods it creates.
const executorContainerName = "spark-kubernetes-executor"

// executorRescan is how often a follow of every executor looks for executors Spark added.
const executorRescan = 2 * time.Second

// podLogs answers the API's logs route from the pods/log subresource of each container
// provider's API server, which is where `kubectl logs` reads: it has a pod's log only while
// the pod exists.
type podLogs struct {
	svc *jobs.Service
	// clients are the Kubernetes clients by container provider id.
	clients map[string]kubernetes.Interface
	// shipped reads the logs of pods that are gone from S3, where log shipping put them.
	shipped shippedLogs
}

func (l podLogs) Stream(ctx context.Context, run jobs.JobRun, q api.LogQuery, w io.Writer, flush func()) error {
	vc, err := l.svc.DescribeVirtualCluster(ctx, run.VirtualClusterID)
	if err != nil {
		return err
	}
	client := l.clients[vc.ContainerProvider.ID]
	if client == nil {
		return fmt.Errorf("container provider %q of virtual cluster %s is not configured on this server, so job run %s has no logs to read: %w",
			vc.ContainerProvider.ID, vc.ID, run.ID, jobs.ErrNotFound)
	}
	ns := run.Attempt.Namespace
	pods := client.CoreV1().Pods(ns)
	if q.Executor == "" {
		pod, err := pods.Get(ctx, run.Attempt.DriverPod, metav1.GetOptions{})
		if bucket, prefix, ok := l.shipped.location(run); ok && apierrors.IsNotFound(err) {
			return l.shipped.write(ctx, bucket, prefix, run.Attempt.DriverPod, q.Tail, w, "", &sync.Mutex{}, flush)
		}
		if err != nil {
			return podError(err, "driver pod "+ns+"/"+run.Attempt.DriverPod, run.ID)
		}
		rd, err := openLog(ctx, client, pod, spark.DriverContainerName, q)
		if err != nil {
			return podError(err, "driver pod "+ns+"/"+pod.Name, run.ID)
		}
		defer rd.Close()
		return copyLines(rd, w, "", &sync.Mutex{}, flush)
	}
	attempt := max(run.Attempt.Number, 1)
	sel := labels.Set{wellknown.LabelSparkRole: wellknown.SparkRoleExecutor,
		wellknown.LabelSparkAppSelector: spark.AppID(run.ID, attempt)}
	if q.Executor != api.AllExecutors {
		sel[wellknown.LabelSparkExecID] = q.Executor
	}
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return fmt.Errorf("list executor pods of job run %s: %w", run.ID, err)
	}
	// Executors Spark deleted, and every executor once the run is over, are read from S3.
	var shipped []string
	bucket, prefix, fromS3 := l.shipped.location(run)
	if fromS3 {
		all, err := l.shipped.pods(ctx, bucket, prefix)
		if err != nil {
			return err
		}
		for _, name := range all {
			id, isExec := shippedExecutor(name)
			if !isExec || (q.Executor != api.AllExecutors && id != q.Executor) {
				continue
			}
			if !slices.ContainsFunc(list.Items, func(p corev1.Pod) bool { return p.Name == name }) {
				shipped = append(shipped, name)
			}
		}
		sort.Slice(shipped, func(i, j int) bool { return shippedExecID(shipped[i]) < shippedExecID(shipped[j]) })
	}
	if len(list.Items) == 0 && len(shipped) > 0 && q.Executor != api.AllExecutors {
		return l.shipped.write(ctx, bucket, prefix, shipped[0], q.Tail, w, "", &sync.Mutex{}, flush)
	}
	if len(list.Items) == 0 && len(shipped) == 0 {
		what := "executor " + q.Executor + " pod"
		if q.Executor == api.AllExecutors {
			what = "executor pods"
		}
		where := "the run has no logUri, so their logs were not shipped to S3"
		if fromS3 {
			where = "no log of them was shipped under s3://" + bucket + "/" + prefix + " either (the sidecars upload when the pods end)"
		}
		return fmt.Errorf("the %s of job run %s (attempt %d) do not exist: Spark has not created them yet, or has deleted them; %s: %w",
			what, run.ID, attempt, where, jobs.ErrNotFound)
	}
	if q.Executor != api.AllExecutors {
		pod := &list.Items[0]
		rd, err := openLog(ctx, client, pod, executorContainerName, q)
		if err != nil {
			return podError(err, "executor pod "+ns+"/"+pod.Name, run.ID)
		}
		defer rd.Close()
		return copyLines(rd, w, "", &sync.Mutex{}, flush)
	}
	var mu sync.Mutex
	for _, name := range shipped {
		id, _ := shippedExecutor(name)
		if err := l.shipped.write(ctx, bucket, prefix, name, q.Tail, w, "[exec-"+id+"] ", &mu, flush); err != nil {
			return err
		}
	}
	if len(list.Items) == 0 && !q.Follow {
		return nil
	}
	return l.allExecutors(ctx, client, run, sel, list.Items, q, w, flush)
}

// shippedExecutor is the executor id of a shipped pod's name (Spark's "<prefix>-exec-<id>"),
// or false for the driver.
func shippedExecutor(name string) (string, bool) {
	i := strings.LastIndex(name, "-exec-")
	if i < 0 {
		return "", false
	}
	return name[i+len("-exec-"):], true
}

// shippedExecID orders shipped executor pods by their numeric id.
func shippedExecID(name string) int {
	id, _ := shippedExecutor(name)
	n, _ := strconv.Atoi(id)
	return n
}

// allExecutors streams every executor's log at once, each line prefixed with its executor
// id; with follow it also picks up executors Spark adds, until ctx ends.
func (l podLogs) allExecutors(ctx context.Context, client kubernetes.Interface, run jobs.JobRun, sel labels.Set,
	first []corev1.Pod, q api.LogQuery, w io.Writer, flush func()) error {
	var (
		mu      sync.Mutex // one line at a time on w
		wg      sync.WaitGroup
		errMu   sync.Mutex
		errs    []error
		started = map[string]bool{}
	)
	start := func(pods []corev1.Pod) {
		sort.Slice(pods, func(i, j int) bool { return execID(pods[i]) < execID(pods[j]) })
		for i := range pods {
			pod := &pods[i]
			if started[pod.Name] {
				continue
			}
			started[pod.Name] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				rd, err := openLog(ctx, client, pod, executorContainerName, q)
				if err == nil {
					defer rd.Close()
					err = copyLines(rd, w, "[exec-"+pod.Labels[wellknown.LabelSparkExecID]+"] ", &mu, flush)
				}
				// An executor that went away, or a stream cut because the follow ended,
				// is not a failure of the others.
				if err != nil && ctx.Err() == nil && !apierrors.IsNotFound(err) {
					errMu.Lock()
					errs = append(errs, fmt.Errorf("executor pod %s: %w", pod.Name, err))
					errMu.Unlock()
				}
			}()
		}
	}
	start(first)
	if q.Follow {
		t := time.NewTicker(executorRescan)
	rescan:
		for {
			select {
			case <-ctx.Done():
				break rescan
			case <-t.C:
			}
			list, err := client.CoreV1().Pods(run.Attempt.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
			if err == nil {
				start(list.Items)
			}
		}
		t.Stop()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// execID orders executors by their numeric id.
func execID(p corev1.Pod) int {
	n, _ := strconv.Atoi(p.Labels[wellknown.LabelSparkExecID])
	return n
}

// containerStart bounds how long a follow waits for a container to have a log: one still
// being created has none yet (the API server answers "waiting to start"), and kwok has none
// until the emulator writes the first line.
const containerStart = 30 * time.Second

// openLog opens the log of pod's Spark container (want, else its first container). A follow
// waits up to containerStart for the container to have a log.
func openLog(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, want string, q api.LogQuery) (io.ReadCloser, error) {
	rd, err := openLogOnce(ctx, client, pod, want, q)
	if err == nil || !q.Follow {
		return rd, err
	}
	deadline := time.NewTimer(containerStart)
	defer deadline.Stop()
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for err != nil && !apierrors.IsNotFound(err) {
		select {
		case <-ctx.Done():
			return nil, err
		case <-deadline.C:
			return nil, err
		case <-retry.C:
		}
		rd, err = openLogOnce(ctx, client, pod, want, q)
	}
	return rd, err
}

func openLogOnce(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, want string, q api.LogQuery) (io.ReadCloser, error) {
	opts := &corev1.PodLogOptions{Follow: q.Follow, TailLines: q.Tail}
	for _, c := range pod.Spec.Containers {
		if c.Name == want {
			opts.Container = want
		}
	}
	if opts.Container == "" && len(pod.Spec.Containers) > 0 {
		opts.Container = pod.Spec.Containers[0].Name
	}
	switch {
	case q.Since > 0:
		s := int64(math.Ceil(q.Since.Seconds()))
		opts.SinceSeconds = &s
	case !q.SinceTime.IsZero():
		t := metav1.NewTime(q.SinceTime)
		opts.SinceTime = &t
	}
	return client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).Stream(ctx)
}

// podError says that a pod is gone, and that its log went with it, or wraps what else failed.
func podError(err error, what, runID string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("the %s of job run %s is gone (deleted after the run ended, or by Spark), and its log with it: "+
			"its logs are kept in S3 only for runs with a monitoringConfiguration.s3MonitoringConfiguration.logUri (docs/design/logs.md): %w", what, runID, jobs.ErrNotFound)
	}
	return fmt.Errorf("read the log of the %s of job run %s: %w", what, runID, err)
}

// copyLines copies rd to w a line at a time under mu, each line after prefix, flushing after
// each, until rd ends (nil) or fails.
func copyLines(rd io.Reader, w io.Writer, prefix string, mu *sync.Mutex, flush func()) error {
	br := bufio.NewReader(rd)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			mu.Lock()
			_, werr := io.WriteString(w, prefix+string(line))
			if werr == nil {
				flush()
			}
			mu.Unlock()
			if werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
