package controller_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Emulator: true, S3: true}) }

const (
	roleArn = apitest.RoleArn
	release = "emr-6.15.0-latest"
)

// server is the real App (SQLite, API, controller) driving the test cluster. Its data
// directory outlives it, so a test can stop it and start another on the same store.
type server struct {
	*apitest.Server
	client *emrcontainers.Client
}

func startServer(t *testing.T, dataDir, kubeconfig string, mutate ...func(*config.Config)) *server {
	t.Helper()
	env := testenv.Get(t)
	opts := []apitest.Option{
		apitest.WithDataDir(dataDir), apitest.WithCluster(kubeconfig),
		apitest.WithLogFile(filepath.Join(dataDir, "server.log")),
		apitest.WithConfig(func(c *config.Config) {
			c.S3 = env.ServerS3()
		}),
	}
	for _, m := range mutate {
		opts = append(opts, apitest.WithConfig(m))
	}
	srv := apitest.Start(t, opts...)
	return &server{Server: srv, client: srv.Client()}
}

func (s *server) virtualCluster(t *testing.T, namespace string) string {
	return s.VirtualCluster(t, apitest.ClusterProvider, namespace)
}

// start submits the SparkPi example with extra confs.
func (s *server) start(t *testing.T, vc string, retries int32, confs ...string) string {
	t.Helper()
	params := "--class org.apache.spark.examples.SparkPi --conf spark.executor.instances=2 --conf spark.executor.memory=1g"
	for _, c := range confs {
		params += " --conf " + c
	}
	in := &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String("pi"), ExecutionRoleArn: aws.String(roleArn),
		ReleaseLabel: aws.String(release),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
			EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), EntryPointArguments: []string{"10"},
			SparkSubmitParameters: aws.String(params)}},
	}
	if retries > 0 {
		in.RetryPolicyConfiguration = &emrtypes.RetryPolicyConfiguration{MaxAttempts: aws.Int32(retries)}
	}
	out, err := s.client.StartJobRun(context.Background(), in)
	if err != nil {
		t.Fatalf("StartJobRun: %v", err)
	}
	return *out.Id
}

// waitState polls DescribeJobRun until the run reaches want (or any terminal state), and
// returns the run and every state it was seen in.
func (s *server) waitState(t *testing.T, vc, id string, want emrtypes.JobRunState, within time.Duration) (*emrtypes.JobRun, []emrtypes.JobRunState) {
	t.Helper()
	var seen []emrtypes.JobRunState
	deadline := time.Now().Add(within)
	for {
		out, err := s.client.DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeJobRun: %v", err)
		}
		r := out.JobRun
		if len(seen) == 0 || seen[len(seen)-1] != r.State {
			seen = append(seen, r.State)
		}
		switch r.State {
		case want:
			return r, seen
		case emrtypes.JobRunStateCompleted, emrtypes.JobRunStateFailed, emrtypes.JobRunStateCancelled:
			t.Fatalf("job run %s ended %s (%s: %s), want %s; states seen %v", id, r.State, r.FailureReason, aws.ToString(r.StateDetails), want, seen)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job run %s still %s (%s) after %s, want %s; states seen %v", id, r.State, aws.ToString(r.StateDetails), within, want, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func driverPods(t *testing.T, namespace, jobID string) []corev1.Pod {
	t.Helper()
	pods, err := testenv.Get(t).Client.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: "emr-containers.amazonaws.com/job.id=" + jobID + ",spark-role=driver"})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// ensureNode registers one simulated node (kwok plays its kubelet) big enough for the tests.
