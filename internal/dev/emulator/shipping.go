package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkplane/sparkplane/internal/logship"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// The kubelet's part of log shipping, for pods with sparkplane's log-shipping sidecar (see
// docs/design/logs.md). A kubelet would start the sidecar's container and the Spark container
// wrapped by `sparkplane log-wrap`; here no container runs, so the emulator does what they
// would, with the product's own code:
//
//   - the sidecar is the real `sparkplane log-shipper` binary (Options.LogShipper), started
//     as a host process with the container's arguments and environment as a kubelet resolves
//     them ($(VAR) references, the downward API, Secrets), its emptyDir a host directory
//     under LogDir and its termination-message file beside it;
//   - the Spark container's output, which the emulator writes for `kubectl logs`, is also
//     written through logship's rotating files into that directory, with the rotation the
//     container's log-wrap command names, as log-wrap would;
//   - when the Spark container ends, the emulator writes the exit file as log-wrap does,
//     sends the sidecar SIGTERM as a kubelet does to a pod's native sidecars once its
//     containers have ended, waits for it, and puts its termination message in the pod's
//     status, where the controller reads it.
//
// What differs from a cluster: the sidecar has the credentials Options.ShipperEnv gives
// (the sandbox's S3 key, standing in for the job's IRSA role, which needs STS), and a
// restarted emulator kills the sidecars the previous one started (they die with it anyway:
// Pdeathsig) and starts them again, as a kubelet restarts a crashed sidecar; the shipper
// resumes from its state file.

// shipperGrace bounds how long a sidecar may take to finish after SIGTERM: the shipper's own
// drain timeout (25 s) and a margin, as a pod's termination grace period would.
const shipperGrace = 35 * time.Second

// podShipper is one pod's log shipping.
type podShipper struct {
	uid types.UID
	// logDir is the host directory log-wrap's --dir maps to; termLog is the sidecar's
	// termination-message file.
	logDir, termLog string
	// out receives the Spark container's output (stderr, where Spark logs).
	out  io.WriteCloser
	cmd  *exec.Cmd
	done chan struct{} // closed when the sidecar process has exited
}

// shippers are the pods' log shipping by pod UID; only the reconcile worker touches it.
type shippers struct {
	mu sync.Mutex
	m  map[types.UID]*podShipper
}

// shipperContainer is a pod's log-shipping sidecar, or nil.
func shipperContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.InitContainers {
		if c := &pod.Spec.InitContainers[i]; c.Name == wellknown.LogShipperContainer {
			return c
		}
	}
	return nil
}

