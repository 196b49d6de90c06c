package spark

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sparkplane/sparkplane/internal/wellknown"
	corev1 "k8s.io/api/core/v1"
)

// The conformance test builds the objects for every case of the spark-submit oracle
// (../../../shared/conformance/spark-submit, relative to this package) and compares them field
// by field with the golden objects real spark-submit created, after the oracle's normalization.
// Every difference is either fixed in the builder or listed in deviations below with the
// reason sparkplane differs on purpose.

var conformanceVersions = []string{"4.0.4", "4.2.0"}

// conformanceDir locates the oracle beside the repository (the shared workspace layout:
// <root>/main is the repository, <root>/shared the oracle).
func conformanceDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "conformance", "spark-submit"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cases")); err != nil {
		t.Fatalf("spark-submit oracle not found at %s (expected beside the repository as shared/conformance/spark-submit): %v", dir, err)
	}
	return dir
}

// sparkplaneLabelKeys are the labels Build adds to every driver and executor pod.
var sparkplaneLabelKeys = []string{wellknown.LabelJobID, wellknown.LabelVirtualClusterID, wellknown.LabelManagedBy, wellknown.LabelAttempt}

// deviation is a deliberate difference from stock spark-submit. apply removes it from a built,
// normalized object (file is the golden file name) and returns how many edits it made; the
// test fails when a deviation never applies, so the list cannot go stale.
type deviation struct {
	name   string
	reason string
	apply  func(file string, obj map[string]any) int
}

var deviations = []deviation{
	{
		name: "driver pod labels",
		reason: "sparkplane labels every driver pod with emr-containers.amazonaws.com/job.id and " +
			"/virtual-cluster-id (as EMR on EKS does, for Kubecost/OpenCost), app.kubernetes.io/managed-by " +
			"and sparkplane.io/attempt. Spark would add the same labels from spark.kubernetes.driver.label.*.",
		apply: func(file string, obj map[string]any) int {
			if file != "driver-pod.json" {
				return 0
			}
			return deleteKeys(dig(obj, "metadata", "labels"), sparkplaneLabelKeys)
		},
	},
	{
		name:   "driver service selector",
		reason: "Spark's Service selects on every driver label, so the sparkplane labels appear in the selector too.",
		apply: func(file string, obj map[string]any) int {
			if file != "service.json" {
				return 0
			}
			return deleteKeys(dig(obj, "spec", "selector"), sparkplaneLabelKeys)
		},
	},
	{
		name: "label settings in spark.properties",
		reason: "sparkplane passes its labels as spark.kubernetes.driver.label.* and spark.kubernetes.executor.label.* " +
			"settings, so the driver puts them on the executors as well; they are written to spark.properties like any setting.",
		apply: func(file string, obj map[string]any) int {
			if file != "configmap.json" {
				return 0
			}
			data, _ := dig(obj, "data").(map[string]any)
			text, _ := data["spark.properties"].(string)
			var kept []string
			n := 0
			for _, line := range strings.Split(text, "\n") {
				drop := false
				for _, role := range []string{"driver", "executor"} {
					for _, k := range sparkplaneLabelKeys {
						if strings.HasPrefix(line, "spark.kubernetes."+role+".label."+escapeKey(k)+"=") {
							drop = true
						}
					}
				}
				if drop {
					n++
					continue
				}
				kept = append(kept, line)
			}
			data["spark.properties"] = strings.Join(kept, "\n")
			return n
		},
	},
}

func escapeKey(k string) string {
	var sb strings.Builder
	writeEscaped(&sb, k, true)
	return sb.String()
}

// conformanceCase is one oracle case turned into a Job.
type conformanceCase struct {
	name string
	job  Job
}

