#!/usr/bin/env bash
# Runs every test of the project, on a fresh machine of this kind, installing what it needs:
#   1. PostgreSQL 15 server binaries, MariaDB and PgBouncer (for their test helpers and the
#      chaos run's other databases), an OCI registry (docker-registry) and the wasm toolchain
#      (Debian packages);
#   2. the example and test plugins, built from source into dist/plugins: Rust (cargo), Python
#      (componentize-py), JavaScript (componentize-js), and the Rust examples once more with
#      `cargo component` (installed into .tools/ when missing: about 13 minutes of compiling
#      on a bare machine, a no-op once .tools/ is cached);
#   3. formatting and lints (cargo fmt --check, clippy -D warnings);
#   4. the Rust tests: the plugin SDK's (unit tests and API examples), unit, integration (real components, host/tests/all), storage
#      (tests/tests/store.rs), end-to-end (tests/tests/all, one binary with a module per area:
#      the real binary, real PostgreSQL servers started by the tests, real plugins), and the
#      chaos runs in their short mode (its `chaos` module: random kills, pauses, restarts, edits
#      and network faults between replicas and each database; end checks). One area:
#      `cargo test -p wasmcron-e2e --test all -- cluster::`;
#   5. the parsers' libFuzzer smoke runs (host/fuzz: FUZZ_SECONDS a target, 10 here; a long
#      run is `FUZZ_SECONDS=600 bash host/fuzz/run.sh TARGET`);
#   6. the dashboard's browser tests (headless Chromium, two replicas on PostgreSQL);
#   7. the API fuzz run (schemathesis against a running replica: no 5xx, no crash);
#   8. the Helm chart tests (lint, render, offline schema validation, property checks).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
step() { printf '\n==> %s\n' "$*"; }

target_dir="${CARGO_TARGET_DIR:-$repo/target}"
mkdir -p "$target_dir"
step "disk: a cold run needs about 6 GB free under $target_dir and 2 GB under host/fuzz/target"
df -h "$target_dir"
step "installing test dependencies"
bash scripts/install-test-deps.sh
step "building plugins from source"
bash scripts/build-plugins.sh dist/plugins
step "building the Rust examples with cargo component"
bash scripts/install-cargo-component.sh
bash scripts/cargo-component-build.sh dist/plugins/cargo-component
step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
step "plugin SDK tests (its unit tests and API examples, on the build machine's target)"
(cd plugins/sdk && CARGO_TARGET_DIR="$target_dir/plugins-host" cargo test --locked)
step "Rust tests"
# `cargo test --workspace` builds the wasmcron binary (the host's CLI tests need it) before any
# test runs; a separate `cargo build --bins` would resolve features differently and build the
# host a second time.
export WASMCRON_BIN="$target_dir/debug/wasmcron"
export WASMCRON_TEST_PLUGINS="$repo/dist/plugins"
cargo test --workspace --locked
step "parser fuzz smoke runs"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash host/fuzz/run.sh
step "dashboard browser tests"
bash tests/browser/run.sh
step "API fuzz run"
bash tests/fuzz/run.sh
step "Helm chart tests"
bash tests/chart/run.sh
