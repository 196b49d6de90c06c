package kwoklogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sparkplane/sparkplane/internal/dev/kwokobj"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"
)

// Resource is kwok's namespaced Logs resource; kwok serves a pod's logs from the Logs object
// with the pod's name in the pod's namespace.
var Resource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// Container names the files kwok serves as one container's log.
type Container struct {
	// Name is the container's name in the pod spec.
	Name string
	// File is the absolute path of the container's log on the kwok controller's host, in the
	// CRI log format (see WriteLine).
	File string
	// PreviousFile, if set, is what a request with previous=true reads; without it such a
	// request fails, as it does on a kubelet for a container that never restarted.
	PreviousFile string
}

// logsSpec and logEntry mirror kwok's v1alpha1 LogsSpec and Log (sigs.k8s.io/kwok/pkg/apis/
// v1alpha1/logs_types.go), the fields sparkplane sets. kwok ignores Log.Follow: the request's
// follow parameter alone decides.
type logsSpec struct {
	Logs []logEntry `json:"logs"`
}

type logEntry struct {
	Containers       []string `json:"containers,omitempty"`
	LogsFile         string   `json:"logsFile,omitempty"`
	PreviousLogsFile string   `json:"previousLogsFile,omitempty"`
}

// Serve makes the API server's pods/log return, for each of containers, the file it names.
// It creates the files that do not exist yet (empty, with their directories), so that a
// request before the first line returns nothing rather than an error, and creates or updates
// the pod's Logs object: one entry a container, replacing an earlier entry for the same
// container and keeping the others, so that it may be called once per container. The object
// is owned by the pod (which must come from the API server, with its UID); one left by an
// earlier pod of the same name is taken over and its entries dropped.
func Serve(ctx context.Context, client dynamic.Interface, pod *corev1.Pod, containers ...Container) error {
	if pod.UID == "" {
		return fmt.Errorf("serve logs of pod %s/%s: the pod has no UID", pod.Namespace, pod.Name)
	}
	for _, c := range containers {
		if c.Name == "" || !filepath.IsAbs(c.File) || (c.PreviousFile != "" && !filepath.IsAbs(c.PreviousFile)) {
			return fmt.Errorf("serve logs of pod %s/%s: container %q needs a name and absolute file paths (%q, %q)",
				pod.Namespace, pod.Name, c.Name, c.File, c.PreviousFile)
		}
		for _, f := range []string{c.File, c.PreviousFile} {
			if f == "" {
				continue
			}
			if err := touch(f); err != nil {
				return fmt.Errorf("serve logs of pod %s/%s: %w", pod.Namespace, pod.Name, err)
			}
		}
	}
	logs := client.Resource(Resource).Namespace(pod.Namespace)
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
	err := retry.OnError(retry.DefaultRetry, func(err error) bool {
		return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
	}, func() error {
		cur, err := logs.Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			obj, err := object(pod.Namespace, pod.Name, owner, merge(nil, containers))
			if err != nil {
				return err
			}
			_, err = logs.Create(ctx, obj, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		var spec logsSpec
		if m, ok := cur.Object["spec"].(map[string]any); ok && kwokobj.OwnedBy(cur, pod.UID) {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &spec); err != nil {
				return fmt.Errorf("read spec: %w", err)
			}
		}
		obj, err := object(pod.Namespace, pod.Name, owner, merge(spec.Logs, containers))
		if err != nil {
			return err
		}
		obj.SetResourceVersion(cur.GetResourceVersion())
		_, err = logs.Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("serve logs of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// merge returns entries with one entry for each of containers in place of any entry that
// lists it.
func merge(entries []logEntry, containers []Container) []logEntry {
	var out []logEntry
	for _, e := range entries {
		// An entry without containers is kwok's default for every container and stays; an
		// entry that loses its last container here goes.
		had := len(e.Containers)
		e.Containers = slices.DeleteFunc(slices.Clone(e.Containers), func(name string) bool {
			return slices.ContainsFunc(containers, func(c Container) bool { return c.Name == name })
		})
		if had == 0 || len(e.Containers) > 0 {
			out = append(out, e)
		}
	}
	for _, c := range containers {
		out = append(out, logEntry{Containers: []string{c.Name}, LogsFile: c.File, PreviousLogsFile: c.PreviousFile})
	}
	return out
}

func object(namespace, name string, owner metav1.OwnerReference, entries []logEntry) (*unstructured.Unstructured, error) {
	return kwokobj.New(Resource.GroupVersion(), "Logs", namespace, name, owner, &logsSpec{Logs: entries})
}

func touch(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create log file: %w", err)
	}
	return f.Close()
}

// Stream is the stream a log line was written to, as the CRI log format records it.
type Stream string

// The streams of a container. Spark's default log4j2 console appender writes to stderr.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// criTime is the CRI log format's timestamp (the kubelet's RFC3339NanoFixed).
const criTime = "2006-01-02T15:04:05.000000000Z07:00"

// WriteLine writes text as log lines of stream, stamped at, in the CRI log format that kwok's
// reader (like the kubelet's) requires: "<RFC 3339 time> <stream> F <text>". Text with line
// breaks becomes one line per part. The stamp is what sinceTime, sinceSeconds and timestamps
// see, so a simulated log should carry its simulated times. All of text goes to w in one
// Write, so that a reader of a file opened with O_APPEND never sees half a line.
func WriteLine(w io.Writer, stream Stream, at time.Time, text string) error {
	if stream != Stdout && stream != Stderr {
		return errors.New("write log line: stream must be stdout or stderr")
	}
	prefix := at.UTC().Format(criTime) + " " + string(stream) + " F "
	var b strings.Builder
	for part := range strings.SplitSeq(strings.TrimSuffix(text, "\n"), "\n") {
		b.WriteString(prefix)
		b.WriteString(part)
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write log line: %w", err)
	}
	return nil
}
