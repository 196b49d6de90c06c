package spark

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sparkplane/sparkplane/internal/wellknown"
)

// forcedConf lists the keys the service sets itself, with the reason a user may not.
var forcedConf = map[string]string{
	"spark.master":               "the service submits to the virtual cluster's Kubernetes cluster",
	"spark.submit.deployMode":    "jobs always run in cluster mode",
	"spark.kubernetes.namespace": "the namespace is the virtual cluster's",
	"spark.kubernetes.authenticate.driver.serviceAccountName": "the driver's service account follows from the execution role",
	"spark.kubernetes.authenticate.executor.serviceAccountName": "executors run as the driver's service account, which follows from the execution role; " +
		"another account would carry another role's credentials",
	"spark.kubernetes.driver.pod.name":           "the service names the driver pod so it can track it",
	"spark.app.id":                               "the service derives the application id from the job run id",
	"spark.app.submitTime":                       "the service records the submit time",
	"spark.kubernetes.submitInDriver":            "the service sets it for every driver",
	"spark.driver.host":                          "the driver's address is its headless Service",
	"spark.driver.bindAddress":                   "the driver pod's entrypoint binds to the pod IP",
	"spark.kubernetes.driver.resourceNamePrefix": "the service derives resource names from the job run id",
}

// forcedConfPrefixes are key prefixes the service owns.
var forcedConfPrefixes = map[string]string{
	"spark.kubernetes.driver.label." + wellknown.EMRLabelPrefix:   "the service sets the emr-containers.amazonaws.com labels",
	"spark.kubernetes.executor.label." + wellknown.EMRLabelPrefix: "the service sets the emr-containers.amazonaws.com labels",
	"spark.kubernetes.driver.label." + wellknown.LabelPrefix:      "the service sets the sparkplane.io labels",
	"spark.kubernetes.executor.label." + wellknown.LabelPrefix:    "the service sets the sparkplane.io labels",
	"spark.kubernetes.authenticate.submission.":                   "there is no submitting client: the service talks to the cluster itself",
}

// ForcedConfKeys returns the Spark configuration keys the service sets for every job run and
// users may not set, sorted. CheckUserConf also refuses the key prefixes behind them (the
// emr-containers.amazonaws.com/ and sparkplane.io/ labels, submission credentials) and the
// settings that need files on a submitting machine.
func ForcedConfKeys() []string {
	keys := make([]string, 0, len(forcedConf))
	for k := range forcedConf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CheckUserConf refuses user-supplied Spark configuration that the service owns or cannot
// honour. It returns the first offending key (in sorted order) as a *ConfError whose rule
// says why; nil means every key may be set by a user.
func CheckUserConf(c map[string]string) error {
	for _, k := range sortedKeys(c) {
		if reason, ok := forcedConf[k]; ok {
			return &ConfError{Key: k, Rule: "is set by sparkplane and cannot be overridden: " + reason}
		}
		for p, reason := range forcedConfPrefixes {
			if strings.HasPrefix(k, p) {
				return &ConfError{Key: k, Rule: "is set by sparkplane and cannot be overridden: " + reason}
			}
		}
		if reason, ok := unsupportedConf(k); ok {
			return &ConfError{Key: k, Rule: reason}
		}
		for _, role := range []string{"driver", "executor"} {
			p := "spark.kubernetes." + role + ".label."
			if l, ok := strings.CutPrefix(k, p); ok && sparkPresetLabel(l) {
				return &ConfError{Key: k, Rule: fmt.Sprintf("label %q is reserved by Spark", l)}
			}
		}
	}
	return nil
}

func sparkPresetLabel(l string) bool {
	switch l {
	case wellknown.LabelSparkAppSelector, wellknown.LabelSparkRole, wellknown.LabelSparkAppName, wellknown.LabelSparkVersion,
		"spark-exec-id", "spark-exec-resourceprofile-id", "spark-exec-inactive":
		return true
	}
	return false
}

// unsupportedConf names settings that need state on a submitting machine, which the service
// does not have, and says what to do instead.
func unsupportedConf(k string) (string, bool) {
	switch k {
	case "spark.kubernetes.authenticate.driver.oauthToken",
		"spark.kubernetes.authenticate.driver.oauthTokenFile",
		"spark.kubernetes.authenticate.driver.caCertFile",
		"spark.kubernetes.authenticate.driver.clientKeyFile",
		"spark.kubernetes.authenticate.driver.clientCertFile":
		return "names credentials on a submitting machine; the driver uses its service account (the execution role) instead", true
	case "spark.kerberos.keytab", "spark.kerberos.principal", "spark.yarn.keytab", "spark.yarn.principal":
		return "Kerberos login is not supported by sparkplane", true
	case "spark.kubernetes.driver.pod.featureSteps":
		return "custom driver feature steps run in the submitting JVM, which sparkplane does not have; use a pod template", true
	case "spark.kubernetes.executor.pod.featureSteps":
		return "custom executor feature steps change executor pods where the virtual cluster's pod policy cannot check them; use an executor pod template", true
	}
	if strings.HasPrefix(k, "spark.kubernetes.kerberos.") {
		return "Kerberos is not supported by sparkplane", true
	}
	return "", false
}
