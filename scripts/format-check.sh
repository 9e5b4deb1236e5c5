#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when a C file of ours is not formatted as .clang-format says.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build' || true)
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "format-check: $(echo "$files" | wc -l) files clean"
