package logship

import (
	"fmt"
	"strings"
)

// The objects a pod's two streams end up in, under ContainerPrefix.
const (
	StdoutObject = "stdout.gz"
	StderrObject = "stderr.gz"
)

// Stream names: the wrapper's files in the shared directory and the shipper's objects are
// named after them.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// streamNames are the streams a wrapped container has, in the order they are reported.
var streamNames = []string{Stdout, Stderr}

// ObjectName returns the object a stream is shipped to (stdout.gz, stderr.gz).
func ObjectName(stream string) string { return stream + ".gz" }

// ContainerPrefix returns where one pod's logs go, EMR on EKS's layout:
// <logUri path>/<virtualClusterID>/jobs/<jobRunID>/containers/<appID>/<podName>, with
// StdoutObject and StderrObject below it. logURI is s3://bucket[/path], with or without a
// trailing slash. The prefix has no leading or trailing slash. The pod wiring builds the
// shipper's --dest from it and the server reads the logs back with it, so both agree.
func ContainerPrefix(logURI, virtualClusterID, jobRunID, appID, podName string) (bucket, prefix string, err error) {
	bucket, base, err := ParseS3URI(logURI)
	if err != nil {
		return "", "", fmt.Errorf("logUri: %w", err)
	}
	for _, p := range []struct{ name, v string }{
		{"virtual cluster id", virtualClusterID}, {"job run id", jobRunID},
		{"spark app id", appID}, {"pod name", podName},
	} {
		if p.v == "" || strings.Contains(p.v, "/") {
			return "", "", fmt.Errorf("container log prefix: %s %q must be non-empty and contain no /", p.name, p.v)
		}
	}
	prefix = containersPath(virtualClusterID, jobRunID) + "/" + appID + "/" + podName
	if base != "" {
		prefix = base + "/" + prefix
	}
	return bucket, prefix, nil
}

// containersPath is where a run's container logs go below its logUri, EMR on EKS's layout:
// <virtualClusterID>/jobs/<jobRunID>/containers.
func containersPath(virtualClusterID, jobRunID string) string {
	return virtualClusterID + "/jobs/" + jobRunID + "/containers"
}

// ContainersURI is the s3:// URI under which a run's container logs go:
// <logUri>/<virtualClusterID>/jobs/<jobRunID>/containers. Below it come
// <spark application id>/<pod name>/stdout.gz and stderr.gz (ContainerPrefix).
func ContainersURI(logURI, virtualClusterID, jobRunID string) string {
	return strings.TrimRight(logURI, "/") + "/" + containersPath(virtualClusterID, jobRunID)
}

// ParseS3URI splits s3://bucket/key into the bucket and the key without leading or trailing
// slashes (empty for s3://bucket and s3://bucket/).
func ParseS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URI", uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket", uri)
	}
	return bucket, strings.Trim(key, "/"), nil
}

// objectURI is s3://bucket/prefix/object, as messages show it.
func objectURI(bucket, prefix, object string) string {
	if prefix == "" {
		return "s3://" + bucket + "/" + object
	}
	return "s3://" + bucket + "/" + prefix + "/" + object
}
