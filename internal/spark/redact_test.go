package spark

import "testing"

func TestRedact(t *testing.T) {
	conf := map[string]string{
		"spark.hadoop.fs.s3a.secret.key": "s3cret",
		"spark.db.password":              "p",
		"spark.executor.memory":          "4g",
		"spark.my.credential":            "c",
		"spark.note":                     "token=abc",
	}
	got := Redact(conf)
	if got["spark.hadoop.fs.s3a.secret.key"] != Redacted || got["spark.db.password"] != Redacted || got["spark.executor.memory"] != "4g" ||
		got["spark.my.credential"] != "c" || got["spark.note"] != "token=abc" {
		t.Fatalf("default redaction: %v", got)
	}
	if conf["spark.db.password"] != "p" {
		t.Fatal("Redact changed its input")
	}
	// A job's own regex hides more, never less.
	conf["spark.redaction.regex"] = "(?i)credential"
	conf["spark.redaction.string.regex"] = "token=[a-z]+"
	got = Redact(conf)
	if got["spark.my.credential"] != Redacted || got["spark.db.password"] != Redacted || got["spark.note"] != Redacted {
		t.Fatalf("with the job's regexes: %v", got)
	}
	conf["spark.redaction.regex"] = "^$"
	if got := Redact(conf); got["spark.hadoop.fs.s3a.secret.key"] != Redacted {
		t.Fatalf("a job's regex switched the default off: %v", got)
	}
	conf["spark.redaction.regex"] = "(unclosed"
	if got := Redact(conf); got["spark.db.password"] != Redacted {
		t.Fatalf("a bad regex: %v", got)
	}
}
