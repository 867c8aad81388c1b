#!/usr/bin/env bash
# Builds every plugin: the Rust crates (the SDK's examples, the template, the test plugins)
# into OUT_DIR as <name>.wasm, the Python examples (componentize-py) into OUT_DIR/python and
# the JavaScript examples (componentize-js) into OUT_DIR/js. Each language's toolchain is
# installed when missing.
#
# The Python and JavaScript components (12-19 MB, seconds to compile) sit in subdirectories,
# which a replica's plugins directory scan skips: the tests that point a replica at OUT_DIR
# load the small Rust plugins only, and the tests of the other languages pick theirs.
#
# Usage: scripts/build-plugins.sh [OUT_DIR] [NAME...]     (default OUT_DIR: dist/plugins)
#   NAMEs build only those plugins, e.g. `scripts/build-plugins.sh dist/plugins hello hello-py`.
#   PLUGIN_LANGUAGES="rust python js" (the default) chooses the languages.
#
# The per-language scripts are in scripts/plugins/; see plugins/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${1:-dist/plugins}"
(($# > 0)) && shift
mkdir -p "$OUT_DIR"
for language in ${PLUGIN_LANGUAGES:-rust python js}; do
    case "$language" in
        rust) bash "$ROOT/scripts/plugins/build-rust.sh" "$OUT_DIR" "$@" ;;
        python | js) bash "$ROOT/scripts/plugins/build-$language.sh" "$OUT_DIR/$language" "$@" ;;
        *)
            echo "build-plugins: unknown language $language (rust, python or js)" >&2
            exit 1
            ;;
    esac
done
echo "build-plugins: components in $(cd "$OUT_DIR" && pwd)" >&2
