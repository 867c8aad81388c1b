#!/usr/bin/env bash
# Every benchmark, in release mode, printing markdown tables with baselines measured in the
# same run. Results are recorded in BENCHMARKS.md.
#   plugin runtime:   instantiate + call + drop (pooling vs on-demand), cold load (cache vs compile)
#   schedules:        fire lateness of 10,000 one-second jobs vs tokio-cron-scheduler
#   store:            durable begin+finish throughput, batched vs one statement per call (SQLite,
#                     PostgreSQL, MariaDB)
#   replica:          one replica's lateness curve, 500 … 10,000 one-second jobs due at once and
#                     spread, beside the floor (the store recording the same burst alone) and the
#                     host's and the database's CPU per run; SQLite, PostgreSQL and MariaDB
#   cluster:          100,000 minute jobs on 3 replicas and one PostgreSQL: claimed and balanced,
#                     a minute of ticks, memory, single creates beside idle and running jobs,
#                     kill -9 of one replica and its jobs' next ticks
#   failover:         kill -9 and SIGSTOP of one of 3 replicas, PostgreSQL and MariaDB
#   plugins:          the hello example in Rust, Python and JavaScript: build time, size, compile
#                     time and memory, replica memory, first and steady per-run cost
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bash scripts/install-test-deps.sh
bash scripts/build-plugins.sh dist/plugins
cargo build --release --locked -p wasmcron -p wasmcron-e2e --bins
export WASMCRON_BIN="$repo/target/release/wasmcron" WASMCRON_TEST_PLUGINS="$repo/dist/plugins"
cargo bench --locked -p wasmcron --bench runtime -- --plugins "$repo/dist/plugins"
cargo bench --locked -p wasmcron --bench lateness
cargo run --release --locked -q -p wasmcron-e2e --bin store-bench
cargo run --release --locked -q -p wasmcron-e2e --bin history-bench
cargo run --release --locked -q -p wasmcron-e2e --bin apply-bench -- --jobs 100000
cargo run --release --locked -q -p wasmcron-e2e --bin replica-bench
cargo run --release --locked -q -p wasmcron-e2e --bin cluster-bench
cargo run --release --locked -q -p wasmcron-e2e --bin failover-bench -- --runs 2

# Build time of the hello example in each language, into a scratch directory: a rebuild of the
# Rust crate (std and dependencies already compiled), a whole componentize-py and
# componentize-js build (they have nothing to reuse).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
build_seconds() {
    local started
    started=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}
touch plugins/hello/src/lib.rs
rust=$(build_seconds bash scripts/plugins/build-rust.sh "$scratch" hello)
python=$(build_seconds bash scripts/plugins/build-python.sh "$scratch" hello-py)
js=$(build_seconds bash scripts/plugins/build-js.sh "$scratch" hello-js)
cargo run --release --locked -q -p wasmcron-e2e --bin plugin-bench -- \
    --build-times "rust=$rust,python=$python,js=$js"
