#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make demo`: a local network on loopback (solo orderer; per org an endorser, a committer and,
# when built, an eventd), then example02 and asset through it with every stage printed.
# Usage: scripts/demo.sh [BUILD_DIR] [--keep] [--short] [--data-dir DIR]
#   --keep      leave the network running at the end and print weft commands to drive it
#   --short     a smaller flow (example02 only), for the integration test
#   --data-dir  where crypto, blocks, ledgers and logs go (default: demo-data/ in the repo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=build
keep=0
short=0
data="$root/demo-data"
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --short) short=1 ;;
    --data-dir) [ $# -ge 2 ] || { echo "demo: --data-dir needs a value" >&2; exit 2; }; data=$2; shift ;;
    --data-dir=*) data=${1#--data-dir=} ;;
    -h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "demo: unknown flag $1" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
case $build in /*) ;; *) build="$root/$build" ;; esac
case $data in /*) ;; *) data="$PWD/$data" ;; esac
weft="$build/cli/weft"
orderer_bin="$build/services/orderer/orderer"
endorser_bin="$build/services/endorser/endorser"
committer_bin="$build/services/committer/committer"
eventd_bin="$build/services/eventd/eventd"
for b in "$weft" "$orderer_bin" "$endorser_bin" "$committer_bin"; do
  [ -x "$b" ] || { echo "demo: $b is not built (run make demo)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "demo: python3 is needed" >&2; exit 1; }

# ---- process control: every daemon is stopped on exit, error, Ctrl-C or SIGTERM -------------
pids=()
names=()
stopping=0
idle_pid=
done_flow=0
stop_all() {
  local rc=$?
  [ "$stopping" = 0 ] || return 0
  stopping=1
  trap - INT TERM
  [ -z "$idle_pid" ] || kill "$idle_pid" 2>/dev/null || true
  # With --keep, Ctrl-C or SIGTERM is how the user ends the demo: not a failure.
  if [ "$keep" = 1 ] && [ "$done_flow" = 1 ] && { [ "$rc" = 130 ] || [ "$rc" = 143 ]; }; then rc=0; fi
  if [ ${#pids[@]} -gt 0 ]; then
    local p i end
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    end=$((SECONDS + 10))
    for i in "${!pids[@]}"; do
      p=${pids[$i]}
      while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.05; done
      if kill -0 "$p" 2>/dev/null; then
        echo "demo: ${names[$i]} did not stop after SIGTERM; sending SIGKILL" >&2
        kill -KILL "$p" 2>/dev/null || true
      fi
      wait "$p" 2>/dev/null || true
    done
    echo "demo: network stopped (${#pids[@]} daemons)"
  fi
  if [ "$rc" = 0 ] && [ "$keep" = 0 ]; then
    rm -rf "$data"
  elif [ "$rc" = 130 ] || [ "$rc" = 143 ]; then
    echo "demo: interrupted; logs are in $data/logs" >&2
  elif [ "$rc" != 0 ]; then
    echo "demo: failed (exit $rc); logs are in $data/logs" >&2
  fi
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ------------------------------------------------------------------------------------
# Prints N distinct free loopback ports (all bound at once, so they differ).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
# all_alive: fails, naming the daemon and showing its log's end, when one has exited.
all_alive() {
  local i
  for i in "${!pids[@]}"; do
    kill -0 "${pids[$i]}" 2>/dev/null && continue
    echo "demo: ${names[$i]} exited unexpectedly; the end of logs/${names[$i]}.log:" >&2
    grep -v '^  0x\|^  [A-Z][a-z].*: ' "$data/logs/${names[$i]}.log" | tail -n 25 >&2
    return 1
  done
}
# wait_log FILE PATTERN SECONDS [PID]: until FILE has a line matching PATTERN (grep -E); fails
# early when PID (a daemon being started) or any running daemon has exited.
wait_log() {
  local end=$((SECONDS + $3))
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
      echo "demo: process exited before '$2' appeared in $1:" >&2; tail -n 20 "$1" >&2; return 1
    fi
    all_alive || return 1
    if [ $SECONDS -ge $end ]; then
      echo "demo: timed out waiting for '$2' in $1:" >&2; tail -n 20 "$1" >&2; return 1
    fi
    sleep 0.05
  done
}
# wait_port PORT SECONDS: until 127.0.0.1:PORT accepts a connection.
wait_port() {
  local end=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ $SECONDS -lt $end ] || { echo "demo: nothing accepts on port $1" >&2; return 1; }
    sleep 0.05
  done
}
stage() { printf '\n== %s\n' "$*"; }
now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000000)); }
# start NAME PORT COMMAND...: runs a daemon with its log in $data/logs/NAME.log, waits for its
# "listening" line and its port.
start() {
  local name=$1 port=$2 log
  shift 2
  log="$data/logs/$name.log"
  "$@" >"$log" 2>&1 &
  pids+=($!)
  names+=("$name")
  wait_log "$log" "listening" 30 "$!" || return 1
  wait_port "$port" 10 || return 1
  printf '  %-16s 127.0.0.1:%-6s pid %-7s log %s\n' "$name" "$port" "$!" "${log#"$data"/}"
}

# ---- crypto, channel, profile -------------------------------------------------------------------
rm -rf "$data"
mkdir -p "$data/logs"
crypto="$data/crypto"
genesis="$data/mychannel.block"
peer_msp() { echo "$crypto/peerOrganizations/org$1.example.com/peers/peer$2.org$1.example.com/msp"; }
user_msp() { echo "$crypto/peerOrganizations/org$1.example.com/users/User1@org$1.example.com/msp"; }

echo "weft demo: data under $data"
stage "crypto material: an orderer org and two peer orgs (weft cryptogen, Fabric's MSP layout)"
"$weft" cryptogen --output "$crypto" --peer-orgs 2 --peers-per-org 2 | sed "s|$data/||"

read -r po pe1 pe2 pc1 pc2 pv1 pv2 <<<"$(free_ports 7)"
pe=("" "$pe1" "$pe2")
pc=("" "$pc1" "$pc2")
pv=("" "$pv1" "$pv2")

stage "channel mychannel: genesis block (weft genesis)"
cat >"$data/channel.yaml" <<YAML
Orderer:
  OrdererType: solo
  Addresses: [127.0.0.1:$po]
  BatchTimeout: 200ms
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
"$weft" genesis --profile "$data/channel.yaml" --channel mychannel --output "$genesis"
echo "  ${genesis#"$data"/}: example02 needs AND('Org1MSP.peer','Org2MSP.peer'), asset needs OR(...)"

# Fabric's common connection profile: fabric-network reads it as well. User credentials are the
# cryptogen MSP folders (x-weft-users; Fabric SDKs take them from a wallet instead).
profile="$data/connection.yaml"
cat >"$profile" <<YAML
name: weft-demo
version: 1.0.0
client:
  organization: Org1
organizations:
  Org1:
    mspid: Org1MSP
    peers: [peer0.org1.example.com]
    x-weft-users: {User1: $(user_msp 1)}
  Org2:
    mspid: Org2MSP
    peers: [peer0.org2.example.com]
    x-weft-users: {User1: $(user_msp 2)}
peers:
  peer0.org1.example.com: {url: grpc://127.0.0.1:$pe1}
  peer0.org2.example.com: {url: grpc://127.0.0.1:$pe2}
orderers:
  orderer0.example.com: {url: grpc://127.0.0.1:$po}
channels:
  mychannel:
    orderers: [orderer0.example.com]
    peers:
      peer0.org1.example.com: {endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true}
      peer0.org2.example.com: {endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true}
YAML
echo "  connection profile: ${profile#"$data"/} (Fabric common connection profile)"

# ---- the network ----------------------------------------------------------------------------
follows=0
"$endorser_bin" --help 2>&1 | grep -q -- '--committer' && follows=1
have_eventd=0
[ -x "$eventd_bin" ] && have_eventd=1
invoke_eventd=0
if [ "$have_eventd" = 1 ] && "$weft" invoke --help 2>&1 | grep -q -- '--eventd'; then invoke_eventd=1; fi

stage "starting the network on loopback"
start orderer "$po" "$orderer_bin" --listen "127.0.0.1:$po" \
  --msp-dir "$crypto/ordererOrganizations/example.com/orderers/orderer0.example.com/msp" \
  --mspid OrdererMSP --genesis "$genesis" --data-dir "$data/orderer"
for org in 1 2; do
  start "committer-org$org" "${pc[$org]}" "$committer_bin" --listen "127.0.0.1:${pc[$org]}" \
    --msp-dir "$(peer_msp $org 1)" --mspid "Org${org}MSP" --genesis "$genesis" \
    --data-dir "$data/committer-org$org" --orderer "127.0.0.1:$po" --log-spec 'info:committer=debug'
  eargs=(--listen "127.0.0.1:${pe[$org]}" --msp-dir "$(peer_msp $org 0)" --mspid "Org${org}MSP"
    --genesis "$genesis" --state-dir "$data/endorser-org$org")
  [ "$follows" = 0 ] || eargs+=(--committer "127.0.0.1:${pc[$org]}")
  start "endorser-org$org" "${pe[$org]}" "$endorser_bin" "${eargs[@]}"
done
eventd_up=0
if [ "$have_eventd" = 1 ]; then
  # eventd serves protos.Deliver from its org's committed blocks; its flags are read from --help.
  ehelp=$("$eventd_bin" --help 2>&1 || true)
  eventd_up=1
  for org in 1 2; do
    vargs=(--listen "127.0.0.1:${pv[$org]}")
    for f in msp-dir:"$(peer_msp $org 1)" mspid:"Org${org}MSP" genesis:"$genesis" \
      committer:"127.0.0.1:${pc[$org]}" data-dir:"$data/eventd-org$org"; do
      grep -Eq -- "^ *--${f%%:*}( |$)" <<<"$ehelp" && vargs+=("--${f%%:*}" "${f#*:}")
    done
    if ! start "eventd-org$org" "${pv[$org]}" "$eventd_bin" "${vargs[@]}" 2>/dev/null; then
      # Not part of the network after all: stop it and forget it.
      eventd_up=0
      kill -TERM "${pids[-1]}" 2>/dev/null || true
      wait "${pids[-1]}" 2>/dev/null || true
      unset 'pids[-1]' 'names[-1]'
    fi
  done
  if [ "$eventd_up" = 0 ]; then
    echo "  eventd did not start (see logs/eventd-org*.log): commits are read from the committers' logs"
  fi
fi
echo "  gossipd: not built yet, so each committer pulls blocks from the orderer itself"
[ "$have_eventd" = 1 ] || echo "  eventd: not built yet, so commits are read from the committers' logs"
if [ "$follows" = 1 ]; then
  echo "  each endorser's state follows its org's committer (--committer)"
else
  echo "  this endorser cannot follow a committer: queries see the genesis state only"
fi
use_eventd=0
if [ "$eventd_up" = 1 ] && [ "$invoke_eventd" = 1 ]; then
  use_eventd=1
  echo "  weft invoke waits for the commit event from its org's eventd (--eventd)"
elif [ "$eventd_up" = 1 ]; then
  echo "  eventd is running, but this weft invoke cannot wait for events: commits are read from the committers' logs"
fi

# ---- the flow -----------------------------------------------------------------------------------
height=0
# Turns `weft invoke --json` (stdin) into the demo's lines; $1 says how the endorsers were picked.
# Keys weft adds later (the commit event from eventd) are printed as they come.
fmt_invoke() {
  python3 -c '
import json, sys
raw = sys.stdin.read().strip()
try:
    j = json.loads(raw.splitlines()[-1]) if raw else {}
except ValueError:
    print("  weft said: " + raw)
    sys.exit(0)
known = {"txid", "endorsers", "chaincode_status", "status", "payload", "payload_base64",
         "orderer", "failed_over", "status_name", "info"}
print("  txid        " + j.get("txid", "?"))
print("  endorsers   %s  (%s)" % (", ".join(j.get("endorsers", [])) or "?", sys.argv[1]))
print("  endorsements checked: signatures, identities and proposal hash verified, responses"
      " identical; chaincode status %s" % j.get("chaincode_status", "?"))
fo = " after %s unavailable" % j["failed_over"] if j.get("failed_over") else ""
info = (" info=" + j["info"]) if j.get("info") else ""
print("  broadcast   %s: %s (%s)%s%s" % (j.get("orderer", "?"), j.get("status_name", "?"),
                                       j.get("status", "?"), fo, info))
for k in sorted(set(j) - known):
    print("  event       %s = %s" % (k, json.dumps(j[k])))
' "$1"
}
# tx_code N ORG: the validation code of the one transaction in block N at ORG's committer.
tx_code() {
  local log="$data/logs/committer-org$2.log" line code
  line=$(grep -E "block committed number=$1 " "$log" | head -n1)
  if [[ $line == *"valid=1"* ]]; then echo "VALID (0)"; return; fi
  code=$(grep -Eo "tx invalid block=$1 tx=0 code=[0-9]+" "$log" | head -n1 | sed 's/.*code=//')
  case ${code:-?} in
    10) echo "ENDORSEMENT_POLICY_FAILURE (10)" ;;
    11) echo "MVCC_READ_CONFLICT (11)" ;;
    *) echo "invalid (code ${code:-?})" ;;
  esac
}
# invoke TITLE ORG CC ARGS [EXTRA weft FLAGS...]: endorse, check and broadcast as ORG's user, then
# wait for both committers (and endorser replicas) to have the next block.
invoke() {
  local title=$1 org=$2 cc=$3 args=$4 t0 out rc=0
  shift 4
  stage "$title"
  echo "  \$ weft invoke --chaincode $cc --args '$args'${*:+ $*}"
  local how="chosen by the endorsement policy"
  [[ " $* " != *" --targets "* ]] || how="given with --targets"
  local flags=(--profile "$profile" --channel mychannel --msp-dir "$(user_msp "$org")"
    --mspid "Org${org}MSP" --genesis "$genesis" --chaincode "$cc" --args "$args" --json "$@")
  [ "$use_eventd" = 0 ] || flags+=(--eventd "127.0.0.1:${pv[$org]}")
  t0=$(now_ns)
  out=$("$weft" invoke "${flags[@]}") || rc=$?
  local t_sub; t_sub=$(ms_since "$t0")
  fmt_invoke "$how" <<<"$out"
  # Waiting for the event, weft invoke exits 1 for a transaction committed as invalid; anything
  # else that fails before the orderer's SUCCESS ends the demo.
  if [ "$rc" != 0 ] && { [ "$use_eventd" = 0 ] || ! grep -Eq '"status_name": *"SUCCESS"' <<<"$out"; }; then
    echo "demo: weft invoke failed (exit $rc)" >&2; return 1
  fi
  echo "  latency     ${t_sub} ms to endorse, check and broadcast"
  height=$((height + 1))
  local o line
  for o in 1 2; do
    wait_log "$data/logs/committer-org$o.log" "block committed number=$height " 30
    line=$(grep -Eo "block committed number=$height .*" "$data/logs/committer-org$o.log" | head -n1)
    echo "  org$o committer: block $height (${line#*number="$height" }) validation code $(tx_code $height $o)"
  done
  if [ "$follows" = 1 ]; then
    for o in 1 2; do
      wait_log "$data/logs/endorser-org$o.log" "replica applied channel=mychannel number=$height" 30
    done
  fi
  echo "  latency     $(ms_since "$t0") ms from proposal to committed on both orgs"
}
# query ORG CC ARGS: evaluate on ORG's endorser as ORG's user; prints the payload line.
query() {
  local t0 out errf="$data/logs/query.err"
  t0=$(now_ns)
  if ! out=$("$weft" query --profile "$profile" --channel mychannel --msp-dir "$(user_msp "$1")" \
    --mspid "Org${1}MSP" --genesis "$genesis" --targets "127.0.0.1:${pe[$1]}" --chaincode "$2" \
    --args "$3" --json 2>"$errf"); then
    printf '  org%s %-9s %-28s -> refused: %s\n' "$1" "$2" "$3" "$(tail -n1 "$errf")"
    return 0
  fi
  printf '  org%s %-9s %-28s -> %s  (%s ms)\n' "$1" "$2" "$3" \
    "$(python3 -c 'import json,sys; j=json.load(sys.stdin); p=j.get("payload"); print(p if p is not None else "base64:" + j.get("payload_base64",""))' <<<"$out")" \
    "$(ms_since "$t0")"
}
expect() { # ORG CC ARGS WANT
  local got
  got=$(query "$1" "$2" "$3" | sed 's/.*-> //; s/  ([0-9]* ms)$//')
  [ "$got" = "$4" ] || { echo "demo: org$1 $2 $3 read '$got', expected '$4'" >&2; exit 1; }
}

invoke "example02 init a=100 b=200: both orgs must endorse (AND policy)" 1 example02 \
  '["init","a","100","b","200"]'
# after_commit TITLE: true when endorsers see committed state; otherwise says why TITLE is skipped.
after_commit() {
  [ "$follows" = 0 ] || return 0
  stage "$1"
  echo "  skipped: it reads what an earlier transaction wrote, and these endorsers never see commits"
  return 1
}
t="example02 invoke: move 10 from a to b"
! after_commit "$t" || invoke "$t" 2 example02 '["invoke","a","b","10"]'

if [ "$short" = 0 ]; then
  invoke "asset InitLedger: one org is enough (OR policy)" 1 asset '["InitLedger"]'
  invoke "asset CreateAsset asset7 (Org2's user)" 2 asset \
    '["CreateAsset","asset7","purple","20","Ana","900"]'
  t="asset TransferAsset asset7 to Ravi"
  ! after_commit "$t" || invoke "$t" 1 asset '["TransferAsset","asset7","Ravi"]'
  invoke "example02 endorsed by Org1 alone: ordered, then invalidated by both committers" 1 \
    example02 '["init","c","1","d","2"]' --targets "127.0.0.1:$pe1"
  for o in 1 2; do
    [[ $(tx_code "$height" "$o") == ENDORSEMENT_POLICY_FAILURE* ]] ||
      { echo "demo: committer org$o did not reject the under-endorsed transaction" >&2; exit 1; }
  done
fi

if [ "$follows" = 1 ]; then
  stage "final state read back from each org's endorser (weft query)"
  for o in 1 2; do
    query "$o" example02 '["query","a"]'
    query "$o" example02 '["query","b"]'
    [ "$short" = 1 ] || query "$o" asset '["ReadAsset","asset7"]'
    [ "$short" = 1 ] || query "$o" example02 '["query","c"]'
  done
  for o in 1 2; do
    expect "$o" example02 '["query","a"]' 90
    expect "$o" example02 '["query","b"]' 210
  done
else
  stage "final state: not shown (this endorser build does not follow the committers)"
fi

if [ "$short" = 0 ]; then
  stage "the chain as the orderer serves it (weft blocks: hashes recomputed and checked)"
  "$weft" blocks --profile "$profile" --channel mychannel --from oldest --to "$height" \
    --msp-dir "$(user_msp 2)" --mspid Org2MSP | sed 's/^/  /'
fi

if [ "$keep" = 1 ]; then
  stage "the network keeps running; drive it with weft:"
  cat <<EOT
  export WEFT_CLIENT_PROFILE=$profile WEFT_CLIENT_CHANNEL=mychannel
  export WEFT_CLIENT_MSP_DIR=$(user_msp 1) WEFT_CLIENT_MSPID=Org1MSP
  $weft query --chaincode example02 --args '["query","a"]'
  $weft invoke --chaincode example02 --args '["invoke","b","a","5"]'
  $weft invoke --chaincode asset --args '["CreateAsset","asset8","red","3","Kim","100"]'
  $weft query --chaincode asset --args '["GetAllAssets"]'
  $weft blocks --from oldest --to newest
EOT
  if [ "$eventd_up" = 1 ]; then
    echo "  eventd (protos.Deliver, blocks and filtered blocks): org1 127.0.0.1:$pv1, org2 127.0.0.1:$pv2"
    if "$weft" events --help >/dev/null 2>&1; then echo "  $weft events --help"; fi
  fi
  cat <<EOT
weft invoke returns once the orderer accepts; a query sees the change once the block is committed.
Logs: $data/logs. Stop the network with Ctrl-C here, or: kill $$
(the data stays in $data; remove it when done)
EOT
  done_flow=1
  while :; do
    sleep 3600 &
    idle_pid=$!
    wait "$idle_pid" || true
  done
fi
stage "done: $height transaction(s) ordered and committed on both orgs; stopping the network"
