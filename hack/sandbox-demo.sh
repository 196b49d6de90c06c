#!/usr/bin/env bash
# Runs the seed's example (deploy/sandbox/SEED.md) on a running sandbox: the seed's
# `aws emr-containers start-job-run` of the TPC-DS benchmark through the real aws CLI, on the
# NodePool `demo` (the seed's Provisioner) with the seed's pod templates from S3. It follows the
# job to its end and tells where its pods ran and what it cost. Then it registers the TPC-DS job
# templates of deploy/job-templates with `sparkplane job-templates create` and shows the seed's
# run started from one of them. `make sandbox` runs it after `sparkplane-sandbox up`.
#
#   hack/sandbox-demo.sh [SANDBOX_DIR]     (default .sandbox)
#
# DEMO_TEMPLATE_RUN=1 (set by `make sandbox`) also starts and follows the template's run; without
# it the command is printed only, so that one job runs (what the sandbox's walkthrough test
# counts). Needs the aws CLI, kubectl and jq.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-.sandbox}
# shellcheck source=/dev/null
source "$dir/env"
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
sparkplane=${SPARKPLANE_BIN:-$here/bin/sparkplane}
for tool in aws kubectl jq; do
  command -v "$tool" >/dev/null || { echo "hack/sandbox-demo.sh needs $tool on the PATH" >&2; exit 1; }
done

say() { printf '%s  %s\n' "$(date +%T)" "$*"; }

# --- The seed's shell variables. .sandbox/env sets VIRTUAL_CLUSTER_ID, EMR_ROLE_ARN and
# S3BUCKET. The seed gives no values for the others; these are the sandbox's (SEED.md).
AWS_REGION=${AWS_REGION:-$AWS_DEFAULT_REGION}                  # the seed's zone "${AWS_REGION}a"
ECR_URL=${ECR_URL:-000000000000.dkr.ecr.$AWS_REGION.amazonaws.com} # kwok pulls no image
CORES=${CORES:-4}
EXEC_MEMORY=${EXEC_MEMORY:-7}

say "uploading the seed's pod templates to s3://$S3BUCKET/pod-template/"
for f in karpenter-driver-pod-template.yaml karpenter-executor-pod-template.yaml; do
  aws s3 cp --quiet --endpoint-url "$SPARKPLANE_S3_ENDPOINT" \
    "$here/deploy/sandbox/pod-templates/$f" "s3://$S3BUCKET/pod-template/$f"
done

# --- The seed's --job-driver and --configuration-overrides, as the seed writes them. The seed's
# configuration stops at "...생략..." (omitted): nothing is put in its place, the brackets it
# leaves open are closed, and the comma before it is dropped.
JOB_DRIVER='{
  "sparkSubmitJobDriver": {
      "entryPoint": "local:///usr/lib/spark/examples/jars/eks-spark-benchmark-assembly-1.0.jar",
      "entryPointArguments":["s3://blogpost-sparkoneks-us-east-1/blog/BLOG_TPCDS-TEST-3T-partitioned","s3://'$S3BUCKET'/EMRONEKS_TPCDS-TEST-3T-RESULT-KA","/opt/tpcds-kit/tools","parquet","3000","1","false","q70-v2.4,q82-v2.4,q64-v2.4","true"],
      "sparkSubmitParameters": "--class com.amazonaws.eks.tpcds.BenchmarkSQL --conf spark.executor.instances=50 --conf spark.driver.cores='$CORES' --conf spark.driver.memory='$EXEC_MEMORY'g --conf spark.executor.cores='$CORES' --conf spark.executor.memory='$EXEC_MEMORY'g"}}'
CONFIGURATION_OVERRIDES='{
    "applicationConfiguration": [
      {
        "classification": "spark-defaults", 
        "properties": {
          "spark.kubernetes.node.selector.app": "demo",
          "spark.kubernetes.node.selector.topology.kubernetes.io/zone": "'${AWS_REGION}'a",

          "spark.kubernetes.container.image":  "'$ECR_URL'/eks-spark-benchmark:emr6.5",
          "spark.kubernetes.driver.podTemplateFile": "s3://'$S3BUCKET'/pod-template/karpenter-driver-pod-template.yaml",
          "spark.kubernetes.executor.podTemplateFile": "s3://'$S3BUCKET'/pod-template/karpenter-executor-pod-template.yaml"
      }
    }]}'

