#!/usr/bin/env bash
# Builds the JavaScript example plugins (plugins/js/) with componentize-js and copies the
# components into OUT_DIR as <name>.wasm.
#
# Usage: scripts/plugins/build-js.sh OUT_DIR [NAME...]   (NAMEs: only those plugins)
#
# componentize-js comes from npm, at the version pinned in plugins/js/package-lock.json,
# installed with `npm ci` into plugins/js/node_modules when missing or out of date. Node.js
# and npm come from Debian when missing (componentize-js needs Node.js 18 or later).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
# shellcheck source=scripts/plugins/common.sh
source "$ROOT/scripts/plugins/common.sh"

OUT_DIR="$(out_dir "${1:?usage: build-js.sh OUT_DIR [NAME...]}")"
shift
JS="$ROOT/plugins/js"

say() { echo "build-plugins: $*" >&2; }

# The plugins: output name, source file, WIT directory, world.
readonly PLUGINS=(
    "hello-js  plugins/js/hello/app.js   wit  job"
    "uptime-js plugins/js/uptime/app.js  wit  job"
)

componentize_js_version() {
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' \
        "$JS/node_modules/@bytecodealliance/componentize-js/package.json" | head -1
}

node_major() {
    node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'
}

install_componentize_js() {
    if ! command -v npm >/dev/null 2>&1 || [[ "$(node_major)" -lt 18 ]]; then
        apt_install nodejs npm
    fi
    [[ "$(node_major)" -ge 18 ]] || {
        say "componentize-js needs Node.js 18 or later, found $(node --version 2>&1)"
        exit 1
    }
    local stamp="$JS/node_modules/.package-lock.json"
    if [[ -x "$JS/node_modules/.bin/componentize-js" ]] && [[ "$stamp" -nt "$JS/package-lock.json" ]]; then
        return
    fi
    local started=$SECONDS
    say "installing componentize-js with npm ci in plugins/js"
    (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >&2)
    say "componentize-js installed in $((SECONDS - started)) s"
}

any_wanted "$@" || exit 0

build_one() {
    local source="$2" wit="$3" world="$4" artifact="$5"
    say "building $source (componentize-js $(componentize_js_version))"
    (cd "$ROOT" && "$JS/node_modules/.bin/componentize-js" "$source" --wit "$wit" \
        --world-name "$world" -o "$artifact" >&2)
}

install_componentize_js
build_each build_one "$OUT_DIR" "$@"
