#!/usr/bin/env bash
# Autobahn|Testsuite conformance run, strict: every case, in each role an adapter has, for each adapter.
#
#   scripts/autobahn.sh [--update-docs] [--build-only] [ADAPTER...]
#
# ADAPTER is tokio, async-std, mio or hyper (default: every one whose crate exists). Per adapter, two runs:
#   <adapter>-server   wstest -m fuzzingclient connects to the adapter's echo server example
#   <adapter>-client   the adapter's autobahn_client example connects to wstest -m fuzzingserver
# (examples named echo_server and autobahn_client, or with a prefix: async_std_echo_server). hyper
# (wslane-hyper, the hyper and axum integration) has the server run only, against its axum_echo example over
# HTTP/1.1: it has no Autobahn client example.
# Reports go to target/autobahn/<adapter>-<role>/ (index.html for a browser), wstest's and the example's
# output to wstest.log and testee.log beside them. scripts/autobahn_check.py then judges every case: anything
# but OK or INFORMATIONAL fails. It writes target/autobahn/conformance.md, and with --update-docs
# docs/conformance.md too. --build-only installs wstest and builds the examples, and runs nothing.
#
# The runs go side by side, AUTOBAHN_JOBS at a time (default: the number of CPUs): wstest is single-threaded
# Python. Each run starts its own examples from a copy under target/autobahn/bin/<adapter>/.
#
# wstest is Python 2.7 code. The first run installs it (about a minute) into
# ${WSLANE_CACHE:-~/.cache/wslane}/autobahn with the pins of scripts/autobahn-constraints.txt, from the CPython
# 2.7 under pyenv (or WSLANE_PYTHON2). All listening and connecting is on 127.0.0.1. AUTOBAHN_TIMEOUT bounds
# each run (seconds, default 1800).
set -euo pipefail
cd "$(dirname "$0")/.."

WSTEST_VERSION=25.10.1
CASES=517 # the cases of that release under "cases": ["*"]
RUN_TIMEOUT="${AUTOBAHN_TIMEOUT:-1800}" # seconds per run; groups 12 and 13 (compression) take most of it
ADAPTERS=(tokio async-std mio hyper)
# The roles of an adapter that has not both, and an echo server example named otherwise than *echo_server.
declare -A ROLES_OF=([hyper]=server)
declare -A ECHO_EXAMPLE_OF=([hyper]=axum_echo)
JOBS="${AUTOBAHN_JOBS:-$(nproc)}"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || { echo "autobahn: error: AUTOBAHN_JOBS must be a positive number" >&2; exit 1; }
check_flags=(--expect-cases "$CASES")

command="scripts/autobahn.sh${*:+ $*}"
cache="${WSLANE_CACHE:-${HOME:?}/.cache/wslane}/autobahn"
wstest="$cache/venv/bin/wstest"
out=target/autobahn
started=$SECONDS

die() {
    echo "autobahn: error: $*" >&2
    exit 1
}

# ---- arguments and adapters

update_docs=0
build_only=0
adapters=()
for arg in "$@"; do
    case "$arg" in
        --update-docs) update_docs=1 ;;
        --build-only) build_only=1 ;;
        -h | --help)
            sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
            exit 0
            ;;
        -*) die "unknown option $arg (see --help)" ;;
        *) adapters+=("${arg#wslane-}") ;;
    esac
