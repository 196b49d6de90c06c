package spark

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// identity holds the names Spark draws at random, derived here from the job run id and attempt.
type identity struct {
	uniqueID string // 16 hex, Spark's KubernetesUtils.uniqueID
	appID    string // spark-<32 hex>
	localDir string // spark-<uuid>
}

// AppID is the spark.app.id sparkplane gives a job run's attempt (spark-<32 hex>), under which
// its driver writes its event log.
func AppID(jobRunID string, attempt int) string { return deriveIdentity(jobRunID, attempt).appID }

// deriveIdentity hashes the job run id and attempt. Different attempts get different names,
// because the failed attempt's driver pod still exists; the same attempt always gets the same.
func deriveIdentity(jobRunID string, attempt int) identity {
	h := sha256.New()
	fmt.Fprintf(h, "sparkplane/driver\x00%s\x00%d", jobRunID, attempt)
	sum := h.Sum(nil) // 32 bytes
	u := make([]byte, 16)
	copy(u, sum[16:32])
	u[6] = (u[6] & 0x0f) | 0x40 // version 4 layout, like Java's UUID.randomUUID
	u[8] = (u[8] & 0x3f) | 0x80
	return identity{
		uniqueID: hex.EncodeToString(sum[0:8]),
		appID:    "spark-" + hex.EncodeToString(sum[8:24]),
		localDir: fmt.Sprintf("spark-%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]),
	}
}

var (
	reNotDNS    = regexp.MustCompile(`[^a-z0-9\-]`)
	reDashes    = regexp.MustCompile(`-+`)
	reLeadDash  = regexp.MustCompile(`^-`)
	reLeadDigit = regexp.MustCompile(`^[0-9]`)
	// reJavaSpace is Java's \s, which also matches the vertical tab Go's \s leaves out.
	reJavaSpace = regexp.MustCompile(`[ \t\n\x0B\f\r]+`)
)

// resourceNamePrefix is KubernetesConf.getResourceNamePrefix with the rules of version v.
// Spark 3.1 turned whitespace and dots into '-' and dropped every other character outside
// [a-z0-9-]; 3.2 replaces them all with '-' instead (so "my_app" is "myapp-…" on 3.1 and
// "my-app-…" from 3.2). The leading-dash strip arrived in 3.3.2 and the leading-digit rewrite
// in 3.3.3.
func resourceNamePrefix(appName, uniqueID string, v version) string {
	s := strings.ToLower(strings.TrimSpace(appName + "-" + uniqueID))
	if v.atLeast(3, 2, 0) {
		s = reNotDNS.ReplaceAllString(s, "-")
	} else {
		s = reJavaSpace.ReplaceAllString(s, "-")
		s = strings.ReplaceAll(s, ".", "-")
		s = reNotDNS.ReplaceAllString(s, "")
	}
	s = reDashes.ReplaceAllString(s, "-")
	if v.atLeast(3, 3, 2) {
		s = reLeadDash.ReplaceAllString(s, "")
	}
	if v.atLeast(3, 3, 3) {
		s = reLeadDigit.ReplaceAllString(s, "x")
	}
	return s
}

// appNameLabel is KubernetesConf.getAppNameLabel: the value of the spark-app-name label.
func appNameLabel(appName string) string {
	s := strings.ToLower(appName)
	s = reNotDNS.ReplaceAllString(s, "-")
	s = reDashes.ReplaceAllString(s, "-")
	if len(s) > 63 {
		s = s[:63]
	}
	return strings.Trim(s, "-")
}

// dnsLabelMax is KUBERNETES_DNS_LABEL_NAME_MAX_LENGTH.
const dnsLabelMax = 63

// driverServiceName is "<prefix>-driver-svc", or "spark-<uniqueID>-driver-svc" when that is
// longer than a DNS label.
func driverServiceName(prefix, uniqueID string) string {
	if n := prefix + "-driver-svc"; len(n) <= dnsLabelMax {
		return n
	}
	return "spark-" + uniqueID + "-driver-svc"
}

// configMapNameDriver is KubernetesClientUtils.configMapNameDriver.
func configMapNameDriver(uniqueID string) string {
	p := "spark-drv-" + uniqueID
	if max := 253 - len("-conf-map"); len(p) > max {
		p = p[:max]
	}
	return p + "-conf-map"
}