func ensureNode(t *testing.T) {
	t.Helper()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "controller-test-node", Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{"kubernetes.io/hostname": "controller-test-node", "type": "kwok"}},
		Status: corev1.NodeStatus{
			Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("500")},
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("500")},
		},
	}
	client := testenv.Get(t).Client
	_, err := client.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	// Wait until kwok reports the node Ready and the node controller has lifted its not-ready
	// taint, so that no test's first pod races the node's start-up in the scheduler.
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := client.CoreV1().Nodes().Get(context.Background(), node.Name, metav1.GetOptions{})
		if err == nil && len(n.Spec.Taints) == 0 {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s is not Ready and untainted after a minute", node.Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestJobRunsToCompletion(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig)
	vc := s.virtualCluster(t, "complete")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=2s")
	r, seen := s.waitState(t, vc, id, emrtypes.JobRunStateCompleted, 2*time.Minute)
	if !containsState(seen, emrtypes.JobRunStateRunning) {
		t.Errorf("states seen %v never included RUNNING", seen)
	}
	if r.FinishedAt == nil || r.RetryPolicyExecution == nil || *r.RetryPolicyExecution.CurrentAttemptCount != 1 {
		t.Errorf("finished run = %+v, want finishedAt and currentAttemptCount 1", r)
	}
	pods := driverPods(t, "complete", id)
	if len(pods) != 1 {
		t.Fatalf("%d driver pods for the job, want 1", len(pods))
	}
	p := pods[0]
	if p.Labels["emr-containers.amazonaws.com/virtual-cluster-id"] != vc || p.Spec.ServiceAccountName == "" {
		t.Errorf("driver pod labels %v, service account %q", p.Labels, p.Spec.ServiceAccountName)
	}
	sa, err := testenv.Get(t).Client.CoreV1().ServiceAccounts("complete").Get(context.Background(), p.Spec.ServiceAccountName, metav1.GetOptions{})
	if err != nil || sa.Annotations["eks.amazonaws.com/role-arn"] != roleArn {
		t.Errorf("service account %s: %v, annotations %v", p.Spec.ServiceAccountName, err, sa.Annotations)
	}
}

func TestFailedDriverReportsExitCode(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig)
	vc := s.virtualCluster(t, "fail")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=1s", "spark.sparkplane.sandbox.exitCode=3")
	r, _ := s.waitState(t, vc, id, emrtypes.JobRunStateFailed, 2*time.Minute)
	if r.FailureReason != emrtypes.FailureReasonUserError || !strings.Contains(aws.ToString(r.StateDetails), "exited with code 3") {
		t.Errorf("failed run: %s %q, want USER_ERROR naming exit code 3", r.FailureReason, aws.ToString(r.StateDetails))
	}
}

func TestRetryStartsNewAttempts(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig)
	vc := s.virtualCluster(t, "retry")
	id := s.start(t, vc, 3, "spark.sparkplane.sandbox.duration=1s", "spark.sparkplane.sandbox.exitCode=1")
	r, _ := s.waitState(t, vc, id, emrtypes.JobRunStateFailed, 3*time.Minute)
	if got := aws.ToInt32(r.RetryPolicyExecution.CurrentAttemptCount); got != 3 {
		t.Errorf("currentAttemptCount = %d, want 3", got)
	}
	pods := driverPods(t, "retry", id)
	attempts := map[string]bool{}
	for _, p := range pods {
		attempts[p.Labels["sparkplane.io/attempt"]] = true
	}
	if len(pods) != 3 || len(attempts) != 3 {
		t.Errorf("driver pods %d with attempts %v, want one pod for each of 3 attempts", len(pods), attempts)
	}
}

func TestCancelDeletesDriver(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig)
	vc := s.virtualCluster(t, "cancel")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=10m")
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning, 2*time.Minute)
	if _, err := s.client.CancelJobRun(context.Background(), &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)}); err != nil {
		t.Fatalf("CancelJobRun: %v", err)
	}
	s.waitState(t, vc, id, emrtypes.JobRunStateCancelled, time.Minute)
	deadline := time.Now().Add(time.Minute)
	for len(driverPods(t, "cancel", id)) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled job's driver pod still exists after a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestUnschedulableDriverFails(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig, func(c *config.Config) {
		c.Controller.PendingTimeout = config.Duration{Duration: 3 * time.Second}
	})
	vc := s.virtualCluster(t, "unschedulable")
	id := s.start(t, vc, 0, "spark.kubernetes.driver.node.selector.pool=none-such")
	r, _ := s.waitState(t, vc, id, emrtypes.JobRunStateFailed, 2*time.Minute)
	if r.FailureReason != emrtypes.FailureReasonClusterUnavailable || !strings.Contains(aws.ToString(r.StateDetails), "could not be scheduled") {
		t.Errorf("failed run: %s %q, want CLUSTER_UNAVAILABLE about scheduling", r.FailureReason, aws.ToString(r.StateDetails))
	}
}

