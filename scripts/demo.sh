#!/usr/bin/env bash
# Build everything and start one replica on embedded SQLite with the example plugins and two
# demo jobs from a watched YAML file (a greeting every 5 s, an HTTP uptime check of the
# replica itself every 10 s; edit examples/demo-jobs.yaml while it runs).
# Watch the log, or in another terminal:  curl -s localhost:8080/api/v1/runs | head -c 2000
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bash scripts/build-plugins.sh dist/plugins
cargo build --release -p wasmcron
mkdir -p .demo
exec target/release/wasmcron serve \
    --db sqlite://.demo/wasmcron.db \
    --plugins dist/plugins \
    --cache-dir .demo/cache \
    --jobs-file examples/demo-jobs.yaml \
    "$@"
