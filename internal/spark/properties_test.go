package spark

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWriteProperties(t *testing.T) {
	got := WriteProperties(map[string]string{
		"spark.jars":                       "local:///opt/a.jar",
		"spark.kubernetes.container.image": "spark:4.0.4",
		"a key":                            " lead and trail ",
		"esc":                              "a=b#c!d\\e\tf\ng\rh\fi",
		"uni":                              "é€😀\x01",
		"empty":                            "",
	}, "Java properties built from Kubernetes config map with name: spark-drv-1-conf-map", time.Date(2025, 11, 26, 10, 4, 5, 0, time.UTC))
	want := "#Java properties built from Kubernetes config map with name: spark-drv-1-conf-map\n" +
		"#Wed Nov 26 10:04:05 UTC 2025\n" +
		"a\\ key=\\ lead and trail \n" +
		"empty=\n" +
		"esc=a\\=b\\#c\\!d\\\\e\\tf\\ng\\rh\\fi\n" +
		"spark.jars=local\\:///opt/a.jar\n" +
		"spark.kubernetes.container.image=spark\\:4.0.4\n" +
		"uni=\\u00E9\\u20AC\\uD83D\\uDE00\\u0001\n"
	if got != want {
		t.Errorf("WriteProperties =\n%s\nwant\n%s", got, want)
	}
}

func TestPropertiesRoundTrip(t *testing.T) {
	in := map[string]string{
		"spark.driver.extraJavaOptions": "-Dlog4j.configurationFile=file:/x -XX:+UseG1GC",
		"k:with=seps":                   "v with spaces",
		" leading":                      "  two",
		"multi":                         "line1\nline2",
		"unicode":                       "日本語 ✓ 😀",
		"back\\slash":                   "c:\\path\\",
	}
	text := WriteProperties(in, "c", time.Time{})
	if strings.ContainsFunc(text, func(r rune) bool { return r > 0x7e }) {
		t.Error("output is not pure ASCII")
	}
	if got := ReadProperties(text); !reflect.DeepEqual(got, in) {
		t.Errorf("round trip =\n%q\nwant\n%q", got, in)
	}
	// Java also accepts ':' and whitespace separators and continuation lines.
	got := ReadProperties("# c\n! c\na:1\nb 2\nc = 3 \\\n    continued\n\n")
	want := map[string]string{"a": "1", "b": "2", "c": "3 continued"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadProperties = %q", got)
	}
}
