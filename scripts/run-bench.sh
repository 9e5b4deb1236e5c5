#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every benchmark built in build dir $1 (bench/bench_* and services' bench_* executables),
# one after another so they do not compete for the cores, each under a header.
set -euo pipefail
build=${1:?usage: run-bench.sh BUILD_DIR}
[ -d "$build" ] || { echo "bench: no build dir $build" >&2; exit 1; }
mapfile -t benches < <(find "$build/bench" "$build/services" -type f -name 'bench_*' -perm -u+x \
  ! -name '*.*' 2>/dev/null | sort)
[ "${#benches[@]}" -gt 0 ] || { echo "bench: no bench_* executables under $build" >&2; exit 1; }
failed=0
for b in "${benches[@]}"; do
  echo "=== ${b#"$build"/} ($(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  if ! "$b"; then
    echo "bench: ${b#"$build"/} FAILED"
    failed=$((failed + 1))
  fi
  echo
done
echo "bench: ${#benches[@]} benchmarks run, $failed failed"
[ "$failed" -eq 0 ]
