#!/usr/bin/env bash
# The whole test suite: unit, integration, property, doc and interop tests, in one cargo invocation.
# Installs what the interop tests need on first run (see scripts/setup-interop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x scripts/setup-interop.sh ]; then
    scripts/setup-interop.sh
    # shellcheck disable=SC1091
    source target/interop/env.sh
fi

cargo test --workspace --all-features --all-targets "$@"
cargo test --workspace --all-features --doc "$@"
