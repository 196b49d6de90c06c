package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

func TestMain(m *testing.M) {
	testenv.Main(m, testenv.Options{Karpenter: true, Emulator: true, S3: true})
}

const (
	roleArn = apitest.RoleArn
	release = "emr-6.15.0-latest"
	region  = "us-east-1"
)

// server is a full sparkplane server on the shared cluster.
type server struct {
	*apitest.Server
	url    string
	client *emrcontainers.Client
}

func startServer(t *testing.T) *server {
	t.Helper()
	env := testenv.Get(t)
	srv := apitest.Start(t, apitest.WithCluster(env.Kubeconfig),
		apitest.WithLogFile(filepath.Join(t.TempDir(), "server.log")),
		apitest.WithConfig(func(c *config.Config) {
			c.Region = region
			c.S3 = env.ServerS3()
		}))
	return &server{Server: srv, url: srv.URL, client: srv.Client()}
}

func (s *server) virtualCluster(t *testing.T, namespace string) string {
	return s.VirtualCluster(t, apitest.ClusterProvider, namespace)
}

// start submits the SparkPi example with extra confs.
func (s *server) start(t *testing.T, vc string, confs ...string) string {
	t.Helper()
	params := "--class org.apache.spark.examples.SparkPi"
	for _, c := range confs {
		params += " --conf " + c
	}
	out, err := s.client.StartJobRun(context.Background(), &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String("pi"), ExecutionRoleArn: aws.String(roleArn),
		ReleaseLabel: aws.String(release),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
			EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), EntryPointArguments: []string{"10"},
			SparkSubmitParameters: aws.String(params)}},
	})
	if err != nil {
		t.Fatalf("StartJobRun: %v", err)
	}
	return *out.Id
}

// waitState polls DescribeJobRun until the job run is in state or the deadline passes.
func (s *server) waitState(t *testing.T, vc, id string, state emrtypes.JobRunState, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last emrtypes.JobRunState
	for time.Now().Before(deadline) {
		out, err := s.client.DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeJobRun %s: %v", id, err)
		}
		last = out.JobRun.State
		if last == state {
			return
		}
		if last != state && (last == emrtypes.JobRunStateCompleted || last == emrtypes.JobRunStateFailed || last == emrtypes.JobRunStateCancelled) {
			t.Fatalf("job run %s ended %s (%s), want %s", id, last, aws.ToString(out.JobRun.StateDetails), state)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("job run %s is %s after %s, want %s", id, last, within, state)
}

// get sends a signed GET and decodes a 200 answer into v.
func (s *server) get(t *testing.T, path string, v any) {
	t.Helper()
	code, _, body := s.Get(t, path, true)
	if code != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// observer keeps, independently of the server, the last state of every job pod and node the
// test's own informers saw, and when each pod's deletion was seen.
type observer struct {
	mu      sync.Mutex
	pods    map[string]*seenPod // uid
	nodes   map[string]*corev1.Node
	stopped chan struct{}
}

type seenPod struct {
	pod     *corev1.Pod
	deleted time.Time
}

func observe(t *testing.T) *observer {
	t.Helper()
	env := testenv.Get(t)
	o := &observer{pods: map[string]*seenPod{}, nodes: map[string]*corev1.Node{}, stopped: make(chan struct{})}
	pf := informers.NewSharedInformerFactoryWithOptions(env.Client, 0, informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
		lo.LabelSelector = wellknown.LabelJobID
	}))
	nf := informers.NewSharedInformerFactory(env.Client, 0)
	put := func(obj any, deleted bool) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		now := time.Now()
		o.mu.Lock()
		defer o.mu.Unlock()
		switch v := obj.(type) {
		case *corev1.Pod:
			sp := o.pods[string(v.UID)]
			if sp == nil {
				sp = &seenPod{}
				o.pods[string(v.UID)] = sp
			}
			sp.pod = v.DeepCopy()
			if deleted {
				sp.deleted = now
			}
		case *corev1.Node:
			if o.nodes[v.Name] == nil || !deleted {
				o.nodes[v.Name] = v.DeepCopy()
			}
		}
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { put(obj, false) },
		UpdateFunc: func(_, obj any) { put(obj, false) },
		DeleteFunc: func(obj any) { put(obj, true) },
	}
	if _, err := pf.Core().V1().Pods().Informer().AddEventHandler(h); err != nil {
		t.Fatal(err)
	}
	if _, err := nf.Core().V1().Nodes().Informer().AddEventHandler(h); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pf.Start(ctx.Done())
	nf.Start(ctx.Done())
	t.Cleanup(func() {
		cancel()
		pf.Shutdown()
		nf.Shutdown()
	})
	for typ, ok := range pf.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("pod informer %v did not sync", typ)
		}
	}
	for typ, ok := range nf.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("node informer %v did not sync", typ)
		}
	}
	return o
}

// jobPods returns copies of what was seen of a job run's pods.
func (o *observer) jobPods(jobID string) []seenPod {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []seenPod
	for _, sp := range o.pods {
		if sp.pod.Labels[wellknown.LabelJobID] == jobID {
			out = append(out, *sp)
		}
	}
	return out
}

func (o *observer) node(name string) *corev1.Node {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.nodes[name]
}
