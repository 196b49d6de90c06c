package deploy_test

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/config"
	"github.com/sparkplane/sparkplane/internal/dev/toolcache"
	"github.com/sparkplane/sparkplane/internal/store"
)

// chartDir is the Helm chart; deploy/kubernetes/sparkplane.yaml is its rendering with the
// default values (hack/manifests.sh).
const chartDir = "helm/sparkplane"

// helm returns the cached helm binary. A missing helm fails the test (not skips it): the chart
// would otherwise go untested without anyone noticing.
func helm(t *testing.T) string {
	t.Helper()
	path, err := toolcache.Helm()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// runHelm runs helm with args and returns its standard output, or the error with its
// standard error.
func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &helmError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type helmError struct {
	err    error
	stderr string
}

func (e *helmError) Error() string { return e.err.Error() + ": " + e.stderr }

// chartCase is one way of installing the chart that the tests render, lint and dry-run.
type chartCase struct {
	name string
	// values are helm's value flags (-f, --set, --set-file).
	values []string
	// What the values ask for.
	postgres    bool
	replicas    int32
	image       string
	leaseName   string
	credentials bool
	// podTemplates are the file names jobs may use from the pod-templates volume.
	podTemplates []string
	// existingSecrets are Secrets of the operator's the rendering may refer to.
	existingSecrets []string
}

// chartCases are the default values (what deploy/kubernetes holds), SQLite with the
// operator's keys and the Karpenter pod templates, and PostgreSQL with three replicas.
var chartCases = []chartCase{
	{name: "defaults", replicas: 1, image: "ghcr.io/sparkplane/sparkplane:0.1.0", leaseName: "sparkplane"},
	{name: "sqlite", values: []string{"-f", chartDir + "/ci/sqlite-values.yaml",
		"--set-file", `podTemplates.files.driver\.yaml=karpenter/pod-templates/driver.yaml`,
		"--set-file", `podTemplates.files.executor\.yaml=karpenter/pod-templates/executor.yaml`},
		replicas: 1, credentials: true, leaseName: "sparkplane",
		image:        "registry.example.com/platform/sparkplane@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		podTemplates: []string{"driver.yaml", "executor.yaml"}, existingSecrets: []string{"sparkplane-credentials"}},
	{name: "postgres", values: []string{"-f", chartDir + "/ci/postgres-values.yaml"},
		postgres: true, replicas: 3, credentials: true, leaseName: "sparkplane-leader",
		image: "registry.example.com/platform/sparkplane:v0.1.0"},
}

// render runs helm template for a case as release sparkplane in namespace sparkplane.
func render(t *testing.T, c chartCase) []doc {
	t.Helper()
	return renderAs(t, "sparkplane", "sparkplane", c.name, c.values...)
}

// renderAs runs helm template as release in namespace with the value flags; name says which
// rendering a document came from in failures.
func renderAs(t *testing.T, release, namespace, name string, values ...string) []doc {
	t.Helper()
	out, err := runHelm(t, append([]string{"template", release, chartDir, "--namespace", namespace}, values...)...)
	if err != nil {
		t.Fatalf("helm template (%s): %v", name, err)
	}
	docs, err := splitDocs("helm template ("+name+")", out)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestHelmLint lints the chart with each value set, strictly (warnings fail).
func TestHelmLint(t *testing.T) {
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			if out, err := runHelm(t, append([]string{"lint", "--strict", chartDir}, c.values...)...); err != nil {
				t.Errorf("helm lint: %v\n%s", err, out)
			}
		})
	}
}

// TestManifestsMatchChart: deploy/kubernetes/sparkplane.yaml is exactly what make manifests
// renders from the chart now.
func TestManifestsMatchChart(t *testing.T) {
	helm(t) // the script's own message is less direct about the missing tool
	cmd := exec.Command("bash", "../hack/manifests.sh", "--stdout")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/manifests.sh --stdout: %v\n%s", err, stderr.String())
	}
	got := mustRead(t, "kubernetes/sparkplane.yaml")
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gl), len(wl)) {
		g, w := "", ""
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("deploy/kubernetes/sparkplane.yaml is not the chart rendered with its default values: run make manifests\nline %d: %q\nchart:   %q", i+1, g, w)
		}
	}
}

