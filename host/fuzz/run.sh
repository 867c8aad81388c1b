#!/usr/bin/env bash
# libFuzzer runs of the host's parsers (cargo-fuzz; targets in host/fuzz/fuzz_targets, corpora in
# host/fuzz/corpus/<target>). Builds every target once, then runs each for FUZZ_SECONDS (default
# 30: the smoke run of scripts/test.sh) from its corpus. Fails on the first panic or failed
# invariant, on an input that takes longer than FUZZ_TIMEOUT seconds (default 10: a hang), and
# on more than FUZZ_RSS_MB of memory (default 2048) or one allocation over FUZZ_MALLOC_MB
# (default 512): unbounded allocation. libFuzzer then leaves the input in
# host/fuzz/artifacts/<target>/ and prints how to replay it.
#
# Usage: host/fuzz/run.sh [TARGET...]          (default: every target)
#   FUZZ_SECONDS=600 host/fuzz/run.sh cron     a long run of one target
#   FUZZ_GROW=1 host/fuzz/run.sh               keep new inputs in the corpus (to commit);
#                                              otherwise they go to a scratch directory
#
# Stable toolchain, no sanitizer (the code under test is safe Rust; -s none needs no nightly),
# dev profile with overflow checks and debug assertions (see Cargo.toml). Installs cargo-fuzz
# when missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
seconds="${FUZZ_SECONDS:-30}"
timeout="${FUZZ_TIMEOUT:-10}"
rss_mb="${FUZZ_RSS_MB:-2048}"
malloc_mb="${FUZZ_MALLOC_MB:-512}"
say() { printf 'fuzz: %s\n' "$*" >&2; }

readonly CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

mapfile -t all < <(cargo fuzz list)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

started=$(date +%s)
cargo fuzz build --dev -s none
say "built ${#all[@]} targets in $(($(date +%s) - started)) s"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    corpus="corpus/$target"
    mkdir -p "$corpus"
    # libFuzzer writes new inputs to its first directory and only reads the others.
    if [[ -n "${FUZZ_GROW:-}" ]]; then
        dirs=("$corpus")
    else
        mkdir -p "$scratch/$target"
        dirs=("$scratch/$target" "$corpus")
    fi
    say "$target: ${seconds} s from $(find "$corpus" -type f | wc -l) corpus inputs"
    log="$scratch/$target.log"
    if ! cargo fuzz run --dev -s none "$target" "${dirs[@]}" -- \
        -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_mb" \
        -malloc_limit_mb="$malloc_mb" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 80 "$log" >&2
        say "$target FAILED (the input is under host/fuzz/artifacts/$target/)"
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    say "$target: ${runs:-?} inputs run, peak RSS ${rss:-?} MB, no finding"
done
say "every target ran ${seconds} s without a finding ($(($(date +%s) - started)) s in all)"
