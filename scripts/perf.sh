#!/usr/bin/env bash
# Loopback performance of wslane against its peers, and the page that reports it.
#
#   scripts/perf.sh            # full run: 5 rounds of 2.5 s per scenario and server, 10,000 idle connections
#   scripts/perf.sh --quick    # smoke run (about a minute): 1 short round, 1,000 idle connections
#   scripts/perf.sh --no-docs  # measure only; leave docs/performance.md alone
#
# Builds our three echo servers (tokio, async-std, mio examples), the peers' echo servers and the load tool
# in one cargo invocation (profile bench, target directory target/bench unless CARGO_TARGET_DIR says
# otherwise), runs `wsload run` and `wsload idle`, writes their JSON and text output to target/perf/, and
# regenerates docs/performance.md with scripts/perf_report.py. If target/perf/criterion.md exists (written by
# scripts/criterion_table.py --markdown), the page includes it.
#
# Client and servers share the machine: run it on a quiet one, and compare ratios, not absolute numbers,
# across machines.
set -euo pipefail

cd "$(dirname "$0")/.."

quick=0
docs=1
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        --no-docs) docs=0 ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "perf.sh: unknown option $arg (try --help)" >&2
            exit 2
            ;;
    esac
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/bench}"
out=target/perf
mkdir -p "$out"

rustc --version >"$out/toolchain.txt"
cargo build --profile bench \
    -p wslane-tokio -p wslane-async-std -p wslane-mio -p wslane-benches \
    --example echo_server --example async_std_echo_server --example mio_echo_server \
    --bins

# The bench profile inherits from release, and so shares its output directory.
bin="$CARGO_TARGET_DIR/release"
[[ -x "$bin/wsload" ]] || bin="$CARGO_TARGET_DIR/bench"
servers=(
    --server "wslane-tokio=$bin/examples/echo_server"
    --server "wslane-async-std=$bin/examples/async_std_echo_server"
    --server "wslane-mio=$bin/examples/mio_echo_server"
    --server "tokio-tungstenite=$bin/echo_tokio_tungstenite"
    --server "fastwebsockets=$bin/echo_fastwebsockets"
    --server "tokio-websockets=$bin/echo_tokio_websockets"
)

if ((quick)); then
    run_args=(--rounds 1 --duration 0.5 --warmup 0.2)
    connections=1000
    label="scripts/perf.sh --quick"
else
    run_args=(--rounds 5 --duration 2.5 --warmup 0.5)
    connections=10000
    label="scripts/perf.sh"
fi

# Each idle connection is one descriptor in the load tool and one in the server (which inherits the limit).
want=$((connections + 1000))
if (($(ulimit -n) < want)); then
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
fi
if (($(ulimit -n) < connections + 64)); then
    echo "perf.sh: the open-file limit is $(ulimit -n) (hard $(ulimit -Hn)); $connections idle connections need $want" >&2
    exit 1
fi

# Stale results must not end up on the page if a run fails early.
rm -f "$out/load.json" "$out/idle.json" "$out/fanout.md"
# A failed measurement (a server that stalls, drops connections or exits) fails the script, once the JSON and
# the page, which list the failures, are written.
status=0
"$bin/wsload" run "${servers[@]}" "${run_args[@]}" --json "$out/load.json" | tee "$out/load.txt" || status=1
"$bin/wsload" idle "${servers[@]}" --connections "$connections" --json "$out/idle.json" |
    tee "$out/idle.txt" || status=1
# Fan-out (docs/broadcasting.md): one publisher, N subscribers; topics against a send loop and
# tokio-tungstenite with broadcast, with and without compression. The table goes to fanout.md.
if ((quick)); then
    fanout_args=(--subscribers 200 --seconds 0.5)
else
    fanout_args=(--subscribers 1000,10000 --seconds 3)
fi
"$bin/fanout" "${fanout_args[@]}" | tee "$out/fanout.md" || status=1

if ((docs)); then
    python3 scripts/perf_report.py --load "$out/load.json" --idle "$out/idle.json" \
        --criterion "$out/criterion.md" --toolchain "$out/toolchain.txt" --label "$label" \
        --output docs/performance.md
    echo "wrote docs/performance.md"
fi
exit $status
