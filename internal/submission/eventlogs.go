package submission

import (
	"strings"

	"github.com/sparkplane/sparkplane/internal/jobs"
)

// Spark's event log settings.
const (
	confEventLogEnabled = "spark.eventLog.enabled"
	confEventLogDir     = "spark.eventLog.dir"
)

// EventLogDir is where a job run's Spark event logs go, as an s3:// URI without a trailing
// slash, or "" when they go nowhere:
//
//   - <logUri>/<virtualClusterId>/jobs/<jobRunId>/sparklogs when its monitoringConfiguration
//     names an S3 logUri (beside the containers/ logs, in EMR on EKS's layout);
//   - else <defaultURI>/<virtualClusterId>/jobs/<jobRunId>/sparklogs when persistentAppUI is
//     not DISABLED (EMR's default is ENABLED) and the server configured a default location.
//
// The driver writes one file per attempt there, named after the attempt's spark.app.id.
func EventLogDir(run jobs.JobRun, defaultURI string) string {
	var m *jobs.MonitoringConfiguration
	if run.ConfigurationOverrides != nil {
		m = run.ConfigurationOverrides.MonitoringConfiguration
	}
	base := ""
	switch {
	case m != nil && m.S3MonitoringConfiguration != nil && m.S3MonitoringConfiguration.LogURI != "":
		base = m.S3MonitoringConfiguration.LogURI
	case (m == nil || m.PersistentAppUI != "DISABLED") && defaultURI != "":
		base = defaultURI
	default:
		return ""
	}
	return strings.TrimRight(base, "/") + "/" + run.VirtualClusterID + "/jobs/" + run.ID + "/sparklogs"
}

// eventLogConf turns the event logs on, into dir, unless the job's own settings say where (or
// that they are off): Spark's own keys win.
func eventLogConf(conf map[string]string, dir string) {
	if dir == "" {
		return
	}
	if _, set := conf[confEventLogEnabled]; set {
		return
	}
	if _, set := conf[confEventLogDir]; set {
		return
	}
	conf[confEventLogEnabled] = "true"
	// Hadoop's S3A file system writes it; the apache/spark images read s3a:// URIs.
	conf[confEventLogDir] = "s3a://" + strings.TrimPrefix(dir, "s3://")
}
