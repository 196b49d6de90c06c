package release

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDefaultLookup(t *testing.T) {
	tests := []struct {
		label, version, image, canonical string
	}{
		{"spark-3.5.3", "3.5.3", "apache/spark:3.5.3", "spark-3.5.3"},
		{"spark-4.0.4", "4.0.4", "apache/spark:4.0.4", "spark-4.0.4"},
		{"spark-4.2.0", "4.2.0", "apache/spark:4.2.0", "spark-4.2.0"},
		{"spark-3.3.0", "3.3.0", "apache/spark:3.3.0", "spark-3.3.0"},
		{"emr-6.5.0-latest", "3.3.0", "apache/spark:3.3.0", "emr-6.5.0"},
		{"emr-6.15.0", "3.4.1", "apache/spark:3.4.1", "emr-6.15.0"},
		{"emr-6.15.0-latest", "3.4.1", "apache/spark:3.4.1", "emr-6.15.0"},
		{"emr-7.0.0", "3.5.0", "apache/spark:3.5.0", "emr-7.0.0"},
		{"emr-7.2.0", "3.5.1", "apache/spark:3.5.1", "emr-7.2.0"},
		{"emr-7.2.0-latest", "3.5.1", "apache/spark:3.5.1", "emr-7.2.0"},
	}
	c := Default()
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			r, err := c.Lookup(tt.label)
			if err != nil {
				t.Fatal(err)
			}
			want := Release{Label: tt.label, Canonical: tt.canonical, SparkVersion: tt.version, Image: tt.image}
			r.Note = ""
			if r != want {
				t.Errorf("Lookup(%q) = %+v, want %+v", tt.label, r, want)
			}
			if !c.Known(tt.label) {
				t.Errorf("Known(%q) = false", tt.label)
			}
		})
	}
}

func TestDefaultCoversEMRLines(t *testing.T) {
	c := Default()
	for minor := 5; minor <= 15; minor++ {
		for _, suffix := range []string{"", "-latest"} {
			l := "emr-6." + itoa(minor) + ".0" + suffix
			if !c.Known(l) {
				t.Errorf("default catalog lacks %s", l)
			}
		}
	}
	for minor := 0; minor <= 12; minor++ {
		l := "emr-7." + itoa(minor) + ".0-latest"
		if !c.Known(l) {
			t.Errorf("default catalog lacks %s", l)
		}
	}
	r, _ := c.Lookup("emr-6.5.0-latest")
	if !strings.Contains(r.Note, "3.1.2") {
		t.Errorf("emr-6.5.0 note should say EMR ships Spark 3.1.2, got %q", r.Note)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLookupUnknown(t *testing.T) {
	tests := []struct {
		label      string
		suggestion string
	}{
		{"emr-7.2.1", "emr-7.2.0"},
		{"spark-3.5.99", "spark-3.5.3"},
		{"emr-9.0.0", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			_, err := Default().Lookup(tt.label)
			if !errors.Is(err, ErrUnknownLabel) {
				t.Fatalf("Lookup(%q) error = %v, want ErrUnknownLabel", tt.label, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "releaseLabel") || !strings.Contains(msg, "release catalog") {
				t.Errorf("error %q should name the field and say where valid labels are", msg)
			}
			if tt.suggestion != "" && !strings.Contains(msg, tt.suggestion) {
				t.Errorf("error %q should suggest %s", msg, tt.suggestion)
			}
			if Default().Known(tt.label) {
				t.Errorf("Known(%q) = true", tt.label)
			}
		})
	}
}

func TestLabelsOrdered(t *testing.T) {
	l := Default().Labels()
	if l[0] != "spark-3.3.0" {
		t.Errorf("first label = %s, want spark-3.3.0", l[0])
	}
	idx := map[string]int{}
	for i, s := range l {
		idx[s] = i
	}
	for _, pair := range [][2]string{{"spark-3.5.3", "spark-4.0.4"}, {"spark-4.2.0", "emr-6.5.0"}, {"emr-6.9.0", "emr-6.10.0"}, {"emr-6.15.0", "emr-7.0.0"}, {"emr-7.2.0", "emr-7.2.0-latest"}} {
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
		{name: "bad version", body: "releases:\n- {label: ok, sparkVersion: 3.5.3, image: a}\n- {label: old, sparkVersion: 3.1.2, image: a}\n",
			wantErr: `releases[1] (label "old")|sparkVersion|"3.1.2"|3.3.0`},
		{name: "version not semver", body: "releases:\n- {label: x, sparkVersion: '3.5', image: a}\n", wantErr: "sparkVersion|MAJOR.MINOR.PATCH"},
		{name: "future major", body: "releases:\n- {label: x, sparkVersion: 5.0.0, image: a}\n", wantErr: "sparkVersion"},
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

func TestSupportedSparkVersion(t *testing.T) {
	for v, want := range map[string]bool{"3.3.0": true, "3.5.3": true, "4.0.4": true, "4.2.0": true, "3.2.4": false, "2.4.8": false, "5.0.0": false, "3.5": false, "v3.5.3": false, "": false} {
		if got := SupportedSparkVersion(v); got != want {
			t.Errorf("SupportedSparkVersion(%q) = %v, want %v", v, got, want)
		}
	}
}
