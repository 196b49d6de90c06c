package toolcache

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The versions hack/tools.sh builds; a test keeps the two in step.
const (
	KubeVersion      = "v1.34.4"
	EtcdVersion      = "v3.6.10"
	KwokVersion      = "v0.8.0"
	VersitygwVersion = "v1.8.0"
	KarpenterVersion = "v1.14.1"
	HelmVersion      = "v3.22.0"
)

// BuildHint is the command that fills the cache; every "missing" error names it.
const BuildHint = "run hack/tools.sh (make tools)"

// Tools holds the absolute paths of every cached part.
type Tools struct {
	// Dir is the cache root.
	Dir                   string
	Etcd                  string
	KubeAPIServer         string
	KubeScheduler         string
	KubeControllerManager string
	Kwok                  string
	Kwokctl               string
	Versitygw             string
	KarpenterKwok         string
	// KarpenterCRDs is a directory of the CRD manifests of Karpenter and its kwok provider.
	KarpenterCRDs string
	// InstanceTypes is the derived instance-type catalogue for INSTANCE_TYPES_FILE_PATH.
	InstanceTypes string
}

// Dir returns the cache root: $SPARKPLANE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/sparkplane,
// the same rule hack/tools.sh follows.
func Dir() (string, error) {
	if d := os.Getenv("SPARKPLANE_CACHE"); d != "" {
		return filepath.Abs(d)
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("tool cache: no SPARKPLANE_CACHE, XDG_CACHE_HOME or home directory: %w", err)
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "sparkplane"), nil
}

// Locate returns the paths of every part in the cache at Dir, or one error listing each
// missing file and how to build it.
func Locate() (Tools, error) {
	dir, err := Dir()
	if err != nil {
		return Tools{}, err
	}
	return LocateIn(dir)
}

// LocateIn is Locate for an explicit cache root.
func LocateIn(dir string) (Tools, error) {
	part := func(name, version, file string) string {
		return filepath.Join(dir, name+"-"+version, file)
	}
	t := Tools{
		Dir:                   dir,
		Etcd:                  part("etcd", EtcdVersion, "etcd"),
		KubeAPIServer:         part("kube", KubeVersion, "kube-apiserver"),
		KubeScheduler:         part("kube", KubeVersion, "kube-scheduler"),
		KubeControllerManager: part("kube", KubeVersion, "kube-controller-manager"),
		Kwok:                  part("kwok", KwokVersion, "kwok"),
		Kwokctl:               part("kwok", KwokVersion, "kwokctl"),
		Versitygw:             part("versitygw", VersitygwVersion, "versitygw"),
		KarpenterKwok:         part("karpenter-kwok", KarpenterVersion, "karpenter-kwok"),
		KarpenterCRDs:         part("karpenter-kwok", KarpenterVersion, "crds"),
		InstanceTypes:         part("karpenter-kwok", KarpenterVersion, "instance-types.json"),
	}
	var missing []string
	for _, p := range []string{t.Etcd, t.KubeAPIServer, t.KubeScheduler, t.KubeControllerManager,
		t.Kwok, t.Kwokctl, t.Versitygw, t.KarpenterKwok, t.KarpenterCRDs, t.InstanceTypes} {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return Tools{}, &MissingError{Dir: dir, Paths: missing}
	}
	return t, nil
}

// MissingError reports the cached parts that are not there.
type MissingError struct {
	Dir   string
	Paths []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("tool cache %s lacks %s: %s", e.Dir, strings.Join(e.Paths, ", "), BuildHint)
}

// IsMissing reports whether err says a cached part is missing.
func IsMissing(err error) bool {
	var m *MissingError
	return errors.As(err, &m)
}

// Helm returns the path of the cached helm binary, which renders and lints the chart in
// deploy/helm, or a MissingError naming the command that builds it. It is apart from Locate
// because only the chart's tests and make manifests need it, not every cluster test.
func Helm() (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	return HelmIn(dir)
}

// HelmIn is Helm for an explicit cache root.
func HelmIn(dir string) (string, error) {
	p := filepath.Join(dir, "helm-"+HelmVersion, "helm")
	if _, err := os.Stat(p); err != nil {
		return "", &MissingError{Dir: dir, Paths: []string{p}}
	}
	return p, nil
}
