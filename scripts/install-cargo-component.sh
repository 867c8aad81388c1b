#!/usr/bin/env bash
# Installs cargo-component (the `cargo component` subcommand) into .tools/bin when neither PATH
# nor .tools/bin has it. It is compiled from source: about 13 minutes on two idle cores, 25
# with CARGO_BUILD_JOBS=1 beside other builds; a quick no-op once installed. CI caches .tools/.
#
# Usage: scripts/install-cargo-component.sh      (CARGO_COMPONENT_VERSION to pick another)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${CARGO_COMPONENT_VERSION:-0.21.1}"
say() { echo "install-cargo-component: $*" >&2; }

export PATH="$ROOT/.tools/bin:$PATH"
if command -v cargo-component >/dev/null 2>&1; then
    say "present: $(cargo-component --version)"
    exit 0
fi
say "compiling cargo-component $VERSION from source into $ROOT/.tools (this takes a while)"
started=$SECONDS
cargo install cargo-component --locked --version "$VERSION" --root "$ROOT/.tools" >&2
say "installed $(cargo-component --version) in $((SECONDS - started)) s"
