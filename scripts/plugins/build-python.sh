#!/usr/bin/env bash
# Builds the Python example plugins (plugins/python/) with componentize-py and copies the
# components into OUT_DIR as <name>.wasm.
#
# Usage: scripts/plugins/build-python.sh OUT_DIR [NAME...]   (NAMEs: only those plugins)
#
# componentize-py comes from PyPI, at the version pinned in plugins/python/requirements.txt,
# in a virtual environment under .tools/python (PLUGIN_TOOLS_DIR to put it elsewhere); it is
# installed there when missing. python3 and its venv module come from Debian when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
# shellcheck source=scripts/plugins/common.sh
source "$ROOT/scripts/plugins/common.sh"

OUT_DIR="$(out_dir "${1:?usage: build-python.sh OUT_DIR [NAME...]}")"
shift
TOOLS="${PLUGIN_TOOLS_DIR:-$ROOT/.tools}"
VENV="$TOOLS/python"
REQUIREMENTS="$ROOT/plugins/python/requirements.txt"

say() { echo "build-plugins: $*" >&2; }

# The plugins: output name, source directory (holding app.py), WIT directory, world.
readonly PLUGINS=(
    "hello-py  plugins/python/hello   wit                 job"
    "uptime-py plugins/python/uptime  plugins/python/wit  job-http"
)

install_componentize_py() {
    if [[ -x "$VENV/bin/componentize-py" ]] && [[ -f "$VENV/.requirements" ]] &&
        cmp -s "$REQUIREMENTS" "$VENV/.requirements"; then
        return
    fi
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        apt_install python3 python3-venv
    fi
    local started=$SECONDS
    say "installing $(tr '\n' ' ' <"$REQUIREMENTS")into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >&2
    cp "$REQUIREMENTS" "$VENV/.requirements"
    say "componentize-py installed in $((SECONDS - started)) s"
}

any_wanted "$@" || exit 0

build_one() {
    local source="$2" wit="$3" world="$4" artifact="$5"
    say "building $source ($("$VENV/bin/componentize-py" --version))"
    # -p: where app.py (and the modules it imports) live; `app` is the module to run.
    (cd "$ROOT" && "$VENV/bin/componentize-py" -d "$wit" -w "$world" componentize \
        -p "$source" app -o "$artifact" >&2)
}

install_componentize_py
build_each build_one "$OUT_DIR" "$@"
