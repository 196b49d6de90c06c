package spark

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckVersion(t *testing.T) {
	tests := []struct {
		v       string
		wantErr string // "" means supported
	}{
		{"3.1.1", ""},
		{"3.1.2", ""},
		{"3.1.3", ""},
		{"3.2.0", ""},
		{"3.3.0", ""},
		{"3.5.6", ""},
		{"4.0.2", ""},
		{"4.2.0", ""},
		{"4.2.9", ""},
		{"3.0.1", "not supported"},
		{"3.1.0", "not supported"},
		{"2.4.8", "not supported"},
		{"4.3.0", "not supported"},
		{"5.0.0", "not supported"},
		{"3.5", "MAJOR.MINOR.PATCH"},
		{"v3.5.3", "MAJOR.MINOR.PATCH"},
		{"3.5.3-amzn-0", "MAJOR.MINOR.PATCH"},
		{"03.5.3", "MAJOR.MINOR.PATCH"},
		{"", "MAJOR.MINOR.PATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			err := CheckVersion(tt.v)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckVersion(%q) = %v, want nil", tt.v, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("CheckVersion(%q) = %v, want an ErrInvalid containing %q", tt.v, err, tt.wantErr)
			}
			// The refusal names the field and the supported range, so a caller can pass
			// it on unchanged.
			if !strings.Contains(err.Error(), "SparkVersion") {
				t.Errorf("error %q does not name the field", err)
			}
			if tt.wantErr == "not supported" && !strings.Contains(err.Error(), SupportedRange()) {
				t.Errorf("error %q does not name the supported range %q", err, SupportedRange())
			}
		})
	}
}

func TestSupportedRange(t *testing.T) {
	want := "Spark 3.1.1 up to 4.2.x (the 3.1, 3.2, 3.3, 3.4, 3.5, 4.0, 4.1, 4.2 lines)"
	if got := SupportedRange(); got != want {
		t.Errorf("SupportedRange() = %q, want %q", got, want)
	}
	lines := SupportedLines()
	lines[0] = "mutated"
	if SupportedLines()[0] != "3.1" {
		t.Error("SupportedLines returned the package's own slice")
	}
	// Every line's first release the catalog can name must build.
	for _, l := range SupportedLines() {
		v := l + ".0"
		if l == "3.1" {
			v = OldestVersion
		}
		if _, err := Build(minimalJob(v)); err != nil {
			t.Errorf("Build for %s: %v", v, err)
		}
	}
}
