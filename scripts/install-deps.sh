#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what weft needs to build and test on Debian 12, only where it is missing.
# Usage: scripts/install-deps.sh [build|test]   (test adds the interop-test toolchain)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-build}

pkgs=(build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
      libgrpc-dev protobuf-c-compiler libprotobuf-c-dev libsodium-dev libssl-dev openssl
      liblmdb-dev lmdb-utils librdkafka-dev check libyaml-dev libjansson-dev)
if [ "$what" = test ]; then
  pkgs+=(nodejs npm clang-format shellcheck iproute2 default-jdk-headless maven)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The machine may ship its own node/npm/java/mvn outside Debian's packages: use those.
have() { command -v "$1" >/dev/null 2>&1; }
filtered=()
for p in ${missing[@]+"${missing[@]}"}; do
  case $p in
    nodejs) have node || filtered+=("$p") ;;
    npm) have npm || filtered+=("$p") ;;
    default-jdk-headless) have javac || filtered+=("$p") ;;
    maven) have mvn || filtered+=("$p") ;;
    *) filtered+=("$p") ;;
  esac
done

if [ ${#filtered[@]} -gt 0 ]; then
  echo "install-deps: installing ${filtered[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${filtered[@]}"
fi

if [ "$what" = test ] && [ -f tests/interop/package.json ]; then
  if [ ! -d tests/interop/node_modules ] ||
     [ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]; then
    echo "install-deps: npm ci in tests/interop"
    (cd tests/interop && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
  fi
fi
