package spark

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestApplyClassifications(t *testing.T) {
	got, err := ApplyClassifications([]Classification{
		{Classification: "spark-defaults", Properties: map[string]string{"spark.executor.instances": "2", "spark.x": "1"}},
		{Classification: "spark-defaults", Properties: map[string]string{"spark.x": "2"}},
		{Classification: "spark-env", Configurations: []Classification{{Classification: "export", Properties: map[string]string{"PYSPARK_PYTHON": "python3"}}}},
		{Classification: "spark-log4j2", Properties: map[string]string{"rootLogger.level": "warn", "logger.a.name": "org.apache:x"}},
		{Classification: "spark-hive-site", Properties: map[string]string{"hive.metastore.uris": "thrift://hms:9083", "x": "a<b&c"}},
		{Classification: "spark-metrics", Properties: map[string]string{"*.sink.prometheusServlet.class": "org.apache.spark.metrics.sink.PrometheusServlet"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantConf := map[string]string{"spark.executor.instances": "2", "spark.x": "2",
		"spark.kubernetes.driverEnv.PYSPARK_PYTHON": "python3", "spark.executorEnv.PYSPARK_PYTHON": "python3"}
	if !reflect.DeepEqual(got.Conf, wantConf) {
		t.Errorf("Conf = %v", got.Conf)
	}
	if l := got.ConfFiles["log4j2.properties"]; ReadProperties(l)["logger.a.name"] != "org.apache:x" || strings.Contains(l, "1970") {
		t.Errorf("log4j2.properties = %q", l)
	}
	if h := got.ConfFiles["hive-site.xml"]; !strings.Contains(h, "<name>hive.metastore.uris</name>") || !strings.Contains(h, "a&lt;b&amp;c") {
		t.Errorf("hive-site.xml = %q", h)
	}
	if _, ok := got.ConfFiles["metrics.properties"]; !ok {
		t.Error("metrics.properties missing")
	}
	// The files go into a Build as ConfFiles and are mounted in /opt/spark/conf.
	j := minimalJob("3.5.3")
	j.ConfFiles = got.ConfFiles
	o, err := Build(j)
	if err != nil {
		t.Fatal(err)
	}
	if o.ConfigMap.Data["hive-site.xml"] == "" {
		t.Error("hive-site.xml not shipped")
	}
}

func TestApplyClassificationsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []Classification
		want string
	}{
		{"unknown", []Classification{{Classification: "emrfs-site"}}, `applicationConfiguration[0].classification (classification "emrfs-site"): is not supported; supported classifications: spark-defaults, spark-env, spark-hive-site, spark-log4j2, spark-metrics`},
		{"log4j1", []Classification{{Classification: "spark-defaults"}, {Classification: "spark-log4j"}}, "applicationConfiguration[1]"},
		{"env props", []Classification{{Classification: "spark-env", Properties: map[string]string{"A": "1"}}}, "export"},
		{"env nested", []Classification{{Classification: "spark-env", Configurations: []Classification{{Classification: "other"}}}}, "configurations[0]"},
		{"env name", []Classification{{Classification: "spark-env", Configurations: []Classification{{Classification: "export", Properties: map[string]string{"1BAD": "x"}}}}}, "1BAD"},
		{"nested defaults", []Classification{{Classification: "spark-defaults", Configurations: []Classification{{Classification: "x"}}}}, "must be empty"},
		{"empty key", []Classification{{Classification: "spark-defaults", Properties: map[string]string{" ": "x"}}}, "keys must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ApplyClassifications(tt.in)
			var ce *ClassificationError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want *ClassificationError containing %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "configurationOverrides.") {
				t.Errorf("error %q does not name the field", err)
			}
		})
	}
}
