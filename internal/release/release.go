package release

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"

	"github.com/sparkplane/sparkplane/internal/spark"
)

//go:embed catalog.yaml
var defaultCatalog []byte

// Release is what one release label resolves to.
type Release struct {
	// Label is the label that was looked up (an alias stays an alias).
	Label string
	// Canonical is the catalog entry's main label; it equals Label unless Label is an alias.
	Canonical string
	// SparkVersion is the open-source Spark version, "MAJOR.MINOR.PATCH", the driver objects
	// are built for: for an EMR label, the version the EMR release ships.
	SparkVersion string
	// Image is the container image of the driver and executors unless
	// spark.kubernetes.container.image overrides it. It is empty for a release sparkplane
	// cannot run (Supported is false).
	Image string
	// Note explains a mapping that is not one to one (an image of a nearby version, a value
	// that could not be confirmed, a release sparkplane cannot run).
	Note string
	// Source is where the mapping was read (an AWS release-notes URL for EMR labels).
	Source string
	// Supported reports whether the driver builder supports SparkVersion. Lookup refuses a
	// release that is not; it stays in the catalog so the refusal can say why.
	Supported bool
}

// Catalog maps release labels to releases. It is immutable after construction and safe for
// concurrent use.
type Catalog struct {
	byLabel map[string]Release
	labels  []string
}

// file is the on-disk shape of a catalog, shared by the embedded default and override files.
type file struct {
	// IncludeDefaults keeps the embedded entries; the file's entries win on a clash.
	IncludeDefaults bool    `json:"includeDefaults"`
	Releases        []entry `json:"releases"`
}

type entry struct {
	Label        string   `json:"label"`
	Aliases      []string `json:"aliases,omitempty"`
	SparkVersion string   `json:"sparkVersion"`
	Image        string   `json:"image,omitempty"`
	Note         string   `json:"note,omitempty"`
	Source       string   `json:"source,omitempty"`
}

var (
	reLabel   = regexp.MustCompile(`^[.\-_/A-Za-z0-9]{1,64}$`)
	reVersion = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	reImage   = regexp.MustCompile(`^[^\s]+$`)
)

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
)

// Default returns the embedded catalog. It panics only if the embedded file is broken, which
// the package's tests rule out.
func Default() *Catalog {
	defaultOnce.Do(func() {
		c, err := parse(defaultCatalog, "embedded catalog.yaml", nil)
		if err != nil {
			panic(fmt.Sprintf("release: %v", err))
		}
		defaultCat = c
	})
	return defaultCat
}

// Load reads a catalog file in the embedded catalog's format. Every entry is validated; the
// first bad one is reported as a *ValidationError naming the file, the entry and the field.
// With "includeDefaults: true" the embedded entries are kept and the file's entries replace
// those with the same label.
func Load(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read release catalog: %w", err)
	}
	return parse(data, path, Default())
}

// Parse is Load for a catalog already in memory; source names it in errors.
func Parse(data []byte, source string) (*Catalog, error) {
	return parse(data, source, Default())
}

func parse(data []byte, source string, defaults *Catalog) (*Catalog, error) {
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, &ValidationError{Source: source, Entry: -1, Field: "(file)", Rule: "must be YAML or JSON of the shape {includeDefaults, releases: [{label, aliases, sparkVersion, image, note, source}]}: " + err.Error()}
	}
	if len(f.Releases) == 0 {
		return nil, &ValidationError{Source: source, Entry: -1, Field: "releases", Rule: "must list at least one release"}
	}
	c := &Catalog{byLabel: map[string]Release{}}
	if f.IncludeDefaults && defaults != nil {
		for _, l := range defaults.labels {
			c.byLabel[l] = defaults.byLabel[l]
		}
	}
	own := map[string]int{}
	for i, e := range f.Releases {
		if err := e.validate(); err != nil {
			err.Source, err.Entry = source, i
			return nil, err
		}
		for _, l := range append([]string{e.Label}, e.Aliases...) {
			if j, dup := own[l]; dup {
				return nil, &ValidationError{Source: source, Entry: i, Label: e.Label, Field: "label", Rule: fmt.Sprintf("%q is already defined by releases[%d]; labels and aliases must be unique", l, j)}
			}
			own[l] = i
			c.byLabel[l] = Release{Label: l, Canonical: e.Label, SparkVersion: e.SparkVersion, Image: e.Image,
				Note: e.Note, Source: e.Source, Supported: spark.CheckVersion(e.SparkVersion) == nil}
		}
	}
	for l := range c.byLabel {
		c.labels = append(c.labels, l)
	}
	sort.Slice(c.labels, func(i, j int) bool { return labelLess(c.labels[i], c.labels[j]) })
	return c, nil
}

