#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main job. Until the daemons exist it shows what the tool can already do:
# crypto material, a genesis block, and that block decoded.
set -euo pipefail
build=${1:-build}
weft="$build/cli/weft"
if [ ! -x "$weft" ]; then
  echo "demo: $weft is not built yet"; exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
echo "== weft cryptogen: an orderer org and two peer orgs"
"$weft" cryptogen --output "$dir/crypto" --peer-orgs 2
echo "== weft genesis"
"$weft" genesis --profile "$(dirname "$0")/../docs/examples/profile.yaml" --channel mychannel \
  --crypto "$dir/crypto" --output "$dir/mychannel.block"
echo "== weft inspect (first lines)"
"$weft" inspect "$dir/mychannel.block" | head -n 40
echo "demo: the network daemons arrive with the endorsement, ordering and commit issues"