// startShipping starts the log shipping of pod, whose Spark container is container, once per
// pod, and returns where the container's output goes (nil when the pod ships no logs).
func (e *Emulator) startShipping(ctx context.Context, pod *corev1.Pod, container string) (io.Writer, error) {
	side := shipperContainer(pod)
	if side == nil {
		return nil, nil
	}
	e.ship.mu.Lock()
	defer e.ship.mu.Unlock()
	if e.ship.m == nil {
		e.ship.m = map[types.UID]*podShipper{}
	}
	if ps := e.ship.m[pod.UID]; ps != nil {
		return ps.out, nil
	}
	podDir := filepath.Join(e.opts.LogDir, pod.Namespace, pod.Name)
	volumes := map[string]string{} // mount path in the container -> host directory
	for _, m := range side.VolumeMounts {
		volumes[m.MountPath] = filepath.Join(podDir, "volumes", m.Name)
	}
	spark := podContainer(pod, container)
	if spark == nil {
		return nil, fmt.Errorf("pod %s/%s has no container %s", pod.Namespace, pod.Name, container)
	}
	wrapDir, size, files, err := wrapFlags(spark.Command)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: the Spark container's log-wrap command: %w", pod.Namespace, pod.Name, err)
	}
	ps := &podShipper{uid: pod.UID, logDir: hostPath(wrapDir, volumes), termLog: filepath.Join(podDir, side.Name+".termination-log"),
		done: make(chan struct{})}
	warn := func(format string, args ...any) {
		e.log.Warn("log-wrap stand-in: "+fmt.Sprintf(format, args...), "pod", pod.Namespace+"/"+pod.Name)
	}
	if ps.out, err = logship.OpenStream(ps.logDir, logship.Stderr, size, files, warn); err != nil {
		return nil, fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	_ = os.Remove(ps.termLog)
	if err := e.runShipper(ctx, pod, side, volumes, ps); err != nil {
		// Said where a kubelet says a container could not start: its status.
		_ = ps.out.Close()
		msg := logship.FailurePrefix + ": the sandbox could not start its log shipper: " + err.Error()
		close(ps.done)
		ps.cmd = nil
		if werr := os.WriteFile(ps.termLog, []byte(msg), 0o644); werr != nil {
			return nil, werr
		}
		e.log.Warn("log shipper not started", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
	e.ship.m[pod.UID] = ps
	return ps.out, nil
}

// runShipper starts the sidecar's command as a host process.
func (e *Emulator) runShipper(ctx context.Context, pod *corev1.Pod, side *corev1.Container, volumes map[string]string, ps *podShipper) error {
	if e.opts.LogShipper == "" {
		return errors.New("no sparkplane binary to run it (emulator Options.LogShipper)")
	}
	env, err := e.containerEnv(ctx, pod, side)
	if err != nil {
		return err
	}
	// The image's entrypoint, or the command's first word, is the sparkplane binary.
	args := slices.Clone(side.Args)
	if len(side.Command) > 0 {
		args = append(slices.Clone(side.Command[1:]), side.Args...)
	}
	for i, a := range args {
		args[i] = hostPath(expand(a, env), volumes)
	}
	args = append(args, "--termination-log", ps.termLog)
	cmd := exec.Command(e.opts.LogShipper, args...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "PATH=/usr/bin:/bin")
	for _, kv := range e.opts.ShipperEnv {
		if k, _, _ := strings.Cut(kv, "="); env[k] == "" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	logFile, err := os.OpenFile(filepath.Join(filepath.Dir(ps.termLog), side.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The sidecar dies with the emulator, as a container does with its kubelet's pod sandbox;
	// the next emulator starts it again and it resumes from its state file.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return err
	}
	ps.cmd = cmd
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(ps.done)
	}()
	e.log.Info("log shipper started", "pod", pod.Namespace+"/"+pod.Name, "pid", cmd.Process.Pid)
	return nil
}

// endShipping ends a pod's Spark container (exit code) for its log shipping: the exit file as
// log-wrap writes it, SIGTERM to the sidecar as the kubelet sends it once the pod's containers
// have ended, and, once the sidecar has exited, its termination message in the pod's status.
// A pod without log shipping, or whose shipping this emulator did not start, is left alone.
func (e *Emulator) endShipping(ctx context.Context, pod *corev1.Pod, code int) error {
	e.ship.mu.Lock()
	ps := e.ship.m[pod.UID]
	delete(e.ship.m, pod.UID)
	e.ship.mu.Unlock()
	if ps == nil {
		return nil
	}
	start := time.Now()
	_ = ps.out.Close()
	if err := logship.WriteExit(ps.logDir, code); err != nil {
		e.log.Warn("log-wrap stand-in: exit file not written", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
	if ps.cmd != nil {
		_ = ps.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-ps.done:
		case <-time.After(shipperGrace):
			_ = ps.cmd.Process.Kill()
			<-ps.done
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	msg, err := os.ReadFile(ps.termLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	e.log.Info("log shipper ended", "pod", pod.Namespace+"/"+pod.Name, "took", time.Since(start).Round(time.Millisecond), "message", strings.TrimSpace(string(msg)))
	return e.shipperTerminated(ctx, pod, strings.TrimSpace(string(msg)))
}

// shipperTerminated records in the pod's status that its log-shipping sidecar ended with
// message, as a kubelet does from the container's termination-message file.
func (e *Emulator) shipperTerminated(ctx context.Context, pod *corev1.Pod, message string) error {
	fresh, err := e.client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	now := metav1.Now()
	statuses := slices.Clone(fresh.Status.InitContainerStatuses)
	i := slices.IndexFunc(statuses, func(s corev1.ContainerStatus) bool { return s.Name == wellknown.LogShipperContainer })
	if i < 0 {
		statuses = append(statuses, corev1.ContainerStatus{Name: wellknown.LogShipperContainer})
		i = len(statuses) - 1
	}
	started := now
	if r := statuses[i].State.Running; r != nil {
		started = r.StartedAt
	}
	statuses[i].Ready, statuses[i].Started = false, new(bool)
	statuses[i].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 0, Reason: "Completed", Message: message, StartedAt: started, FinishedAt: now}}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"initContainerStatuses": statuses}})
	if err != nil {
		return err
	}
	if _, err := e.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("record the log shipper's end on pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// stopShippers kills every sidecar this emulator started, when it stops.
func (e *Emulator) stopShippers() {
	e.ship.mu.Lock()
	defer e.ship.mu.Unlock()
	for uid, ps := range e.ship.m {
		_ = ps.out.Close()
		if ps.cmd != nil {
			_ = ps.cmd.Process.Kill()
			<-ps.done
		}
		delete(e.ship.m, uid)
	}
}

// podContainer is the pod's container named name.
func podContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// wrapFlags reads the log directory and rotation of a log-wrap command line.
func wrapFlags(command []string) (dir string, size int64, files int, err error) {
	size, _ = logship.ParseSize(logship.DefaultRotationSize)
	files = logship.DefaultMaxFiles
	i := slices.Index(command, "log-wrap")
	if i < 0 {
		return "", 0, 0, errors.New("it does not run log-wrap")
	}
	for j := i + 1; j+1 < len(command) && command[j] != "--"; j++ {
		switch v := command[j+1]; command[j] {
		case "--dir":
			dir = v
		case "--rotation-size":
			if size, err = logship.ParseSize(v); err != nil {
				return "", 0, 0, err
			}
		case "--max-files":
			if files, err = strconv.Atoi(v); err != nil {
				return "", 0, 0, fmt.Errorf("--max-files %q: %w", v, err)
			}
		}
	}
	if dir == "" {
		return "", 0, 0, errors.New("it names no --dir")
	}
	return dir, size, files, nil
}

// hostPath maps a path inside a container to the host directory of the volume mounted there.
func hostPath(p string, volumes map[string]string) string {
	for mount, host := range volumes {
		if p == mount || strings.HasPrefix(p, strings.TrimSuffix(mount, "/")+"/") {
			return host + strings.TrimPrefix(p, mount)
		}
	}
	return p
}

// containerEnv resolves a container's environment as a kubelet does: values with $(VAR)
// references to earlier variables expanded, the downward API's fields of the pod, and keys of
// Secrets and ConfigMaps in its namespace.
func (e *Emulator) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (map[string]string, error) {
	env := map[string]string{}
	for _, v := range c.Env {
		switch src := v.ValueFrom; {
		case src == nil:
			env[v.Name] = expand(v.Value, env)
		case src.FieldRef != nil:
			val, err := fieldValue(pod, src.FieldRef.FieldPath)
			if err != nil {
				return nil, fmt.Errorf("env %s: %w", v.Name, err)
			}
			env[v.Name] = val
		case src.SecretKeyRef != nil:
			s, err := e.client.CoreV1().Secrets(pod.Namespace).Get(ctx, src.SecretKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("env %s: secret %s: %w", v.Name, src.SecretKeyRef.Name, err)
			}
			env[v.Name] = string(s.Data[src.SecretKeyRef.Key])
		case src.ConfigMapKeyRef != nil:
			cm, err := e.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMapKeyRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("env %s: config map %s: %w", v.Name, src.ConfigMapKeyRef.Name, err)
			}
			env[v.Name] = cm.Data[src.ConfigMapKeyRef.Key]
		default:
			return nil, fmt.Errorf("env %s: this stand-in for the kubelet does not resolve its source", v.Name)
		}
	}
	return env, nil
}

// fieldValue is a downward API field of pod.
func fieldValue(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok && strings.HasSuffix(key, "']") {
			return m[strings.TrimSuffix(key, "']")], nil
		}
	}
	return "", fmt.Errorf("field %q is not one this stand-in for the kubelet resolves", path)
}

// expand replaces $(VAR) with VAR's value as Kubernetes does in commands, arguments and
// environment values: "$$" is a literal "$", and a reference to an undefined variable stays.
func expand(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := env[name]; ok {
					b.WriteString(v)
				} else {
					b.WriteString(s[i : i+3+end])
				}
				i += 2 + end
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