// TestChartSchema: values.schema.json and the chart's own checks refuse bad values with a
// message that names them.
func TestChartSchema(t *testing.T) {
	postgres := []string{"--set", "database.type=postgres", "--set", "database.url=postgres://u:p@db:5432/sparkplane",
		"--set", "credentials.existingSecret=keys", "--set", "secretsKey.existingSecret=keys"}
	tests := []struct {
		name   string
		values []string
		want   []string // substrings of helm's error; none: the values are accepted
	}{
		{"SQLite with two replicas", []string{"--set", "replicaCount=2"},
			[]string{"at '/replicaCount': maximum: got 2, want 1", "at '/database/type': value must be 'postgres'"}},
		{"SQLite with two replicas, schema skipped", []string{"--set", "replicaCount=2", "--skip-schema-validation"},
			[]string{"replicaCount 2 needs database.type postgres"}},
		{"PostgreSQL with two replicas", append([]string{"--set", "replicaCount=2"}, postgres...), nil},
		{"PostgreSQL without a URL", []string{"--set", "database.type=postgres", "--set", "credentials.existingSecret=keys", "--set", "secretsKey.existingSecret=keys"},
			[]string{"at '/database/url': minLength: got 0, want 1", "at '/database/existingSecret': minLength: got 0, want 1"}},
		{"PostgreSQL without a URL, schema skipped", []string{"--set", "database.type=postgres", "--skip-schema-validation"},
			[]string{"database.type postgres needs database.url (postgres://...) or database.existingSecret"}},
		{"PostgreSQL without access keys", []string{"--set", "database.type=postgres", "--set", "database.existingSecret=db", "--set", "secretsKey.existingSecret=keys"},
			[]string{"at '/credentials/keys': minItems: got 0, want 1"}},
		{"PostgreSQL without a secrets key", []string{"--set", "database.type=postgres", "--set", "database.existingSecret=db", "--set", "credentials.existingSecret=keys"},
			[]string{"at '/secretsKey/value': minLength: got 0, want 1"}},
		{"a URL that is not PostgreSQL's", append(slices.Clone(postgres), "--set", "database.url=mysql://db/sparkplane"),
			[]string{"at '/database/url'"}},
		{"an unknown database", []string{"--set", "database.type=mysql"}, []string{"at '/database/type'"}},
		{"zero replicas", []string{"--set", "replicaCount=0"}, []string{"at '/replicaCount': minimum: got 0, want 1"}},
		{"a misspelt value", []string{"--set", "replicas=2"}, []string{"additional properties 'replicas' not allowed"}},
		{"a malformed access key id", []string{"--set", "credentials.keys[0].accessKeyId=lower", "--set", "credentials.keys[0].secretAccessKey=0123456789abcdef"},
			[]string{"at '/credentials/keys/0/accessKeyId'"}},
		{"an account id that is a number", []string{"--set", "config.accountId=111122223333"}, []string{"at '/config/accountId'"}},
		{"a key the chart sets", []string{"--set", "config.database=/tmp/x.db"},
			[]string{"config.database is set by the chart"}},
		{"no image repository", []string{"--set", "image.repository="}, []string{"at '/image/repository'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runHelm(t, append([]string{"template", "sparkplane", chartDir, "--namespace", "sparkplane"}, tt.values...)...)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// rule is one (API group, resource) a role grants verbs on; names, when set, limit it.
type rule struct {
	group, resource string
	names           string
}

// grants flattens a role's rules, failing on wildcards.
func grants(t *testing.T, what string, rules []rbacv1.PolicyRule) map[rule][]string {
	t.Helper()
	out := map[rule][]string{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				k := rule{g, res, strings.Join(r.ResourceNames, ",")}
				out[k] = append(out[k], r.Verbs...)
				if g == "*" || res == "*" || slices.Contains(r.Verbs, "*") {
					t.Errorf("%s grants a wildcard (%s %s %v)", what, g, res, r.Verbs)
				}
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// grantDiff lists the resources whose verbs differ between got and want.
func grantDiff(got, want map[rule][]string) []string {
	var out []string
	for k := range maps.Keys(got) {
		if !slices.Equal(got[k], want[k]) {
			out = append(out, fmt.Sprintf("%s/%s%s: grants %v, want %v", k.group, k.resource, names(k), got[k], want[k]))
		}
	}
	for k := range maps.Keys(want) {
		if _, ok := got[k]; !ok {
			out = append(out, fmt.Sprintf("%s/%s%s: grants nothing, want %v", k.group, k.resource, names(k), want[k]))
		}
	}
	slices.Sort(out)
	return out
}

func names(k rule) string {
	if k.names == "" {
		return ""
	}
	return " named " + k.names
}

// clusterRules is what the ClusterRole must grant, and nothing else: each verb is used by the
// code the chart's rbac.yaml names beside it (or held because the driver Role the controller
// creates grants it: Kubernetes lets sparkplane create a Role only with permissions it holds).
var clusterRules = map[rule][]string{
	{group: "", resource: "pods"}:                                  {"create", "delete", "deletecollection", "get", "list", "patch", "watch"},
	{group: "", resource: "services"}:                              {"create", "delete", "deletecollection", "get", "list", "watch"},
	{group: "", resource: "configmaps"}:                            {"create", "delete", "deletecollection", "get", "list", "watch"},
	{group: "", resource: "persistentvolumeclaims"}:                {"create", "delete", "deletecollection", "get", "list", "watch"},
	{group: "", resource: "pods/log"}:                              {"get"},
	{group: "", resource: "pods/portforward"}:                      {"create"},
	{group: "networking.k8s.io", resource: "networkpolicies"}:      {"create"},
	{group: "", resource: "namespaces"}:                            {"create"},
	{group: "", resource: "serviceaccounts"}:                       {"create"},
	{group: "rbac.authorization.k8s.io", resource: "roles"}:        {"create"},
	{group: "rbac.authorization.k8s.io", resource: "rolebindings"}: {"create"},
	{group: "", resource: "nodes"}:                                 {"list", "watch"},
}

// rendered holds a rendering's objects by kind and name.
type rendered struct {
	deployments     []appsv1.Deployment
	services        []corev1.Service
	secrets         map[string]corev1.Secret
	configMaps      map[string]corev1.ConfigMap
	claims          map[string]bool
	serviceAccounts map[string]bool
	clusterRoles    []rbacv1.ClusterRole
	roles           []rbacv1.Role
	crbs            []rbacv1.ClusterRoleBinding
	rbs             []rbacv1.RoleBinding
	pdbs            []policyv1.PodDisruptionBudget
	monitors        []serviceMonitor
}

// serviceMonitor mirrors the monitoring.coreos.com/v1 ServiceMonitor fields the chart uses
// (its CRD is not on the test cluster, so this is its only check).
type serviceMonitor struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path"`
			Interval      string `json:"interval"`
			ScrapeTimeout string `json:"scrapeTimeout"`
			Authorization *struct {
				Type        string                   `json:"type"`
				Credentials corev1.SecretKeySelector `json:"credentials"`
			} `json:"authorization,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

func decodeRendered(t *testing.T, docs []doc) rendered {
	t.Helper()
	r := rendered{secrets: map[string]corev1.Secret{}, configMaps: map[string]corev1.ConfigMap{}, claims: map[string]bool{}, serviceAccounts: map[string]bool{}}
	for _, d := range docs {
		clusterScoped := d.kind == "Namespace" || d.kind == "ClusterRole" || d.kind == "ClusterRoleBinding"
		if !clusterScoped && d.namespace != "sparkplane" {
			t.Errorf("%s: namespace %q, want sparkplane", d, d.namespace)
		}
		switch d.apiVersion + " " + d.kind {
		case "v1 Namespace":
			strict(t, d, &corev1.Namespace{})
		case "v1 ServiceAccount":
			strict(t, d, &corev1.ServiceAccount{})
			r.serviceAccounts[d.name] = true
		case "v1 Service":
			var s corev1.Service
			strict(t, d, &s)
			r.services = append(r.services, s)
		case "v1 Secret":
			var s corev1.Secret
			strict(t, d, &s)
			r.secrets[s.Name] = s
		case "v1 ConfigMap":
			var c corev1.ConfigMap
			strict(t, d, &c)
			r.configMaps[c.Name] = c
		case "v1 PersistentVolumeClaim":
			strict(t, d, &corev1.PersistentVolumeClaim{})
			r.claims[d.name] = true
		case "apps/v1 Deployment":
			var dep appsv1.Deployment
			strict(t, d, &dep)
			r.deployments = append(r.deployments, dep)
		case "rbac.authorization.k8s.io/v1 ClusterRole":
			var cr rbacv1.ClusterRole
			strict(t, d, &cr)
			r.clusterRoles = append(r.clusterRoles, cr)
		case "rbac.authorization.k8s.io/v1 ClusterRoleBinding":
			var b rbacv1.ClusterRoleBinding
			strict(t, d, &b)
			r.crbs = append(r.crbs, b)
		case "rbac.authorization.k8s.io/v1 Role":
			var role rbacv1.Role
			strict(t, d, &role)
			r.roles = append(r.roles, role)
		case "rbac.authorization.k8s.io/v1 RoleBinding":
			var b rbacv1.RoleBinding
			strict(t, d, &b)
			r.rbs = append(r.rbs, b)
		case "policy/v1 PodDisruptionBudget":
			var p policyv1.PodDisruptionBudget
			strict(t, d, &p)
			r.pdbs = append(r.pdbs, p)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			var m serviceMonitor
			strict(t, d, &m)
			r.monitors = append(r.monitors, m)
		default:
			t.Errorf("%s: unexpected apiVersion %q kind %q", d, d.apiVersion, d.kind)
		}
	}
	return r
}

// TestChartObjects renders each case and checks that the objects fit together and say what
// the values asked for: exactly the RBAC the code uses, the Deployment's replicas, strategy,
// image, probes and security context, volumes that exist, a configuration the server loads,
// a PodDisruptionBudget with several replicas, and the ServiceMonitor's secret.
func TestChartObjects(t *testing.T) {
	for _, c := range chartCases {
		t.Run(c.name, func(t *testing.T) {
			docs := render(t, c)
			if c.name == "defaults" {
				// What deploy/kubernetes applies: the rendering, the namespace and the
				// kustomization's image.
				docs = readDocs(t, "kubernetes")
				checkKustomization(t, docs, c.image)
				docs = slices.DeleteFunc(docs, func(d doc) bool { return d.kind == "Kustomization" })
			}
			checkRendered(t, c, decodeRendered(t, docs))
		})
	}
}

func checkKustomization(t *testing.T, docs []doc, image string) {
	t.Helper()
	for _, d := range docs {
		if d.kind != "Kustomization" {
			continue
		}
		var k struct {
			APIVersion string   `json:"apiVersion"`
			Kind       string   `json:"kind"`
			Resources  []string `json:"resources"`
			Images     []struct {
				Name    string `json:"name"`
				NewName string `json:"newName"`
				NewTag  string `json:"newTag"`
				Digest  string `json:"digest"`
			} `json:"images"`
		}
		strict(t, d, &k)
		for _, r := range k.Resources {
			if _, err := os.Stat(filepath.Join("kubernetes", r)); err != nil {
				t.Errorf("%s: resource %s: %v", d, r, err)
			}
		}
		repo, _, _ := strings.Cut(image, ":")
		if len(k.Images) != 1 || k.Images[0].Name != repo {
			t.Errorf("%s: images %+v, want one entry for %s, the Deployment's image, so that operators set theirs there", d, k.Images, repo)
		}
		return
	}
	t.Error("deploy/kubernetes has no kustomization.yaml")
}

func checkRendered(t *testing.T, c chartCase, r rendered) {
	t.Helper()
	// RBAC: exactly what the code uses, bound to the server's service account.
	if len(r.clusterRoles) != 1 || len(r.crbs) != 1 || len(r.roles) != 1 || len(r.rbs) != 1 {
		t.Fatalf("want one ClusterRole, ClusterRoleBinding, Role and RoleBinding; got %d, %d, %d, %d", len(r.clusterRoles), len(r.crbs), len(r.roles), len(r.rbs))
	}
	for _, d := range grantDiff(grants(t, "ClusterRole", r.clusterRoles[0].Rules), clusterRules) {
		t.Errorf("ClusterRole: %s; want exactly what the code uses (see templates/rbac.yaml)", d)
	}
	leaseRules := map[rule][]string{
		{group: "coordination.k8s.io", resource: "leases"}:                     {"create"},
		{group: "coordination.k8s.io", resource: "leases", names: c.leaseName}: {"get", "update"},
	}
	for _, d := range grantDiff(grants(t, "Role", r.roles[0].Rules), leaseRules) {
		t.Errorf("leader-election Role: %s", d)
	}
	dep := r.deployments[0]
	sa := dep.Spec.Template.Spec.ServiceAccountName
	for _, b := range []struct {
		what     string
		ref      rbacv1.RoleRef
		subjects []rbacv1.Subject
		roleName string
	}{
		{"ClusterRoleBinding", r.crbs[0].RoleRef, r.crbs[0].Subjects, r.clusterRoles[0].Name},
		{"RoleBinding", r.rbs[0].RoleRef, r.rbs[0].Subjects, r.roles[0].Name},
	} {
		if b.ref.Name != b.roleName || len(b.subjects) != 1 || b.subjects[0].Kind != "ServiceAccount" || b.subjects[0].Name != sa || b.subjects[0].Namespace != "sparkplane" {
			t.Errorf("%s: binds %s to %+v, want %s to ServiceAccount sparkplane/%s", b.what, b.ref.Name, b.subjects, b.roleName, sa)
		}
	}
	if !r.serviceAccounts[sa] {
		t.Errorf("Deployment: service account %q is not rendered", sa)
	}

	// The Deployment.
	if len(r.deployments) != 1 {
		t.Fatalf("want one Deployment, got %d", len(r.deployments))
	}
	strategy := appsv1.RecreateDeploymentStrategyType
	if c.postgres {
		strategy = appsv1.RollingUpdateDeploymentStrategyType
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != c.replicas || dep.Spec.Strategy.Type != strategy {
		t.Errorf("Deployment: replicas %v strategy %s, want %d and %s", dep.Spec.Replicas, dep.Spec.Strategy.Type, c.replicas, strategy)
	}
	pod := dep.Spec.Template
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
		t.Errorf("Deployment: selector %v does not match the pod labels %v", dep.Spec.Selector, pod.Labels)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Spec.Containers))
	}
	ctr := pod.Spec.Containers[0]
	if ctr.Image != c.image {
		t.Errorf("image %q, want %q", ctr.Image, c.image)
	}
	if strings.Join(ctr.Args, " ") != "server --config /etc/sparkplane/config/config.yaml" {
		t.Errorf("args %q, want server --config /etc/sparkplane/config/config.yaml", ctr.Args)
	}
	psc, sc := pod.Spec.SecurityContext, ctr.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
		t.Errorf("pod security context %+v, want non-root 65532 (the image's user)", psc)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container security context %+v, want a read-only root, no privilege escalation, every capability dropped", sc)
	}
	port := int32(0)
	for _, p := range ctr.Ports {
		if p.Name == "api" {
			port = p.ContainerPort
		}
	}
	for what, p := range map[string]*corev1.Probe{"startup": ctr.StartupProbe, "readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "api" {
			t.Errorf("%s probe %+v, want GET /healthz on port api", what, p)
		}
	}
	if len(r.services) != 1 || !labels.SelectorFromSet(r.services[0].Spec.Selector).Matches(labels.Set(pod.Labels)) ||
		len(r.services[0].Spec.Ports) != 1 || r.services[0].Spec.Ports[0].TargetPort.String() != "api" || port == 0 {
		t.Errorf("the Service must select the pods and target their api port (%d)", port)
	}

	// Volumes: each mounted, each source rendered or the operator's.
	mounts := map[string]string{}
	for _, m := range ctr.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
		if _, ok := mounts[v.Name]; !ok {
			t.Errorf("volume %s is not mounted", v.Name)
		}
		switch {
		case v.PersistentVolumeClaim != nil && !r.claims[v.PersistentVolumeClaim.ClaimName]:
			t.Errorf("volume %s: PVC %s is not rendered", v.Name, v.PersistentVolumeClaim.ClaimName)
		case v.ConfigMap != nil && r.configMaps[v.ConfigMap.Name].Name == "":
			t.Errorf("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
		case v.Secret != nil && r.secrets[v.Secret.SecretName].Name == "" && !slices.Contains(c.existingSecrets, v.Secret.SecretName):
			t.Errorf("volume %s: Secret %s is neither rendered nor the operator's", v.Name, v.Secret.SecretName)
		}
	}
	for name := range mounts {
		if _, ok := volumes[name]; !ok {
			t.Errorf("mount %s has no volume", name)
		}
	}
	data := volumes["data"]
	if c.postgres != (data.PersistentVolumeClaim == nil) {
		t.Errorf("data volume %+v: want a PVC exactly on SQLite", data.VolumeSource)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range ctr.Env {
		env[e.Name] = e
	}
	if e := env["POD_NAMESPACE"]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
		t.Errorf("POD_NAMESPACE %+v, want the pod's namespace (virtual clusters may not use it)", e)
	}

	// The configuration: it loads, and its paths are the mounts.
	secret := r.secrets[volumes["config"].Secret.SecretName]
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(secret.StringData["config.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "SPARKPLANE_CONFIG" {
			return cfgPath
		}
		if e, ok := env[k]; ok && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return r.secrets[e.ValueFrom.SecretKeyRef.Name].StringData[e.ValueFrom.SecretKeyRef.Key]
		}
		return ""
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	if c.postgres != store.IsPostgresURL(cfg.Database) {
		t.Errorf("database %q, want PostgreSQL: %v", cfg.Database, c.postgres)
	}
	if !c.postgres && !strings.HasPrefix(cfg.Database, mounts["data"]+"/") {
		t.Errorf("database %s is not on the data volume (%s)", cfg.Database, mounts["data"])
	}
	if c.postgres && (getenv("SPARKPLANE_SECRETS_KEY") == "" || strings.Contains(secret.StringData["config.yaml"], "postgres://")) {
		t.Error("PostgreSQL: the secrets key must come from the Secret, and the URL must stay out of config.yaml")
	}
	if cfg.Listen != "0.0.0.0:"+strconv.Itoa(int(port)) {
		t.Errorf("listen %s, want the api port %d", cfg.Listen, port)
	}
	credentialsMount := mounts["data"]
	if c.credentials {
		credentialsMount = mounts["credentials"]
	}
	if credentialsMount == "" || !strings.HasPrefix(cfg.CredentialsFile, credentialsMount+"/") {
		t.Errorf("credentialsFile %s, want it on %s", cfg.CredentialsFile, credentialsMount)
	}
	if keys := secret.StringData["credentials"]; keys != "" {
		path := filepath.Join(t.TempDir(), "credentials")
		if err := os.WriteFile(path, []byte(keys), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := config.ReadCredentialsFile(path); err != nil || len(got) == 0 {
			t.Errorf("the credentials the chart renders: %d keys, %v", len(got), err)
		}
	}
	if len(c.podTemplates) == 0 {
		if len(cfg.PodTemplateDirs) != 0 || mounts["pod-templates"] != "" {
			t.Errorf("pod template dirs %v without pod templates", cfg.PodTemplateDirs)
		}
	} else {
		if !slices.Equal(cfg.PodTemplateDirs, []string{mounts["pod-templates"]}) {
			t.Errorf("podTemplateDirs %v, want the pod-templates mount %s", cfg.PodTemplateDirs, mounts["pod-templates"])
		}
		cm := r.configMaps[volumes["pod-templates"].ConfigMap.Name]
		if got := slices.Sorted(maps.Keys(cm.Data)); !slices.Equal(got, c.podTemplates) {
			t.Errorf("pod templates %v, want %v", got, c.podTemplates)
		}
		for _, d := range cfg.JobDefaults {
			for _, uri := range []string{d.DriverPodTemplate, d.ExecutorPodTemplate} {
				if _, ok := cm.Data[strings.TrimPrefix(uri, "file://"+mounts["pod-templates"]+"/")]; !ok {
					t.Errorf("job default template %s is not in the pod-templates ConfigMap", uri)
				}
			}
			for name, body := range cm.Data {
				if err := yaml.UnmarshalStrict([]byte(body), &corev1.Pod{}); err != nil {
					t.Errorf("pod template %s: %v", name, err)
				}
			}
		}
	}

	// Several replicas: a PodDisruptionBudget over them.
	if (c.replicas >= 2) != (len(r.pdbs) == 1) {
		t.Errorf("%d PodDisruptionBudgets with %d replicas, want one exactly with 2 or more", len(r.pdbs), c.replicas)
	}
	for _, p := range r.pdbs {
		s, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || !s.Matches(labels.Set(pod.Labels)) || p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() < 1 {
			t.Errorf("PodDisruptionBudget %+v must keep at least one of the pods", p.Spec)
		}
	}
	for _, m := range r.monitors {
		if len(m.Spec.Endpoints) != 1 || m.Spec.Endpoints[0].Port != "api" || m.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor endpoints %+v, want /metrics on port api", m.Spec.Endpoints)
			continue
		}
		if a := m.Spec.Endpoints[0].Authorization; a == nil || r.secrets[a.Credentials.Name].StringData[a.Credentials.Key] != cfg.MetricsToken || cfg.MetricsToken == "" {
			t.Errorf("ServiceMonitor authorization %+v, want the metricsToken of the configuration", a)
		}
	}
}
