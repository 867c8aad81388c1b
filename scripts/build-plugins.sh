#!/usr/bin/env bash
# Builds every plugin crate under plugins/ (plugins/*/ and plugins/testing/*/) for
# wasm32-wasip2 in release mode and copies the `<name>.wasm` components into OUT_DIR.
#
# Usage: scripts/build-plugins.sh [OUT_DIR]        (default: dist/plugins)
#
# The toolchain comes from scripts/install-wasm-toolchain.sh: an installed rustup
# wasm32-wasip2 target when there is one, otherwise Debian's rustc-web with -Zbuild-std.
# All plugins share one target directory (PLUGINS_TARGET_DIR, default target/plugins), so
# std and common dependencies are compiled once and rebuilds take seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly TARGET=wasm32-wasip2
# A component starts with the magic `\0asm` and the component-model version/layer bytes.
readonly COMPONENT_HEADER="0061736d0d000100"

OUT_DIR="${1:-dist/plugins}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
export CARGO_TARGET_DIR="${PLUGINS_TARGET_DIR:-$ROOT/target/plugins}"

say() { echo "build-plugins: $*" >&2; }

toolchain_line="$(bash "$ROOT/scripts/install-wasm-toolchain.sh")"
case "$toolchain_line" in
    WASM_TOOLCHAIN=rustup) toolchain=rustup ;;
    WASM_TOOLCHAIN=debian) toolchain=debian ;;
    *)
        say "unexpected answer from install-wasm-toolchain.sh: $toolchain_line"
        exit 1
        ;;
esac

# Builds the crate in the current directory.
cargo_build() {
    local -a locked=()
    [[ -f Cargo.lock ]] && locked=(--locked)
    if [[ "$toolchain" == rustup ]]; then
        # The rustup target ships its own wasi-libc: drop plugins/.cargo/config.toml's
        # flags for Debian's (an empty CARGO_ENCODED_RUSTFLAGS means "no flags").
        CARGO_ENCODED_RUSTFLAGS="" cargo build --release "${locked[@]}" --target "$TARGET"
    else
        # Debian's toolchain: no prebuilt std for wasm, so build it. RUSTFLAGS would
        # replace the link flags in plugins/.cargo/config.toml, so it is cleared.
        env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
            /usr/bin/cargo build --release "${locked[@]}" --target "$TARGET" \
            -Zbuild-std=std,panic_abort
    fi
}

# The package name from a Cargo.toml (the first `name = "..."` line, in [package]).
package_name() {
    sed -n '/^name *= *"/{s/^name *= *"\([^"]*\)".*/\1/p;q}' "$1"
}

is_component() {
    [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == "$COMPONENT_HEADER" ]]
}

shopt -s nullglob
manifests=("$ROOT"/plugins/*/Cargo.toml "$ROOT"/plugins/testing/*/Cargo.toml)
((${#manifests[@]} > 0)) || {
    say "no plugin crates under $ROOT/plugins"
    exit 1
}

for manifest in "${manifests[@]}"; do
    dir="$(dirname "$manifest")"
    name="$(package_name "$manifest")"
    started=$SECONDS
    say "building ${dir#"$ROOT"/} ($toolchain toolchain)"
    # cargo finds plugins/.cargo/config.toml from the working directory, so build from it.
    (cd "$dir" && cargo_build)
    artifact="$CARGO_TARGET_DIR/$TARGET/release/${name//-/_}.wasm"
    is_component "$artifact" || {
        say "$artifact is not a WebAssembly component"
        exit 1
    }
    cp "$artifact" "$OUT_DIR/$name.wasm"
    say "$name.wasm: $(wc -c <"$OUT_DIR/$name.wasm") bytes in $((SECONDS - started)) s"
done
say "components in $OUT_DIR"