func (e entry) validate() *ValidationError {
	bad := func(field, rule string) *ValidationError {
		return &ValidationError{Label: e.Label, Field: field, Rule: rule}
	}
	if !reLabel.MatchString(e.Label) {
		return bad("label", fmt.Sprintf("%q must be 1 to 64 characters of letters, digits, '.', '-', '_' or '/'", e.Label))
	}
	for k, a := range e.Aliases {
		if !reLabel.MatchString(a) {
			return bad(fmt.Sprintf("aliases[%d]", k), fmt.Sprintf("%q must be 1 to 64 characters of letters, digits, '.', '-', '_' or '/'", a))
		}
	}
	if !reVersion.MatchString(e.SparkVersion) {
		return bad("sparkVersion", fmt.Sprintf("%q must be MAJOR.MINOR.PATCH", e.SparkVersion))
	}
	// A release the builder cannot run may be listed so that its label is refused with the
	// reason instead of as unknown; it must then have no image, which also keeps a typo in
	// the version of a runnable release from passing unnoticed.
	if spark.CheckVersion(e.SparkVersion) != nil {
		if e.Image != "" {
			return bad("sparkVersion", fmt.Sprintf("%q is not supported (sparkplane builds drivers for %s); list a release sparkplane cannot run without an image, so that its label is refused with this reason", e.SparkVersion, spark.SupportedRange()))
		}
		return nil
	}
	if !reImage.MatchString(e.Image) {
		return bad("image", fmt.Sprintf("%q must be a non-empty image reference without spaces", e.Image))
	}
	return nil
}

// Lookup resolves label. An unknown label gives an *UnknownLabelError listing the nearest
// valid labels; a release whose Spark version the driver builder does not support gives the
// Release with an *UnsupportedReleaseError naming the supported range.
func (c *Catalog) Lookup(label string) (Release, error) {
	r, ok := c.byLabel[label]
	if !ok {
		return Release{}, &UnknownLabelError{Label: label, Suggestions: c.nearest(label, false)}
	}
	if !r.Supported {
		return r, &UnsupportedReleaseError{Label: label, SparkVersion: r.SparkVersion, Suggestions: c.nearest(label, true)}
	}
	return r, nil
}

// Check is Lookup for a caller that only needs to know whether a job run with label can be
// accepted, and why not.
func (c *Catalog) Check(label string) error {
	_, err := c.Lookup(label)
	return err
}

// Known reports whether label is in the catalog, runnable or not (see Check).
func (c *Catalog) Known(label string) bool {
	_, ok := c.byLabel[label]
	return ok
}

// Labels returns every label and alias, open-source labels first, each family in version
// order. The slice is a copy.
func (c *Catalog) Labels() []string {
	return append([]string(nil), c.labels...)
}

// Releases returns one Release per label, in Labels order.
func (c *Catalog) Releases() []Release {
	out := make([]Release, 0, len(c.labels))
	for _, l := range c.labels {
		out = append(out, c.byLabel[l])
	}
	return out
}

// maxSuggestions bounds the labels an error message lists.
const maxSuggestions = 5

// nearest returns up to maxSuggestions labels of label's family whose versions are nearest
// to label's, in catalog order, for an error message; supportedOnly keeps runnable releases
// only. A query ending in -latest gets -latest aliases where the catalog has them, so the
// suggestion is the form the caller was using.
func (c *Catalog) nearest(label string, supportedOnly bool) []string {
	fam, ver := splitLabel(label)
	if len(ver) == 0 {
		return nil
	}
	latest := strings.HasSuffix(label, "-latest")
	var cands []string
	for _, l := range c.labels {
		f, v := splitLabel(l)
		r := c.byLabel[l]
		if f != fam || len(v) == 0 || strings.HasSuffix(l, "-latest") || r.Canonical != l || (supportedOnly && !r.Supported) {
			continue
		}
		cands = append(cands, l)
	}
	// cands is in version order; the nearest are the ones around label's place in it.
	at := sort.Search(len(cands), func(i int) bool { return !labelLess(cands[i], label) })
	lo := max(0, min(at-(maxSuggestions-1)/2-1, len(cands)-maxSuggestions))
	hi := min(len(cands), lo+maxSuggestions)
	var out []string
	for _, l := range cands[lo:hi] {
		if latest && c.Known(l+"-latest") {
			l += "-latest"
		}
		if l != label {
			out = append(out, l)
		}
	}
	return out
}

