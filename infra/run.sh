#!/usr/bin/env bash
# `make run`: the whole system on this machine until Ctrl-C.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port_base=${1:-4700}

trap 'echo; echo "stopping the stack"; infra/stack.sh down run' EXIT
trap 'exit 0' INT TERM
infra/stack.sh up run "$port_base"
cp .local/run/stack.env .local/stack.env
# shellcheck disable=SC1091
source .local/stack.env

cat <<EOT

wagate is running. Endpoints and demo credentials: .local/stack.env
  webhook (platform app)   $WEBHOOK_URL
  webhook (demo's own app) $TENANT_WEBHOOK_URL
  demo tenant              $DEMO_TENANT_ID, phone number id $DEMO_PHONE_NUMBER_ID, WABA $DEMO_WABA_ID

Post a signed sample event (a user writes "Hello"):
  infra/post-event.sh events/webhook-bodies/text-message.json

Logs: .local/run/logs/. Press Ctrl-C to stop everything.
EOT
# Waiting on a background sleep lets the INT/TERM trap run at once.
while true; do
  sleep 3600 &
  wait $!
done
