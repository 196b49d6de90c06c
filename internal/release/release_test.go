package release

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sparkplane/sparkplane/internal/spark"
)

func TestDefaultLookup(t *testing.T) {
	tests := []struct {
		label, version, image, canonical string
	}{
		{"spark-3.1.3", "3.1.3", "apache/spark:v3.1.3", "spark-3.1.3"},
		{"spark-3.2.1", "3.2.1", "apache/spark:v3.2.1", "spark-3.2.1"},
		{"spark-3.5.3", "3.5.3", "apache/spark:3.5.3", "spark-3.5.3"},
		{"spark-4.0.4", "4.0.4", "apache/spark:4.0.4", "spark-4.0.4"},
		{"spark-4.2.0", "4.2.0", "apache/spark:4.2.0", "spark-4.2.0"},
		{"spark-3.3.0", "3.3.0", "apache/spark:3.3.0", "spark-3.3.0"},
		{"emr-6.5.0-latest", "3.1.2", "apache/spark:v3.1.3", "emr-6.5.0"},
		{"emr-6.15.0", "3.4.1", "apache/spark:3.4.1", "emr-6.15.0"},
		{"emr-6.15.0-latest", "3.4.1", "apache/spark:3.4.1", "emr-6.15.0"},
		{"emr-7.0.0", "3.5.0", "apache/spark:3.5.0", "emr-7.0.0"},
		{"emr-7.2.0", "3.5.1", "apache/spark:3.5.1", "emr-7.2.0"},
		{"emr-7.2.0-latest", "3.5.1", "apache/spark:3.5.1", "emr-7.2.0"},
		{"emr-spark-8.0.0-latest", "4.0.2", "apache/spark:4.0.2", "emr-spark-8.0.0"},
	}
	c := Default()
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			r, err := c.Lookup(tt.label)
			if err != nil {
				t.Fatal(err)
			}
			want := Release{Label: tt.label, Canonical: tt.canonical, SparkVersion: tt.version, Image: tt.image, Supported: true}
			r.Note, r.Source = "", ""
			if r != want {
				t.Errorf("Lookup(%q) = %+v, want %+v", tt.label, r, want)
			}
			if !c.Known(tt.label) {
				t.Errorf("Known(%q) = false", tt.label)
			}
		})
	}
}

// emrSpark is every Amazon EMR on EKS release from emr-6.2.0 to the newest, with the Spark
// version its release notes name (the -amzn-N suffix dropped) and the image's Spark line.
// catalog.yaml records the page each row was read from.
var emrSpark = []struct {
	label, spark, image string
}{
	{"emr-6.2.0", "3.0.1", ""},
	{"emr-6.3.0", "3.1.1", "apache/spark:v3.1.3"},
	{"emr-6.4.0", "3.1.2", "apache/spark:v3.1.3"},
	{"emr-6.5.0", "3.1.2", "apache/spark:v3.1.3"},
	{"emr-6.6.0", "3.2.0", "apache/spark:v3.2.1"},
	{"emr-6.7.0", "3.2.1", "apache/spark:v3.2.1"},
	{"emr-6.8.0", "3.3.0", "apache/spark:3.3.0"},
	{"emr-6.9.0", "3.3.0", "apache/spark:3.3.0"},
	{"emr-6.10.0", "3.3.1", "apache/spark:3.3.1"},
	{"emr-6.11.0", "3.3.2", "apache/spark:3.3.2"},
	{"emr-6.12.0", "3.4.0", "apache/spark:3.4.0"},
	{"emr-6.13.0", "3.4.1", "apache/spark:3.4.1"},
	{"emr-6.14.0", "3.4.1", "apache/spark:3.4.1"},
	{"emr-6.15.0", "3.4.1", "apache/spark:3.4.1"},
	{"emr-7.0.0", "3.5.0", "apache/spark:3.5.0"},
	{"emr-7.1.0", "3.5.0", "apache/spark:3.5.0"},
	{"emr-7.2.0", "3.5.1", "apache/spark:3.5.1"},
	{"emr-7.3.0", "3.5.1", "apache/spark:3.5.1"},
	{"emr-7.4.0", "3.5.2", "apache/spark:3.5.2"},
	{"emr-7.5.0", "3.5.2", "apache/spark:3.5.2"},
	{"emr-7.6.0", "3.5.3", "apache/spark:3.5.3"},
	{"emr-7.7.0", "3.5.3", "apache/spark:3.5.3"},
	{"emr-7.8.0", "3.5.4", "apache/spark:3.5.4"},
	{"emr-7.9.0", "3.5.5", "apache/spark:3.5.5"},
	{"emr-7.10.0", "3.5.5", "apache/spark:3.5.5"},
	{"emr-7.11.0", "3.5.6", "apache/spark:3.5.6"},
	{"emr-7.12.0", "3.5.6", "apache/spark:3.5.6"},
	{"emr-7.13.0", "3.5.6", "apache/spark:3.5.6"},
	{"emr-spark-8.0.0", "4.0.2", "apache/spark:4.0.2"},
}

