#!/usr/bin/env bash
# Builds the host poscore-ffi library and generates its Kotlin bindings.
#
#   uniffi/generate-kotlin.sh [OUT_DIR]
#
# OUT_DIR defaults to target/uniffi/kotlin. The generated code is not committed; the Maven
# build (android/jvm) and the Gradle build (android/sdk) run this script. Library metadata
# is the same on every architecture, so the host library serves Android builds too. It is
# read from the debug build: the release profile strips symbols, uniffi's metadata with them.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-target/uniffi/kotlin}"
profile="debug"
cargo build -p poscore-ffi

target_dir="${CARGO_TARGET_DIR:-target}"
case "$(uname -s)" in
  Darwin) lib="$target_dir/$profile/libposcore_ffi.dylib" ;;
  *) lib="$target_dir/$profile/libposcore_ffi.so" ;;
esac

rm -rf "$out"
mkdir -p "$out"
cargo run -q -p uniffi-bindgen -- generate "$lib" --language kotlin --out-dir "$out" --no-format
echo "Kotlin bindings for $lib in $out"