done
if [ ${#adapters[@]} -eq 0 ]; then
    for adapter in "${ADAPTERS[@]}"; do
        if [ -f "crates/wslane-$adapter/Cargo.toml" ]; then adapters+=("$adapter"); fi
    done
    [ ${#adapters[@]} -gt 0 ] || die "no adapter crate found (looked for crates/wslane-{${ADAPTERS[*]}})"
fi
for adapter in "${adapters[@]}"; do
    [ -f "crates/wslane-$adapter/Cargo.toml" ] || die "no adapter crate crates/wslane-$adapter"
done

# Each adapter's examples (an echo server, and an Autobahn client unless it runs as a server only) and the
# features they require, from cargo's metadata. An adapter without them is an error, never a skip.
specs=()
for adapter in "${adapters[@]}"; do
    specs+=("$adapter" "${ROLES_OF[$adapter]:-server,client}" "${ECHO_EXAMPLE_OF[$adapter]:--}")
done
examples=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
metadata = json.load(sys.stdin)
members = {p["name"]: p for p in metadata["packages"] if p["id"] in metadata["workspace_members"]}
specs = sys.argv[1:]
for adapter, roles, echo_name in zip(specs[0::3], specs[1::3], specs[2::3]):
    package = members.get("wslane-" + adapter)
    if package is None:
        sys.exit(f"autobahn: error: crates/wslane-{adapter} is not a member of the workspace")
    picked, required = [], []
    for role, example in (("server", "echo_server"), ("client", "autobahn_client")):
        if role not in roles.split(","):
            picked.append("-")
            continue
        if role == "server" and echo_name != "-":
            found = [t for t in package["targets"] if "example" in t["kind"] and t["name"] == echo_name]
            wanted = echo_name
        else:
            found = [t for t in package["targets"] if "example" in t["kind"]
                     and (t["name"] == example or t["name"].endswith("_" + example))]
            found = [t for t in found if t["name"] == example] or found
            wanted = f"{example} or *_{example}"
        if len(found) != 1:
            names = [t["name"] for t in found]
            sys.exit(f"autobahn: error: wslane-{adapter} needs one example named {wanted}, found {names}")
        picked.append(found[0]["name"])
        required += [f"wslane-{adapter}/{f}" for f in found[0].get("required-features", [])]
    print(adapter, *picked, ",".join(sorted(set(required))) or "-")
' "${specs[@]}")
declare -A echo_example client_example
features=()
while read -r adapter echo client required; do
    echo_example[$adapter]=$echo
    client_example[$adapter]=$client
    if [ "$required" != - ]; then features+=("$required"); fi
done <<<"$examples"
skipped=()
for adapter in "${ADAPTERS[@]}"; do
    if [ -e "crates/wslane-$adapter" ] && [ ! -f "crates/wslane-$adapter/Cargo.toml" ]; then skipped+=("$adapter"); fi
done
echo "autobahn: adapters: ${adapters[*]}${skipped[*]:+ (not yet crates: ${skipped[*]})}"

# ---- wstest, installed once

python2() {
    if [ -n "${WSLANE_PYTHON2:-}" ]; then
        echo "$WSLANE_PYTHON2"
        return
    fi
    local root candidate
    root=$(pyenv root 2>/dev/null) || root="${PYENV_ROOT:-$HOME/.pyenv}"
    for candidate in "$root/versions/2.7.18/bin/python2.7" "$root"/versions/2.7*/bin/python2.7; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return
        fi
    done
    die "no CPython 2.7 under $root/versions, and WSLANE_PYTHON2 is not set: wstest needs Python 2.7" \
        "(pyenv install 2.7.18)"
}

# fuzzingserver listens on every interface; make its three listen calls take 127.0.0.1, and check they all do.
patch_fuzzing_server() {
    local package
    package=$("$cache/venv/bin/python" -c 'import os, autobahntestsuite as m; print(os.path.dirname(m.__file__))')
    python3 - "$package/fuzzing.py" <<'EOF'
import re, sys
path = sys.argv[1]
source = open(path, "rb").read()  # CRLF line endings: patched as bytes
for call in (b"listenWS(factory, sslContext)", b"reactor.listenSSL(webport, web, sslContext)",
             b"reactor.listenTCP(webport, web)"):
    if source.count(call) != 1:
        sys.exit(f"{path}: expected one {call.decode()}, found {source.count(call)}")
    source = source.replace(call, call[:-1] + b', interface="127.0.0.1")')
calls = re.findall(rb"listen(?:WS|TCP|SSL)\(.*", source)
if len(calls) != 3 or not all(b'interface="127.0.0.1")' in call for call in calls):
    sys.exit(f"{path}: patch did not apply: {calls}")
open(path, "wb").write(source)
EOF
    rm -f "$package/fuzzing.pyc"
}

install_wstest() {
    local python stamp log="$cache/install.log" constraints="$PWD/scripts/autobahn-constraints.txt"
    python=$(python2)
    "$python" -c 'import sys; assert sys.version_info[:2] == (2, 7)' 2>/dev/null ||
        die "$python is not a working CPython 2.7"
    stamp="autobahntestsuite $WSTEST_VERSION, $("$python" -V 2>&1), constraints $(sha256sum "$constraints" | cut -c1-16), fuzzingserver on 127.0.0.1"
    mkdir -p "$cache"
    exec 9>"$cache/lock"
    flock 9 # one install at a time
    if [ -x "$wstest" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
        return
    fi
    echo "autobahn: installing wstest $WSTEST_VERSION into $cache (once; log: $log)"
    rm -rf "$cache/bootstrap" "$cache/venv" "$cache/stamp"
    local pip=(install --disable-pip-version-check --no-input -c "$constraints")
    if ! {
        python3 -m venv "$cache/bootstrap" &&
            timeout 600 "$cache/bootstrap/bin/pip" "${pip[@]}" virtualenv &&
            "$cache/bootstrap/bin/virtualenv" --no-periodic-update -p "$python" "$cache/venv" &&
            timeout 900 "$cache/venv/bin/pip" "${pip[@]}" "autobahntestsuite==$WSTEST_VERSION"
    } >"$log" 2>&1; then
        tail -n 40 "$log"
        die "installing wstest failed (full log: $log)"
    fi
    patch_fuzzing_server
    local version
    version=$("$wstest" --autobahnversion 2>&1 | sed -n 's/^AutobahnTestSuite //p')
    [ "$version" = "$WSTEST_VERSION" ] || die "the installed wstest says version '$version', expected $WSTEST_VERSION"
    echo "$stamp" >"$cache/stamp"
}

install_wstest

# ---- the examples, built once

profile=conformance # see the profile in Cargo.toml
build=(--profile "$profile" --quiet)
declare -A seen
shared_names=0
examples_of() { # adapter: its examples, one a line
    local example
    for example in "${echo_example[$1]}" "${client_example[$1]}"; do
        if [ "$example" != - ]; then echo "$example"; fi
    done
}
for adapter in "${adapters[@]}"; do
    build+=(-p "wslane-$adapter")
    while read -r example; do
        if [ -n "${seen[$example]:-}" ]; then shared_names=1; else build+=(--example "$example"); fi
        seen[$example]=1
    done < <(examples_of "$adapter")
done
feature_args=()
if [ ${#features[@]} -gt 0 ]; then feature_args=(--features "$(IFS=,; echo "${features[*]}")"); fi
build+=("${feature_args[@]}")
echo "autobahn: cargo build ${build[*]}"
cargo build "${build[@]}"

# Each adapter's examples are copied to target/autobahn/bin/<adapter>/, so runs of different adapters can go
# side by side. When two adapters name their examples alike, cargo links both to the same
# target/$profile/examples/ path (and warns of the collision); then a build of each package alone, which
# compiles nothing after the one above, links its binaries there again before the copy.
bin=$out/bin
rm -rf "$bin"
for adapter in "${adapters[@]}"; do
    mapfile -t names < <(examples_of "$adapter")
    if [ "$shared_names" = 1 ]; then
        cargo build --profile "$profile" --quiet -p "wslane-$adapter" "${names[@]/#/--example=}" "${feature_args[@]}"
    fi
    mkdir -p "$bin/$adapter"
    for example in "${names[@]}"; do
        cp "target/$profile/examples/$example" "$bin/$adapter/"
    done
done
# How a process ended, from its exit status.
ended() {
    if [ "$1" -eq 124 ]; then
        echo "timed out after ${RUN_TIMEOUT}s"
    elif [ "$1" -gt 128 ]; then
        echo "was killed by signal $(($1 - 128)) (SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo '?'))"
    else
        echo "exited with status $1"
    fi
}

# ---- the runs

# A run's two processes, both started in the background and stopped when the run's shell exits (also on
# SIGTERM, which a trap handles at once while the shell waits with `wait`): pid, the one that serves (a testee
# or wstest), cleared once reaped; and peer, the one the run waits for.
pid=
peer=
stop_run() {
    local p
    for p in $pid $peer; do kill "$p" 2>/dev/null || true; done
}
stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
}

run_failed() { # dir, reason
    echo "$2" >"$1/failed"
    echo "autobahn: $(basename "$1"): $2"
    local log
    for log in "$1/wstest.log" "$1/testee.log"; do
        if [ -s "$log" ]; then
            echo "----- $log (last 60 lines)"
            tail -n 60 "$log"
        fi
    done
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The addresses listening on TCP port $1, in /proc/net/tcp's hex notation (127.0.0.1 is 0100007F).
listeners() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v port=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == port { print $2 }' /proc/net/tcp /proc/net/tcp6
}

summary() { # dir, seconds
    printf 'autobahn: %-20s %s (%ss)\n' "$(basename "$1")" \
        "$(python3 scripts/autobahn_check.py --summary "${check_flags[@]}" "$1")" "$2"
}

# wstest -m fuzzingclient against our echo_server.
run_server() {
    local dir="$out/$1-server" begin=$SECONDS port=
    rm -rf "$dir" && mkdir -p "$dir"
    "$bin/$1/${echo_example[$1]}" 127.0.0.1:0 >"$dir/testee.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        port=$(sed -n 's#.*ws://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$dir/testee.log" | head -n 1)
        if [ -n "$port" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if [ -z "$port" ]; then
        stop
        run_failed "$dir" "${echo_example[$1]} did not say where it listens"
        return
    fi
    cat >"$dir/spec.json" <<EOF
{"outdir": ".", "servers": [{"agent": "wslane-$1", "url": "ws://127.0.0.1:$port"}],
 "cases": ["*"], "exclude-cases": [], "exclude-agent-cases": {}}
EOF
    local status=0
    (cd "$dir" && exec timeout -k 10 "$RUN_TIMEOUT" "$wstest" -m fuzzingclient -s spec.json >wstest.log 2>&1) &
    peer=$!
    wait "$peer" || status=$?
    peer=
    if ! kill -0 "$pid" 2>/dev/null; then
        local server_status=0
        wait "$pid" || server_status=$?
        pid=
        run_failed "$dir" "${echo_example[$1]} $(ended "$server_status") during the run"
    else
        stop
        if [ "$status" -ne 0 ]; then run_failed "$dir" "wstest $(ended "$status")"; fi
    fi
    summary "$dir" $((SECONDS - begin))
}

# Our autobahn_client against wstest -m fuzzingserver.
run_client() {
    local dir="$out/$1-client" begin=$SECONDS port
    rm -rf "$dir" && mkdir -p "$dir"
    port=$(free_port)
    cat >"$dir/spec.json" <<EOF
{"url": "ws://127.0.0.1:$port", "outdir": ".",
 "cases": ["*"], "exclude-cases": [], "exclude-agent-cases": {}}
EOF
    (cd "$dir" && exec timeout -k 10 "$RUN_TIMEOUT" "$wstest" -m fuzzingserver -s spec.json --webport 0 >wstest.log 2>&1) &
    pid=$!
    local listening=
    for _ in $(seq 200); do
        listening=$(listeners "$port")
        if [ -n "$listening" ] || ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if [ "$listening" != "0100007F:$(printf '%04X' "$port")" ]; then
        run_failed "$dir" "wstest is not listening on 127.0.0.1:$port alone (listening: ${listening:-nothing})"
    else
        local status=0
        timeout -k 10 "$RUN_TIMEOUT" "$bin/$1/${client_example[$1]}" "ws://127.0.0.1:$port" \
            >"$dir/testee.log" 2>&1 &
        peer=$!
        wait "$peer" || status=$?
        peer=
        if [ "$status" -ne 0 ]; then run_failed "$dir" "${client_example[$1]} $(ended "$status")"; fi
    fi
    stop
    summary "$dir" $((SECONDS - begin))
}

if [ "$build_only" = 1 ]; then
    echo "autobahn: built in $((SECONDS - started))s; --build-only: no runs"
    exit 0
fi

# The runs go side by side, $JOBS at a time, in the background, each in its own shell, which stops its
# processes when it exits; this shell stops the runs when it exits early.
in_background() { # run function, adapter
    trap stop_run EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    "$1" "$2"
}
run_shells=()
trap 'for p in "${run_shells[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

mkdir -p "$out"
runs=()
running=0
for adapter in "${adapters[@]}"; do
    for role in server client; do
        if [ "$role" = client ] && [ "${client_example[$adapter]}" = - ]; then continue; fi
        if [ "$running" -ge "$JOBS" ]; then
            wait -n || true
            running=$((running - 1))
        fi
        in_background "run_$role" "$adapter" &
        run_shells+=($!)
        running=$((running + 1))
        runs+=("$out/$adapter-$role")
    done
done
wait || true
run_shells=()
failed_runs=()
for run in "${runs[@]}"; do
    if [ -e "$run/failed" ]; then failed_runs+=("$(basename "$run")"); fi
done

# ---- the verdict

markdown=(--markdown "$out/conformance.md")
if [ "$update_docs" = 1 ]; then markdown+=(--markdown docs/conformance.md); fi
status=0
python3 scripts/autobahn_check.py "${check_flags[@]}" "${markdown[@]}" --wstest-version "$WSTEST_VERSION" \
    --command "$command" "${runs[@]}" || status=$?
if [ ${#failed_runs[@]} -gt 0 ]; then
    echo "autobahn: runs that did not complete: ${failed_runs[*]}"
    status=1
fi
echo "autobahn: $([ "$status" = 0 ] && echo passed || echo FAILED) in $((SECONDS - started))s"
exit "$status"
