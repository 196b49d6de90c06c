package spark

import (
	"fmt"
	"strconv"
	"strings"
)

// Params is a parsed sparkSubmitParameters string.
type Params struct {
	// MainClass is --class.
	MainClass string
	// Name is --name; it is also in Conf as spark.app.name.
	Name string
	// ProxyUser is --proxy-user (passed to the driver as in spark-submit).
	ProxyUser string
	// Verbose is --verbose / -v.
	Verbose bool
	// Conf holds every --conf/-c pair plus the confs the other options map to (--jars to
	// spark.jars, --num-executors to spark.executor.instances, ...). As in spark-submit, an
	// option wins over a --conf of the same key whatever their order.
	Conf map[string]string
	// SQLArgs are the Spark SQL CLI options kept by ParseSQLParameters (--hiveconf k=v,
	// --hivevar k=v, -d/--define k=v, --database db, -i file), in order.
	SQLArgs []string
}

// optionConf maps the spark-submit options that only set a Spark configuration key (in
// cluster mode on Kubernetes) to that key, as SparkSubmit's OptionAssigner list does.
var optionConf = map[string]string{
	"--jars":                 "spark.jars",
	"--files":                "spark.files",
	"--py-files":             "spark.submit.pyFiles",
	"--archives":             "spark.archives",
	"--packages":             "spark.jars.packages",
	"--repositories":         "spark.jars.repositories",
	"--exclude-packages":     "spark.jars.excludes",
	"--driver-memory":        "spark.driver.memory",
	"--driver-cores":         "spark.driver.cores",
	"--executor-memory":      "spark.executor.memory",
	"--executor-cores":       "spark.executor.cores",
	"--num-executors":        "spark.executor.instances",
	"--total-executor-cores": "spark.cores.max",
	"--driver-java-options":  "spark.driver.extraJavaOptions",
	"--driver-library-path":  "spark.driver.extraLibraryPath",
	"--driver-class-path":    "spark.driver.extraClassPath",
	"--name":                 "spark.app.name",
}

// refusedOptions are spark-submit options that make no sense for a service job, with why.
var refusedOptions = map[string]string{
	"--master":              "the service chooses the cluster: it is the virtual cluster's",
	"--deploy-mode":         "jobs always run in cluster mode",
	"--kill":                "cancel the job run with CancelJobRun instead",
	"--status":              "read the job run with DescribeJobRun instead",
	"--supervise":           "is for Spark standalone and Mesos; use retryPolicyConfiguration instead",
	"--queue":               "is for YARN; use node selectors or a pod template instead",
	"--principal":           "Kerberos login is not supported",
	"--keytab":              "Kerberos login is not supported",
	"--properties-file":     "names a file on the submitting machine, which the server does not have; pass the settings with --conf or the spark-defaults classification",
	"--load-spark-defaults": "there is no spark-defaults.conf on the server; use the spark-defaults classification",
	"--help":                "is not a job option",
	"-h":                    "is not a job option",
	"--version":             "is not a job option",
	"--usage-error":         "is not a job option",
	"--remote":              "Spark Connect clients are not job runs",
	"--driver-url":          "is internal to Spark",
}

// sqlOptions are Spark SQL CLI options ParseSQLParameters keeps; true means "takes a value".
var sqlOptions = map[string]bool{"--hiveconf": true, "--hivevar": true, "-d": true, "--define": true, "--database": true, "-i": true}

// ParseSubmitParameters parses StartJobRun's sparkSubmitParameters the way spark-submit parses
// its command line: shell-style words (single quotes, double quotes, backslashes), options as
// "--opt value" or "--opt=value", mapped to the configuration keys spark-submit sets. Options
// that cannot apply to a job run, positional arguments and malformed values are refused with
// a *ParamError naming the option and the rule.
func ParseSubmitParameters(s string) (Params, error) {
	return parseParams(s, "sparkSubmitParameters", false)
}

// ParseSQLParameters parses sparkSqlJobDriver.sparkSqlParameters: the spark-submit options
// of ParseSubmitParameters plus the Spark SQL CLI options --hiveconf, --hivevar, -d/--define,
// --database and -i, which are kept in SQLArgs for the driver's command line.
func ParseSQLParameters(s string) (Params, error) {
	return parseParams(s, "sparkSqlParameters", true)
}

func parseParams(s, field string, sql bool) (Params, error) {
	words, err := splitWords(s)
	if err != nil {
		return Params{}, &ParamError{Field: field, Rule: err.Error()}
	}
	p := Params{Conf: map[string]string{}}
	options := map[string]string{}
	for i := 0; i < len(words); i++ {
		opt, val, hasVal := words[i], "", false
		if strings.HasPrefix(opt, "--") {
			if o, v, ok := strings.Cut(opt, "="); ok {
				opt, val, hasVal = o, v, true
			}
		}
		bad := func(rule string) error { return &ParamError{Field: field, Option: opt, Rule: rule} }
		if reason, ok := refusedOptions[opt]; ok {
			return Params{}, bad("is not allowed: " + reason)
		}
		takesValue := opt == "--class" || opt == "--conf" || opt == "-c" || opt == "--proxy-user" || optionConf[opt] != "" || (sql && sqlOptions[opt])
		if !takesValue {
			switch {
			case opt == "--verbose" || opt == "-v":
				if hasVal {
					return Params{}, bad("takes no value")
				}
				p.Verbose = true
				continue
			case strings.HasPrefix(opt, "-"):
				return Params{}, bad("is not a spark-submit option sparkplane knows")
			default:
				return Params{}, &ParamError{Field: field, Option: opt, Rule: "unexpected argument: the entry point and its arguments go in entryPoint and entryPointArguments"}
			}
		}
		if !hasVal {
			if i+1 >= len(words) {
				return Params{}, bad("needs a value")
			}
			i++
			val = words[i]
		}
		switch {
		case opt == "--class":
			p.MainClass = val
		case opt == "--proxy-user":
			p.ProxyUser = val
		case opt == "--conf" || opt == "-c":
			k, v, ok := strings.Cut(val, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return Params{}, bad(fmt.Sprintf("%q must be key=value", val))
			}
			p.Conf[k] = v
		case sql && sqlOptions[opt]:
			p.SQLArgs = append(p.SQLArgs, opt, val)
		default:
			if err := checkOptionValue(opt, val); err != nil {
				return Params{}, bad(err.Error())
			}
			options[opt] = val
		}
	}
	for opt, val := range options {
		p.Conf[optionConf[opt]] = val
	}
	p.Name = p.Conf["spark.app.name"]
	return p, nil
}

func checkOptionValue(opt, val string) error {
	switch opt {
	case "--num-executors", "--executor-cores", "--driver-cores", "--total-executor-cores":
		if n, err := strconv.Atoi(val); err != nil || n < 1 {
			return fmt.Errorf("%q must be a whole number of 1 or more", val)
		}
	case "--driver-memory", "--executor-memory":
		if _, err := parseByteString(val, 1<<20); err != nil {
			return err
		}
	case "--name":
		if strings.TrimSpace(val) == "" {
			return fmt.Errorf("must not be empty")
		}
	}
	return nil
}

// splitWords splits s into words like a POSIX shell without expansions: whitespace separates
// words; single quotes keep everything literally; double quotes keep everything except that a
// backslash escapes ", \, $, ` and newline; outside quotes a backslash escapes any character
// and a backslash-newline joins lines.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("ends with an unfinished backslash escape")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				inWord = true
			}
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("single quote at offset %d is never closed", i)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ch == '"':
			start := i
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("double quote at offset %d is never closed", start)
			}
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
