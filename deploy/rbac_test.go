package deploy_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/emrcontainers"
	emrtypes "github.com/aws/aws-sdk-go-v2/service/emrcontainers/types"
	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/dev/apitest"
	"github.com/sparkplane/sparkplane/internal/dev/testenv"
	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// TestChartRBACRunsAJob proves the chart's RBAC is enough for what the code does, on a real
// API server that enforces RBAC: it installs the chart's ServiceAccount, ClusterRole, Role and
// their bindings, then runs a real sparkplane server whose kubeconfig impersonates that
// service account, creates a virtual cluster on a new namespace, starts a job run and cancels
// it. That takes every write the controller makes: the namespace, the driver's service
// account, the driver Role (which Kubernetes allows only to a creator holding every
// permission in it) and RoleBinding, the driver pod, its config maps and service, and the
// deletecollection of a cancel; and the reads of the pod and node informers. The Lease rules
// are checked with the verbs client-go's LeaseLock uses.
func TestChartRBACRunsAJob(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The chart's identity and permissions, created for real in a namespace of their own.
	const namespace, release = "sparkplane-rbac", "rbac"
	if _, err := env.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	account := ""
	for _, d := range renderAs(t, release, namespace, "rbac") {
		switch d.kind {
		case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
		default:
			continue
		}
		if d.kind == "ServiceAccount" {
			account = d.name
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(d.raw, &obj.Object); err != nil {
			t.Fatal(err)
		}
		gvk := obj.GroupVersionKind()
		mapping, err := restMapper(t, env).RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		ri := env.Dynamic.Resource(mapping.Resource)
		if obj.GetNamespace() != "" {
			_, err = ri.Namespace(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{})
		} else {
			_, err = ri.Create(ctx, obj, metav1.CreateOptions{})
			t.Cleanup(func() { _ = ri.Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{}) })
		}
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
	}
	user := "system:serviceaccount:" + namespace + ":" + account

	// A kubeconfig that acts as the chart's service account.
	kc, err := clientcmd.LoadFromFile(env.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range kc.AuthInfos {
		a.Impersonate = user
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	as, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}

	// The cluster enforces RBAC (else this test proves nothing), and the rules the server
	// needs but this test does not reach through a job run.
	for _, tt := range []struct {
		what    string
		attrs   authorizationv1.ResourceAttributes
		allowed bool
	}{
		{"read secrets", authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{"delete namespaces", authorizationv1.ResourceAttributes{Verb: "delete", Resource: "namespaces", Name: "spark-rbac"}, false},
		{"exec into pods", authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "spark-rbac"}, false},
		{"watch nodes (cost)", authorizationv1.ResourceAttributes{Verb: "watch", Resource: "nodes"}, true},
		{"read logs (jobs logs)", authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods", Subresource: "log", Namespace: "spark-rbac"}, true},
		{"port-forward (live Spark UI)", authorizationv1.ResourceAttributes{Verb: "create", Resource: "pods", Subresource: "portforward", Namespace: "spark-rbac"}, true},
		{"update its Lease", authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: namespace, Name: "sparkplane"}, true},
		{"update another Lease", authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: namespace, Name: "kube-scheduler"}, false},
		{"take a Lease elsewhere", authorizationv1.ResourceAttributes{Verb: "create", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-system"}, false},
	} {
		r, err := as.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &tt.attrs}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status.Allowed != tt.allowed {
			t.Errorf("%s may %s: %v, want %v (%s)", user, tt.what, r.Status.Allowed, tt.allowed, r.Status.Reason)
		}
	}

	// Leader election as client-go's LeaseLock does it: create, get, update.
	leases := as.CoordinationV1().Leases(namespace)
	lease, err := leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "sparkplane"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: aws.String("replica-0")}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create the Lease as %s: %v", user, err)
	}
	if lease, err = leases.Get(ctx, lease.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("get the Lease as %s: %v", user, err)
	}
	lease.Spec.HolderIdentity = aws.String("replica-1")
	if _, err := leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update the Lease as %s: %v", user, err)
	}

	// A job run, end to end, as the chart's service account.
	srv := apitest.Start(t, apitest.WithCluster(kubeconfig))
	c := srv.Client()
	vc := srv.VirtualCluster(t, apitest.ClusterProvider, "spark-rbac")
	run, err := c.StartJobRun(ctx, &emrcontainers.StartJobRunInput{VirtualClusterId: aws.String(vc), Name: aws.String("rbac"),
		ExecutionRoleArn: aws.String(apitest.RoleArn), ReleaseLabel: aws.String(apitest.ReleaseLabel),
		JobDriver: &emrtypes.JobDriver{SparkSubmitJobDriver: &emrtypes.SparkSubmitJobDriver{EntryPoint: aws.String("local:///opt/pi.py")}}})
	if err != nil {
		t.Fatal(err)
	}
	waitState := func(want emrtypes.JobRunState) {
		t.Helper()
		for {
			got, err := c.DescribeJobRun(ctx, &emrcontainers.DescribeJobRunInput{VirtualClusterId: aws.String(vc), Id: run.Id})
			if err != nil {
				t.Fatal(err)
			}
			if got.JobRun.State == want {
				return
			}
			if ctx.Err() != nil || got.JobRun.State == emrtypes.JobRunStateFailed {
				t.Fatalf("job run %s is %s (%s), want %s", *run.Id, got.JobRun.State, aws.ToString(got.JobRun.StateDetails), want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitState(emrtypes.JobRunStateSubmitted)
	pods, err := env.Client.CoreV1().Pods("spark-rbac").List(ctx, metav1.ListOptions{LabelSelector: wellknown.LabelJobID + "=" + *run.Id})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("driver pods of the run: %d, %v", len(pods.Items), err)
	}
	if _, err := env.Client.RbacV1().Roles("spark-rbac").Get(ctx, "sparkplane-spark-driver", metav1.GetOptions{}); err != nil {
		t.Errorf("the driver Role: %v", err)
	}
	if _, err := c.CancelJobRun(ctx, &emrcontainers.CancelJobRunInput{VirtualClusterId: aws.String(vc), Id: run.Id}); err != nil {
		t.Fatal(err)
	}
	waitState(emrtypes.JobRunStateCancelled)
}