func loadCase(t testing.TB, root, name, ver string) conformanceCase {
	t.Helper()
	caseDir := filepath.Join(root, "cases", name)
	raw, err := os.ReadFile(filepath.Join(caseDir, "submit-args.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("__RECORDER__", "127.0.0.1:1", "__IMAGE__", "spark:"+ver,
		"__EXAMPLES_JAR__", "local:///opt/spark/examples/jars/spark-examples_2.13-"+ver+".jar", "__CASE_DIR__", caseDir)
	var tokens []string
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		tokens = append(tokens, r.Replace(strings.TrimSpace(l)))
	}
	nameAt := -1
	for i, tok := range tokens {
		if tok == "--name" {
			nameAt = i
		}
	}
	if nameAt < 0 || nameAt+2 > len(tokens)-1 {
		t.Fatalf("%s: submit-args.txt has no --name or no entry point", name)
	}
	// What sparkplane receives: the options after --name's pair as one sparkSubmitParameters
	// string (shell-quoted, to go through the real parser), the last token as entryPoint.
	var quoted []string
	for _, tok := range tokens[nameAt+2 : len(tokens)-1] {
		quoted = append(quoted, shellQuote(tok))
	}
	params, err := ParseSubmitParameters(strings.Join(quoted, " "))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	job := Job{
		SparkVersion: ver, Namespace: "default", AppName: tokens[nameAt+1],
		JobRunID: "0000000conformance" + name, Attempt: 1, VirtualClusterID: "vc0conformance",
		Driver:     DriverFor(tokens[len(tokens)-1], params.MainClass, nil),
		SubmitTime: time.UnixMilli(1764000000000), SparkUser: "conformance", ProxyUser: params.ProxyUser,
		Conf: params.Conf,
	}
	// The service's own settings become Job fields, as the API layer resolves them from the
	// virtual cluster and the execution role; users may not set them (CheckUserConf).
	take := func(key string) string { v := job.Conf[key]; delete(job.Conf, key); return v }
	job.Namespace = take("spark.kubernetes.namespace")
	job.ServiceAccount = take("spark.kubernetes.authenticate.driver.serviceAccountName")
	job.DriverPodName = take("spark.kubernetes.driver.pod.name")
	if err := CheckUserConf(job.Conf); err != nil {
		t.Fatalf("%s: CheckUserConf refused what remains of the case: %v", name, err)
	}
	if f := job.Conf["spark.kubernetes.driver.podTemplateFile"]; f != "" {
		job.DriverPodTemplate = mustTemplate(t, f)
	}
	if f := job.Conf["spark.kubernetes.executor.podTemplateFile"]; f != "" {
		job.ExecutorPodTemplate = mustTemplate(t, f)
		text, _ := os.ReadFile(f)
		job.ExecutorPodTemplateText = string(text)
	}
	return conformanceCase{name: name, job: job}
}

