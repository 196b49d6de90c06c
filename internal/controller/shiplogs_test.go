package controller_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/spark"
)

// TestShipLogsToS3 runs jobs with a logUri and a small containerLogRotationConfiguration:
// their driver's and executors' output ends up gzipped in S3 at EMR on EKS's keys, shipped by
// the real `sparkplane log-shipper` (the emulator, standing in for the kubelet, runs it as a
// process per pod). After Spark deleted the executors, the logs route reads theirs from S3.
// A logUri whose bucket does not exist fails the shipping, never the job, and stateDetails
// says so.
func TestShipLogsToS3(t *testing.T) {
	ensureNode(t)
	env := testenv.Get(t)
	s := startServer(t, t.TempDir(), env.Kubeconfig, func(c *config.Config) {
		c.LogShipping = config.LogShipping{Endpoint: env.S3.Endpoint, ForcePathStyle: true}
	})
	vc := s.virtualCluster(t, "shiplogs")
	logURI := "s3://" + env.Bucket + "/emr-logs/"
	start := func(name, uri string, confs ...string) string {
		t.Helper()
		params := "--class org.apache.spark.examples.SparkPi --conf spark.executor.instances=2 --conf spark.executor.memory=1g"
		for _, c := range confs {
			params += " --conf " + c
		}
		out, err := s.client.StartJobRun(context.Background(), &emrcontainers.StartJobRunInput{
			VirtualClusterId: aws.String(vc), Name: aws.String(name), ExecutionRoleArn: aws.String(roleArn), ReleaseLabel: aws.String(release),
			JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
				EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"), SparkSubmitParameters: aws.String(params)}},
			ConfigurationOverrides: &emrtypes.ConfigurationOverrides{MonitoringConfiguration: &emrtypes.MonitoringConfiguration{
				S3MonitoringConfiguration:         &emrtypes.S3MonitoringConfiguration{LogUri: aws.String(uri)},
				ContainerLogRotationConfiguration: &emrtypes.ContainerLogRotationConfiguration{RotationSize: aws.String("2KB"), MaxFilesToKeep: aws.Int32(50)},
			}},
		})
		if err != nil {
			t.Fatalf("StartJobRun: %v", err)
		}
		return *out.Id
	}
	ok := start("shipped", logURI, "spark.sparkplane.sandbox.duration=3s")
	denied := start("unshippable", "s3://no-such-bucket-for-logs/x", "spark.sparkplane.sandbox.duration=1s")

	done, _ := s.waitState(t, vc, ok, emrtypes.JobRunStateCompleted, 2*time.Minute)
	prefix := "emr-logs/" + vc + "/jobs/" + ok + "/containers/" + spark.AppID(ok, 1) + "/"
	if want := "driver and executor logs go to s3://" + env.Bucket + "/emr-logs/" + vc + "/jobs/" + ok + "/containers/"; !strings.Contains(aws.ToString(done.StateDetails), want) {
		t.Errorf("stateDetails %q does not say where the logs go (%s)", aws.ToString(done.StateDetails), want)
	}
	driverPod := s.driverPodName(t, ok)

	// Every pod's two objects, at EMR's keys, once each sidecar has drained.
	s3c := env.S3.Client()
	var keys []string
	deadline := time.Now().Add(time.Minute)
	for {
		keys = listKeys(t, s3c, env.Bucket, prefix)
		if len(keys) >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	var execPods []string
	for _, k := range keys {
		pod := strings.Split(strings.TrimPrefix(k, prefix), "/")[0]
		if strings.Contains(pod, "-exec-") && !slices.Contains(execPods, pod) {
			execPods = append(execPods, pod)
		}
	}
	if len(execPods) != 2 {
		t.Fatalf("shipped pods under s3://%s/%s: %v; want the driver's and 2 executors' stdout.gz and stderr.gz", env.Bucket, prefix, keys)
	}
	for _, pod := range append([]string{driverPod}, execPods...) {
		for _, obj := range []string{"stdout.gz", "stderr.gz"} {
			if !slices.Contains(keys, prefix+pod+"/"+obj) {
				t.Errorf("no s3://%s/%s%s/%s; keys: %v", env.Bucket, prefix, pod, obj, keys)
			}
		}
	}
	driverLog := gunzipObject(t, s3c, env.Bucket, prefix+driverPod+"/stderr.gz")
	for _, want := range []string{"SparkContext: Running Spark version", "Registered executor", "SparkContext: Successfully stopped SparkContext"} {
		if !strings.Contains(driverLog, want) {
			t.Errorf("the driver's shipped stderr lacks %q (%d bytes)", want, len(driverLog))
		}
	}
	// The rotation at 2KB cut it into many files: all of them are there, in order, once.
	if n := strings.Count(driverLog, "Running Spark version"); n != 1 || len(driverLog) < 4<<10 {
		t.Errorf("driver log: %d bytes, %d starts; want one whole log longer than two rotations", len(driverLog), n)
	}
	// It is what `kubectl logs` showed, line for line.
	kubeLog, err := env.Client.CoreV1().Pods("shiplogs").GetLogs(driverPod, nil).DoRaw(context.Background())
	if err != nil {
		t.Fatalf("kubectl logs of the driver: %v", err)
	}
	if string(kubeLog) != driverLog {
		t.Errorf("the shipped driver log differs from the container's log (%d vs %d bytes)", len(driverLog), len(kubeLog))
	}
	execLog := gunzipObject(t, s3c, env.Bucket, prefix+execPods[0]+"/stderr.gz")
	if !strings.Contains(execLog, "CoarseGrainedExecutorBackend: Successfully registered with driver") {
		t.Errorf("executor %s's shipped stderr lacks its registration:\n%s", execPods[0], execLog)
	}

	// Spark deleted the executors: their logs come from S3 through the logs route.
	waitGone(t, env, "shiplogs", execPods)
	path := "/virtualclusters/" + vc + "/jobruns/" + ok + "/logs"
	s.wantLog(t, path+"?executor=1", "shipped to s3://"+env.Bucket+"/"+prefix)
	s.wantLog(t, path+"?executor=1", "Successfully registered with driver")
	s.wantLog(t, path+"?executor=all", "[exec-2] ")
	status, _, body := s.Do(t, s.Admin(), http.MethodGet, path+"?executor=1&tail=1", nil)
	if lines := strings.Count(string(body), "\n"); status != http.StatusOK || lines > 3 {
		t.Errorf("tail=1 of a shipped log: HTTP %d, %d lines (header and one line per stream)\n%s", status, lines, body)
	}

	// An unwritable logUri: the job completes, and stateDetails says why its logs are not there.
	d, _ := s.waitState(t, vc, denied, emrtypes.JobRunStateCompleted, 2*time.Minute)
	deadline = time.Now().Add(time.Minute)
	for !strings.Contains(aws.ToString(d.StateDetails), "logs could not be shipped to s3://no-such-bucket-for-logs/") && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		d, _ = s.waitState(t, vc, denied, emrtypes.JobRunStateCompleted, time.Minute)
	}
	if sd := aws.ToString(d.StateDetails); !strings.Contains(sd, "logs could not be shipped to s3://no-such-bucket-for-logs/") ||
		!strings.Contains(sd, "the job itself was not affected") {
		t.Errorf("stateDetails of a run whose logs could not be shipped: %q", sd)
	}
}

func (s *server) driverPodName(t *testing.T, id string) string {
	t.Helper()
	pods, err := testenv.Get(t).Client.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{
		LabelSelector: "emr-containers.amazonaws.com/job.id=" + id + ",spark-role=driver"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("driver pod of %s: %v, %d pods", id, err, len(pods.Items))
	}
	return pods.Items[0].Name
}

func listKeys(t *testing.T, c *s3.Client, bucket, prefix string) []string {
	t.Helper()
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func gunzipObject(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("s3://%s/%s is not gzip: %v", bucket, key, err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("s3://%s/%s: %v", bucket, key, err)
	}
	return string(text)
}

func waitGone(t *testing.T, env *testenv.Env, ns string, pods []string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, name := range pods {
		for {
			_, err := env.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pod %s/%s still exists", ns, name)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
