package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

func (s *server) putSettings(t *testing.T, vc, doc string) {
	t.Helper()
	if status, code, out := s.Do(t, s.Admin(), http.MethodPut, "/virtualclusters/"+vc+"/settings", doc); status != http.StatusOK {
		t.Fatalf("put-settings: %d %s %s", status, code, out)
	}
}

// TestQueueLimitsConcurrentRuns submits 10 runs to a virtual cluster that allows 2 at once:
// never more than 2 drivers exist, the others wait PENDING saying how many are ahead, they
// start and finish first in first out, and a queued run cancels at once.
func TestQueueLimitsConcurrentRuns(t *testing.T) {
	ensureNode(t)
	s := startServer(t, t.TempDir(), testenv.Get(t).Kubeconfig)
	const ns = "queue"
	vc := s.virtualCluster(t, ns)
	s.putSettings(t, vc, `{"maxConcurrentJobRuns": 2}`)
	var ids []string
	for range 10 {
		ids = append(ids, s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=2s"))
	}
	ctx := context.Background()
	// A queued run: its stateDetails say where it stands; a cancel ends it at once.
	extra := s.start(t, vc, 0, "spark.sparkplane.sandbox.duration=2s")
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := s.client.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(extra)})
		if err != nil {
			t.Fatal(err)
		}
		if details := aws.ToString(d.JobRun.StateDetails); strings.HasPrefix(details, "queued: ") {
			if d.JobRun.State != emrtypes.JobRunStatePending || !strings.Contains(details, "job runs ahead; virtual cluster allows 2 at once") {
				t.Errorf("queued run: %s %q", d.JobRun.State, details)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s never said it was queued: %s %q", extra, d.JobRun.State, aws.ToString(d.JobRun.StateDetails))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := s.client.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(extra)}); err != nil {
		t.Fatal(err)
	}
	s.waitState(t, vc, extra, emrtypes.JobRunStateCancelled, 10*time.Second)

	// Watch the drivers until every run has ended.
	most := 0
	deadline = time.Now().Add(3 * time.Minute)
	for {
		pods, err := testenv.Get(t).Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "spark-role=driver"})
		if err != nil {
			t.Fatal(err)
		}
		live := 0
		for _, p := range pods.Items {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil {
				live++
			}
		}
		most = max(most, live)
		out, err := s.client.ListJobRuns(ctx, &emrcontainers.ListJobRunsInput{VirtualClusterId: aws.String(vc),
			States: []emrtypes.JobRunState{emrtypes.JobRunStatePending, emrtypes.JobRunStateSubmitted, emrtypes.JobRunStateRunning, emrtypes.JobRunStateCancelPending}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.JobRuns) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs still unfinished after 3 minutes", len(out.JobRuns))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if most != 2 {
		t.Errorf("at most %d drivers were live at once, want exactly the limit of 2", most)
	}
	if pods := driverPods(t, ns, extra); len(pods) != 0 {
		t.Errorf("the cancelled queued run has %d driver pods, want none", len(pods))
	}
	// First in, first out: each run's driver was created, and the run finished, no earlier
	// than the run submitted before it.
	type timing struct {
		id              string
		created, finish time.Time
	}
	var runs []timing
	for _, id := range ids {
		d, err := s.client.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if d.JobRun.State != emrtypes.JobRunStateCompleted {
			t.Fatalf("run %s ended %s: %s", id, d.JobRun.State, aws.ToString(d.JobRun.StateDetails))
		}
		pods := driverPods(t, ns, id)
		if len(pods) != 1 {
			t.Fatalf("run %s has %d driver pods", id, len(pods))
		}
		runs = append(runs, timing{id, pods[0].CreationTimestamp.Time, *d.JobRun.FinishedAt})
	}
	// First in, first out with 2 slots: run i starts only once i-1 runs before it have ended
	// but one, i.e. after the (i-1)th earliest end among runs 0..i-1 (creation timestamps
	// have whole seconds), and it ends after that too.
	for i := 2; i < len(runs); i++ {
		var ends []time.Time
		for _, r := range runs[:i] {
			ends = append(ends, r.finish)
		}
		slices.SortFunc(ends, func(a, b time.Time) int { return a.Compare(b) })
		freed := ends[i-2]
		if runs[i].created.Before(freed.Truncate(time.Second)) || !runs[i].finish.After(freed) {
			t.Errorf("run %d (%s) created %s, finished %s, before a slot was free (%s): not first in first out",
				i, runs[i].id, runs[i].created.Format(time.RFC3339), runs[i].finish.Format(time.RFC3339Nano), freed.Format(time.RFC3339Nano))
		}
	}
}