# --- The seed's local dirs. Its NVMe section gives them as spark-submit --conf flags, apart
# from its command; they join the seed's sparkSubmitParameters as those flags.
SEED_LOCAL_DIRS="--conf spark.kubernetes.executor.volumes.hostPath.spark-local-dir-1.mount.path=/tmp/spark \
--conf spark.kubernetes.executor.volumes.hostPath.spark-local-dir-1.options.path=/pv-disks/local \
--conf spark.local.dir=/tmp/spark"

# --- Sandbox only, not the seed's: no Spark runs here, so the driver emulator holds the
# executors for this long and then ends the driver. Merged in as a second spark-defaults entry.
SANDBOX_OVERRIDES='{"applicationConfiguration": [{"classification": "spark-defaults",
  "properties": {"spark.sparkplane.sandbox.duration": "30s"}}]}'

# --- Sandbox addition, not the seed's (which leaves monitoring out): a logUri, as EMR users set
# one, so that the driver's and executors' logs land in S3 at EMR's keys and the Spark event log
# beside them.
LOG_URI="s3://$S3BUCKET/emr-logs/"

job_driver=$(jq -c --arg dirs "$SEED_LOCAL_DIRS" \
  '.sparkSubmitJobDriver.sparkSubmitParameters += " " + $dirs' <<<"$JOB_DRIVER")
