#!/usr/bin/env bash
# Builds the Rust plugin crates (plugins/*/ and plugins/testing/*/ that are `cdylib`s: the
# examples on the SDK in plugins/sdk, the template, the test plugins) for wasm32-wasip2 in
# release mode and copies the `<name>.wasm` components into OUT_DIR.
#
# Usage: scripts/plugins/build-rust.sh OUT_DIR [NAME...]   (NAMEs: only those packages)
#
# The toolchain comes from scripts/install-wasm-toolchain.sh: an installed rustup
# wasm32-wasip2 target when there is one, otherwise Debian's rustc-web with -Zbuild-std.
# All plugins share one target directory (PLUGINS_TARGET_DIR, default target/plugins), so
# std and common dependencies are compiled once and rebuilds take seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly ROOT
readonly TARGET=wasm32-wasip2
# shellcheck source=scripts/plugins/common.sh
source "$ROOT/scripts/plugins/common.sh"

OUT_DIR="$(out_dir "${1:?usage: build-rust.sh OUT_DIR [NAME...]}")"
shift
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

# Whether a Cargo.toml builds a plugin (a cdylib), not a library such as the SDK.
is_plugin_crate() {
    grep -q '^crate-type *= *\[ *"cdylib" *\]' "$1"
}

shopt -s nullglob
manifests=("$ROOT"/plugins/*/Cargo.toml "$ROOT"/plugins/testing/*/Cargo.toml)
((${#manifests[@]} > 0)) || {
    say "no plugin crates under $ROOT/plugins"
    exit 1
}

for manifest in "${manifests[@]}"; do
    is_plugin_crate "$manifest" || continue
    dir="$(dirname "$manifest")"
    name="$(package_name "$manifest")"
    wanted "$name" "$@" || continue
    started=$SECONDS
    say "building ${dir#"$ROOT"/} ($toolchain toolchain)"
    # cargo finds plugins/.cargo/config.toml from the working directory, so build from it.
    (cd "$dir" && cargo_build)
    install_component "$CARGO_TARGET_DIR/$TARGET/release/${name//-/_}.wasm" "$OUT_DIR/$name.wasm" \
        "$started"
done
