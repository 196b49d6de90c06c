package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image runs and as whom; the Helm chart and deploy/kubernetes rely on these.
const (
	// Binary is where the sparkplane binary sits in the image.
	Binary = "/sparkplane"
	// UID and GID are the nonroot user and group the image runs as (distroless's 65532).
	UID = 65532
	GID = 65532
	// Home is the nonroot user's home and the working directory.
	Home = "/home/nonroot"
	// CACertsPath is where the CA bundle goes: the first file Go's crypto/x509 reads on Linux.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// DefaultSource is the repository the image's source label names.
	DefaultSource = "https://github.com/sparkplane/sparkplane"
	// DefaultCACerts is the machine's CA bundle the image copies (Debian's and Ubuntu's path).
	DefaultCACerts = "/etc/ssl/certs/ca-certificates.crt"
)

// OCI annotation and label keys (github.com/opencontainers/image-spec annotations.md).
const (
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
	// LabelRefName names the image in an OCI layout's index.json (skopeo's oci:DIR:NAME).
	LabelRefName = "org.opencontainers.image.ref.name"
)

// Options say what to build.
type Options struct {
	// ModuleDir is the root of the sparkplane module, where `go build ./cmd/sparkplane` runs.
	ModuleDir string
	// Platforms are the linux platforms to build, "linux/amd64" and "linux/arm64" (default:
	// linux/amd64 only).
	Platforms []string
	// Version, Revision and Created are stamped into the binary (Version, Revision) and the
	// image's labels and times (all three); see GitStamp.
	Stamp Stamp
	// Source is the repository URL of the source label (default DefaultSource).
	Source string
	// CACerts is the CA bundle to copy into the image (default DefaultCACerts).
	CACerts string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Build compiles sparkplane for every platform and returns the image index holding one image
// per platform, in the order given.
func Build(ctx context.Context, o Options) (v1.ImageIndex, error) {
	if o.Stamp.Version == "" || o.Stamp.Created.IsZero() {
		return nil, fmt.Errorf("build image: a version and a creation time are required (see GitStamp)")
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []string{"linux/amd64"}
	}
	if o.Source == "" {
		o.Source = DefaultSource
	}
	if o.CACerts == "" {
		o.CACerts = DefaultCACerts
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("build image: read the CA bundle: %w", err)
	}
	created := o.Stamp.Created.UTC().Truncate(time.Second)
	base, err := baseLayer(certs, created)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "sparkplane-image-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()

	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var adds []mutate.IndexAddendum
	for _, p := range o.Platforms {
		platform, err := parsePlatform(p)
		if err != nil {
			return nil, err
		}
		bin := filepath.Join(tmp, platform.Architecture, "sparkplane")
		fmt.Fprintf(o.Log, "building sparkplane %s for %s ...\n", o.Stamp.Version, p)
		if err := buildBinary(ctx, o.ModuleDir, platform, o.Stamp, bin); err != nil {
			return nil, err
		}
		img, err := platformImage(base, bin, platform, o, created)
		if err != nil {
			return nil, fmt.Errorf("build image for %s: %w", p, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: plainImage{img}, Descriptor: v1.Descriptor{Platform: platform}})
	}
	idx = mutate.AppendManifests(idx, adds...)
	// Annotations on the index say what it is to registries that show them (labels live in
	// each image's config).
	return mutate.Annotations(idx, labels(o, created)).(v1.ImageIndex), nil
}

// plainImage keeps the index's descriptors free of an artifactType: go-containerregistry
// would set it to the config's media type, but these manifests are images, and the OCI image
// spec (1.1) gives artifactType only to artifacts.
type plainImage struct{ v1.Image }

// ArtifactType is empty: an image, not an artifact.
func (plainImage) ArtifactType() (string, error) { return "", nil }

// parsePlatform accepts linux/amd64 and linux/arm64 (Variant v8, as registries expect).
func parsePlatform(s string) (*v1.Platform, error) {
	switch s {
	case "linux/amd64":
		return &v1.Platform{OS: "linux", Architecture: "amd64"}, nil
	case "linux/arm64", "linux/arm64/v8":
		return &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, nil
	}
	return nil, fmt.Errorf("platform %q: want linux/amd64 or linux/arm64", s)
}

// buildBinary compiles a static sparkplane: no cgo (the SQLite driver is pure Go), no local
// paths (-trimpath), no VCS stamp that would differ between a clean and a dirty tree, and the
// microarchitecture levels pinned so that the caller's GOAMD64 or GOARM64 cannot change it.
func buildBinary(ctx context.Context, moduleDir string, p *v1.Platform, s Stamp, out string) error {
	ldflags := strings.Join([]string{"-s", "-w",
		"-X", "github.com/sparkplane/sparkplane/internal/buildinfo.Version=" + s.Version,
		"-X", "github.com/sparkplane/sparkplane/internal/buildinfo.Revision=" + s.Revision,
	}, " ")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./cmd/sparkplane")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture, "GOAMD64=v1", "GOARM64=v8.0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/sparkplane for %s/%s: %w\n%s", p.OS, p.Architecture, err, stderr.String())
	}
	return nil
}

// platformImage is the base layer, the binary's layer and the configuration.
func platformImage(base v1.Layer, bin string, p *v1.Platform, o Options, created time.Time) (v1.Image, error) {
	raw, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	app, err := layer([]entry{{name: strings.TrimPrefix(Binary, "/"), mode: 0o755, body: raw}}, created)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		Variant:      p.Variant,
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			Entrypoint: []string{Binary},
			Cmd:        []string{"server"},
			User:       fmt.Sprintf("%d:%d", UID, GID),
			WorkingDir: Home,
			Env: []string{
				"PATH=/usr/local/bin:/usr/bin:/bin",
				"SSL_CERT_FILE=" + CACertsPath,
			},
			ExposedPorts: map[string]struct{}{"8790/tcp": {}},
			Labels:       labels(o, created),
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created},
			CreatedBy: "sparkplane-image: CA certificates, /etc/passwd and /etc/group (nonroot 65532), /home/nonroot, /tmp"}},
		mutate.Addendum{Layer: app, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created},
			CreatedBy: "sparkplane-image: go build -trimpath ./cmd/sparkplane (CGO_ENABLED=0) " + o.Stamp.Version}},
	)
}

func labels(o Options, created time.Time) map[string]string {
	return map[string]string{
		LabelTitle:    "sparkplane",
		LabelVersion:  o.Stamp.Version,
		LabelRevision: o.Stamp.Revision,
		LabelSource:   o.Source,
		LabelCreated:  created.Format(time.RFC3339),
	}
}

// baseLayer holds what a static Go binary running as nonroot needs, and nothing else.
func baseLayer(certs []byte, created time.Time) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", UID, GID, Home)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", GID)
	return layer([]entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: strings.TrimPrefix(CACertsPath, "/"), mode: 0o644, body: certs},
		{name: "home/", mode: 0o755, dir: true},
		{name: strings.TrimPrefix(Home, "/") + "/", mode: 0o700, dir: true, uid: UID, gid: GID},
		{name: "tmp/", mode: 0o1777, dir: true},
	}, created)
}

// entry is one file or directory of a layer.
type entry struct {
	name     string
	mode     int64
	dir      bool
	uid, gid int
	body     []byte
}

// layer writes entries, in the order given (parents first), as a gzip-compressed tar with
// every time set to created and no user or group names, and wraps it as an OCI layer. The
// compression is done here, once, with the standard library's deterministic gzip (no name, no
// time in the header), so the digest depends only on the entries.
func layer(entries []entry, created time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created, Format: tar.FormatPAX}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	compressed := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(compressed)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
