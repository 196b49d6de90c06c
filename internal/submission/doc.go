// Package submission turns a stored job run into what the lifecycle controller creates: it
// checks a job's Spark input when the API accepts it (Check), applies the configuration
// precedence, fetches the pod templates a job names (s3://, https://, allow-listed file://),
// and calls spark.Build for the driver objects of one attempt (Planner.Plan).
//
// Precedence, lowest first: release-label defaults < the operator's per-virtual-cluster
// defaults < the spark-defaults classification < sparkSubmitParameters < what the service
// forces (namespace, service account, driver pod name, app id, master).
//
// The release-label defaults are the S3A settings that make s3:// URIs (entry points, --jars,
// --files, data) work on images that are not EMR's, with the credentials IAM roles for service
// accounts give the pods (S3ADefaults). EMR images keep their own EMRFS.
package submission
