package spark

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckUserConf(t *testing.T) {
	for _, k := range ForcedConfKeys() {
		err := CheckUserConf(map[string]string{"spark.ok": "1", k: "x"})
		var ce *ConfError
		if !errors.As(err, &ce) || ce.Key != k || !strings.Contains(err.Error(), "set by sparkplane") {
			t.Errorf("CheckUserConf(%s) = %v", k, err)
		}
	}
	tests := []struct{ key, want string }{
		{"spark.kubernetes.driver.label.emr-containers.amazonaws.com/job.id", "set by sparkplane"},
		{"spark.kubernetes.executor.label.sparkplane.io/attempt", "set by sparkplane"},
		{"spark.kubernetes.authenticate.submission.oauthToken", "no submitting client"},
		{"spark.kubernetes.authenticate.driver.caCertFile", "credentials"},
		{"spark.kubernetes.kerberos.krb5.path", "Kerberos"},
		{"spark.kubernetes.driver.pod.featureSteps", "feature steps"},
		{"spark.kubernetes.executor.pod.featureSteps", "pod policy cannot check"},
		{"spark.kubernetes.executor.label.spark-exec-id", "reserved by Spark"},
		{"spark.kubernetes.driver.label.spark-app-selector", "reserved by Spark"},
	}
	for _, tt := range tests {
		err := CheckUserConf(map[string]string{tt.key: "x"})
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("CheckUserConf(%s) = %v, want %q", tt.key, err, tt.want)
		}
	}
	ok := map[string]string{
		"spark.kubernetes.container.image": "mine", "spark.executor.instances": "3",
		"spark.kubernetes.driver.podTemplateFile": "s3://b/t.yaml", "spark.kubernetes.executor.podTemplateFile": "s3://b/e.yaml",
		"spark.kubernetes.driver.label.team": "x", "spark.kubernetes.submission.waitAppCompletion": "false",
	}
	if err := CheckUserConf(ok); err != nil {
		t.Errorf("CheckUserConf(allowed) = %v", err)
	}
	for _, k := range []string{"spark.master", "spark.kubernetes.namespace", "spark.kubernetes.driver.pod.name", "spark.app.id", "spark.kubernetes.authenticate.driver.serviceAccountName", "spark.submit.deployMode", "spark.kubernetes.submitInDriver"} {
		found := false
		for _, f := range ForcedConfKeys() {
			found = found || f == k
		}
		if !found {
			t.Errorf("ForcedConfKeys lacks %s", k)
		}
	}
}
