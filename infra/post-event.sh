#!/usr/bin/env bash
# Signs a webhook body with the demo platform app secret, as Meta would, and posts it.
#   infra/post-event.sh FILE [URL]
# FILE is either a raw webhook body or a Lambda Function URL event (its "body" is posted).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
file=${1:?usage: infra/post-event.sh FILE [URL]}
env_file="${STACK_ENV:-$root/.local/stack.env}"
# shellcheck disable=SC1090
source "$env_file"
url=${2:-$WEBHOOK_URL}
body=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["body"] if "requestContext" in d else json.dumps(d, separators=(",",":")), end="")' "$file")
body=${body//__PHONE_NUMBER_ID__/$DEMO_PHONE_NUMBER_ID}
body=${body//__WABA_ID__/$DEMO_WABA_ID}
signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$DEMO_APP_SECRET" | sed 's/^.* //')
curl -sS -X POST "$url" -H 'content-type: application/json' \
  -H "x-hub-signature-256: sha256=$signature" --data-binary "$body"
echo