configuration_overrides=$(jq -c --argjson sandbox "$SANDBOX_OVERRIDES" --arg logs "$LOG_URI" \
  '.applicationConfiguration += $sandbox.applicationConfiguration
   | .monitoringConfiguration = {s3MonitoringConfiguration: {logUri: $logs}}' <<<"$CONFIGURATION_OVERRIDES")

say "aws emr-containers start-job-run --name karpenter-demo --release-label emr-6.5.0-latest (BenchmarkSQL, 50 executors)"
say "  sandbox additions: --endpoint-url $SPARKPLANE_ENDPOINT, spark.sparkplane.sandbox.duration=30s, logUri $LOG_URI"
id=$(aws emr-containers start-job-run \
  --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" \
  --name karpenter-demo \
  --execution-role-arn "$EMR_ROLE_ARN" \
  --release-label emr-6.5.0-latest \
  --job-driver "$job_driver" \
  --configuration-overrides "$configuration_overrides" \
  --endpoint-url "$SPARKPLANE_ENDPOINT" --query id --output text)
say "job run $id accepted on virtual cluster $VIRTUAL_CLUSTER_ID"

# placement prints where a job's pods run: role, node, capacity type, instance type, zone, and
# the NodePool that created the node.
placement() {
  kubectl get pods -n spark -l "emr-containers.amazonaws.com/job.id=$1" --no-headers \
    -o custom-columns='ROLE:.metadata.labels.spark-role,NODE:.spec.nodeName' 2>/dev/null |
  while read -r role node; do
    [[ "$node" == "<none>" ]] && { echo "$role pending"; continue; }
    kubectl get node "$node" --no-headers -o custom-columns="X:.metadata.labels.karpenter\.sh/capacity-type,T:.metadata.labels.node\.kubernetes\.io/instance-type,Z:.metadata.labels.topology\.kubernetes\.io/zone,P:.metadata.labels.karpenter\.sh/nodepool" 2>/dev/null |
      awk -v r="$role" -v n="$node" '{print r, n, $1, $2, $3, "nodepool=" $4}'
  done | sort | uniq -c | awk '{c=$1; $1=""; printf "    %3d x%s\n", c, $0}'
}

# follow JOB_ID EXECUTORS: prints each state change of the job run, where its pods are once all
# executors run, and at the end its description and its cost. It fails unless the run completes.
follow() {
  local job=$1 want=$2 last="" shown=0 state details n
  for _ in $(seq 1 600); do
    read -r state details < <(aws emr-containers describe-job-run --endpoint-url "$SPARKPLANE_ENDPOINT" \
      --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$job" --query 'jobRun.[state,stateDetails]' --output text)
    if [[ "$state" != "$last" ]]; then
      say "$state  $details"
      last=$state
    fi
    if [[ "$state" == RUNNING && $shown == 0 ]]; then
      n=$(kubectl get pods -n spark -l "emr-containers.amazonaws.com/job.id=$job,spark-role=executor" --no-headers 2>/dev/null | grep -c Running || true)
      if [[ "$n" -ge "$want" ]]; then
        say "all $want executors run; where the pods are (count, role, node, capacity type, instance type, zone):"
        placement "$job"
        shown=1
      fi
    fi
    case "$state" in
      COMPLETED)
        say "describe-job-run:"
        aws emr-containers describe-job-run --endpoint-url "$SPARKPLANE_ENDPOINT" \
          --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$job" \
          --query 'jobRun.{state:state,createdAt:createdAt,finishedAt:finishedAt,stateDetails:stateDetails,attempts:retryPolicyExecution.currentAttemptCount}' --output table
        if "$sparkplane" jobs cost --help >/dev/null 2>&1; then
          say "what the job cost:"
          # The summary and the prices used; `sparkplane jobs cost` without the filter lists every pod.
          "$sparkplane" jobs cost --endpoint-url "$SPARKPLANE_ENDPOINT" --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$job" |
            awk '/^POD /{skip=1; next} skip && NF==0 {skip=0} !skip' || true
        fi
        return 0 ;;
      FAILED|CANCELLED)
        say "job run $job ended $state: $details" >&2
        return 1 ;;
    esac
    sleep 1
  done
  say "job run $job did not finish in 10 minutes" >&2
  return 1
}

follow "$id" 50

# --- What the job left: its containers' logs in S3 at EMR on EKS's keys, read back through
# sparkplane once Spark deleted the executors, and the Spark UI's summary from its event log.
prefix="emr-logs/$VIRTUAL_CLUSTER_ID/jobs/$id/containers/"
for _ in $(seq 1 60); do
  n=$(aws s3 ls --recursive --endpoint-url "$SPARKPLANE_S3_ENDPOINT" "s3://$S3BUCKET/$prefix" | grep -c 'stderr.gz$' || true)
  [[ "$n" -ge 51 ]] && break
  sleep 1
done
say "the job's logs in S3 ($n pods), e.g. the driver's and executor 1's:"
aws s3 ls --recursive --endpoint-url "$SPARKPLANE_S3_ENDPOINT" "s3://$S3BUCKET/$prefix" | grep -E 'driver/|exec-1/' | awk '{print "    s3://'"$S3BUCKET"'/" $4 "  (" $3 " bytes)"}'
say "sparkplane jobs logs --executor 1 --tail 3 (the executor is gone; its log comes from S3):"
"$sparkplane" jobs logs --endpoint-url "$SPARKPLANE_ENDPOINT" --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$id" --executor 1 --tail 3 | sed 's/^/    /'
say "sparkplane jobs ui (the Spark application, from its event log):"
"$sparkplane" jobs ui --endpoint-url "$SPARKPLANE_ENDPOINT" --virtual-cluster-id "$VIRTUAL_CLUSTER_ID" --id "$id" | awk 'NR <= 12 { print "    " $0 }'

# --- The same benchmark as a job template. deploy/job-templates holds the eks-spark-benchmark's
# data generation and the seed's benchmark run (its arguments are the defaults); both are
# registered as shipped.
say "sparkplane job-templates create: deploy/job-templates/tpcds-data-generation.json, tpcds-benchmark.json"
declare -A template
for name in tpcds-data-generation tpcds-benchmark; do
  template[$name]=$("$sparkplane" job-templates create --endpoint-url "$SPARKPLANE_ENDPOINT" --name "$name" \
    --job-template-data "file://$here/deploy/job-templates/$name.json" -o json | jq -r .id)
  say "  job template $name: ${template[$name]}"
done

# The seed's run from the template: what the seed's command sets that the template leaves as
# parameters. DataPath, Scale, Format, Iterations and Queries keep the seed's defaults. The
# template carries no sandbox setting, so the emulator holds this run for its default 30 s.
parameters=$(jq -cn --arg role "$EMR_ROLE_ARN" --arg image "$ECR_URL/eks-spark-benchmark:emr6.5" \
  --arg bucket "$S3BUCKET" --arg zone "${AWS_REGION}a" --arg cores "$CORES" --arg memory "$EXEC_MEMORY" \
  '{ExecutionRoleArn: $role, Image: $image, S3Bucket: $bucket, Zone: $zone, Cores: $cores, MemoryGiB: $memory,
    ResultPath: "s3://\($bucket)/EMRONEKS_TPCDS-TEST-3T-RESULT-KA"}')
start=("$sparkplane" jobs start --endpoint-url "$SPARKPLANE_ENDPOINT" --virtual-cluster-id "$VIRTUAL_CLUSTER_ID"
  --name karpenter-demo --job-template-id "${template[tpcds-benchmark]}" --job-template-parameters "$parameters")
if [[ "${DEMO_TEMPLATE_RUN:-0}" != 1 ]]; then
  say "the seed's run from the template (DEMO_TEMPLATE_RUN=1 starts it):"
  printf "    sparkplane jobs start --virtual-cluster-id %s --name karpenter-demo \\\\\n      --job-template-id %s \\\\\n      --job-template-parameters '%s'\\n" \
    "$VIRTUAL_CLUSTER_ID" "${template[tpcds-benchmark]}" "$parameters"
else
  say "sparkplane jobs start --job-template-id ${template[tpcds-benchmark]} --job-template-parameters $parameters"
  id2=$("${start[@]}" -o json | jq -r .id)
  say "job run $id2 accepted on virtual cluster $VIRTUAL_CLUSTER_ID"
  follow "$id2" 50
fi

# --- Sharing the sandbox with a team: a user who may run jobs on the sandbox's virtual cluster
# with its role, and nothing else, calling through boto3 with their own key.
if [[ "${DEMO_TEMPLATE_RUN:-0}" == 1 ]]; then
  user=data-engineer-$RANDOM
  vc_arn=$(aws emr-containers describe-virtual-cluster --endpoint-url "$SPARKPLANE_ENDPOINT" --id "$VIRTUAL_CLUSTER_ID" --query virtualCluster.arn --output text)
  policy=$(jq -c --arg vc "$vc_arn" --arg role "$EMR_ROLE_ARN" '{Version: "2012-10-17", Statement: [
    {Effect: "Allow", Action: ["emr-containers:ListVirtualClusters", "emr-containers:DescribeVirtualCluster", "emr-containers:ListJobRuns"], Resource: "*"},
    {Effect: "Allow", Action: "emr-containers:StartJobRun", Resource: $vc, Condition: {ArnEquals: {"emr-containers:ExecutionRoleArn": $role}}},
    {Effect: "Allow", Action: ["emr-containers:DescribeJobRun", "emr-containers:CancelJobRun"], Resource: "\($vc)/jobruns/*"}]}' <<<'{}')
  say "sparkplane iam create-user --user-name $user; create-access-key; put-user-policy (run jobs on $VIRTUAL_CLUSTER_ID with $EMR_ROLE_ARN)"
  arn=$("$sparkplane" iam create-user --endpoint-url "$SPARKPLANE_ENDPOINT" --user-name "$user" | jq -r .User.Arn)
  key=$("$sparkplane" iam create-access-key --endpoint-url "$SPARKPLANE_ENDPOINT" --user-name "$user")
  "$sparkplane" iam put-user-policy --endpoint-url "$SPARKPLANE_ENDPOINT" --user-name "$user" --policy-name run-jobs --policy-document "$policy" >/dev/null
  say "as $arn, through boto3: start a job, then try to delete the virtual cluster"
  AWS_ACCESS_KEY_ID=$(jq -r .AccessKey.AccessKeyId <<<"$key") AWS_SECRET_ACCESS_KEY=$(jq -r .AccessKey.SecretAccessKey <<<"$key") \
  python3 - "$SPARKPLANE_ENDPOINT" "$VIRTUAL_CLUSTER_ID" "$EMR_ROLE_ARN" <<'PY'
