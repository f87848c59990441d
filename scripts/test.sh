#!/usr/bin/env bash
# The whole test suite: unit, integration, property, example, interop and doc tests, in one cargo invocation.
# Installs what the interop tests need on first run (see scripts/setup-interop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-interop.sh
# shellcheck disable=SC1091
source target/interop/env.sh

# The default target selection, not --all-targets: it builds every example as a runnable binary before any
# test runs (the interop tests run them; --all-targets would build the examples as test harnesses instead),
# and it runs the doc tests too.
cargo test --workspace --all-features "$@"
# Unit tests inside examples (their own modules, such as the chat's Redis wire format): the examples again,
# built as test harnesses this time.
cargo test --workspace --all-features --examples "$@"
