#!/usr/bin/env bash
# Builds the release poscore-ffi library for the host and checks its stripped size against
# the budget (6 MB; BENCHMARKS.md). The release profile already strips symbols; `strip`
# runs again in case a toolchain leaves any. Prints the size in bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=$((6 * 1000 * 1000))
cargo build --locked --release -p poscore-ffi
lib="${CARGO_TARGET_DIR:-target}/release/libposcore_ffi.so"
copy="$(mktemp)"
cp "$lib" "$copy"
strip "$copy" 2>/dev/null || true
size=$(stat -c %s "$copy")
rm -f "$copy"
echo "libposcore_ffi.so (release, stripped, $(uname -m)): $size bytes (budget $budget)"
if [ "$size" -gt "$budget" ]; then
  echo "cdylib-size: over budget" >&2
  exit 1
fi
