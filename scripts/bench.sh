#!/usr/bin/env bash
# The benchmark suite: runs every criterion benchmark of the wslane-benches crate (frame codec, message
# assembly, decoder, the in-memory echo against tungstenite, fastwebsockets and tokio-websockets, and any
# other bench target of the crate), then prints the echo ratio table (scripts/criterion_table.py).
#
#   scripts/bench.sh                      # the whole suite
#   scripts/bench.sh --quick              # criterion's quick mode: a few minutes on 2 cores
#   scripts/bench.sh --smoke              # each benchmark run once, as a test, and no table (CI)
#   scripts/bench.sh --bench echo         # only some bench targets (repeatable)
#   scripts/bench.sh --markdown out.md    # also write the tables as a Markdown fragment
#   scripts/bench.sh -- echo_binary_1KiB  # anything after -- goes to criterion (here: a filter)
#
# Build output goes to CARGO_TARGET_DIR, target/bench by default, so benchmarking does not disturb other
# builds; results are in $CARGO_TARGET_DIR/criterion.
set -euo pipefail
cd "$(dirname "$0")/.."

# Absolute: cargo runs each benchmark from the crate's directory, and criterion writes its results under it.
CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target/bench}")"
export CARGO_TARGET_DIR

cargo_args=()
criterion_args=(--noplot)
table_args=()
smoke=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) criterion_args+=(--quick) ;;
        --smoke)
            criterion_args+=(--test)
            smoke=1
            ;;
        --bench)
            [[ $# -ge 2 ]] || { echo "--bench needs a bench target name" >&2; exit 2; }
            cargo_args+=(--bench "$2")
            shift
            ;;
        --markdown)
            [[ $# -ge 2 ]] || { echo "--markdown needs a file name" >&2; exit 2; }
            table_args+=(--markdown "$2")
            shift
            ;;
        --)
            shift
            criterion_args+=("$@")
            break
            ;;
        -h | --help)
            sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "unknown option: $1 (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

# Only bench targets (not --benches, which also runs the library's test harness, which would not take
# criterion's options).
[[ ${#cargo_args[@]} -gt 0 ]] || cargo_args=(--bench '*')
cargo bench -p wslane-benches "${cargo_args[@]}" -- "${criterion_args[@]}"
((smoke)) && exit 0 # a run as a test measures nothing

echo
python3 scripts/criterion_table.py "$CARGO_TARGET_DIR/criterion" ${table_args[@]+"${table_args[@]}"}
