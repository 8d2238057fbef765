#!/usr/bin/env bash
# `make bench`: release build, a local stack for the cost figures, then the benchmark table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
port_base=${1:-4850}
cargo build --bins
cargo build --release --bin webhook
cargo bench -p wagate-tests --bench pipeline --bench outbound --bench api --bench erasure --bench export --no-run
trap 'infra/stack.sh down bench' EXIT
infra/stack.sh up bench "$port_base"
set -a
# shellcheck disable=SC1091
source .local/bench/stack.env
set +a
# One core for the hot paths, as the targets state.
taskset -c 0 cargo bench -p wagate-tests --bench pipeline
taskset -c 0 cargo bench -p wagate-tests --bench outbound
# The API over HTTP through the local Function URL: latency is the whole stack's.
cargo bench -p wagate-tests --bench api
# Erasing a person with 10,000 messages, through the admin API and the erasure function.
cargo bench -p wagate-tests --bench erasure
# Exporting a person with 100,000 messages: time and the heap's peak.
cargo bench -p wagate-tests --bench export
