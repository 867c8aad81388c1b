# Helpers shared by the plugin build scripts (sourced, not run).

# A component starts with the magic `\0asm` and the component-model version/layer bytes.
readonly COMPONENT_HEADER="0061736d0d000100"

# Creates OUT_DIR and prints its absolute path.
out_dir() {
    mkdir -p "$1"
    (cd "$1" && pwd)
}

# wanted NAME [FILTER...]: true when no FILTER is given or NAME is one of them.
wanted() {
    local name="$1"
    shift
    (($# == 0)) && return 0
    local filter
    for filter in "$@"; do
        [[ "$filter" == "$name" ]] && return 0
    done
    return 1
}

# any_wanted [FILTER...]: true when a plugin of PLUGINS (lines "NAME SOURCE WIT WORLD") is
# wanted.
any_wanted() {
    local line name
    for line in "${PLUGINS[@]}"; do
        read -r name _ <<<"$line"
        wanted "$name" "$@" && return 0
    done
    return 1
}

# build_each BUILD OUT_DIR [FILTER...]: for each wanted plugin of PLUGINS, runs
# `BUILD NAME SOURCE WIT WORLD ARTIFACT` (BUILD writes the component to ARTIFACT), checks the
# component and installs it as OUT_DIR/NAME.wasm.
build_each() {
    local build="$1" out="$2"
    shift 2
    local line name source wit world started artifact
    for line in "${PLUGINS[@]}"; do
        read -r name source wit world <<<"$line"
        wanted "$name" "$@" || continue
        started=$SECONDS
        artifact="$(mktemp -d)/$name.wasm"
        "$build" "$name" "$source" "$wit" "$world" "$artifact"
        install_component "$artifact" "$out/$name.wasm" "$started"
        rm -rf "$(dirname "$artifact")"
    done
}

is_component() {
    [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == "$COMPONENT_HEADER" ]]
}

# install_component ARTIFACT DEST STARTED_SECONDS: checks that ARTIFACT is a component,
# copies it to DEST and reports its size and the build time.
install_component() {
    local artifact="$1" dest="$2" started="$3"
    is_component "$artifact" || {
        echo "build-plugins: $artifact is not a WebAssembly component" >&2
        exit 1
    }
    cp "$artifact" "$dest"
    echo "build-plugins: $(basename "$dest"): $(wc -c <"$dest") bytes in $((SECONDS - started)) s" >&2
}

# Runs a command as root: directly when root, through sudo otherwise.
as_root() {
    if ((EUID == 0)); then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "build-plugins: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}

# apt_install PACKAGE...: installs the Debian packages that are missing.
apt_install() {
    local -a missing=()
    local pkg
    for pkg in "$@"; do
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" == "install ok installed" ]] ||
            missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    echo "build-plugins: apt-get install ${missing[*]}" >&2
    apt-cache show "${missing[0]}" >/dev/null 2>&1 || as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
}
