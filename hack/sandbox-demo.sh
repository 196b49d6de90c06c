#!/usr/bin/env bash
# Runs the seed's example job on a running sandbox through the real aws CLI and follows it to
# the end: drivers on on-demand capacity, executors on spot, both on the NodePool labelled
# app=demo (see deploy/sandbox/SEED.md). `make sandbox` runs it after `sparkplane sandbox up`.
#
#   hack/sandbox-demo.sh [SANDBOX_DIR]     (default .sandbox)
set -euo pipefail
dir=${1:-.sandbox}
# shellcheck source=/dev/null
source "$dir/env"
aws_emr() { aws emr-containers --endpoint-url "$SPARKPLANE_ENDPOINT" "$@"; }

params="--conf spark.executor.instances=4 --conf spark.executor.cores=4 --conf spark.executor.memory=8g"
params+=" --conf spark.kubernetes.node.selector.app=demo"
params+=" --conf spark.kubernetes.driver.node.selector.karpenter.sh/capacity-type=on-demand"
params+=" --conf spark.kubernetes.executor.node.selector.karpenter.sh/capacity-type=spot"
params+=" --conf spark.sparkplane.sandbox.duration=20s"

id=$(aws_emr start-job-run \
  --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" \
  --name seed-pi \
  --execution-role-arn "$EMR_ROLE_ARN" \
  --release-label emr-6.15.0-latest \
  --job-driver "{\"sparkSubmitJobDriver\":{\"entryPoint\":\"local:///usr/lib/spark/examples/src/main/python/pi.py\",\"entryPointArguments\":[\"100\"],\"sparkSubmitParameters\":\"$params\"}}" \
  --query id --output text)
echo "started job run $id on virtual cluster $VIRTUAL_CLUSTER_ID"

last=""
for _ in $(seq 1 300); do
  state=$(aws_emr describe-job-run --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$id" --query jobRun.state --output text)
  if [[ "$state" != "$last" ]]; then
    echo "$(date +%T) $state"
    last=$state
  fi
  case "$state" in
    COMPLETED)
      kubectl get nodes -L karpenter.sh/capacity-type,node.kubernetes.io/instance-type
      exit 0 ;;
    FAILED|CANCELLED)
      aws_emr describe-job-run --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$id" --query 'jobRun.[failureReason,stateDetails]' --output text
      exit 1 ;;
  esac
  sleep 1
done
echo "job run $id did not finish in 300 s" >&2
exit 1
