package spark

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Classification is one entry of configurationOverrides.applicationConfiguration.
type Classification struct {
	Classification string
	Properties     map[string]string
	Configurations []Classification
}

// Classified is what the application configuration contributes to a job: Spark settings
// (the spark-defaults level of the precedence) and files for the driver's SPARK_CONF_DIR.
type Classified struct {
	// Conf holds spark-defaults entries and the env settings spark-env maps to.
	Conf map[string]string
	// ConfFiles are files for /opt/spark/conf; pass them as Job.ConfFiles.
	ConfFiles map[string]string
}

// The classifications ApplyClassifications understands, and what each becomes.
//
//   - spark-defaults: Spark settings, as spark-defaults.conf would give them.
//   - spark-env: the properties of its nested "export" classification become environment
//     variables of the driver (spark.kubernetes.driverEnv.X) and of the executors
//     (spark.executorEnv.X).
//   - spark-log4j2: log4j2.properties in SPARK_CONF_DIR. The stock image's launcher puts
//     SPARK_CONF_DIR first on the driver's classpath, where Log4j 2 looks for it.
//   - spark-hive-site: hive-site.xml in SPARK_CONF_DIR, which Spark's Hive support loads from
//     the classpath.
//   - spark-metrics: metrics.properties in SPARK_CONF_DIR, which Spark's metrics system loads
//     from the classpath.
//
// spark-log4j (Log4j 1) is refused: every Spark sparkplane runs (3.3+) logs with Log4j 2 and
// would ignore the file; use spark-log4j2.
var knownClassifications = []string{"spark-defaults", "spark-env", "spark-hive-site", "spark-log4j2", "spark-metrics"}

var reEnvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ApplyClassifications maps configurationOverrides.applicationConfiguration to Spark settings
// and conf files. Later entries win over earlier ones for the same key. An unknown or
// malformed classification is a *ClassificationError naming it, its place and the rule.
func ApplyClassifications(list []Classification) (Classified, error) {
	out := Classified{Conf: map[string]string{}, ConfFiles: map[string]string{}}
	log4j2, hive, metrics := map[string]string{}, map[string]string{}, map[string]string{}
	for i, c := range list {
		path := fmt.Sprintf("applicationConfiguration[%d]", i)
		bad := func(p, rule string) error {
			return &ClassificationError{Path: p, Classification: c.Classification, Rule: rule}
		}
		if c.Classification != "spark-env" && len(c.Configurations) > 0 {
			return out, bad(path+".configurations", "must be empty for this classification")
		}
		switch c.Classification {
		case "spark-defaults":
			for _, k := range sortedKeys(c.Properties) {
				if strings.TrimSpace(k) == "" {
					return out, bad(path+".properties", "keys must not be empty")
				}
				out.Conf[k] = c.Properties[k]
			}
		case "spark-env":
			if len(c.Properties) > 0 {
				return out, bad(path+".properties", `must be empty: put variables in a nested "export" classification`)
			}
			for j, n := range c.Configurations {
				np := fmt.Sprintf("%s.configurations[%d]", path, j)
				if n.Classification != "export" {
					return out, &ClassificationError{Path: np, Classification: n.Classification, Rule: `spark-env only takes nested "export" classifications`}
				}
				if len(n.Configurations) > 0 {
					return out, &ClassificationError{Path: np + ".configurations", Classification: n.Classification, Rule: "must be empty"}
				}
				for _, name := range sortedKeys(n.Properties) {
					if !reEnvName.MatchString(name) {
						return out, &ClassificationError{Path: np + ".properties", Classification: n.Classification, Rule: fmt.Sprintf("%q is not an environment variable name", name)}
					}
					out.Conf["spark.kubernetes.driverEnv."+name] = n.Properties[name]
					out.Conf["spark.executorEnv."+name] = n.Properties[name]
				}
			}
		case "spark-log4j2":
			mergeInto(log4j2, c.Properties)
		case "spark-hive-site":
			mergeInto(hive, c.Properties)
		case "spark-metrics":
			mergeInto(metrics, c.Properties)
		case "spark-log4j":
			return out, bad(path+".classification", "Log4j 1 settings are ignored by Spark 3.3 and later, which log with Log4j 2; use spark-log4j2 with log4j2.properties keys")
		default:
			return out, bad(path+".classification", "is not supported; supported classifications: "+strings.Join(knownClassifications, ", "))
		}
	}
	if len(log4j2) > 0 {
		out.ConfFiles["log4j2.properties"] = propertiesBody(log4j2)
	}
	if len(metrics) > 0 {
		out.ConfFiles["metrics.properties"] = propertiesBody(metrics)
	}
	if len(hive) > 0 {
		out.ConfFiles["hive-site.xml"] = hiveSite(hive)
	}
	return out, nil
}

func mergeInto(dst, src map[string]string) {
	for k, v := range src {
		dst[k] = v
	}
}

// propertiesBody is a properties file without the date line, so the same input gives the same
// file.
func propertiesBody(m map[string]string) string {
	s := WriteProperties(m, "written by sparkplane from configurationOverrides", time.Time{})
	first := strings.IndexByte(s, '\n')
	second := strings.IndexByte(s[first+1:], '\n')
	return s[:first+1] + s[first+1+second+1:]
}

// hiveSite writes a Hadoop configuration XML file with the properties in key order.
func hiveSite(m map[string]string) string {
	var sb strings.Builder
	sb.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- written by sparkplane from configurationOverrides -->\n<configuration>\n")
	for _, k := range sortedKeys(m) {
		sb.WriteString("  <property>\n    <name>")
		xml.EscapeText(&sb, []byte(k))
		sb.WriteString("</name>\n    <value>")
		xml.EscapeText(&sb, []byte(m[k]))
		sb.WriteString("</value>\n  </property>\n")
	}
	sb.WriteString("</configuration>\n")
	return sb.String()
}
