#!/usr/bin/env bash
# Schemathesis against both hosted APIs of a running local stack: generated valid and
# invalid requests to every route of the committed OpenAPI documents; any 5xx, any status
# the document does not list, or any answer that does not match its schema fails.
#   infra/api-fuzz.sh STACK_ENV      (make test runs it after the Rust tests)
# The seed is fixed so that CI is repeatable; FUZZ_SEED=<n> explores other inputs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
set -a
# shellcheck disable=SC1090
source "${1:?usage: infra/api-fuzz.sh STACK_ENV}"
set +a
export SCHEMATHESIS_HOOKS="$root/infra/schemathesis/hooks.py"
seed=${FUZZ_SEED:-20261122}

fuzz() {
  local document=$1 base_url=$2 key=$3
  echo "api-fuzz: $document against $base_url (seed $seed)"
  # One worker and a gentle rate: the local Lambda emulator stalls under many concurrent
  # calls, and every key has a rate limit of its own. Rarely it loses a call's hand-off
  # and answers nothing at all: a call unanswered after 20 s is sent again, twice at most
  # (a function that hangs still fails the run, and one that dies is caught below).
  .local/tools/venv/bin/st run "openapi/$document" --url "$base_url" -H "Authorization: Bearer $key" \
    --workers 1 --max-examples "${FUZZ_EXAMPLES:-25}" --rate-limit 15/s --seed "$seed" \
    --request-timeout 20 --request-retries 2 \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --generation-database none --no-color --warnings off
}

# A function process that dies answers nothing, and the emulator answers 500 for it; the
# hooks send such a request again, so a death is caught here instead: none may happen.
restarts() { cat "$STACK_DIR"/logs/{api,admin}.log 2>/dev/null | grep -c '^supervise:' || true; }
restarts_before=$(restarts)

status=0
# The business API with the demo tenant's admin key; the admin API with the operator key,
# which reaches every route (tenant admin keys reach a subset of the same handlers).
fuzz api.json "$API_URL" "$DEMO_API_KEY" || status=1
fuzz admin.json "$ADMIN_URL" "$OPERATOR_KEY" || status=1
if [ "$(restarts)" != "$restarts_before" ]; then
  echo "api-fuzz: a function process died during the run:" >&2
  grep -h '^supervise:' "$STACK_DIR"/logs/{api,admin}.log >&2 || true
  status=1
fi
exit $status