func mustTemplate(t testing.TB, path string) *corev1.Pod {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParsePodTemplate(data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func shellQuote(s string) string {
	if regexp.MustCompile(`^[A-Za-z0-9_./:=,@%+-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// builtFiles maps the oracle's file names to the built objects.
func builtFiles(t testing.TB, o *Objects) map[string]any {
	t.Helper()
	files := map[string]any{"driver-pod.json": o.DriverPod, "configmap.json": o.ConfigMap, "service.json": o.Service}
	if o.ExecutorTemplate != nil {
		files["podspec-configmap.json"] = o.ExecutorTemplate
	}
	switch len(o.PVCs) {
	case 0:
	case 1:
		files["persistentvolumeclaim.json"] = o.PVCs[0]
	default:
		t.Fatalf("built %d PVCs; the oracle has one file per case", len(o.PVCs))
	}
	if o.NetworkPolicy != nil {
		files["networkpolicy.json"] = o.NetworkPolicy
	}
	return files
}

// derivedGolden returns the expected object for a file the oracle did not capture, built from
// captured files as the oracle README prescribes (4.2.0 = 4.0.4 shape plus the listed 4.2.0
// differences). It returns nil when there is no sound derivation.
func derivedGolden(t testing.TB, root, ver, name, file string) map[string]any {
	read := func(v, c string) map[string]any {
		m, err := readJSON(filepath.Join(root, "golden", v, c, file))
		if err != nil {
			return nil
		}
		return m
	}
	var m map[string]any
	switch file {
	case "service.json":
		// The Service depends on the driver labels and ports only; the cases without a captured
		// Service add neither, so sparkpi-minimal's Service is theirs.
		m = read(ver, "sparkpi-minimal")
		if m == nil && ver == "4.2.0" {
			m = read("4.0.4", "sparkpi-minimal")
			if m != nil {
				m = replaceStrings(m, "4.0.4", "4.2.0").(map[string]any)
				spec := m["spec"].(map[string]any)
				spec["ports"] = append(spec["ports"].([]any), map[string]any{
					"appProtocol": "grpc", "name": "spark-connect", "port": 15002.0, "targetPort": 15002.0})
			}
		}
	case "podspec-configmap.json", "persistentvolumeclaim.json":
		if ver == "4.2.0" {
			if m = read("4.0.4", name); m != nil {
				m = replaceStrings(m, "4.0.4", "4.2.0").(map[string]any)
			}
		}
	case "networkpolicy.json":
		// Same for every case but the owner's name, which is the driver pod's.
		if m = read(ver, "sparkpi-pvc"); m != nil {
			pod := read(ver, name)
			if pod == nil {
				if p, err := readJSON(filepath.Join(root, "golden", ver, name, "driver-pod.json")); err == nil {
					pod = p
				}
			}
			if pod != nil {
				dig(m, "metadata").(map[string]any)["ownerReferences"].([]any)[0].(map[string]any)["name"] = dig(pod, "metadata", "name")
			}
		}
	}
	return m
}

func readJSON(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func toMap(t testing.TB, obj any) map[string]any {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	reAppID    = regexp.MustCompile(`spark-[0-9a-f]{32}`)
	reCMID     = regexp.MustCompile(`spark-drv-[0-9a-f]+-conf-map`)
	reLocalDir = regexp.MustCompile(`spark-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// normalize applies the oracle README's normalization steps to either side. prefix is the
// built resource prefix ("" for golden files, already normalized).
func normalize(m map[string]any, prefix string) map[string]any {
	meta, _ := m["metadata"].(map[string]any)
	for _, k := range []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink"} {
		delete(meta, k)
	}
	delete(m, "status")
	if refs, ok := meta["ownerReferences"].([]any); ok {
		for _, r := range refs {
			r.(map[string]any)["uid"] = "__OWNER_UID__"
		}
	}
	out := mapStrings(m, func(s string) string {
		s = reCMID.ReplaceAllString(s, "spark-drv-__CM_ID__-conf-map")
		if prefix != "" {
			s = strings.ReplaceAll(s, prefix, "__PREFIX__")
		}
		s = reLocalDir.ReplaceAllString(s, "__LOCAL_DIR__")
		return reAppID.ReplaceAllString(s, "__APP_ID__")
	}).(map[string]any)
	if data, ok := out["data"].(map[string]any); ok {
		if text, ok := data["spark.properties"].(string); ok {
			data["spark.properties"] = normalizeProperties(text)
		}
	}
	if spec, ok := out["spec"].(map[string]any); ok {
		sortByName(spec, "volumes")
		for _, list := range []string{"containers", "initContainers"} {
			cs, _ := spec[list].([]any)
			for _, c := range cs {
				cm := c.(map[string]any)
				sortByName(cm, "volumeMounts")
				for _, vm := range asList(cm["volumeMounts"]) {
					dropZero(vm.(map[string]any), "readOnly", "subPath", "subPathExpr")
				}
				for _, e := range asList(cm["env"]) {
					if em := e.(map[string]any); em["name"] == "SPARK_USER" {
						em["value"] = "__SPARK_USER__"
					}
				}
			}
		}
		for _, v := range asList(spec["volumes"]) {
			if pvc, ok := v.(map[string]any)["persistentVolumeClaim"].(map[string]any); ok {
				dropZero(pvc, "readOnly")
			}
		}
	}
	return out
}

func normalizeProperties(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	for i, l := range lines {
		switch {
		case i == 1 && strings.HasPrefix(l, "#"):
			l = "#__DATE__"
		case strings.HasPrefix(l, "spark.app.submitTime="):
			l = "spark.app.submitTime=__SUBMIT_TIME__"
		case strings.HasPrefix(l, "spark.master="):
			l = "spark.master=__MASTER__"
		case strings.HasPrefix(l, "spark.kubernetes.driver.podTemplateFile="),
			strings.HasPrefix(l, "spark.kubernetes.driver.podTemplateContainerName="):
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestConformance(t *testing.T) {
	root := conformanceDir(t)
	entries, err := os.ReadDir(filepath.Join(root, "cases"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]int{}
	var exact, derived, uncaptured, total int
	for _, ver := range conformanceVersions {
		for _, e := range entries {
			name := e.Name()
			t.Run(ver+"/"+name, func(t *testing.T) {
				cc := loadCase(t, root, name, ver)
				objs, err := Build(cc.job)
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				objs.SetDriverUID("driver-uid")
				built := builtFiles(t, objs)
				goldenDir := filepath.Join(root, "golden", ver, name)
				captured, _ := filepath.Glob(filepath.Join(goldenDir, "*.json"))
				for _, g := range captured {
					if _, ok := built[filepath.Base(g)]; !ok {
						t.Errorf("spark-submit created %s, sparkplane did not", filepath.Base(g))
					}
				}
				for _, file := range sortedKeys(built) {
					total++
					want, err := readJSON(filepath.Join(goldenDir, file))
					kind := "captured"
					if os.IsNotExist(err) {
						want, kind = derivedGolden(t, root, ver, name, file), "derived"
						if want == nil {
							uncaptured++
							t.Logf("%s: not captured by the oracle and not derivable; not compared", file)
							continue
						}
					} else if err != nil {
						t.Fatal(err)
					}
					got := normalize(toMap(t, built[file]), objs.ResourcePrefix)
					for _, d := range deviations {
						used[d.name] += d.apply(file, got)
					}
					want = normalize(want, "")
					diffs := diffJSON("", want, got)
					if len(diffs) > 0 {
						t.Errorf("%s (%s golden) differs from spark-submit %s:\n  %s", file, kind, ver, strings.Join(diffs, "\n  "))
						continue
					}
					if kind == "captured" {
						exact++
					} else {
						derived++
					}
				}
			})
		}
	}
	for _, d := range deviations {
		if used[d.name] == 0 {
			t.Errorf("deviation %q never applied: remove it or fix the test", d.name)
		}
	}
	t.Logf("conformance: %d objects built, %d match captured golden files exactly (after normalization and the %d listed deviations), %d match derived goldens, %d not compared",
		total, exact, len(deviations), derived, uncaptured)
}

// diffJSON lists the differences between two decoded JSON values, one line per path.
func diffJSON(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, short(want), short(got))}
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		var out []string
		for _, k := range sortedKeys(keys) {
			out = append(out, diffJSON(path+"."+k, w[k], g[k])...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: want %s, got %s", path, short(want), short(got))}
		}
		var out []string
		for i := range w {
			out = append(out, diffJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return out
	case string:
		if g, ok := got.(string); ok && g != w && strings.Contains(w, "\n") {
			return []string{fmt.Sprintf("%s: text differs:\n%s", path, lineDiff(w, g))}
		}
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, short(want), short(got))}
	}
	return nil
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	in := func(l []string, s string) bool {
		for _, x := range l {
			if x == s {
				return true
			}
		}
		return false
	}
	var out []string
	for _, l := range w {
		if !in(g, l) {
			out = append(out, "    - "+l)
		}
	}
	for _, l := range g {
		if !in(w, l) {
			out = append(out, "    + "+l)
		}
	}
	if len(out) == 0 {
		out = append(out, "    (same lines, different order)")
	}
	return strings.Join(out, "\n")
}

func short(v any) string {
	if v == nil {
		return "<absent>"
	}
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func deleteKeys(v any, keys []string) int {
	m, ok := v.(map[string]any)
	if !ok {
		return 0
	}
	n := 0
	for _, k := range keys {
		if _, ok := m[k]; ok {
			delete(m, k)
			n++
		}
	}
	return n
}

func mapStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[f(k)] = mapStrings(val, f)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = mapStrings(val, f)
		}
		return out
	case string:
		return f(x)
	}
	return v
}

func replaceStrings(v any, old, new string) any {
	return mapStrings(v, func(s string) string { return strings.ReplaceAll(s, old, new) })
}

func asList(v any) []any { l, _ := v.([]any); return l }

func sortByName(m map[string]any, key string) {
	l := asList(m[key])
	sort.SliceStable(l, func(i, j int) bool {
		return fmt.Sprint(l[i].(map[string]any)["name"]) < fmt.Sprint(l[j].(map[string]any)["name"])
	})
}

func dropZero(m map[string]any, keys ...string) {
	for _, k := range keys {
		if v, ok := m[k]; ok && (v == false || v == "") {
			delete(m, k)
		}
	}
}

func reFull(re string) *regexp.Regexp { return regexp.MustCompile("^(?:" + re + ")$") }
