package image

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestBuild builds the image for this machine's architecture twice, from the module this test
// sits in, and checks what a cluster relies on: the digest does not change between builds and
// survives the OCI layout and a push to a registry, the configuration runs `sparkplane server`
// as 65532 with the stamped labels, the files are there with fixed owners, modes and times,
// and the binary in the layer is static and prints the stamped version.
func TestBuild(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("runs the linux binary it builds")
	}
	ctx := context.Background()
	stamp := Stamp{Version: "v0.0.0-imagetest", Revision: strings.Repeat("ab", 20), Created: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	opts := Options{ModuleDir: "../../..", Platforms: []string{"linux/" + runtime.GOARCH}, Stamp: stamp}
	idx, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := again.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("two builds of the same source gave index digests %s and %s", d1, d2)
	}

	// The layout round trip: what `make image` writes is what `push` reads.
	dir := filepath.Join(t.TempDir(), "layout")
	written, err := WriteLayout(dir, idx, stamp.Version)
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rd, err := read.Digest(); err != nil || rd != written || rd != d1 {
		t.Errorf("layout digest %s (%v), written %s, built %s", rd, err, written, d1)
	}

	// push: to a registry (go-containerregistry's own, in memory), by the digest built.
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	pushed, err := Push(ctx, read, host+"/platform/sparkplane:"+stamp.Version)
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "/platform/sparkplane@" + d1.String(); pushed != want {
		t.Errorf("Push = %s, want %s", pushed, want)
	}
	tag, err := name.ParseReference(host + "/platform/sparkplane:" + stamp.Version)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := remote.Index(tag, remote.WithContext(ctx)); err != nil {
		t.Errorf("pull the pushed tag: %v", err)
	} else if gd, _ := got.Digest(); gd != d1 {
		t.Errorf("the registry serves %s for the tag, want %s", gd, d1)
	}

	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Platform == nil || m.Manifests[0].Platform.Architecture != runtime.GOARCH || m.Manifests[0].ArtifactType != "" {
		t.Fatalf("index manifests %+v, want one image (no artifactType) for linux/%s", m.Manifests, runtime.GOARCH)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if strings.Join(c.Entrypoint, " ") != "/sparkplane" || strings.Join(c.Cmd, " ") != "server" || c.User != "65532:65532" || c.WorkingDir != "/home/nonroot" {
		t.Errorf("config entrypoint %q cmd %q user %q workdir %q, want [/sparkplane] [server] 65532:65532 /home/nonroot", c.Entrypoint, c.Cmd, c.User, c.WorkingDir)
	}
	if !cf.Created.Time.Equal(stamp.Created) || cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("config created %s os %s arch %s", cf.Created.Time, cf.OS, cf.Architecture)
	}
	for k, want := range map[string]string{
		LabelVersion: stamp.Version, LabelRevision: stamp.Revision, LabelSource: DefaultSource, LabelCreated: "2026-11-30T12:00:00Z",
	} {
		if got := c.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}

	bin := checkFiles(t, img, stamp.Created)
	path := filepath.Join(t.TempDir(), "sparkplane")
	if err := os.WriteFile(path, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %s program header (libraries %v): it is not static, and the scratch image has no loader", p.Type, libs)
		}
	}
	f.Close()
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("sparkplane --version from the image: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "sparkplane version "+stamp.Version {
		t.Errorf("sparkplane --version printed %q, want %q", got, "sparkplane version "+stamp.Version)
	}
}

// checkFiles reads the image's flattened file system and returns the binary's bytes.
func checkFiles(t *testing.T, img v1.Image, created time.Time) []byte {
	t.Helper()
	type file struct {
		mode     int64
		uid, gid int
		dir      bool
	}
	want := map[string]file{
		"etc/passwd":                        {mode: 0o644},
		"etc/group":                         {mode: 0o644},
		"etc/ssl/certs/ca-certificates.crt": {mode: 0o644},
		"home/nonroot":                      {mode: 0o700, uid: 65532, gid: 65532, dir: true},
		"tmp":                               {mode: 0o1777, dir: true},
		"sparkplane":                        {mode: 0o755},
	}
	r := mutate.Extract(img)
	defer r.Close()
	tr := tar.NewReader(r)
	var bin []byte
	var passwd string
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(created) {
			t.Errorf("%s: time %s, want the commit time %s", h.Name, h.ModTime, created)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner names %q/%q, want none", h.Name, h.Uname, h.Gname)
		}
		// Directories end in "/" in the layer; the flattened stream may drop it.
		h.Name = strings.TrimSuffix(h.Name, "/")
		// Directories end in "/" in the layer; the flattened stream may drop it.
		h.Name = strings.TrimSuffix(h.Name, "/")
		w, ok := want[h.Name]
		if !ok {
			continue
		}
		seen[h.Name] = true
		if h.Mode != w.mode || h.Uid != w.uid || h.Gid != w.gid || (h.Typeflag == tar.TypeDir) != w.dir {
			t.Errorf("%s: mode %o uid %d gid %d type %c, want mode %o uid %d gid %d dir %v", h.Name, h.Mode, h.Uid, h.Gid, h.Typeflag, w.mode, w.uid, w.gid, w.dir)
		}
		switch h.Name {
		case "sparkplane":
			if bin, err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		case "etc/passwd":
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			passwd = string(b)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("the image has no %s", name)
		}
	}
	if !strings.Contains(passwd, "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd has no nonroot user 65532:\n%s", passwd)
	}
	if len(bin) == 0 {
		t.Fatal("the image has no /sparkplane")
	}
	return bin
}

func TestGitStampHonoursSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1764590400")
	s, err := GitStamp(context.Background(), "../../..")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Created.Equal(time.Unix(1764590400, 0)) || len(s.Revision) != 40 || s.Version == "" {
		t.Errorf("GitStamp = %+v, want created at SOURCE_DATE_EPOCH, a 40-digit revision and a version", s)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := GitStamp(context.Background(), "../../.."); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("GitStamp with a bad SOURCE_DATE_EPOCH: %v, want an error naming it", err)
	}
}

func TestParsePlatform(t *testing.T) {
	for _, tt := range []struct {
		in      string
		arch    string
		variant string
		wantErr bool
	}{
		{"linux/amd64", "amd64", "", false},
		{"linux/arm64", "arm64", "v8", false},
		{"linux/arm64/v8", "arm64", "v8", false},
		{"windows/amd64", "", "", true},
		{"linux/s390x", "", "", true},
	} {
		p, err := parsePlatform(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parsePlatform(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && (p.Architecture != tt.arch || p.Variant != tt.variant) {
			t.Errorf("parsePlatform(%q) = %+v", tt.in, p)
		}
	}
}
