package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/dev/testenv"
)

// TestMain runs the package against one sandbox cluster with Karpenter's CRDs installed
// (NodePool, NodeClaim, KWOKNodeClass; not EC2NodeClass, which only the AWS provider ships).
// With -short no cluster starts and only the shape tests run.
func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Karpenter: true}) }

// TestServerSideDryRun submits every manifest to the sandbox's kube-apiserver with dryRun=All,
// so that the API server's own validation (built-in schemas, and the karpenter.sh/v1 CRD's
// OpenAPI schema and CEL rules) judges them; nothing is persisted. The EC2NodeClass and the
// chart's ServiceMonitor cannot be checked there (their CRDs are not installed; chart_test.go
// checks the ServiceMonitor's shape), and the pod templates are sent as Pods with an image
// filled in, as Spark does when it uses them.
func TestServerSideDryRun(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "sparkplane"}}
	if _, err := env.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	mapper := restMapper(t, env)

	var docs []doc
	docs = append(docs, readDocs(t, "karpenter")...)
	// The chart three ways: its default values (deploy/kubernetes), SQLite with the operator's
	// keys and pod templates, PostgreSQL with three replicas.
	docs = append(docs, readDocs(t, "kubernetes")...)
	for _, c := range chartCases[1:] {
		docs = append(docs, render(t, c)...)
	}
	checked := 0
	dryRun := map[string]bool{} // kind/name
	for _, d := range docs {
		if d.kind == "Kustomization" || d.kind == "EC2NodeClass" || d.kind == "ServiceMonitor" {
			t.Logf("%s: not checked server-side (no such API on the sandbox cluster)", d)
			continue
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(d.raw, &obj.Object); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		namespace := obj.GetNamespace()
		if d.kind == "Pod" {
			// A pod template: give it a name, a namespace and the image Spark would set.
			obj.SetName(strings.TrimSuffix(strings.ReplaceAll(d.file[strings.LastIndex(d.file, "/")+1:], ".", "-"), "-yaml"))
			namespace = "sparkplane"
			containers, _, _ := unstructured.NestedSlice(obj.Object, "spec", "containers")
			for i := range containers {
				containers[i].(map[string]any)["image"] = "apache/spark:3.5.3"
			}
			if err := unstructured.SetNestedSlice(obj.Object, containers, "spec", "containers"); err != nil {
				t.Fatal(err)
			}
		}
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Errorf("%s: no API for %s on the sandbox cluster: %v", d, gvk, err)
			continue
		}
		ri := env.Dynamic.Resource(mapping.Resource)
		opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict}
		if namespace != "" {
			_, err = ri.Namespace(namespace).Create(ctx, obj, opts)
		} else {
			_, err = ri.Create(ctx, obj, opts)
		}
		if apierrors.IsAlreadyExists(err) && d.kind == "Namespace" {
			err = nil // created above so that the namespaced objects can be dry-run into it
		}
		if err != nil {
			t.Errorf("%s: server-side dry run: %v", d, err)
			continue
		}
		checked++
		dryRun[d.kind+"/"+d.name] = true
	}
	if checked < 40 {
		t.Errorf("only %d objects were dry-run", checked)
	}
	// The seed's Provisioner as a v1 NodePool must pass the NodePool CRD's schema and CEL rules
	// like the production pools.
	if !dryRun["NodePool/spark-demo"] {
		t.Errorf("NodePool spark-demo (nodepool-seed.yaml) was not dry-run")
	}
	// Both modes of the chart reached the API server: SQLite's claim, PostgreSQL's budget.
	for _, want := range []string{"Deployment/sparkplane", "Secret/sparkplane", "ClusterRole/sparkplane", "Role/sparkplane-leader-election",
		"PersistentVolumeClaim/sparkplane-data", "PodDisruptionBudget/sparkplane"} {
		if !dryRun[want] {
			t.Errorf("%s of the chart was not dry-run", want)
		}
	}
}

// restMapper maps kinds to the test cluster's resources, Karpenter's CRDs included.
func restMapper(t *testing.T, env *testenv.Env) meta.RESTMapper {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
}
