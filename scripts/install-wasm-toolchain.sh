#!/usr/bin/env bash
# Makes a `wasm32-wasip2` build of the plugins possible on a Debian 12 machine.
#
# Preference order:
#   1. an installed rustup `wasm32-wasip2` target (nothing to install);
#   2. Debian's `rustc-web` toolchain with its std sources, used with `-Zbuild-std`
#      (installed here with apt-get when missing; a quick no-op when present).
#
# Prints the chosen toolchain on stdout as `WASM_TOOLCHAIN=rustup` or
# `WASM_TOOLCHAIN=debian`, which scripts/build-plugins.sh reads; progress goes to stderr.
# Set WASM_TOOLCHAIN=debian in the environment to skip the rustup check.
set -euo pipefail

# Debian packages for the `debian` toolchain. lld-22 is listed on its own because
# rust-web-llvm's rust-lld points at it without depending on it; rust-web-llvm ships
# wasm-component-ld, which the wasm32-wasip2 target links with.
readonly DEBIAN_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 wasi-libc)

say() { echo "install-wasm-toolchain: $*" >&2; }

rustup_has_wasip2() {
    local installed
    command -v rustup >/dev/null 2>&1 &&
        installed="$(rustup target list --installed 2>/dev/null)" &&
        grep -qx 'wasm32-wasip2' <<<"$installed"
}

missing_debian_packages() {
    local pkg status
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || echo "$pkg"
    done
}

apt_knows() {
    apt-cache show "$1" >/dev/null 2>&1
}

install_debian_packages() {
    local -a missing
    mapfile -t missing < <(missing_debian_packages)
    if ((${#missing[@]} == 0)); then
        say "Debian packages present: ${DEBIAN_PACKAGES[*]}"
        return
    fi
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || {
            say "need root (or sudo) to install: ${missing[*]}"
            exit 1
        }
        sudo=(sudo)
    fi
    # Refresh the package lists only when one of the packages is unknown to apt.
    local pkg
    for pkg in "${missing[@]}"; do
        if ! apt_knows "$pkg"; then
            say "apt-get update (package lists do not know $pkg)"
            "${sudo[@]}" apt-get update -qq >&2
            break
        fi
    done
    say "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
}

check_debian_toolchain() {
    local sysroot
    sysroot=$(/usr/bin/rustc --print sysroot)
    [[ -d "$sysroot/lib/rustlib/src/rust/library/std" ]] || {
        say "rust-web-src did not provide std sources under $sysroot/lib/rustlib/src"
        exit 1
    }
    [[ -f /usr/lib/wasm32-wasi/crt1-reactor.o ]] || {
        say "wasi-libc did not provide /usr/lib/wasm32-wasi/crt1-reactor.o"
        exit 1
    }
    say "using Debian toolchain: $(/usr/bin/rustc --version) with -Zbuild-std"
}

if [[ "${WASM_TOOLCHAIN:-}" != "debian" ]] && rustup_has_wasip2; then
    say "using rustup target wasm32-wasip2 ($(rustc --version))"
    echo "WASM_TOOLCHAIN=rustup"
    exit 0
fi

install_debian_packages
check_debian_toolchain
echo "WASM_TOOLCHAIN=debian"
