package spark

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{"  a  b\tc\n", []string{"a", "b", "c"}, ""},
		{`--conf 'spark.driver.extraJavaOptions=-Da=1 -Db=2'`, []string{"--conf", "spark.driver.extraJavaOptions=-Da=1 -Db=2"}, ""},
		{`--conf "k=a \"quoted\" \\ $x"`, []string{"--conf", `k=a "quoted" \ $x`}, ""},
		{`"keep \n backslash"`, []string{`keep \n backslash`}, ""},
		{`a\ b c\'d`, []string{"a b", "c'd"}, ""},
		{`x'y'"z"`, []string{"xyz"}, ""},
		{`''`, []string{""}, ""},
		{"a\\\nb", []string{"ab"}, ""},
		{`'open`, nil, "single quote at offset 0"},
		{`a "open`, nil, "double quote at offset 2"},
		{`trailing\`, nil, "backslash"},
	}
	for _, tt := range tests {
		got, err := splitWords(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("splitWords(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSubmitParameters(t *testing.T) {
	tests := []struct {
		in   string
		want Params
	}{
		{"", Params{Conf: map[string]string{}}},
		{"--class org.example.Main --conf spark.executor.instances=2 -c spark.a=b=c --verbose",
			Params{MainClass: "org.example.Main", Verbose: true, Conf: map[string]string{"spark.executor.instances": "2", "spark.a": "b=c"}}},
		{"--class=org.example.Main --conf=spark.x=1 --num-executors=3",
			Params{MainClass: "org.example.Main", Conf: map[string]string{"spark.x": "1", "spark.executor.instances": "3"}}},
		{"--num-executors 5 --conf spark.executor.instances=9", // the option wins whatever the order
			Params{Conf: map[string]string{"spark.executor.instances": "5"}}},
		{"--jars s3://b/a.jar,s3://b/b.jar --files s3://b/f --py-files s3://b/p.zip --archives s3://b/env.tgz#env " +
			"--packages org.a:b:1.0 --repositories https://repo --exclude-packages org.c:d " +
			"--driver-memory 2g --driver-cores 2 --executor-memory 4g --executor-cores 4 --total-executor-cores 16 " +
			"--driver-java-options '-Dx=1 -Dy=2' --driver-library-path /lib --driver-class-path /cp --name 'my job' --proxy-user bob",
			Params{Name: "my job", ProxyUser: "bob", Conf: map[string]string{
				"spark.jars": "s3://b/a.jar,s3://b/b.jar", "spark.files": "s3://b/f", "spark.submit.pyFiles": "s3://b/p.zip",
				"spark.archives": "s3://b/env.tgz#env", "spark.jars.packages": "org.a:b:1.0", "spark.jars.repositories": "https://repo",
				"spark.jars.excludes": "org.c:d", "spark.driver.memory": "2g", "spark.driver.cores": "2", "spark.executor.memory": "4g",
				"spark.executor.cores": "4", "spark.cores.max": "16", "spark.driver.extraJavaOptions": "-Dx=1 -Dy=2",
				"spark.driver.extraLibraryPath": "/lib", "spark.driver.extraClassPath": "/cp", "spark.app.name": "my job"}}},
		{"--conf spark.empty=", Params{Conf: map[string]string{"spark.empty": ""}}},
	}
	for _, tt := range tests {
		got, err := ParseSubmitParameters(tt.in)
		if err != nil {
			t.Errorf("ParseSubmitParameters(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSubmitParameters(%q) =\n %+v\nwant\n %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseSubmitParametersErrors(t *testing.T) {
	tests := []struct{ in, option, rule string }{
		{"--master yarn", "--master", "not allowed"},
		{"--deploy-mode client", "--deploy-mode", "cluster mode"},
		{"--kill x", "--kill", "CancelJobRun"},
		{"--status x", "--status", "DescribeJobRun"},
		{"--supervise", "--supervise", "not allowed"},
		{"--queue q", "--queue", "YARN"},
		{"--principal p", "--principal", "Kerberos"},
		{"--keytab k", "--keytab", "Kerberos"},
		{"--properties-file /etc/spark.conf", "--properties-file", "submitting machine"},
		{"--conf nokey", "--conf", "key=value"},
		{"--conf =v", "--conf", "key=value"},
		{"--class", "--class", "needs a value"},
		{"--num-executors 0", "--num-executors", "1 or more"},
		{"--executor-cores two", "--executor-cores", "whole number"},
		{"--driver-memory 2x", "--driver-memory", "unknown unit"},
		{"--bogus 1", "--bogus", "not a spark-submit option"},
		{"app.jar", "app.jar", "entryPoint"},
		{"--verbose=yes", "--verbose", "no value"},
		{"--hiveconf a=b", "--hiveconf", "not a spark-submit option"},
		{"--conf 'unterminated", "", "never closed"},
	}
	for _, tt := range tests {
		_, err := ParseSubmitParameters(tt.in)
		var pe *ParamError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSubmitParameters(%q) error = %v, want *ParamError", tt.in, err)
			continue
		}
		if pe.Option != tt.option || !strings.Contains(pe.Rule, tt.rule) || !strings.HasPrefix(err.Error(), "sparkSubmitParameters: ") {
			t.Errorf("ParseSubmitParameters(%q) error = %q (option %q), want option %q and rule containing %q", tt.in, err, pe.Option, tt.option, tt.rule)
		}
	}
}

func TestParseSQLParameters(t *testing.T) {
	p, err := ParseSQLParameters("--conf spark.sql.shuffle.partitions=8 --hivevar day=2024-01-01 -d x=1 --database sales")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"--hivevar", "day=2024-01-01", "-d", "x=1", "--database", "sales"}; !reflect.DeepEqual(p.SQLArgs, want) {
		t.Errorf("SQLArgs = %q", p.SQLArgs)
	}
	if p.Conf["spark.sql.shuffle.partitions"] != "8" {
		t.Errorf("conf = %v", p.Conf)
	}
	if _, err := ParseSQLParameters("--master local"); err == nil || !strings.HasPrefix(err.Error(), "sparkSqlParameters: --master") {
		t.Errorf("error = %v", err)
	}
}
