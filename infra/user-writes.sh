#!/usr/bin/env bash
# A simulated user writes to the demo number: the simulator builds, signs and posts the
# webhook Meta would send.
#   infra/user-writes.sh [TEXT] [PHONE]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck disable=SC1091
source "${STACK_ENV:-$root/.local/stack.env}"
text=${1:-Hello from the simulator}
phone=${2:-4915112345678}
body=$(python3 -c 'import json,sys; print(json.dumps({"from": sys.argv[1], "name": "Ana", "message": {"type": "text", "text": {"body": sys.argv[2]}}}))' "$phone" "$text")
curl -sS -X POST "$SIM_URL/_sim/numbers/$DEMO_PHONE_NUMBER_ID/users/write" \
  -H 'content-type: application/json' --data-binary "$body"
echo
