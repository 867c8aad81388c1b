#!/usr/bin/env bash
# Builds the example plugins (plugins/hello, plugins/uptime) with
# `cargo component build --release`, the way most Rust plugin authors build. scripts/test.sh
# runs it (into dist/plugins/cargo-component, which the end-to-end tests run).
#
# Usage: scripts/cargo-component-build.sh [OUT_DIR]   (default: dist/plugins/cargo-component)
#
# cargo-component is taken from PATH or from .tools/bin (scripts/install-cargo-component.sh
# puts it there). It builds for wasm32-wasip1 and adapts the module to a component with its
# WASI adapter.
#
# With Debian's toolchain (see scripts/install-wasm-toolchain.sh) there is no prebuilt
# wasm32-wasip1 std. cargo-component checks for one with `rustc --print sysroot` and would
# otherwise run `rustup target add`, so a wrapper `rustc` placed first on PATH answers that
# one question with a directory holding lib/rustlib/wasm32-wasip1 and hands every other call
# to /usr/bin/rustc; std itself is then compiled with -Zbuild-std.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly TARGET=wasm32-wasip1
readonly COMPONENT_HEADER="0061736d0d000100"
readonly PLUGINS=(hello uptime)

OUT_DIR="${1:-dist/plugins/cargo-component}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
export CARGO_TARGET_DIR="${PLUGINS_TARGET_DIR:-$ROOT/target/plugins}"

say() { echo "cargo-component-build: $*" >&2; }

export PATH="$ROOT/.tools/bin:$PATH"
command -v cargo-component >/dev/null 2>&1 || {
    say "cargo-component not found; install it with scripts/install-cargo-component.sh"
    exit 1
}
say "using $(cargo-component --version)"

toolchain_line="$(bash "$ROOT/scripts/install-wasm-toolchain.sh")"
if [[ "$toolchain_line" == WASM_TOOLCHAIN=rustup ]]; then
    grep -qx "$TARGET" <<<"$(rustup target list --installed)" || {
        say "rustup has wasm32-wasip2 but not $TARGET: rustup target add $TARGET"
        exit 1
    }
    # The rustup target ships its own wasi-libc: drop plugins/.cargo/config.toml's flags.
    export CARGO_ENCODED_RUSTFLAGS=""
else
    wrapper="$(mktemp -d)"
    trap 'rm -rf "$wrapper"' EXIT
    mkdir -p "$wrapper/bin" "$wrapper/sysroot/lib/rustlib/$TARGET"
    cat >"$wrapper/bin/rustc" <<EOF
#!/bin/sh
# Answers cargo-component's sysroot probe; everything else goes to Debian's rustc.
if [ "\$#" -eq 2 ] && [ "\$1" = "--print" ] && [ "\$2" = "sysroot" ]; then
    echo "$wrapper/sysroot"
    exit 0
fi
exec /usr/bin/rustc "\$@"
EOF
    chmod +x "$wrapper/bin/rustc"
    ln -s /usr/bin/cargo "$wrapper/bin/cargo"
    export PATH="$wrapper/bin:$PATH"
    export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO=/usr/bin/cargo
    # Same as `[unstable] build-std = ["std", "panic_abort"]` in a cargo config.
    export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
    unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
fi

for name in "${PLUGINS[@]}"; do
    started=$SECONDS
    say "building plugins/$name"
    (cd "$ROOT/plugins/$name" && cargo component build --release --locked)
    artifact="$CARGO_TARGET_DIR/$TARGET/release/$name.wasm"
    [[ "$(head -c 8 "$artifact" | od -An -tx1 | tr -d ' \n')" == "$COMPONENT_HEADER" ]] || {
        say "$artifact is not a WebAssembly component"
        exit 1
    }
    cp "$artifact" "$OUT_DIR/$name.wasm"
    say "$name.wasm: $(wc -c <"$OUT_DIR/$name.wasm") bytes in $((SECONDS - started)) s"
done
say "components in $OUT_DIR"