func TestDefaultEMRLabels(t *testing.T) {
	c := Default()
	for _, tt := range emrSpark {
		for _, l := range []string{tt.label, tt.label + "-latest"} {
			t.Run(l, func(t *testing.T) {
				r, err := c.Lookup(l)
				supported := tt.image != ""
				if supported && err != nil {
					t.Fatalf("Lookup(%q): %v", l, err)
				}
				if !supported && !errors.Is(err, ErrUnsupportedRelease) {
					t.Fatalf("Lookup(%q) error = %v, want ErrUnsupportedRelease", l, err)
				}
				if r.SparkVersion != tt.spark || r.Image != tt.image || r.Canonical != tt.label || r.Supported != supported {
					t.Errorf("Lookup(%q) = %+v, want Spark %s, image %q, supported %v", l, r, tt.spark, tt.image, supported)
				}
				// Every EMR mapping says where it was read, and the note names the exact
				// build the release ships.
				if !strings.HasPrefix(r.Source, "https://docs.aws.amazon.com/emr/latest/") {
					t.Errorf("%s: source %q is not an AWS documentation page", l, r.Source)
				}
				if !strings.Contains(r.Note, tt.spark) {
					t.Errorf("%s: note %q does not name the shipped Spark %s", l, r.Note, tt.spark)
				}
				// An image of another patch release than the shipped one is explained.
				tag := strings.TrimPrefix(r.Image[strings.LastIndex(r.Image, ":")+1:], "v")
				if supported && tag != tt.spark && !strings.Contains(r.Note, "nearest") {
					t.Errorf("%s: image %s is not Spark %s and the note does not say why: %q", l, r.Image, tt.spark, r.Note)
				}
			})
		}
	}
	// The table is the whole EMR part of the catalog: no label is left untested.
	n := 0
	for _, r := range c.Releases() {
		if strings.HasPrefix(r.Canonical, "emr-") {
			n++
		}
	}
	if n != 2*len(emrSpark) {
		t.Errorf("catalog has %d EMR labels and aliases, the table covers %d", n, 2*len(emrSpark))
	}
}

