#!/usr/bin/env bash
# Runs the seed's example job on a running sandbox through the real aws CLI, as the seed runs it
# on EMR on EKS (deploy/sandbox/SEED.md): the TPC-DS benchmark jar with 50 executors, nodes of
# the NodePool labelled app=demo in one zone, pod templates from S3 that put the driver on
# on-demand capacity and the executors on spot, and hostPath local dirs for shuffle. It follows
# the job to its end and tells what happened on the cluster. `make sandbox` runs it after
# `sparkplane-sandbox up`.
#
#   hack/sandbox-demo.sh [SANDBOX_DIR]     (default .sandbox)
#
# The only sandbox-specific input is where the values come from (.sandbox/env); the command is
# the seed's. The driver emulator holds the job for 30 s by default (set
# spark.sparkplane.sandbox.duration in spark-defaults to change it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-.sandbox}
# shellcheck source=/dev/null
source "$dir/env"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
sparkplane=${SPARKPLANE_BIN:-$here/bin/sparkplane}

say() { printf '%s  %s\n' "$(date +%T)" "$*"; }

say "uploading the seed's pod templates to s3://$S3BUCKET/pod-template/"
for f in driver executor; do
  aws s3 cp --quiet --endpoint-url "$SPARKPLANE_S3_ENDPOINT" \
    "$here/deploy/sandbox/pod-templates/$f-pod-template.yaml" "s3://$S3BUCKET/pod-template/$f-pod-template.yaml"
done

# The seed's values: 4 vCPU and 7 GiB per executor, 50 executors, zone a of the region.
CORES=4
EXEC_MEMORY=7
ZONE=us-west-2a
say "aws emr-containers start-job-run --release-label emr-6.5.0-latest (BenchmarkSQL, 50 executors)"
id=$(aws emr-containers start-job-run --endpoint-url "$SPARKPLANE_ENDPOINT" \
  --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" \
  --name karpenter-benchmark \
  --execution-role-arn "$EMR_ROLE_ARN" \
  --release-label emr-6.5.0-latest \
  --job-driver '{
    "sparkSubmitJobDriver": {
      "entryPoint": "local:///usr/lib/spark/examples/jars/eks-spark-benchmark-assembly-1.0.jar",
      "entryPointArguments": ["s3://'"$S3BUCKET"'/BLOG_TPCDS-TEST-3T-partitioned", "s3://'"$S3BUCKET"'/EMRONEKS_TPCDS-TEST-3T-RESULT", "/opt/tpcds-kit/tools", "parquet", "3000", "1", "false", "q70-v2.4,q82-v2.4,q64-v2.4", "true"],
      "sparkSubmitParameters": "--class com.amazonaws.eks.tpcds.BenchmarkSQL --conf spark.executor.instances=50 --conf spark.driver.cores='"$CORES"' --conf spark.driver.memory='"$EXEC_MEMORY"'g --conf spark.executor.cores='"$CORES"' --conf spark.executor.memory='"$EXEC_MEMORY"'g"}}' \
  --configuration-overrides '{
    "applicationConfiguration": [{
      "classification": "spark-defaults",
      "properties": {
        "spark.kubernetes.node.selector.app": "demo",
        "spark.kubernetes.node.selector.topology.kubernetes.io/zone": "'"$ZONE"'",
        "spark.kubernetes.driver.podTemplateFile": "s3://'"$S3BUCKET"'/pod-template/driver-pod-template.yaml",
        "spark.kubernetes.executor.podTemplateFile": "s3://'"$S3BUCKET"'/pod-template/executor-pod-template.yaml",
        "spark.local.dir": "/local1",
        "spark.kubernetes.driver.volumes.hostPath.spark-local-dir-1.mount.path": "/local1",
        "spark.kubernetes.driver.volumes.hostPath.spark-local-dir-1.options.path": "/local1",
        "spark.kubernetes.executor.volumes.hostPath.spark-local-dir-1.mount.path": "/local1",
        "spark.kubernetes.executor.volumes.hostPath.spark-local-dir-1.options.path": "/local1",
        "spark.network.timeout": "2000s",
        "spark.executor.heartbeatInterval": "300s",
        "spark.executor.memoryOverhead": "2G",
        "spark.driver.memoryOverhead": "1000"
      }}],
    "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": "s3://'"$S3BUCKET"'/elasticmapreduce/emr-containers"}}}' \
  --query id --output text)
say "job run $id accepted on virtual cluster $VIRTUAL_CLUSTER_ID"

# placement prints where the job's pods run: role, node, capacity type, instance type, zone,
# and the NodePool that created the node.
placement() {
  kubectl get pods -n spark -l "emr-containers.amazonaws.com/job.id=$id" --no-headers \
    -o custom-columns='ROLE:.metadata.labels.spark-role,NODE:.spec.nodeName' 2>/dev/null |
  while read -r role node; do
    [[ "$node" == "<none>" ]] && { echo "$role pending"; continue; }
    kubectl get node "$node" --no-headers -o custom-columns="X:.metadata.labels.karpenter\.sh/capacity-type,T:.metadata.labels.node\.kubernetes\.io/instance-type,Z:.metadata.labels.topology\.kubernetes\.io/zone,P:.metadata.labels.karpenter\.sh/nodepool" 2>/dev/null |
      awk -v r="$role" -v n="$node" '{print r, n, $1, $2, $3, "nodepool=" $4}'
  done | sort | uniq -c | awk '{c=$1; $1=""; printf "    %3d x%s\n", c, $0}'
}

last="" shown=0
for _ in $(seq 1 600); do
  read -r state details < <(aws emr-containers describe-job-run --endpoint-url "$SPARKPLANE_ENDPOINT" \
    --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$id" --query 'jobRun.[state,stateDetails]' --output text)
  if [[ "$state" != "$last" ]]; then
    say "$state  $details"
    last=$state
  fi
  if [[ "$state" == RUNNING && $shown == 0 ]]; then
    n=$(kubectl get pods -n spark -l "emr-containers.amazonaws.com/job.id=$id,spark-role=executor" --no-headers 2>/dev/null | grep -c Running || true)
    if [[ "$n" -ge 50 ]]; then
      say "all 50 executors run; where the pods are (count, role, node, capacity type, instance type, zone):"
      placement
      shown=1
    fi
  fi
  case "$state" in
    COMPLETED)
      say "describe-job-run:"
      aws emr-containers describe-job-run --endpoint-url "$SPARKPLANE_ENDPOINT" \
        --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$id" \
        --query 'jobRun.{state:state,createdAt:createdAt,finishedAt:finishedAt,stateDetails:stateDetails,attempts:retryPolicyExecution.currentAttemptCount}' --output table
      if "$sparkplane" jobs cost --help >/dev/null 2>&1; then
        say "what the job cost:"
        # The summary and the prices used; `sparkplane jobs cost` without the filter lists every pod.
        "$sparkplane" jobs cost --endpoint-url "$SPARKPLANE_ENDPOINT" --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$id" |
          awk '/^POD /{skip=1; next} skip && NF==0 {skip=0} !skip' || true
      fi
      say "empty nodes are removed by Karpenter 30 s after their last pod; 'make sandbox-down' stops the sandbox"
      exit 0 ;;
    FAILED|CANCELLED)
      say "job run $id ended $state: $details" >&2
      exit 1 ;;
  esac
  sleep 1
done
say "job run $id did not finish in 10 minutes" >&2
exit 1
