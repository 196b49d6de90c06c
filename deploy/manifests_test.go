// Package deploy_test checks the shape of the manifests under deploy/karpenter and
// deploy/kubernetes: every document has a known apiVersion and kind, decodes strictly (no
// unknown or misspelt fields) into its Go type or, for Karpenter's kinds, into a mirror of the
// karpenter.sh/v1 and karpenter.k8s.aws/v1 fields used, and the objects fit together (pod
// templates select pools that exist and tolerate their taints, the Deployment mounts what
// exists, the server configuration loads). A server-side dry run against a cluster with
// Karpenter's CRDs is the next step; it needs the test cluster helper.
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/config"
)

// doc is one YAML document of a manifest file.
type doc struct {
	file       string
	index      int
	raw        []byte
	apiVersion string
	kind       string
	name       string
	namespace  string
}

func (d doc) String() string { return fmt.Sprintf("%s#%d (%s %s)", d.file, d.index, d.kind, d.name) }

// readDocs reads every document of every .yaml file under dir.
func readDocs(t *testing.T, dir string) []doc {
	t.Helper()
	var out []doc
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r := utilyaml.NewYAMLReader(bufioReader(data))
		for i := 0; ; i++ {
			raw, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if len(bytes.TrimSpace(stripComments(raw))) == 0 {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name      string `json:"name"`
					Namespace string `json:"namespace"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(raw, &head); err != nil {
				return fmt.Errorf("%s document %d: %w", path, i, err)
			}
			out = append(out, doc{file: path, index: i, raw: raw, apiVersion: head.APIVersion, kind: head.Kind,
				name: head.Metadata.Name, namespace: head.Metadata.Namespace})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no manifests under %s", dir)
	}
	return out
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

// strict decodes a document into v, rejecting unknown fields.
func strict(t *testing.T, d doc, v any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(d.raw, v); err != nil {
		t.Fatalf("%s: %v", d, err)
	}
}

// The karpenter.sh/v1 NodePool and karpenter.k8s.aws/v1 EC2NodeClass fields these manifests
// may use; a field outside them is a typo or a field of another API version.
type nodePool struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   metadata     `json:"metadata"`
	Spec       nodePoolSpec `json:"spec"`
}

type metadata struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type nodePoolSpec struct {
	Template struct {
		Metadata struct {
			Labels      map[string]string `json:"labels,omitempty"`
			Annotations map[string]string `json:"annotations,omitempty"`
		} `json:"metadata"`
		Spec struct {
			NodeClassRef struct {
				Group string `json:"group"`
				Kind  string `json:"kind"`
				Name  string `json:"name"`
			} `json:"nodeClassRef"`
			Taints                 []corev1.Taint `json:"taints,omitempty"`
			StartupTaints          []corev1.Taint `json:"startupTaints,omitempty"`
			ExpireAfter            string         `json:"expireAfter,omitempty"`
			TerminationGracePeriod string         `json:"terminationGracePeriod,omitempty"`
			Requirements           []requirement  `json:"requirements"`
		} `json:"spec"`
	} `json:"template"`
	Disruption struct {
		ConsolidationPolicy string `json:"consolidationPolicy"`
		ConsolidateAfter    string `json:"consolidateAfter"`
		Budgets             []struct {
			Nodes    string   `json:"nodes"`
			Schedule string   `json:"schedule,omitempty"`
			Duration string   `json:"duration,omitempty"`
			Reasons  []string `json:"reasons,omitempty"`
		} `json:"budgets,omitempty"`
	} `json:"disruption"`
	Limits map[string]string `json:"limits,omitempty"`
	Weight *int32            `json:"weight,omitempty"`
}

type requirement struct {
	Key       string   `json:"key"`
	Operator  string   `json:"operator"`
	Values    []string `json:"values,omitempty"`
	MinValues *int     `json:"minValues,omitempty"`
}

type selectorTerm struct {
	Tags  map[string]string `json:"tags,omitempty"`
	ID    string            `json:"id,omitempty"`
	Name  string            `json:"name,omitempty"`
	Alias string            `json:"alias,omitempty"`
	Owner string            `json:"owner,omitempty"`
}

type ec2NodeClass struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   metadata `json:"metadata"`
	Spec       struct {
		Role                       string            `json:"role,omitempty"`
		InstanceProfile            string            `json:"instanceProfile,omitempty"`
		AMISelectorTerms           []selectorTerm    `json:"amiSelectorTerms"`
		AMIFamily                  string            `json:"amiFamily,omitempty"`
		SubnetSelectorTerms        []selectorTerm    `json:"subnetSelectorTerms"`
		SecurityGroupSelectorTerms []selectorTerm    `json:"securityGroupSelectorTerms"`
		InstanceStorePolicy        string            `json:"instanceStorePolicy,omitempty"`
		Tags                       map[string]string `json:"tags,omitempty"`
		UserData                   string            `json:"userData,omitempty"`
		DetailedMonitoring         bool              `json:"detailedMonitoring,omitempty"`
		AssociatePublicIPAddress   *bool             `json:"associatePublicIPAddress,omitempty"`
		BlockDeviceMappings        []struct {
			DeviceName string `json:"deviceName"`
			RootVolume bool   `json:"rootVolume,omitempty"`
			EBS        struct {
				VolumeSize          string `json:"volumeSize,omitempty"`
				VolumeType          string `json:"volumeType,omitempty"`
				IOPS                int64  `json:"iops,omitempty"`
				Throughput          int64  `json:"throughput,omitempty"`
				Encrypted           bool   `json:"encrypted,omitempty"`
				KMSKeyID            string `json:"kmsKeyID,omitempty"`
				DeleteOnTermination bool   `json:"deleteOnTermination,omitempty"`
				SnapshotID          string `json:"snapshotID,omitempty"`
			} `json:"ebs"`
		} `json:"blockDeviceMappings,omitempty"`
		MetadataOptions *struct {
			HTTPEndpoint            string `json:"httpEndpoint,omitempty"`
			HTTPProtocolIPv6        string `json:"httpProtocolIPv6,omitempty"`
			HTTPPutResponseHopLimit int64  `json:"httpPutResponseHopLimit,omitempty"`
			HTTPTokens              string `json:"httpTokens,omitempty"`
		} `json:"metadataOptions,omitempty"`
	} `json:"spec"`
}

func (r requirement) values(key string) []string {
	if r.Key == key && r.Operator == "In" {
		return r.Values
	}
	return nil
}

func (p nodePool) requirement(key string) []string {
	for _, r := range p.Spec.Template.Spec.Requirements {
		if v := r.values(key); v != nil {
			return v
		}
	}
	return nil
}

func TestKarpenterManifests(t *testing.T) {
	docs := readDocs(t, "karpenter")
	pools := map[string]nodePool{}
	classes := map[string]ec2NodeClass{}
	templates := map[string]corev1.Pod{}
	for _, d := range docs {
		switch {
		case d.apiVersion == "karpenter.sh/v1" && d.kind == "NodePool":
			var p nodePool
			strict(t, d, &p)
			pools[p.Metadata.Name] = p
		case d.apiVersion == "karpenter.k8s.aws/v1" && d.kind == "EC2NodeClass":
			var c ec2NodeClass
			strict(t, d, &c)
			classes[c.Metadata.Name] = c
		case d.apiVersion == "v1" && d.kind == "Pod" && strings.Contains(d.file, "pod-templates"):
			var p corev1.Pod
			strict(t, d, &p)
			templates[filepath.Base(d.file)] = p
		default:
			t.Errorf("%s: unexpected apiVersion %q kind %q", d, d.apiVersion, d.kind)
		}
	}

	if len(classes) != 1 {
		t.Fatalf("want one EC2NodeClass, got %d", len(classes))
	}
	for name, c := range classes {
		s := c.Spec
		if s.InstanceStorePolicy != "RAID0" {
			t.Errorf("EC2NodeClass %s: instanceStorePolicy = %q, want RAID0 for Spark local dirs on NVMe", name, s.InstanceStorePolicy)
		}
		if (s.Role == "") == (s.InstanceProfile == "") {
			t.Errorf("EC2NodeClass %s: exactly one of role and instanceProfile is required", name)
		}
		if len(s.AMISelectorTerms) == 0 || len(s.SubnetSelectorTerms) == 0 || len(s.SecurityGroupSelectorTerms) == 0 {
			t.Errorf("EC2NodeClass %s: amiSelectorTerms, subnetSelectorTerms and securityGroupSelectorTerms are required", name)
		}
	}

	type poolKey struct{ label, arch string }
	byLabel := map[poolKey][]nodePool{}
	zones := map[string]bool{}
	var seedPools []nodePool
	for name, p := range pools {
		ts := p.Spec.Template.Spec
		ref := ts.NodeClassRef
		if ref.Group != "karpenter.k8s.aws" || ref.Kind != "EC2NodeClass" || classes[ref.Name].Metadata.Name == "" {
			t.Errorf("NodePool %s: nodeClassRef %+v does not name an EC2NodeClass of this folder", name, ref)
		}
		if p.Spec.Disruption.ConsolidationPolicy != "WhenEmpty" || p.Spec.Disruption.ConsolidateAfter == "" {
			t.Errorf("NodePool %s: disruption %+v, want WhenEmpty with consolidateAfter", name, p.Spec.Disruption)
		}
		for _, r := range ts.Requirements {
			if r.Key == "" || !slices.Contains([]string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"}, r.Operator) {
				t.Errorf("NodePool %s: bad requirement %+v", name, r)
			}
			if r.Operator == "In" && (len(r.Values) == 0 || r.MinValues != nil && len(r.Values) < *r.MinValues) {
				t.Errorf("NodePool %s: requirement %s In needs values (at least minValues)", name, r.Key)
			}
		}
		// The seed's pool holds both capacity types, as the seed's Provisioner does; it is
		// checked value by value below.
		if p.Spec.Template.Metadata.Labels["app"] == "demo" {
			seedPools = append(seedPools, p)
			if zone := p.requirement("topology.kubernetes.io/zone"); len(zone) == 1 {
				zones[zone[0]] = true
			}
			continue
		}
		ct := p.requirement("karpenter.sh/capacity-type")
		arch := p.requirement("kubernetes.io/arch")
		zone := p.requirement("topology.kubernetes.io/zone")
		if len(ct) != 1 || len(arch) != 1 || len(zone) != 1 {
			t.Errorf("NodePool %s: want one capacity type, one architecture and one zone, got %v %v %v", name, ct, arch, zone)
			continue
		}
		zones[zone[0]] = true
		if len(p.requirement("karpenter.k8s.aws/instance-family")) == 0 || len(p.requirement("karpenter.k8s.aws/instance-size")) == 0 {
			t.Errorf("NodePool %s: instance families and sizes must be listed", name)
		}
		label := p.Spec.Template.Metadata.Labels["sparkplane.io/pool"]
		byLabel[poolKey{label, arch[0]}] = append(byLabel[poolKey{label, arch[0]}], p)
	}
	if len(zones) != 1 {
		t.Errorf("pools span zones %v, want one", zones)
	}
	checkSeedPool(t, seedPools)
	for _, arch := range []string{"amd64", "arm64"} {
		drivers := byLabel[poolKey{"spark-driver", arch}]
		if len(drivers) != 1 || drivers[0].requirement("karpenter.sh/capacity-type")[0] != "on-demand" {
			t.Errorf("%s: want one on-demand driver pool", arch)
		}
		execs := byLabel[poolKey{"spark-executor", arch}]
		weight := map[string]int32{}
		for _, p := range execs {
			if p.Spec.Weight != nil {
				weight[p.requirement("karpenter.sh/capacity-type")[0]] = *p.Spec.Weight
			}
		}
		if len(execs) != 2 || weight["spot"] <= weight["on-demand"] || weight["on-demand"] == 0 {
			t.Errorf("%s: want a spot executor pool weighted above an on-demand fallback, got weights %v", arch, weight)
		}
		for _, p := range execs {
			if len(p.requirement("karpenter.k8s.aws/instance-family"))*len(p.requirement("karpenter.k8s.aws/instance-size")) < 10 {
				t.Errorf("executor pool %s: too few instance types for spot flexibility", p.Metadata.Name)
			}
		}
	}

	// Every pod template lands on a pool: its node selector matches the labels (and
	// requirements) of at least one pool, and it tolerates that pool's taints.
	want := []string{"driver.yaml", "executor.yaml", "driver-arm64.yaml", "executor-arm64.yaml"}
	for _, f := range want {
		if _, ok := templates[f]; !ok {
			t.Errorf("pod template %s missing", f)
		}
	}
	for file, pod := range templates {
		var fits []string
		for name, p := range pools {
			if selects(pod.Spec.NodeSelector, p) && tolerates(pod.Spec.Tolerations, p.Spec.Template.Spec.Taints) {
				fits = append(fits, name)
			}
		}
		if len(fits) == 0 {
			t.Errorf("pod template %s fits no NodePool", file)
		}
		if pod.Spec.NodeSelector["kubernetes.io/arch"] == "" {
			t.Errorf("pod template %s: no architecture in its node selector", file)
		}
		if strings.HasPrefix(file, "driver") && pod.Annotations["karpenter.sh/do-not-disrupt"] != "true" {
			t.Errorf("pod template %s: drivers must carry karpenter.sh/do-not-disrupt", file)
		}
		if strings.HasPrefix(file, "executor") {
			if len(fits) != 2 {
				t.Errorf("executor template %s fits %v, want the spot pool and its on-demand fallback", file, fits)
			}
			if !hasLocalDir(pod) {
				t.Errorf("executor template %s: no emptyDir volume named spark-local-dir-* mounted in its container", file)
			}
		}
	}
}

// checkSeedPool checks that the seed's Provisioner (deploy/sandbox/SEED.md) is in this folder
// with its values as they are, and that the seed's way of selecting it works: its pod
// templates with its node selectors (app: demo and the zone) land on it, drivers on on-demand
// and executors on spot.
func checkSeedPool(t *testing.T, seedPools []nodePool) {
	t.Helper()
	if len(seedPools) != 1 {
		t.Fatalf("want one NodePool labelled app: demo (the seed's Provisioner), got %d", len(seedPools))
	}
	p := seedPools[0]
	for key, want := range map[string][]string{
		"karpenter.sh/capacity-type":        {"on-demand", "spot"},
		"kubernetes.io/arch":                {"amd64"},
		"karpenter.k8s.aws/instance-family": {"c5", "c5a", "c5d", "c5ad", "m5", "c6a"},
		"karpenter.k8s.aws/instance-size":   {"2xlarge", "4xlarge", "8xlarge", "9xlarge"},
	} {
		if got := p.requirement(key); !slices.Equal(got, want) {
			t.Errorf("NodePool %s: %s In %v, want the seed's %v", p.Metadata.Name, key, got, want)
		}
	}
	d := p.Spec.Disruption
	if d.ConsolidationPolicy != "WhenEmpty" || d.ConsolidateAfter != "30s" || len(d.Budgets) != 1 || d.Budgets[0].Nodes != "100%" {
		t.Errorf("NodePool %s: disruption %+v, want the seed's ttlSecondsAfterEmpty: 30 (WhenEmpty after 30s, all empty nodes at once)", p.Metadata.Name, d)
	}
	if ts := p.Spec.Template.Spec; ts.ExpireAfter != "Never" || len(ts.Taints) != 0 || len(p.Spec.Template.Metadata.Labels) != 1 {
		t.Errorf("NodePool %s: expireAfter %q, taints %v, labels %v; want Never, none and app: demo alone, as the seed's Provisioner", p.Metadata.Name, ts.ExpireAfter, ts.Taints, p.Spec.Template.Metadata.Labels)
	}
	zone := p.requirement("topology.kubernetes.io/zone")
	if len(zone) != 1 {
		t.Fatalf("NodePool %s: zones %v, want one", p.Metadata.Name, zone)
	}
	for file, capacity := range map[string]string{"karpenter-driver-pod-template.yaml": "on-demand", "karpenter-executor-pod-template.yaml": "spot"} {
		var pod corev1.Pod
		strict(t, doc{file: file, raw: mustRead(t, filepath.Join("sandbox", "pod-templates", file))}, &pod)
		if pod.Spec.NodeSelector["karpenter.sh/capacity-type"] != capacity {
			t.Errorf("seed pod template %s: node selector %v, want capacity type %s", file, pod.Spec.NodeSelector, capacity)
		}
		sel := maps.Clone(pod.Spec.NodeSelector)
		// spark.kubernetes.node.selector.* of the seed's start-job-run.
		sel["app"], sel["topology.kubernetes.io/zone"] = "demo", zone[0]
		if !selects(sel, p) || !tolerates(pod.Spec.Tolerations, p.Spec.Template.Spec.Taints) {
			t.Errorf("seed pod template %s with the seed's node selectors %v does not land on NodePool %s", file, sel, p.Metadata.Name)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func selects(sel map[string]string, p nodePool) bool {
	for k, v := range sel {
		if l, ok := p.Spec.Template.Metadata.Labels[k]; ok {
			if l != v {
				return false
			}
			continue
		}
		if vals := p.requirement(k); vals == nil || !slices.Contains(vals, v) {
			return false
		}
	}
	return true
}

func tolerates(tols []corev1.Toleration, taints []corev1.Taint) bool {
	for _, taint := range taints {
		if !slices.ContainsFunc(tols, func(t corev1.Toleration) bool { return t.ToleratesTaint(&taint) }) {
			return false
		}
	}
	return true
}

func hasLocalDir(p corev1.Pod) bool {
	for _, v := range p.Spec.Volumes {
		if strings.HasPrefix(v.Name, "spark-local-dir-") && v.EmptyDir != nil && len(p.Spec.Containers) > 0 {
			for _, m := range p.Spec.Containers[0].VolumeMounts {
				if m.Name == v.Name {
					return true
				}
			}
		}
	}
	return false
}

func TestKubernetesManifests(t *testing.T) {
	docs := readDocs(t, "kubernetes")
	var (
		deployments []appsv1.Deployment
		clusterRole rbacv1.ClusterRole
		roles       = map[string]rbacv1.Role{}
		configMaps  = map[string]corev1.ConfigMap{}
		objects     = map[string]bool{} // kind/name
	)
	for _, d := range docs {
		objects[d.kind+"/"+d.name] = true
		if d.kind != "Namespace" && d.kind != "ClusterRole" && d.kind != "ClusterRoleBinding" && d.kind != "Kustomization" && d.namespace != "sparkplane" {
			t.Errorf("%s: namespace %q, want sparkplane", d, d.namespace)
		}
		switch d.apiVersion + " " + d.kind {
		case "v1 Namespace":
			strict(t, d, &corev1.Namespace{})
		case "v1 ServiceAccount":
			strict(t, d, &corev1.ServiceAccount{})
		case "v1 Service":
			var s corev1.Service
			strict(t, d, &s)
			if len(s.Spec.Ports) == 0 || len(s.Spec.Selector) == 0 {
				t.Errorf("%s: a Service needs ports and a selector", d)
			}
		case "v1 ConfigMap":
			var c corev1.ConfigMap
			strict(t, d, &c)
			configMaps[c.Name] = c
		case "v1 PersistentVolumeClaim":
			strict(t, d, &corev1.PersistentVolumeClaim{})
		case "apps/v1 Deployment":
			var dep appsv1.Deployment
			strict(t, d, &dep)
			deployments = append(deployments, dep)
		case "rbac.authorization.k8s.io/v1 ClusterRole":
			strict(t, d, &clusterRole)
		case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
			var b rbacv1.ClusterRoleBinding
			strict(t, d, &b)
			if b.RoleRef.Name != "sparkplane" || len(b.Subjects) != 1 || b.Subjects[0].Name != "sparkplane" {
				t.Errorf("%s: must bind ClusterRole sparkplane to ServiceAccount sparkplane", d)
			}
		case "rbac.authorization.k8s.io/v1 Role":
			var r rbacv1.Role
			strict(t, d, &r)
			roles[r.Name] = r
		case "rbac.authorization.k8s.io/v1 RoleBinding":
			strict(t, d, &rbacv1.RoleBinding{})
		case "kustomize.config.k8s.io/v1beta1 Kustomization":
			var k struct {
				APIVersion string   `json:"apiVersion"`
				Kind       string   `json:"kind"`
				Resources  []string `json:"resources"`
			}
			strict(t, d, &k)
			for _, r := range k.Resources {
				if _, err := os.Stat(filepath.Join("kubernetes", r)); err != nil {
					t.Errorf("%s: resource %s: %v", d, r, err)
				}
			}
		default:
			t.Errorf("%s: unexpected apiVersion %q kind %q", d, d.apiVersion, d.kind)
		}
	}

	// RBAC: what the controller does (see rbac.yaml), and nodes for cost.
	for _, need := range []struct{ group, resource, verb string }{
		{"", "pods", "create"}, {"", "pods", "watch"}, {"", "pods", "deletecollection"}, {"", "pods/log", "get"},
		{"", "services", "create"}, {"", "configmaps", "create"}, {"", "persistentvolumeclaims", "create"},
		{"networking.k8s.io", "networkpolicies", "create"}, {"", "namespaces", "create"}, {"", "serviceaccounts", "create"},
		{"rbac.authorization.k8s.io", "roles", "create"}, {"rbac.authorization.k8s.io", "rolebindings", "create"},
		{"", "nodes", "get"}, {"", "nodes", "list"}, {"", "nodes", "watch"},
	} {
		if !allows(clusterRole.Rules, need.group, need.resource, need.verb) {
			t.Errorf("ClusterRole sparkplane does not allow %s %s/%s", need.verb, need.group, need.resource)
		}
	}
	for _, deny := range []struct{ group, resource, verb string }{
		{"", "secrets", "get"}, {"", "nodes", "delete"}, {"", "namespaces", "delete"}, {"rbac.authorization.k8s.io", "clusterroles", "create"},
		{"rbac.authorization.k8s.io", "roles", "escalate"}, {"rbac.authorization.k8s.io", "roles", "bind"},
	} {
		if allows(clusterRole.Rules, deny.group, deny.resource, deny.verb) {
			t.Errorf("ClusterRole sparkplane allows %s %s/%s, which it does not need", deny.verb, deny.group, deny.resource)
		}
	}

	// Leader election: the Lease config leaderElection names by default, in sparkplane's
	// namespace, and nothing else of coordination.k8s.io.
	lease := roles["sparkplane-leader-election"].Rules
	for _, verb := range []string{"get", "create", "update"} {
		if !allows(lease, "coordination.k8s.io", "leases", verb) {
			t.Errorf("Role sparkplane-leader-election does not allow %s coordination.k8s.io/leases", verb)
		}
	}
	for _, r := range lease {
		if slices.Contains(r.Verbs, "update") && !slices.Equal(r.ResourceNames, []string{config.DefaultLeaseName}) {
			t.Errorf("Role sparkplane-leader-election updates leases %v, want only %s", r.ResourceNames, config.DefaultLeaseName)
		}
	}
	if allows(lease, "coordination.k8s.io", "leases", "delete") || allows(clusterRole.Rules, "coordination.k8s.io", "leases", "update") {
		t.Error("leases: more than get, create and update of sparkplane's own Lease")
	}

	// The Deployment: one replica (SQLite), its service account, and volumes that exist.
	if len(deployments) != 1 {
		t.Fatalf("want one Deployment, got %d", len(deployments))
	}
	dep := deployments[0]
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 || dep.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("Deployment: want replicas 1 with strategy Recreate (SQLite has one writer)")
	}
	pod := dep.Spec.Template
	if !objects["ServiceAccount/"+pod.Spec.ServiceAccountName] {
		t.Errorf("Deployment: service account %q is not defined", pod.Spec.ServiceAccountName)
	}
	for k, v := range dep.Spec.Selector.MatchLabels {
		if pod.Labels[k] != v {
			t.Errorf("Deployment: selector %s=%s does not match the pod labels", k, v)
		}
	}
	mounts := map[string]string{}
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	for _, v := range pod.Spec.Volumes {
		if _, ok := mounts[v.Name]; !ok {
			t.Errorf("Deployment: volume %s is not mounted", v.Name)
		}
		switch {
		case v.PersistentVolumeClaim != nil && !objects["PersistentVolumeClaim/"+v.PersistentVolumeClaim.ClaimName]:
			t.Errorf("Deployment: PVC %s is not defined", v.PersistentVolumeClaim.ClaimName)
		case v.ConfigMap != nil && v.ConfigMap.Name == "sparkplane-config" && !objects["ConfigMap/sparkplane-config"]:
			t.Errorf("Deployment: ConfigMap sparkplane-config is not defined")
		}
	}

	// The server configuration loads and validates, and points at what the Deployment mounts.
	cm, ok := configMaps["sparkplane-config"]
	if !ok {
		t.Fatal("ConfigMap sparkplane-config missing")
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cm.Data["config.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(nil, func(k string) string {
		if k == "SPARKPLANE_CONFIG" {
			return path
		}
		return ""
	})
	if err != nil {
		t.Fatalf("config.yaml of sparkplane-config: %v", err)
	}
	if !strings.HasPrefix(cfg.Database, mounts["data"]) {
		t.Errorf("database %s is not on the data volume (%s)", cfg.Database, mounts["data"])
	}
	if !strings.HasPrefix(cfg.CredentialsFile, mounts["credentials"]) {
		t.Errorf("credentialsFile %s is not on the credentials volume (%s)", cfg.CredentialsFile, mounts["credentials"])
	}
	if len(cfg.PodTemplateDirs) != 1 || cfg.PodTemplateDirs[0] != mounts["pod-templates"] {
		t.Errorf("podTemplateDirs %v, want the pod-templates mount %s", cfg.PodTemplateDirs, mounts["pod-templates"])
	}
	for _, d := range cfg.JobDefaults {
		for _, uri := range []string{d.DriverPodTemplate, d.ExecutorPodTemplate} {
			file := strings.TrimPrefix(uri, "file://"+mounts["pod-templates"]+"/")
			if _, err := os.Stat(filepath.Join("karpenter", "pod-templates", file)); err != nil {
				t.Errorf("job default template %s is not one of deploy/karpenter/pod-templates: %v", uri, err)
			}
		}
	}
	if len(cfg.Credentials) != 0 {
		t.Error("access keys must come from the credentials Secret, not the ConfigMap")
	}
}

func allows(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
	for _, r := range rules {
		if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && (slices.Contains(r.Verbs, verb) || slices.Contains(r.Verbs, "*")) {
			return true
		}
	}
	return false
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
