#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main job. Until the daemons exist it shows what the tool can already do:
# crypto material for an orderer org and two peer orgs, a channel's genesis block, and that
# block decoded and checked.
set -euo pipefail
build=${1:-build}
weft="$build/cli/weft"
[ -x "$weft" ] || { echo "demo: $weft is not built"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

echo "== weft cryptogen: an orderer org and two peer orgs"
"$weft" cryptogen --output "$dir/crypto" --peer-orgs 2
find "$dir/crypto" -maxdepth 2 -mindepth 2 | sed "s|$dir/||"

cat > "$dir/profile.yaml" <<'YAML'
Orderer:
  OrdererType: solo
  Addresses: [127.0.0.1:7050]
  BatchTimeout: 2s
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
echo "== weft genesis: block 0 of channel mychannel"
"$weft" genesis --profile "$dir/profile.yaml" --channel mychannel --output "$dir/mychannel.block"
echo "== weft inspect: the block's header and chaincode definitions"
"$weft" inspect "$dir/mychannel.block" > "$dir/block.json"
python3 - "$dir/block.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
print(json.dumps({k: b[k] for k in ("header", "computed") if k in b}, indent=2))
PY
echo "demo: the network daemons arrive with the endorsement, ordering and commit issues"