// ValidationError is a bad catalog file: which file, which entry, which field, which rule.
type ValidationError struct {
	Source string
	// Entry is the index in releases, or -1 for the file as a whole.
	Entry int
	Label string
	Field string
	Rule  string
}

// Error says which input is wrong and why.
func (e *ValidationError) Error() string {
	if e.Entry < 0 {
		return fmt.Sprintf("release catalog %s: %s: %s", e.Source, e.Field, e.Rule)
	}
	return fmt.Sprintf("release catalog %s: releases[%d] (label %q): %s: %s", e.Source, e.Entry, e.Label, e.Field, e.Rule)
}

// UnknownLabelError is a release label the catalog does not hold.
type UnknownLabelError struct {
	Label       string
	Suggestions []string
}

// ErrUnknownLabel is matched by errors.Is for every *UnknownLabelError.
var ErrUnknownLabel = errors.New("unknown release label")

// Error says which input is wrong and why.
func (e *UnknownLabelError) Error() string {
	msg := fmt.Sprintf("releaseLabel %q is not in the release catalog; valid labels look like spark-3.5.3, emr-7.2.0 or emr-7.2.0-latest and are listed by the server's release catalog (the embedded default, or the file configured as the release catalog)", e.Label)
	if len(e.Suggestions) > 0 {
		msg += "; nearest valid labels: " + strings.Join(e.Suggestions, ", ")
	}
	return msg
}

// Is makes errors.Is(err, ErrUnknownLabel) true.
func (e *UnknownLabelError) Is(target error) bool { return target == ErrUnknownLabel }

// UnsupportedReleaseError is a release label the catalog holds whose Spark version the
// driver builder does not support (an EMR release older than the oldest supported Spark).
type UnsupportedReleaseError struct {
	Label        string
	SparkVersion string
	// Suggestions are the nearest labels of the same family sparkplane can run.
	Suggestions []string
}

// ErrUnsupportedRelease is matched by errors.Is for every *UnsupportedReleaseError.
var ErrUnsupportedRelease = errors.New("release not supported")

// Error says which input is wrong, why, and what is supported.
func (e *UnsupportedReleaseError) Error() string {
	msg := fmt.Sprintf("releaseLabel %q runs Apache Spark %s, which sparkplane cannot build drivers for: it supports %s", e.Label, e.SparkVersion, spark.SupportedRange())
	if len(e.Suggestions) > 0 {
		msg += "; nearest supported labels: " + strings.Join(e.Suggestions, ", ")
	}
	return msg
}

// Is makes errors.Is(err, ErrUnsupportedRelease) true.
func (e *UnsupportedReleaseError) Is(target error) bool { return target == ErrUnsupportedRelease }

// splitLabel splits "emr-7.2.0-latest" into ("emr", [7 2 0]) and "emr-spark-8.0.0" into
// ("emr-spark", [8 0 0]) for ordering and suggestions: the family is everything before the
// first '-' that starts the version.
func splitLabel(l string) (string, []int) {
	l = strings.TrimSuffix(l, "-latest")
	fam, rest := l, ""
	for i := 0; i+1 < len(l); i++ {
		if l[i] == '-' && l[i+1] >= '0' && l[i+1] <= '9' {
			fam, rest = l[:i], l[i+1:]
			break
		}
	}
	var ver []int
	if rest == "" {
		return fam, ver
	}
	for _, p := range strings.Split(rest, ".") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fam, ver
		}
		ver = append(ver, n)
	}
	return fam, ver
}

func labelLess(a, b string) bool {
	fa, va := splitLabel(a)
	fb, vb := splitLabel(b)
	if fa != fb {
		ra, rb := familyRank(fa), familyRank(fb)
		if ra != rb {
			return ra < rb
		}
		return fa < fb
	}
	for i := 0; i < len(va) && i < len(vb); i++ {
		if va[i] != vb[i] {
			return va[i] < vb[i]
		}
	}
	if len(va) != len(vb) {
		return len(va) < len(vb)
	}
	return a < b
}

func familyRank(f string) int {
	switch f {
	case "spark":
		return 0
	case "emr":
		return 1
	case "emr-spark":
		return 2
	}
	return 3
}
