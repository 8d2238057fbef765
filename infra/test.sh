#!/usr/bin/env bash
# `make test`: a local stack of its own (ports apart from `make run`'s), then every unit
# and integration test against it, then Schemathesis against both APIs. The stack stops when the tests end, pass or fail.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port_base=${1:-4800}

trap 'infra/stack.sh down test' EXIT
# Callback retries in seconds, not a day, so the tests see retries and the dead-letter queue.
CALLBACK_FIRST_RETRY_SECONDS=1 CALLBACK_RETRY_PERIOD_SECONDS=8 infra/stack.sh up test "$port_base"
set -a
# shellcheck disable=SC1091
source .local/test/stack.env
set +a
export WEBHOOK_FUNCTION_ENV="$root/.local/test/functions/WebhookFunction.env"
failed=0
cargo test --workspace --no-fail-fast || failed=1
infra/api-fuzz.sh .local/test/stack.env || failed=1
if [ "$failed" = 1 ]; then
  # CI keeps only this output: the stack's errors and restarts go into it (test data only).
  infra/log-digest.sh .local/test/logs >&2 || true
  echo "tests failed; the stack's logs are in .local/test/logs" >&2
  exit 1
fi
