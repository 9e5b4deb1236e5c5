#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: a complete local network on loopback (solo orderer; per org an endorser and a
# committer), then transactions through it with every stage printed.
# Usage: scripts/demo.sh [BUILD_DIR] [--keep] [--data-dir DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=build
keep=0
data="$root/demo-data"
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --data-dir) data=$2; shift ;;
    -*) echo "demo: unknown flag $1" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
case $build in /*) ;; *) build="$root/$build" ;; esac
weft="$build/cli/weft"
for b in "$weft" "$build/services/orderer/orderer" "$build/services/endorser/endorser" \
         "$build/services/committer/committer"; do
  [ -x "$b" ] || { echo "demo: $b is not built (run make demo)" >&2; exit 1; }
done

pids=()
stop_all() {
  local rc=$?
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ "$keep" = 0 ] && [ "$rc" = 0 ]; then rm -rf "$data"; fi
  [ "$rc" = 0 ] || echo "demo: failed (exit $rc); logs are in $data/logs" >&2
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Waits until file $1 contains $2 (a log line), up to $3 seconds.
wait_log() {
  local end=$((SECONDS + $3))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    [ $SECONDS -lt $end ] || { echo "demo: timed out waiting for '$2' in $1" >&2; tail -n 20 "$1" >&2; return 1; }
    sleep 0.05
  done
}
stage() { printf '\n== %s\n' "$*"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

rm -rf "$data"
mkdir -p "$data/logs"
crypto="$data/crypto"
peer_msp() { echo "$crypto/peerOrganizations/org$1.example.com/peers/peer$2.org$1.example.com/msp"; }
user_msp() { echo "$crypto/peerOrganizations/org$1.example.com/users/User1@org$1.example.com/msp"; }

stage "crypto material: an orderer org and two peer orgs (weft cryptogen)"
"$weft" cryptogen --output "$crypto" --peer-orgs 2 --peers-per-org 2 | sed "s|$data/||"

po=$(free_port); pe1=$(free_port); pe2=$(free_port); pc1=$(free_port); pc2=$(free_port)
cat > "$data/profile.yaml" <<YAML
Orderer:
  OrdererType: solo
  Addresses: [127.0.0.1:$po]
  BatchTimeout: 500ms
  BatchSize: {MaxMessageCount: 10, AbsoluteMaxBytes: 10 MB, PreferredMaxBytes: 512 KB}
  Organizations:
    - {Name: OrdererOrg, ID: OrdererMSP, MSPDir: crypto/ordererOrganizations/example.com/msp}
Application:
  Organizations:
    - {Name: Org1, ID: Org1MSP, MSPDir: crypto/peerOrganizations/org1.example.com/msp}
    - {Name: Org2, ID: Org2MSP, MSPDir: crypto/peerOrganizations/org2.example.com/msp}
Chaincodes:
  - {Name: example02, Version: "1.0", EndorsementPolicy: "AND('Org1MSP.peer','Org2MSP.peer')"}
  - {Name: asset, Version: "1.0", EndorsementPolicy: "OR('Org1MSP.peer','Org2MSP.peer')"}
YAML
stage "channel mychannel: genesis block (weft genesis)"
"$weft" genesis --profile "$data/profile.yaml" --channel mychannel --output "$data/mychannel.block"
echo "example02 needs AND(Org1, Org2); asset needs OR(Org1, Org2)"
genesis="$data/mychannel.block"

start() { # name, log line to wait for, command...
  local name=$1 line=$2; shift 2
  "$@" > "$data/logs/$name.log" 2>&1 &
  pids+=($!)
  wait_log "$data/logs/$name.log" "$line" 30
  echo "started $name ($(grep -o -- "$line[^ ]* address=[^ ]*" "$data/logs/$name.log" | head -n1 | sed 's/.*address=//'))"
}

stage "starting the network on loopback (data under $data)"
start orderer "orderer listening" "$build/services/orderer/orderer" --listen "127.0.0.1:$po" \
  --msp-dir "$crypto/ordererOrganizations/example.com/orderers/orderer0.example.com/msp" \
  --mspid OrdererMSP --genesis "$genesis" --data-dir "$data/orderer"
for org in 1 2; do
  pe=$([ $org = 1 ] && echo "$pe1" || echo "$pe2")
  pc=$([ $org = 1 ] && echo "$pc1" || echo "$pc2")
  start "endorser-org$org" "endorser listening" "$build/services/endorser/endorser" \
    --listen "127.0.0.1:$pe" --msp-dir "$(peer_msp $org 0)" --mspid "Org${org}MSP" \
    --genesis "$genesis" --state-dir "$data/endorser-org$org" --committer "127.0.0.1:$pc"
  start "committer-org$org" "committer listening" "$build/services/committer/committer" \
    --listen "127.0.0.1:$pc" --msp-dir "$(peer_msp $org 1)" --mspid "Org${org}MSP" \
    --genesis "$genesis" --data-dir "$data/committer-org$org" --orderer "127.0.0.1:$po"
done
echo "each endorser's state replica follows its org's committer"
echo "gossipd and eventd are not built yet: committers pull blocks from the orderer themselves"

height=0
# invoke NAME CC ARGS TARGETS: endorse on TARGETS, check, broadcast; then wait for both
# committers to commit the next block and print its validation result.
invoke() {
  local title=$1 cc=$2 args=$3 targets=$4
  stage "$title"
  echo "weft invoke --chaincode $cc --args '$args' --targets $targets"
  local t0; t0=$(date +%s%N)
  "$weft" invoke --channel mychannel --chaincode "$cc" --args "$args" --targets "$targets" \
    --msp-dir "$(user_msp 1)" --mspid Org1MSP --genesis "$genesis" --orderers "127.0.0.1:$po"
  echo "endorsed, checked and broadcast in $(ms_since "$t0") ms"
  height=$((height + 1))
  for org in 1 2; do
    wait_log "$data/logs/committer-org$org.log" "block committed number=$height " 30
    echo "committer org$org: $(grep -o "block committed number=$height .*" "$data/logs/committer-org$org.log" | head -n1)"
  done
  for org in 1 2; do
    wait_log "$data/logs/endorser-org$org.log" "replica applied channel=mychannel number=$height" 30
  done
  echo "committed in $(ms_since "$t0") ms after the client started"
}

invoke "example02 init: both orgs endorse (AND policy)" example02 '["init","a","100","b","200"]' \
  "127.0.0.1:$pe1,127.0.0.1:$pe2"
invoke "asset CreateAsset: one org is enough (OR policy)" asset \
  '["CreateAsset","asset1","blue","5","Tom","300"]' "127.0.0.1:$pe1"
invoke "example02 invoke: move 10 from a to b (both orgs endorse)" example02 '["invoke","a","b","10"]' \
  "127.0.0.1:$pe1,127.0.0.1:$pe2"
query() { # org chaincode args
  local pe; pe=$([ "$1" = 1 ] && echo "$pe1" || echo "$pe2")
  printf 'org%s %s %s -> ' "$1" "$2" "$3"
  "$weft" query --channel mychannel --chaincode "$2" --args "$3" --targets "127.0.0.1:$pe" \
    --msp-dir "$(user_msp "$1")" --mspid "Org${1}MSP" --genesis "$genesis" --json |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j.get("payload", j.get("payload_base64", "")))'
}

invoke "example02 with only Org1 endorsing: the committers reject it (ENDORSEMENT_POLICY_FAILURE)" \
  example02 '["init","c","1","d","2"]' "127.0.0.1:$pe1"
for org in 1 2; do
  grep -q "block committed number=$height txs=1 valid=0" "$data/logs/committer-org$org.log" ||
    { echo "demo: committer org$org did not reject the under-endorsed transaction" >&2; exit 1; }
done

stage "final state read back from each org's endorser replica (weft query)"
for org in 1 2; do
  query "$org" example02 '["query","a"]'
  query "$org" example02 '["query","b"]'
  query "$org" asset '["ReadAsset","asset1"]'
done
[ "$(query 2 example02 '["query","a"]')" = 'org2 example02 ["query","a"] -> 90' ] ||
  { echo "demo: org2 does not read a=90" >&2; exit 1; }

stage "the chain as the orderer serves it (weft blocks: hashes recomputed and checked)"
"$weft" blocks --channel mychannel --from oldest --to "$height" --msp-dir "$(user_msp 2)" \
  --mspid Org2MSP --orderers "127.0.0.1:$po"

if [ "$keep" = 1 ]; then
  stage "the network keeps running; drive it with weft, e.g.:"
  cat <<EOT
  $weft query --channel mychannel --chaincode asset --args '["ReadAsset","asset1"]' \\
    --targets 127.0.0.1:$pe1 --msp-dir $(user_msp 1) --mspid Org1MSP --genesis $genesis
  $weft blocks --channel mychannel --from oldest --to newest --msp-dir $(user_msp 1) \\
    --mspid Org1MSP --orderers 127.0.0.1:$po
Logs: $data/logs. Press Ctrl-C to stop the network.
EOT
  while :; do sleep 3600; done
fi
stage "done: $height transactions committed on both orgs; stopping the network"