// TestDefaultImagesMatchLines checks that every runnable entry runs an image of its own Spark
// line, so a catalog edit cannot pair a version with another line's image.
func TestDefaultImagesMatchLines(t *testing.T) {
	for _, r := range Default().Releases() {
		if !r.Supported {
			if r.Image != "" {
				t.Errorf("%s: unsupported release with image %q", r.Label, r.Image)
			}
			continue
		}
		tag := r.Image[strings.LastIndex(r.Image, ":")+1:]
		line := r.SparkVersion[:strings.LastIndex(r.SparkVersion, ".")]
		if !strings.HasPrefix(strings.TrimPrefix(tag, "v"), line+".") {
			t.Errorf("%s: image %s is not of the Spark %s line", r.Label, r.Image, line)
		}
		// The Apache project's images before 3.3 are v-prefixed, from 3.3 on they are not.
		if v := strings.HasPrefix(tag, "v"); v != (line == "3.1" || line == "3.2") {
			t.Errorf("%s: image tag %q has the wrong form for Spark %s", r.Label, tag, line)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	tests := []struct {
		label string
		// nearest are the suggestions, in order; nil means none.
		nearest []string
	}{
		{"emr-7.2.1", []string{"emr-7.0.0", "emr-7.1.0", "emr-7.2.0", "emr-7.3.0", "emr-7.4.0"}},
		{"emr-7.2.1-latest", []string{"emr-7.0.0-latest", "emr-7.1.0-latest", "emr-7.2.0-latest", "emr-7.3.0-latest", "emr-7.4.0-latest"}},
		{"emr-7.2", []string{"emr-6.15.0", "emr-7.0.0", "emr-7.1.0", "emr-7.2.0", "emr-7.3.0"}},
		{"emr-6.1.0", []string{"emr-6.2.0", "emr-6.3.0", "emr-6.4.0", "emr-6.5.0", "emr-6.6.0"}},
		{"emr-9.0.0", []string{"emr-7.9.0", "emr-7.10.0", "emr-7.11.0", "emr-7.12.0", "emr-7.13.0"}},
		{"emr-spark-8.1.0", []string{"emr-spark-8.0.0"}},
		{"spark-3.5.99", []string{"spark-3.5.5", "spark-3.5.6", "spark-3.5.7", "spark-4.0.0", "spark-4.0.1"}},
		{"spark-3.0.0", []string{"spark-3.1.3", "spark-3.2.1", "spark-3.3.0", "spark-3.3.1", "spark-3.3.2"}},
		{"flink-1.0.0", nil},
		{"emr7.2.0", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			_, err := Default().Lookup(tt.label)
			if !errors.Is(err, ErrUnknownLabel) {
				t.Fatalf("Lookup(%q) error = %v, want ErrUnknownLabel", tt.label, err)
			}
			var ue *UnknownLabelError
			if !errors.As(err, &ue) || !reflect.DeepEqual(ue.Suggestions, tt.nearest) {
				t.Errorf("Lookup(%q) suggestions = %q, want %q", tt.label, ue.Suggestions, tt.nearest)
			}
			msg := err.Error()
			if !strings.Contains(msg, "releaseLabel") || !strings.Contains(msg, "release catalog") {
				t.Errorf("error %q should name the field and say where valid labels are", msg)
			}
			if tt.nearest != nil && !strings.Contains(msg, "nearest valid labels: "+strings.Join(tt.nearest, ", ")) {
				t.Errorf("error %q should list the nearest labels %v", msg, tt.nearest)
			}
			if Default().Known(tt.label) || Default().Check(tt.label) == nil {
				t.Errorf("Known/Check(%q) accept an unknown label", tt.label)
			}
		})
	}
}

func TestLookupUnsupported(t *testing.T) {
	for _, label := range []string{"emr-6.2.0", "emr-6.2.0-latest"} {
		r, err := Default().Lookup(label)
		if !errors.Is(err, ErrUnsupportedRelease) || errors.Is(err, ErrUnknownLabel) {
			t.Fatalf("Lookup(%q) error = %v, want ErrUnsupportedRelease", label, err)
		}
		if r.SparkVersion != "3.0.1" || r.Supported || r.Image != "" {
			t.Errorf("Lookup(%q) = %+v, want the unsupported 3.0.1 release", label, r)
		}
		msg := err.Error()
		for _, want := range []string{"releaseLabel", label, "Spark 3.0.1", spark.SupportedRange(), "nearest supported labels: emr-6.3.0"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q lacks %q", msg, want)
			}
		}
		if !Default().Known(label) || Default().Check(label) == nil {
			t.Errorf("%s: Known should hold (the catalog lists it) and Check should refuse it", label)
		}
	}
	if err := Default().Check("emr-6.3.0-latest"); err != nil {
		t.Errorf("Check(emr-6.3.0-latest) = %v", err)
	}
	// An operator's file can list an unsupported release too, without an image.
	c, err := Parse([]byte("releases:\n- {label: old, sparkVersion: 2.4.8, note: EMR 5.36.0}\n- {label: new, sparkVersion: 3.5.3, image: a}\n"), "inline")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup("old"); !errors.Is(err, ErrUnsupportedRelease) || !strings.Contains(err.Error(), "2.4.8") {
		t.Errorf("Lookup(old) = %v", err)
	}
}

