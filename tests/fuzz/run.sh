#!/usr/bin/env bash
# Property-based fuzzing of the HTTP API against a running replica.
#
#   tests/fuzz/run.sh [MAX_EXAMPLES]     (default 25 examples per operation)
#
# 1. installs schemathesis and openapi-spec-validator (PyPI) into .tools/venv-fuzz;
# 2. starts one replica on a fresh SQLite database with the built plugins (dist/plugins);
# 3. validates /api/v1/openapi.json as an OpenAPI 3.1 document;
# 4. runs schemathesis against every operation of that document except the endless event
#    stream, for at most two minutes, checking that no request gets a 5xx answer, that every
#    answer is as documented (status, content type, headers, body schema), that requests the
#    document calls invalid are refused, and that the replica survives.
# Prints "N passed, M failed" and exits non-zero on any failure.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
examples=${1:-25}
venv="$repo/.tools/venv-fuzz"
bin=${WASMCRON_BIN:-$repo/target/debug/wasmcron}
plugins=${WASMCRON_TEST_PLUGINS:-$repo/dist/plugins}

if [ ! -x "$venv/bin/schemathesis" ] || [ ! -x "$venv/bin/openapi-spec-validator" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        'schemathesis>=4,<5' 'openapi-spec-validator>=0.7,<1'
fi
[ -x "$bin" ] || cargo build -p wasmcron --bin wasmcron
[ -f "$plugins/hello.wasm" ] || bash scripts/build-plugins.sh "$plugins"

work=$(mktemp -d)
# Port 0: the system picks a free port as the replica binds; the replica logs the address
# (followed by another field: a line cut inside the port does not match).
"$bin" serve --db "sqlite://$work/fuzz.db" --plugins "$plugins" --cache-dir "$work/cache" \
    --listen "127.0.0.1:0" --instance-id fuzz >"$work/replica.log" 2>&1 &
replica=$!
cleanup() {
    kill "$replica" 2>/dev/null || true
    wait "$replica" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
address=
for _ in $(seq 1 300); do
    address=$(sed 's/\x1b\[[0-9;]*m//g' "$work/replica.log" |
        sed -n 's/.*wasmcron replica serving.* listen=\([^ ]*\) .*/\1/p')
    [ -n "$address" ] && break
    kill -0 "$replica" 2>/dev/null || { cat "$work/replica.log"; exit 1; }
    sleep 0.1
done
[ -n "$address" ] || { echo "the replica did not bind its address"; cat "$work/replica.log"; exit 1; }
base="http://$address"
for _ in $(seq 1 300); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    kill -0 "$replica" 2>/dev/null || { cat "$work/replica.log"; exit 1; }
    sleep 0.1
done
# A job for the operations that take a job id to find.
curl -fsS -XPOST "$base/api/v1/jobs" -H 'content-type: application/json' \
    -d '{"name":"fuzz-target","schedule":"@every 10s","plugin":"hello"}' >/dev/null

curl -fsS "$base/api/v1/openapi.json" >"$work/openapi.json"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"

status=0
# No 5xx; every answer as the document describes it (a documented status, its content type,
# its headers, its body's schema); what the document calls invalid is refused (4xx), and so
# is a method a path does not document (405). FUZZ_CHECKS overrides the list.
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks=$checks,response_headers_conformance,response_schema_conformance
checks=$checks,negative_data_rejection,unsupported_method
# From the scratch directory: schemathesis keeps a cache in the current directory.
# The document is read from the replica: its servers (`/api/v1`, and `/` for the probes and the
# metrics) are relative to where it is served.
(cd "$work" && timeout 150 "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
    --checks "${FUZZ_CHECKS:-$checks}" \
    --exclude-path /events \
    --max-examples "$examples" \
    --max-time 90 \
    --request-timeout 10 \
    --workers 2 \
    --seed 1 \
    --generation-database none \
    --suppress-health-check all \
    --no-color \
    --report ndjson --report-ndjson-path "$work/events.ndjson" \
    >"$work/schemathesis.log" 2>&1) || tool_status=$?
# The verdict comes from the event log (summary.py), the replica's health and its log:
# schemathesis also exits non-zero for errors inside itself, which say nothing of the server.
if [ "${tool_status:-0}" -eq 0 ]; then tail -n 30 "$work/schemathesis.log"; else cat "$work/schemathesis.log"; fi
if [ ! -s "$work/events.ndjson" ]; then
    echo "schemathesis produced no event log (exit ${tool_status:-0})"
    status=1
fi

if ! kill -0 "$replica" 2>/dev/null; then
    echo "the replica died during the run; its log:"
    tail -n 50 "$work/replica.log"
    status=1
fi
if ! curl -fsS "$base/healthz" >/dev/null; then
    echo "the replica no longer answers /healthz"
    status=1
fi
if grep -q "panicked" "$work/replica.log"; then
    echo "the replica panicked:"
    grep -A5 "panicked" "$work/replica.log" | head -n 30
    status=1
fi
python3 "$repo/tests/fuzz/summary.py" "$work/events.ndjson" || status=1
exit "$status"