// TestRestartResumesJobs stops the server while a job runs and starts a new one on the same
// store: the job finishes, with exactly one driver pod (nothing was submitted twice).
func TestRestartResumesJobs(t *testing.T) {
	ensureNode(t)
	dir := t.TempDir()
	s := startServer(t, dir, testenv.Get(t).Kubeconfig)
	vc := s.virtualCluster(t, "restart")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=4s")
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning, 2*time.Minute)
	s.Stop()
	s2 := startServer(t, dir, testenv.Get(t).Kubeconfig)
	s2.waitState(t, vc, id, emrtypes.JobRunStateCompleted, 2*time.Minute)
	if n := len(driverPods(t, "restart", id)); n != 1 {
		t.Errorf("%d driver pods after a restart, want 1", n)
	}
}

// TestKubernetesOutageLosesNothing accepts jobs while the cluster cannot be reached; they
// wait in PENDING with the reason, and run once a server with a working cluster takes over.
func TestKubernetesOutageLosesNothing(t *testing.T) {
	ensureNode(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	dead := kubeconfigFor(t, dir, deadAddr)
	s := startServer(t, dir, dead)
	vc := s.virtualCluster(t, "outage")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=1s")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := s.client.DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if out.JobRun.State != emrtypes.JobRunStatePending {
			t.Fatalf("job run moved to %s while Kubernetes was unreachable", out.JobRun.State)
		}
		if strings.Contains(aws.ToString(out.JobRun.StateDetails), "waiting to submit") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stateDetails %q never said the job is waiting for Kubernetes", aws.ToString(out.JobRun.StateDetails))
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.Stop()
	s2 := startServer(t, dir, testenv.Get(t).Kubeconfig)
	s2.waitState(t, vc, id, emrtypes.JobRunStateCompleted, 2*time.Minute)
}

// kubeconfigFor writes a kubeconfig naming an API server at addr (plain HTTP, no user).
func kubeconfigFor(t *testing.T, dir, addr string) string {
	t.Helper()
	path := filepath.Join(dir, "outage.kubeconfig")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: outage, cluster: {server: "http://%s"}}]
