package emulator

import (
	"maps"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    map[string]string
		wantErr string
	}{
		{
			name: "spark-submit output",
			text: "#Java properties built from Kubernetes config map with name: spark-drv-1-conf-map\n" +
				"#Fri Nov 27 03:00:00 UTC 2026\n" +
				"spark.jars=local\\:///opt/spark/examples/jars/spark-examples.jar\n" +
				"spark.kubernetes.container.image=spark\\:4.0.4\n" +
				"spark.executor.instances=2\n",
			want: map[string]string{
				"spark.jars":                       "local:///opt/spark/examples/jars/spark-examples.jar",
				"spark.kubernetes.container.image": "spark:4.0.4",
				"spark.executor.instances":         "2",
			},
		},
		{
			name: "separators, comments and blank lines",
			text: "! bang comment\n  # indented comment\n\na:1\nb 2\nc   =   3  \n d=\ne\n",
			want: map[string]string{"a": "1", "b": "2", "c": "3  ", "d": "", "e": ""},
		},
		{
			name: "continuation lines",
			text: "spark.driver.extraJavaOptions=-Da=1 \\\n    -Db=2\nx=y\\\\\nz=w\n",
			want: map[string]string{"spark.driver.extraJavaOptions": "-Da=1 -Db=2", "x": `y\`, "z": "w"},
		},
		{
			name: "escapes in keys and values",
			text: "key\\ with\\=odd\\:chars=tab\\there\\nnl \\u00e9t\\u00e9\n",
			want: map[string]string{"key with=odd:chars": "tab\there\nnl été"},
		},
		{
			name: "later duplicate wins",
			text: "a=1\na=2\n",
			want: map[string]string{"a": "2"},
		},
		{
			name:    "bad unicode escape",
			text:    "a=\\u12\n",
			wantErr: "line 1: value of a: malformed \\u escape",
		},
		{
			name:    "non-hex unicode escape",
			text:    "ok=1\nb\\uzzzz=1\n",
			wantErr: "line 2: key: malformed \\u escape",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseProperties error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseProperties =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
