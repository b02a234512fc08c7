#!/usr/bin/env bash
# Runs every test of the project, in one command (the README's test command):
#   1. the Rust workspace: unit, integration, property and crash tests, and the
#      python-escpos, pyiso8583 and jPOS peer tests (cargo test); then the deterministic
#      simulation (2,000 seeds) and the real-process chaos test, with their figures;
#   2. the Android type check of poscore-ffi (scripts/android-check.sh);
#   3. the release cdylib size gate (scripts/cdylib-size.sh);
#   4. the Kotlin SDK and the generated bindings on a desktop JVM, JUnit 5 (android/jvm);
#   5. the app's and SDK's Android Kotlin compiled against the Android API jar (android/jvm-android).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

# The jPOS acquirer-host peer (tests/peers/jpos) that rust/host/tests/jpos_peer.rs runs.
mvn -B -ntp -q -f tests/peers/jpos/pom.xml package

step "Rust workspace"
# All features: the virtual printer's tests and the python-escpos peer tests need
# `virtual-printer` (python-escpos comes from tests/peers/requirements.txt; $PYTHON picks the
# interpreter, default python3). The simulation and the chaos test run next, on their own, so
# their figures are printed.
cargo test --workspace --all-features --locked --exclude poscore-sim -- --skip chaos_of_kills

step "Proof under faults: deterministic simulation (2,000 seeds) and the real-process chaos test"
cargo test -p poscore-sim --locked -- --nocapture
cargo test -p poscore-system-tests --test chaos --locked -- --nocapture

step "Android type check (aarch64-linux-android)"
scripts/android-check.sh

step "Release cdylib size"
scripts/cdylib-size.sh

step "Kotlin on a desktop JVM (android/jvm)"
mvn -B -ntp -f android/jvm/pom.xml test

step "Android Kotlin against the Android API jar (android/jvm-android)"
mvn -B -ntp -f android/jvm-android/pom.xml verify

step "All tests passed"
