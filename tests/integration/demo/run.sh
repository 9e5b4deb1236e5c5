#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# integration-demo: runs `scripts/demo.sh BUILD --short` in a temp data dir and checks its exit
# status, the stages it prints, the final state each org reads, and that it cleaned up.
# Usage: run.sh DEMO_SCRIPT BUILD_DIR
set -euo pipefail
demo=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
"$demo" "$build" --short --data-dir "$tmp/net" >"$tmp/out" 2>&1 || rc=$?
cat "$tmp/out"
fail() { echo "integration-demo: $*" >&2; exit 1; }
[ "$rc" = 0 ] || fail "demo exited $rc"
want() { grep -Fq -- "$1" "$tmp/out" || fail "missing output line: $1"; }
want "endorsers   peer0.org1.example.com, peer0.org2.example.com  (chosen by the endorsement policy)"
want "broadcast   orderer0.example.com: SUCCESS (200)"
for org in 1 2; do
  for n in 1 2; do
    want "org$org committer: block $n (txs=1 valid=1) validation code VALID (0)"
  done
  grep -Eq "^  org$org example02 \[\"query\",\"a\"\] +-> 90 " "$tmp/out" || fail "org$org does not read a=90"
  grep -Eq "^  org$org example02 \[\"query\",\"b\"\] +-> 210 " "$tmp/out" || fail "org$org does not read b=210"
done
grep -Eq "^demo: network stopped \([0-9]+ daemons\)" "$tmp/out" || fail "the network was not stopped"
[ ! -e "$tmp/net" ] || fail "the data dir was left behind"
echo "integration-demo: ok"