import sys, boto3, botocore
endpoint, vc, role = sys.argv[1:4]
emr = boto3.client("emr-containers", endpoint_url=endpoint)
run = emr.start_job_run(virtualClusterId=vc, name="team-pi", executionRoleArn=role, releaseLabel="emr-6.15.0-latest",
    jobDriver={"sparkSubmitJobDriver": {"entryPoint": "local:///opt/spark/examples/jars/spark-examples.jar",
        "sparkSubmitParameters": "--class org.apache.spark.examples.SparkPi --conf spark.executor.instances=2 --conf spark.sparkplane.sandbox.duration=5s"}})
print("    start_job_run: job run", run["id"], "accepted")
try:
    emr.delete_virtual_cluster(id=vc)
    sys.exit("    delete_virtual_cluster was allowed; the policy should have refused it")
except botocore.exceptions.ClientError as e:
    print("    delete_virtual_cluster:", e.response["Error"]["Code"], "-", e.response["Error"]["Message"])
PY
  say "sparkplane audit list --since 5m --principal $arn"
  "$sparkplane" audit list --endpoint-url "$SPARKPLANE_ENDPOINT" --since 5m --principal "$arn"
fi
say "empty nodes are removed by Karpenter 30 s after their last pod; 'make sandbox-down' stops the sandbox"
# --- The web console: the same server, in a browser, signed in as the sandbox's key by a link
# that works once (run 'bin/sparkplane console' again for another).
say "the web console (sparkplane console): open the link to follow the seed's job run $id in a browser"
"$sparkplane" console --endpoint-url "$SPARKPLANE_ENDPOINT" | sed 's/^/    /'
say "    the seed's job run: $SPARKPLANE_ENDPOINT/console/virtualclusters/$VIRTUAL_CLUSTER_ID/jobruns/$id"
