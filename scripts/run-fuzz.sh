#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every libFuzzer target in build dir $1 for $2 seconds each, from the seed corpus.
set -euo pipefail
build=${1:?build dir}
secs=${2:-15}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for f in "$build"/tests/fuzz/fuzz_*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  name=$(basename "$f")
  mkdir -p "$work/$name"
  seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
  args=("$work/$name")
  [ -d "$seeds" ] && args+=("$seeds")
  echo "fuzz: $name for ${secs}s"
  "$f" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 "${args[@]}" \
    > "$work/$name.log" 2>&1 || { tail -n 60 "$work/$name.log"; echo "fuzz: $name FAILED"; exit 1; }
  grep -E 'stat::number_of_executed_units' "$work/$name.log" || true
  n=$((n + 1))
done
echo "fuzz: $n targets ran clean"