// TestPodPolicyRefusesTemplates starts one run per field the default pod policy refuses, each
// with a driver pod template from S3 that asks for it: every run fails with USER_ERROR naming
// the template, the field and the rule, and no pod is created. A virtual cluster whose
// settings allow the seed's local-dir path runs a template mounting it.
func TestPodPolicyRefusesTemplates(t *testing.T) {
	ensureNode(t)
	env := testenv.Get(t)
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(env.S3.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(env.S3.AccessKeyID, env.S3.SecretAccessKey, "")})
	put := func(name, spec string) string {
		t.Helper()
		body := "apiVersion: v1\nkind: Pod\nspec:\n" + spec
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(env.Bucket), Key: aws.String("policy/" + name + ".yaml"),
			Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		return "s3://" + env.Bucket + "/policy/" + name + ".yaml"
	}
	ctr := func(securityContext string) string {
		return "  containers:\n  - name: spark-kubernetes-driver\n    securityContext:\n" + securityContext
	}
	cases := []struct{ name, spec, field string }{
		{"privileged", ctr("      privileged: true\n"), "spec.containers[0].securityContext.privileged"},
		{"escalation", ctr("      allowPrivilegeEscalation: true\n"), "spec.containers[0].securityContext.allowPrivilegeEscalation"},
		{"hostnetwork", "  hostNetwork: true\n", "spec.hostNetwork"},
		{"hostpid", "  hostPID: true\n", "spec.hostPID"},
		{"hostipc", "  hostIPC: true\n", "spec.hostIPC"},
		{"hostpath", "  volumes:\n  - name: root\n    hostPath:\n      path: /\n", "spec.volumes[0].hostPath.path"},
		{"capability", ctr("      capabilities:\n        add: [SYS_ADMIN]\n"), "spec.containers[0].securityContext.capabilities.add[0]"},
		{"root", "  securityContext:\n    runAsUser: 0\n", "spec.securityContext.runAsUser"},
	}
	srv := startServer(t, t.TempDir(), env.Kubeconfig)
	const ns = "podpolicy"
	vc := srv.virtualCluster(t, ns)
	ids := map[string]string{}
	for _, c := range cases {
		uri := put(c.name, c.spec)
		ids[c.name] = srv.start(t, vc, 0, "spark.sparkplane.sandbox.duration=1s", "spark.kubernetes.driver.podTemplateFile="+uri)
	}
	for _, c := range cases {
		r, _ := srv.waitState(t, vc, ids[c.name], emrtypes.JobRunStateFailed, time.Minute)
		details := aws.ToString(r.StateDetails)
		want := fmt.Sprintf("pod template s3://%s/policy/%s.yaml (spark.kubernetes.driver.podTemplateFile) breaks the virtual cluster's podPolicy: %s: ", env.Bucket, c.name, c.field)
		if r.FailureReason != emrtypes.FailureReasonUserError || !strings.HasPrefix(details, want) || !strings.Contains(details, "no pod was created") {
			t.Errorf("%s: %s %q, want USER_ERROR starting %q", c.name, r.FailureReason, details, want)
		}
		if pods := driverPods(t, ns, ids[c.name]); len(pods) != 0 {
			t.Errorf("%s: %d driver pods, want none", c.name, len(pods))
		}
	}

	// The seed's local dir, allowed by the virtual cluster's settings.
	local := put("local", "  volumes:\n  - name: nvme\n    hostPath:\n      path: /pv-disks/local\n")
	allowed := srv.virtualCluster(t, "podpolicy-allowed")
	srv.putSettings(t, allowed, `{"podPolicy": {"allowedHostPaths": ["/pv-disks/local"]}}`)
	id := srv.start(t, allowed, 0, "spark.sparkplane.sandbox.duration=1s", "spark.kubernetes.driver.podTemplateFile="+local)
	srv.waitState(t, allowed, id, emrtypes.JobRunStateCompleted, time.Minute)
	// and refused where the settings do not allow it, at StartJobRun when the conf says so.
	_, err := srv.client.StartJobRun(context.Background(), &emrcontainers.StartJobRunInput{
		VirtualClusterId: aws.String(vc), Name: aws.String("conf"), ExecutionRoleArn: aws.String(roleArn), ReleaseLabel: aws.String(release),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{
			EntryPoint: aws.String("local:///opt/spark/examples/jars/spark-examples.jar"),
			SparkSubmitParameters: aws.String("--class org.apache.spark.examples.SparkPi --conf spark.kubernetes.executor.volumes.hostPath.d.mount.path=/data " +
				"--conf spark.kubernetes.executor.volumes.hostPath.d.options.path=/pv-disks/local")}},
	})
	if err == nil || !strings.Contains(err.Error(), "jobDriver.sparkSubmitJobDriver.sparkSubmitParameters") || !strings.Contains(err.Error(), "podPolicy") {
		t.Errorf("hostPath conf on a virtual cluster that does not allow it = %v, want a ValidationException naming sparkSubmitParameters", err)
	}
}