func TestLabelsOrdered(t *testing.T) {
	l := Default().Labels()
	if l[0] != "spark-3.1.3" {
		t.Errorf("first label = %s, want spark-3.1.3", l[0])
	}
	idx := map[string]int{}
	for i, s := range l {
		idx[s] = i
	}
	for _, pair := range [][2]string{{"spark-3.5.3", "spark-4.0.4"}, {"spark-4.2.0", "emr-6.5.0"}, {"emr-6.9.0", "emr-6.10.0"}, {"emr-6.15.0", "emr-7.0.0"}, {"emr-7.2.0", "emr-7.2.0-latest"}, {"emr-7.13.0", "emr-spark-8.0.0"}, {"emr-spark-8.0.0", "emr-spark-8.0.0-latest"}} {
		if idx[pair[0]] >= idx[pair[1]] {
			t.Errorf("%s should come before %s", pair[0], pair[1])
		}
	}
	l[0] = "mutated"
	if Default().Labels()[0] == "mutated" {
		t.Error("Labels returned the catalog's own slice")
	}
	if len(Default().Releases()) != len(l) {
		t.Error("Releases and Labels differ in length")
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantErr  string // substrings, "|"-separated; empty means success
		known    []string
		notKnown []string
	}{
		{name: "replace", body: "releases:\n- {label: custom-1, sparkVersion: 3.5.3, image: registry.local/spark:3.5.3-custom}\n",
			known: []string{"custom-1"}, notKnown: []string{"spark-3.5.3"}},
		{name: "extend defaults and override", body: "includeDefaults: true\nreleases:\n- {label: emr-7.2.0, sparkVersion: 3.5.3, image: mirror/spark:3.5.3}\n- {label: mine, aliases: [mine-latest], sparkVersion: 4.0.4, image: 'mirror/spark:4.0.4'}\n",
			known: []string{"spark-3.5.3", "emr-7.2.0", "mine", "mine-latest"}},
		{name: "json", body: `{"releases":[{"label":"j","sparkVersion":"4.2.0","image":"x/y:4.2.0"}]}`, known: []string{"j"}},
		{name: "unsupported version with image", body: "releases:\n- {label: ok, sparkVersion: 3.5.3, image: a}\n- {label: old, sparkVersion: 3.0.1, image: a}\n",
			wantErr: `releases[1] (label "old")|sparkVersion|"3.0.1"|3.1.1 up to 4.2.x|without an image`},
		{name: "unsupported version without image", body: "releases:\n- {label: old, sparkVersion: 3.0.1}\n", known: []string{"old"}},
		{name: "3.1 and 3.2 supported", body: "releases:\n- {label: a, sparkVersion: 3.1.2, image: x}\n- {label: b, sparkVersion: 3.2.0, image: y}\n", known: []string{"a", "b"}},
		{name: "source field", body: "releases:\n- {label: a, sparkVersion: 3.5.3, image: x, source: 'https://example.com/notes'}\n", known: []string{"a"}},
		{name: "version not semver", body: "releases:\n- {label: x, sparkVersion: '3.5', image: a}\n", wantErr: "sparkVersion|MAJOR.MINOR.PATCH"},
		{name: "future major", body: "releases:\n- {label: x, sparkVersion: 5.0.0, image: a}\n", wantErr: "sparkVersion|not supported"},
		{name: "newer 4.x line", body: "releases:\n- {label: x, sparkVersion: 4.3.0, image: a}\n", wantErr: "sparkVersion|4.2.x"},
		{name: "leading zero", body: "releases:\n- {label: x, sparkVersion: 3.05.1}\n", wantErr: "sparkVersion|MAJOR.MINOR.PATCH"},
		{name: "supported without image", body: "releases:\n- {label: x, sparkVersion: 3.5.3}\n", wantErr: `releases[0] (label "x")|image`},
		{name: "empty image", body: "releases:\n- {label: x, sparkVersion: 3.5.3, image: ''}\n", wantErr: `releases[0] (label "x")|image`},
		{name: "image with space", body: "releases:\n- {label: x, sparkVersion: 3.5.3, image: 'a b'}\n", wantErr: "image"},
		{name: "bad label", body: "releases:\n- {label: 'has space', sparkVersion: 3.5.3, image: a}\n", wantErr: "label|has space"},
		{name: "bad alias", body: "releases:\n- {label: x, aliases: ['a b'], sparkVersion: 3.5.3, image: a}\n", wantErr: "aliases[0]"},
		{name: "duplicate", body: "releases:\n- {label: x, sparkVersion: 3.5.3, image: a}\n- {label: y, aliases: [x], sparkVersion: 3.5.3, image: a}\n", wantErr: `releases[1]|"x" is already defined by releases[0]`},
		{name: "unknown field", body: "releases:\n- {label: x, sparkVersoin: 3.5.3, image: a}\n", wantErr: "(file)|sparkVersoin"},
		{name: "no releases", body: "includeDefaults: true\n", wantErr: "releases|at least one"},
		{name: "not yaml", body: "releases: [", wantErr: "(file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "catalog.yaml")
			if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Load succeeded, want error containing %q", tt.wantErr)
				}
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("error %T is not *ValidationError", err)
				}
				for _, s := range strings.Split(tt.wantErr, "|") {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.known {
				if !c.Known(l) {
					t.Errorf("Known(%q) = false", l)
				}
			}
			for _, l := range tt.notKnown {
				if c.Known(l) {
					t.Errorf("Known(%q) = true", l)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read release catalog") {
		t.Errorf("Load(missing) error = %v", err)
	}
}

func TestLoadOverrideWins(t *testing.T) {
	c, err := Parse([]byte("includeDefaults: true\nreleases:\n- {label: emr-7.2.0, sparkVersion: 3.5.3, image: mirror/spark:3.5.3}\n"), "inline")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := c.Lookup("emr-7.2.0")
	if r.Image != "mirror/spark:3.5.3" || r.SparkVersion != "3.5.3" {
		t.Errorf("override lost: %+v", r)
	}
	// The alias from the default stays as it was: the override names only the main label.
	r, _ = c.Lookup("emr-7.2.0-latest")
	if r.SparkVersion != "3.5.1" {
		t.Errorf("default alias changed: %+v", r)
	}
	if d, _ := Default().Lookup("emr-7.2.0"); d.Image != "apache/spark:3.5.1" {
		t.Errorf("override changed the default catalog: %+v", d)
	}
}