contexts: [{name: outage, context: {cluster: outage, user: outage}}]
users: [{name: outage, user: {}}]
current-context: outage
`, addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKubernetesHangSaysSo points the server at an API server that accepts connections and
// never answers (a frozen process, a partition that drops replies): the run waits in PENDING
// and its stateDetails says it waits for Kubernetes, instead of staying empty while a worker
// blocks; a server with a working cluster then runs it.
func TestKubernetesHangSaysSo(t *testing.T) {
	ensureNode(t)
	dir := t.TempDir()
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	held := make(chan net.Conn, 1024)
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			held <- c // read nothing, answer nothing
		}
	}()
	defer func() {
		for {
			select {
			case c := <-held:
				c.Close()
			default:
				return
			}
		}
	}()
	hung := kubeconfigFor(t, dir, hole.Addr().String())
	s := startServer(t, dir, hung, func(c *config.Config) { c.Controller.KubeTimeout = config.Duration{Duration: 2 * time.Second} })
	vc := s.virtualCluster(t, "hang")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=1s")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := s.client.DescribeJobRun(context.Background(), &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if out.JobRun.State != emrtypes.JobRunStatePending {
			t.Fatalf("job run moved to %s while Kubernetes hung", out.JobRun.State)
		}
		details := aws.ToString(out.JobRun.StateDetails)
		if strings.HasPrefix(details, "waiting for Kubernetes: the API server of container provider") && strings.Contains(details, "did not answer within 2s") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stateDetails %q never said the job is waiting for Kubernetes", details)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.Stop()
	s2 := startServer(t, dir, testenv.Get(t).Kubeconfig)
	s2.waitState(t, vc, id, emrtypes.JobRunStateCompleted, 2*time.Minute)
}

// TestPodTemplatesFromS3 places the driver with a template read from the S3 server.
func TestPodTemplatesFromS3(t *testing.T) {
	ensureNode(t)
	env := testenv.Get(t)
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(env.S3.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(env.S3.AccessKeyID, env.S3.SecretAccessKey, "")})
	tpl := "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    team: data\nspec:\n  nodeSelector:\n    type: kwok\n"
	if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String("templates/driver.yaml"),
		Body: strings.NewReader(tpl)}); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir(), env.Kubeconfig)
	vc := s.virtualCluster(t, "templates")
	uri := "s3://" + env.Bucket + "/templates/driver.yaml"
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=1s", "spark.kubernetes.driver.podTemplateFile="+uri)
	s.waitState(t, vc, id, emrtypes.JobRunStateCompleted, 2*time.Minute)
	p := driverPods(t, "templates", id)[0]
	if p.Labels["team"] != "data" || p.Spec.NodeSelector["type"] != "kwok" {
		t.Errorf("driver pod labels %v, node selector %v: the template was not applied", p.Labels, p.Spec.NodeSelector)
	}
	missing := s.start(t, vc, 0, "spark.kubernetes.driver.podTemplateFile=s3://"+env.Bucket+"/templates/missing.yaml")
	r, _ := s.waitState(t, vc, missing, emrtypes.JobRunStateFailed, time.Minute)
	if r.FailureReason != emrtypes.FailureReasonValidationError || !strings.Contains(aws.ToString(r.StateDetails), "does not exist") {
		t.Errorf("missing template: %s %q, want VALIDATION_ERROR saying it does not exist", r.FailureReason, aws.ToString(r.StateDetails))
	}
}

func containsState(list []emrtypes.JobRunState, s emrtypes.JobRunState) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDeleteVirtualClusterCancelsItsJobs deletes a virtual cluster while a job runs: the
// cluster is TERMINATING until the job is cancelled, then TERMINATED.
func TestDeleteVirtualClusterCancelsItsJobs(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig)
	vc := s.virtualCluster(t, "teardown")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=10m")
	s.waitState(t, vc, id, emrtypes.JobRunStateRunning, 2*time.Minute)
	ctx := context.Background()
	if _, err := s.client.DeleteVirtualCluster(ctx, &emrcontainers.DeleteVirtualClusterInput{Id: aws.String(vc)}); err != nil {
		t.Fatalf("DeleteVirtualCluster: %v", err)
	}
	s.waitState(t, vc, id, emrtypes.JobRunStateCancelled, time.Minute)
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := s.client.DescribeVirtualCluster(ctx, &emrcontainers.DescribeVirtualClusterInput{Id: aws.String(vc)})
		if err != nil {
			t.Fatal(err)
		}
		if out.VirtualCluster.State == emrtypes.VirtualClusterStateTerminated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("virtual cluster still %s a minute after its last job was cancelled", out.VirtualCluster.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFinishedDriversAreDeletedAfterTTL keeps a finished driver for the configured time, then
// deletes it (its executors and config maps go with it); the job run's record stays.
func TestFinishedDriversAreDeletedAfterTTL(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig, func(c *config.Config) {
		c.Controller.DriverTTL = config.Duration{Duration: 3 * time.Second}
	})
	vc := s.virtualCluster(t, "ttl")
	id := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=1s")
	s.waitState(t, vc, id, emrtypes.JobRunStateCompleted, 2*time.Minute)
	if n := len(driverPods(t, "ttl", id)); n != 1 {
		t.Fatalf("%d driver pods right after completion, want the finished one kept for its logs", n)
	}
	deadline := time.Now().Add(time.Minute)
	for len(driverPods(t, "ttl", id)) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the finished driver pod still exists a minute after its 3 s TTL")
		}
		time.Sleep(200 * time.Millisecond)
	}
	r, _ := s.waitState(t, vc, id, emrtypes.JobRunStateCompleted, time.Second)
	if r.FinishedAt == nil {
		t.Error("the job run's record lost its finishedAt after cleanup")
	}
	// Its log went with it, and the logs route says so rather than answering nothing.
	status, code, body := s.Do(t, s.Admin(), http.MethodGet, "/virtualclusters/"+vc+"/jobruns/"+id+"/logs", nil)
	if status != http.StatusNotFound || code != "ResourceNotFoundException" || !strings.Contains(string(body), "gone") || !strings.Contains(string(body), "S3") {
		t.Errorf("logs of a cleaned-up run: HTTP %d %s %s, want ResourceNotFoundException saying the pod is gone and logs are not in S3", status, code, body)
	}
}
