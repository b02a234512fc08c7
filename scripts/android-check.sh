#!/usr/bin/env bash
# Type-checks the Android build of poscore-ffi (cfg(target_os = "android") code: logcat
# logging, JNI_OnLoad, thread attachment) without the NDK.
#
# The NDK is not installable on this project's machines, so Debian's clang with the arm64
# glibc headers stands in as a sysroot: enough for `cargo check` to compile the bundled
# SQLite's C code, not for linking a loadable .so (that needs the NDK's bionic; see
# android/README.md for the real build with cargo-ndk).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang >/dev/null 2>&1 || [ ! -d /usr/aarch64-linux-gnu/include ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang llvm libc6-dev-arm64-cross >/dev/null
  else
    echo "android-check: needs clang and libc6-dev-arm64-cross (apt-get install clang llvm libc6-dev-arm64-cross)" >&2
    exit 1
  fi
fi
rustup target add aarch64-linux-android >/dev/null

export CC_aarch64_linux_android=clang
export CFLAGS_aarch64_linux_android="--target=aarch64-linux-android24 --sysroot=/usr/aarch64-linux-gnu -isystem /usr/aarch64-linux-gnu/include"
export AR_aarch64_linux_android=llvm-ar
cargo check --locked --target aarch64-linux-android -p poscore-ffi
echo "android-check: poscore-ffi type-checks for aarch64-linux-android"
