#!/usr/bin/env bash
# Queues a text from the demo number; the outbound worker sends it to the simulator, whose
# status webhooks then bring the message to "read".
#   infra/send-text.sh [TEXT] [PHONE]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
set -a
# shellcheck disable=SC1091
source "${STACK_ENV:-$root/.local/stack.env}"
set +a
"${CARGO_TARGET_DIR:-$root/target}/debug/wagate-local" send --tenant "$DEMO_TENANT_ID" \
  --phone-number-id "$DEMO_PHONE_NUMBER_ID" --to "${2:-4915112345678}" \
  --text "${1:-Thanks, we got your message}" --queue-url "$OUTBOUND_QUEUE_URL" \
  --queue-id-key "$QUEUE_ID_KEY_ID"
echo "what the simulator received: curl -s $SIM_URL/_sim/numbers/$DEMO_PHONE_NUMBER_ID/received"
