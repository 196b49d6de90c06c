// Package deploy_test checks the manifests under deploy/karpenter and the Helm chart under
// deploy/helm (of which deploy/kubernetes is the rendering with default values): every
// document has a known apiVersion and kind, decodes strictly (no unknown or misspelt fields)
// into its Go type or, for Karpenter's and prometheus-operator's kinds, into a mirror of the
// fields used, and the objects fit together (pod templates select pools that exist and
// tolerate their taints, the Deployment mounts what exists, the server configuration loads).
// dryrun_test.go then submits them to a real API server with Karpenter's CRDs.
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

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
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
		docs, err := splitDocs(path, data)
		out = append(out, docs...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no manifests under %s", dir)
	}
	return out
}

// splitDocs splits a multi-document YAML stream (a file, or helm template's output) named
// source into its non-empty documents.
func splitDocs(source string, data []byte) ([]doc, error) {
	var out []doc
	r := utilyaml.NewYAMLReader(bufioReader(data))
	for i := 0; ; i++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
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
			return nil, fmt.Errorf("%s document %d: %w", source, i, err)
		}
		out = append(out, doc{file: source, index: i, raw: raw, apiVersion: head.APIVersion, kind: head.Kind,
			name: head.Metadata.Name, namespace: head.Metadata.Namespace})
	}
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

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
