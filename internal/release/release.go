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
	// are built for.
	SparkVersion string
	// Image is the container image of the driver and executors unless
	// spark.kubernetes.container.image overrides it.
	Image string
	// Note explains a mapping that is not one to one (an EMR label on a nearer Spark version).
	Note string
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
	Image        string   `json:"image"`
	Note         string   `json:"note,omitempty"`
}

// MinSparkVersion and MaxSparkMajor bound the Spark versions a catalog may name: the driver
// builder reproduces spark-submit from 3.3.0 on, up to the 4.x line.
const (
	MinSparkVersion = "3.3.0"
	MaxSparkMajor   = 4
)

var (
	reLabel   = regexp.MustCompile(`^[.\-_/A-Za-z0-9]{1,64}$`)
	reVersion = regexp.MustCompile(`^([0-9]+)\.([0-9]+)\.([0-9]+)$`)
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
		return nil, &ValidationError{Source: source, Entry: -1, Field: "(file)", Rule: "must be YAML or JSON of the shape {includeDefaults, releases: [{label, aliases, sparkVersion, image, note}]}: " + err.Error()}
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
			c.byLabel[l] = Release{Label: l, Canonical: e.Label, SparkVersion: e.SparkVersion, Image: e.Image, Note: e.Note}
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
	if !SupportedSparkVersion(e.SparkVersion) {
		return bad("sparkVersion", fmt.Sprintf("%q must be MAJOR.MINOR.PATCH between %s and %d.x", e.SparkVersion, MinSparkVersion, MaxSparkMajor))
	}
	if !reImage.MatchString(e.Image) {
		return bad("image", fmt.Sprintf("%q must be a non-empty image reference without spaces", e.Image))
	}
	return nil
}

// SupportedSparkVersion reports whether v is a MAJOR.MINOR.PATCH version the driver builder
// supports (3.3.0 up to the last 4.x).
func SupportedSparkVersion(v string) bool {
	m := reVersion.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return (major == 3 && minor >= 3) || (major > 3 && major <= MaxSparkMajor)
}

// Lookup resolves label. An unknown label gives an *UnknownLabelError that says how to find
// the valid ones.
func (c *Catalog) Lookup(label string) (Release, error) {
	if r, ok := c.byLabel[label]; ok {
		return r, nil
	}
	return Release{}, &UnknownLabelError{Label: label, Suggestions: c.similar(label)}
}

// Known reports whether label is in the catalog.
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

// similar returns up to five labels of the same family and major.minor as label, to put in
// an error message.
func (c *Catalog) similar(label string) []string {
	fam, ver := splitLabel(label)
	var out []string
	for _, l := range c.labels {
		f, v := splitLabel(l)
		if f == fam && len(ver) > 0 && len(v) > 0 && ver[0] == v[0] && !strings.HasSuffix(l, "-latest") {
			out = append(out, l)
		}
	}
	if len(out) > 5 {
		out = out[len(out)-5:]
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
		msg += "; similar labels: " + strings.Join(e.Suggestions, ", ")
	}
	return msg
}

// Is makes errors.Is(err, ErrUnknownLabel) true.
func (e *UnknownLabelError) Is(target error) bool { return target == ErrUnknownLabel }

// splitLabel splits "emr-7.2.0-latest" into ("emr", [7 2 0]) for ordering and suggestions.
func splitLabel(l string) (string, []int) {
	fam, rest, _ := strings.Cut(l, "-")
	rest = strings.TrimSuffix(rest, "-latest")
	var ver []int
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
	}
	return 2
}
