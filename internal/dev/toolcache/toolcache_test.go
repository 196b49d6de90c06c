package toolcache

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVersionsMatchToolsScript keeps the Go constants and hack/tools.sh in step: a version
// bumped in one place only would make every cluster test look in the wrong directory.
func TestVersionsMatchToolsScript(t *testing.T) {
	raw, err := os.ReadFile("../../../hack/tools.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"KUBE_VERSION": KubeVersion, "ETCD_VERSION": EtcdVersion, "KWOK_VERSION": KwokVersion,
		"VERSITYGW_VERSION": VersitygwVersion, "KARPENTER_VERSION": KarpenterVersion,
		"HELM_VERSION": HelmVersion,
	} {
		m := regexp.MustCompile(`(?m)^` + name + `=(\S+)$`).FindSubmatch(raw)
		if m == nil {
			t.Errorf("hack/tools.sh sets no %s", name)
			continue
		}
		if got := string(m[1]); got != want {
			t.Errorf("hack/tools.sh %s=%s, toolcache has %s", name, got, want)
		}
	}
}

func TestLocateIn(t *testing.T) {
	full := t.TempDir()
	for _, f := range []string{
		"etcd-" + EtcdVersion + "/etcd",
		"kube-" + KubeVersion + "/kube-apiserver",
		"kube-" + KubeVersion + "/kube-scheduler",
		"kube-" + KubeVersion + "/kube-controller-manager",
		"kwok-" + KwokVersion + "/kwok",
		"kwok-" + KwokVersion + "/kwokctl",
		"versitygw-" + VersitygwVersion + "/versitygw",
		"karpenter-kwok-" + KarpenterVersion + "/karpenter-kwok",
		"karpenter-kwok-" + KarpenterVersion + "/crds/x.yaml",
		"karpenter-kwok-" + KarpenterVersion + "/instance-types.json",
	} {
		p := filepath.Join(full, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name        string
		dir         string
		wantMissing bool
	}{
		{"complete cache", full, false},
		{"empty cache", t.TempDir(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tools, err := LocateIn(tt.dir)
			if tt.wantMissing {
				if !IsMissing(err) || !strings.Contains(err.Error(), BuildHint) {
					t.Fatalf("LocateIn(empty) error = %v, want a MissingError naming %q", err, BuildHint)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tools.Kwokctl != filepath.Join(full, "kwok-"+KwokVersion, "kwokctl") {
				t.Errorf("Kwokctl = %s", tools.Kwokctl)
			}
		})
	}
}

func TestDirHonoursOverride(t *testing.T) {
	t.Setenv("SPARKPLANE_CACHE", "/tmp/somewhere")
	if d, err := Dir(); err != nil || d != "/tmp/somewhere" {
		t.Fatalf("Dir() = %q, %v", d, err)
	}
	t.Setenv("SPARKPLANE_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	if d, err := Dir(); err != nil || d != "/tmp/xdg/sparkplane" {
		t.Fatalf("Dir() = %q, %v", d, err)
	}
}

func TestHelmIn(t *testing.T) {
	dir := t.TempDir()
	if _, err := HelmIn(dir); !IsMissing(err) || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("HelmIn(empty) error = %v, want a MissingError saying make tools", err)
	}
	p := filepath.Join(dir, "helm-"+HelmVersion, "helm")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := HelmIn(dir); err != nil || got != p {
		t.Fatalf("HelmIn = %q, %v, want %q", got, err, p)
	}
}
