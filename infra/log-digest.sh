#!/usr/bin/env bash
# The last errors, warnings and process restarts of each log of a local stack, a few lines
# each: what a failed CI run prints, since its logs are gone with its machine.
#   infra/log-digest.sh LOG_DIR [LINES]
set -uo pipefail
dir=${1:?usage: infra/log-digest.sh LOG_DIR [LINES]}
lines=${2:-5}
for log in "$dir"/*.log; do
  found=$(grep -E '"level":"(ERROR|WARN)"|^supervise:| ERROR | WARN |panicked|Exception' "$log" | tail -n "$lines")
  if [ -n "$found" ]; then
    echo "--- $(basename "$log"): last errors, warnings and restarts"
    cut -c1-400 <<<"$found"
  fi
done
