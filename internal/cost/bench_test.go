package cost_test

import (
	"fmt"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/sparkplane/sparkplane/internal/cost"
)

// BenchmarkRecorderObservePod measures one informer event that changes a pod's charge (a new
// scheduled executor), written durably to a real SQLite store.
func BenchmarkRecorderObservePod(b *testing.B) {
	st, err := storeOpen(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rec, err := cost.NewRecorder(cost.RecorderOptions{Store: st, Catalog: testCatalog(b), Cluster: "c"})
	if err != nil {
		b.Fatal(err)
	}
	rec.ObserveNode(k8sNode("a", "c5d.9xlarge", cost.Spot, "36", "72Gi", at(10, 0), ""))
	base := k8sPod("e", "j1", "v1", "executor", "a", "4", "8Gi", at(10, 5))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := base.DeepCopy()
		p.UID = types.UID(fmt.Sprint("uid-", i))
		rec.ObservePod(p)
	}
}

// BenchmarkRecorderObservePodUnchanged measures the common informer event that changes
// nothing a charge depends on (status churn of a running pod): no write.
func BenchmarkRecorderObservePodUnchanged(b *testing.B) {
	st, err := storeOpen(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rec, _ := cost.NewRecorder(cost.RecorderOptions{Store: st, Catalog: testCatalog(b), Cluster: "c"})
	p := k8sPod("e", "j1", "v1", "executor", "a", "4", "8Gi", at(10, 5))
	rec.ObservePod(p)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Status.Conditions = append(p.Status.Conditions[:1], corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
		rec.ObservePod(p)
	}
}

// BenchmarkBuildJobReport prices a job of one driver and 500 executors.
func BenchmarkBuildJobReport(b *testing.B) {
	cat := testCatalog(b)
	nodes := map[cost.NodeKey]cost.NodeFacts{nodeA.Key(): nodeA, nodeB.Key(): nodeB}
	pods := []cost.PodUsage{pod("d", "j1", "v1", cost.RoleDriver, "b", 2000, 4*gi, at(10, 0), at(11, 0))}
	for i := 0; i < 500; i++ {
		pods = append(pods, pod(fmt.Sprint("e", i), "j1", "v1", cost.RoleExecutor, "a", 4000, 8*gi, at(10, 5), at(10, 50)))
	}
	now := at(12, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = cost.BuildJobReport("j1", pods, nodes, cat, now)
	}
}
