#!/usr/bin/env bash
# Browser tests of the dashboard, from a bare machine of this kind:
#   1. installs Debian's chromium (and chromium-driver) and PostgreSQL 15 server binaries when
#      missing, and playwright-core into tests/browser/node_modules (npm ci, from the lock file);
#   2. builds the wasmcron binary and the plugins when missing ($WASMCRON_BIN and
#      $WASMCRON_TEST_PLUGINS point at prebuilt ones, as scripts/test.sh sets them);
#   3. runs main.mjs: a throwaway PostgreSQL, two replicas on it (plus one that requires a
#      token, where read and admin tokens are made, used and revoked, and one that watches a
#      jobs file), headless Chromium driving the dashboard; screenshots to target/screenshots/.
# Prints `N passed, M failed`; exits non-zero when a test failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to apt-get install $*" >&2
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
[ -n "${WASMCRON_PG_BIN:-}" ] || [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  apt_install "${missing[@]}"
fi

if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  echo "==> installing playwright-core"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ -z "${WASMCRON_BIN:-}" ]; then
  echo "==> building wasmcron"
  cargo build -p wasmcron --locked --bin wasmcron
  export WASMCRON_BIN="${CARGO_TARGET_DIR:-$repo/target}/debug/wasmcron"
fi
if [ -z "${WASMCRON_TEST_PLUGINS:-}" ]; then
  export WASMCRON_TEST_PLUGINS="$repo/dist/plugins"
  [ -f "$WASMCRON_TEST_PLUGINS/hello.wasm" ] || bash scripts/build-plugins.sh dist/plugins
fi
export SCREENSHOT_DIR="${SCREENSHOT_DIR:-${CARGO_TARGET_DIR:-$repo/target}/screenshots}"

echo "==> browser tests"
exec node "$here/main.mjs"
