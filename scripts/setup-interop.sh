#!/usr/bin/env bash
# Installs the independent WebSocket implementations the interop tests run against, and writes
# target/interop/env.sh with their paths (scripts/test.sh runs this script and sources that file):
#
#   Python `websockets`        target/interop/venv           pinned in tests/interop/requirements.txt
#   pproxy (HTTP and SOCKS5)   target/interop/venv           likewise
#   Node `ws`, playwright-core target/interop/node           pinned in tests/interop/package-lock.json
#   Chromium                   /usr/bin/chromium             Debian's package, installed when missing
#   redis-server               /usr/bin/redis-server         Debian's package, installed when missing (the
#                                                            chat's scale-out tests start their own)
#
# Idempotent: each part is redone only when its pin changed or its install is missing. Fails on the first
# install that fails. Set WSLANE_INTEROP_CHROMIUM or WSLANE_INTEROP_REDIS to use another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/interop
peers=$root/tests/interop
started=$(date +%s)

die() {
    printf 'setup-interop: %s\n' "$*" >&2
    exit 1
}
# The stamp of an install: the hash of the files that pin it, so a changed pin reinstalls.
stamp_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

command -v python3 >/dev/null || die "python3 is required"
command -v node >/dev/null || die "node (20 or later) is required"
command -v npm >/dev/null || die "npm is required"
mkdir -p "$out"

# Python: websockets in a venv of its own.
venv=$out/venv
python=$venv/bin/python
stamp=$(stamp_of "$peers/requirements.txt")
if ! fresh "$out/venv.stamp" "$stamp" || [ ! -x "$python" ]; then
    rm -rf "$venv" "$out/venv.stamp"
    python3 -m venv "$venv" || die "could not create the Python venv at $venv"
    "$python" -m pip install --quiet --disable-pip-version-check -r "$peers/requirements.txt" ||
        die "pip could not install tests/interop/requirements.txt"
    echo "$stamp" >"$out/venv.stamp"
fi
py_ws=$("$python" -c 'import websockets; print(websockets.__version__)') ||
    die "websockets does not import in $venv"
"$python" -m pproxy --version >/dev/null || die "pproxy does not run in $venv"

# Node: ws and playwright-core, exactly as locked, installed outside the source tree.
node_dir=$out/node
stamp=$(stamp_of "$peers/package.json" "$peers/package-lock.json")
if ! fresh "$out/node.stamp" "$stamp" || [ ! -d "$node_dir/node_modules" ]; then
    rm -rf "$node_dir" "$out/node.stamp"
    mkdir -p "$node_dir"
    cp "$peers/package.json" "$peers/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        die "npm ci failed for tests/interop/package-lock.json"
    echo "$stamp" >"$out/node.stamp"
fi
node_modules=$node_dir/node_modules
versions=$(NODE_PATH=$node_modules node -e '
    const v = (name) => require(name + "/package.json").version;
    console.log(`ws ${v("ws")}, playwright-core ${v("playwright-core")}`);') ||
    die "ws or playwright-core does not load from $node_modules"

# Debian packages: `apt_install PACKAGE BINARY VARIABLE` installs PACKAGE when BINARY (the value of the
# environment variable VARIABLE, or its Debian path) is missing. Another path that is missing is an error.
apt_updated=
apt_install() {
    local package=$1 binary=$2 variable=$3 default=$4
    [ -x "$binary" ] && return 0
    [ "$binary" = "$default" ] || die "$variable=$binary is not an executable"
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "$package is missing and installing it needs root (apt-get install $package)"
        sudo="sudo -n"
    fi
    echo "setup-interop: installing $package from apt" >&2
    if [ -z "$apt_updated" ]; then
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null ||
        die "apt-get install $package failed"
    [ -x "$binary" ] || die "$package was installed but $binary is missing"
}

# Chromium, from Debian (playwright's own browser download is not used).
chromium=${WSLANE_INTEROP_CHROMIUM:-/usr/bin/chromium}
apt_install chromium "$chromium" WSLANE_INTEROP_CHROMIUM /usr/bin/chromium
chromium_version=$("$chromium" --version 2>/dev/null | head -n1) || die "$chromium --version failed"

# Redis, from Debian: the chat's scale-out tests start their own on a free port (the package's service,
# where the package starts one, is not used).
redis=${WSLANE_INTEROP_REDIS:-/usr/bin/redis-server}
apt_install redis-server "$redis" WSLANE_INTEROP_REDIS /usr/bin/redis-server
redis_version=$("$redis" --version 2>/dev/null | head -n1 | cut -d' ' -f1-3) || die "$redis --version failed"

cat >"$out/env.sh" <<EOF
# Written by scripts/setup-interop.sh: the peers the interop tests (crates/wslane-interop) run.
export WSLANE_INTEROP_PYTHON='$python'
export WSLANE_INTEROP_NODE='$(command -v node)'
export WSLANE_INTEROP_NODE_PATH='$node_modules'
export WSLANE_INTEROP_CHROMIUM='$chromium'
export WSLANE_INTEROP_REDIS='$redis'
EOF

printf 'setup-interop: websockets %s (Python %s), %s (Node %s), %s, %s: ready in %ss\n' \
    "$py_ws" "$("$python" -c 'import platform; print(platform.python_version())')" "$versions" \
    "$(node --version)" "$chromium_version" "$redis_version" "$(($(date +%s) - started))"
