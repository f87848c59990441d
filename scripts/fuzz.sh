#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time each, one after the other, starting from a
# temporary copy of its seed corpus (the repository is not modified), and prints one line per target.
# Exits non-zero when any target finds a crash or fails to run. See docs/fuzzing.md.
#
#   scripts/fuzz.sh                  # every target, 60 s each
#   scripts/fuzz.sh 300              # every target, 300 s each
#   FUZZ_SECONDS=10 scripts/fuzz.sh decoder connection
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_TOOLCHAIN (default nightly), CARGO_TARGET_DIR (default
# fuzz/target, apart from the main workspace's), FUZZ_KEEP=1 keeps the temporary directory,
# WSLANE_FUZZ_TOLERATE as in fuzz/src/known.rs.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${FUZZ_SECONDS:-60}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
toolchain=${FUZZ_TOOLCHAIN:-nightly}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/fuzz/target}

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    echo "fuzz: the $toolchain toolchain is missing (rustup toolchain install $toolchain)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install --locked cargo-fuzz
fi

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo "+$toolchain" fuzz list --fuzz-dir fuzz)
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "fuzz: no targets" >&2
    exit 2
fi

echo "fuzz: building ${#targets[@]} targets" >&2
cargo "+$toolchain" fuzz build --fuzz-dir fuzz >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/wslane-fuzz.XXXXXX")
if [[ ${FUZZ_KEEP:-0} != 1 ]]; then
    trap 'rm -rf "$work"' EXIT
fi

failed=0
for target in "${targets[@]}"; do
    corpus=$work/corpus/$target
    artifacts=$root/fuzz/artifacts/$target
    log=$work/$target.log
    mkdir -p "$corpus" "$artifacts"
    if [[ -d fuzz/corpus/$target ]]; then
        cp -R "fuzz/corpus/$target/." "$corpus/"
    fi
    if cargo "+$toolchain" fuzz run --fuzz-dir fuzz "$target" "$corpus" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
        echo "fuzz $target: ok, ${runs:-?} runs"
    else
        failed=1
        echo "fuzz $target: FAILED"
        # The panic message (or else the sanitizer's or libFuzzer's report) and where the input was saved.
        if grep -q "panicked at" "$log"; then
            grep -A 1 -m 1 "panicked at" "$log" | sed 's/^/    /'
        else
            grep -E -A 2 -m 1 "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)" "$log" | sed 's/^/    /' || true
        fi
        grep -E "Test unit written to" "$log" | tail -n 1 | sed 's/^.*Test unit written to /    input: /' || true
        if [[ ${FUZZ_KEEP:-0} == 1 ]]; then
            echo "    full log: $log"
        fi
    fi
done
exit "$failed"
