#!/usr/bin/env bash
# The core's tests that reach its `unsafe` code, under Miri (nightly), each run in its own target directory
# under target/miri. What each run reaches:
#
#   x86_64, baseline      the masking dispatch: the portable words, the SSE2 kernel (64 to 255 bytes), and
#                         SSE2 as the long kernel (256 bytes up; Miri reports no AVX2); the SSE2 kernels
#                         called directly; masking in the send buffer; UTF-8 validation (simdutf8's code);
#                         received text handed out by `from_utf8_unchecked` (connection/receive.rs);
#                         copies made forward and backward, and text copied into a `String` without a
#                         second check (copy.rs)
#   x86_64, +avx2         the same masking tests with AVX2 enabled, so the long path runs the AVX2 kernel
#   x86_64, +avx512f      the UTF-8 tests with AVX-512 F and BW enabled, so masked text of 256 bytes and
#     +avx512bw           more runs the kernel that unmasks and validates in one pass, its partial blocks
#                         at three alignments (utf8/avx512.rs)
#   aarch64 (interpreted) the masking tests through the NEON kernel (Miri interprets any target; nothing
#                         is run natively)
#
# The kernels' aligning prologue (sse2_long and avx2 on buffers from 1 KiB) is reached by a short test of a
# few lengths past 1 KiB from aligned and odd addresses. The proptests (with_cases fixed in the source, so
# PROPTEST_CASES cannot shrink them) and the 4 KiB sweep take hours under Miri and are not run here.
#
# Usage: scripts/miri.sh            (installs Miri on the nightly toolchain if it is missing)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

toolchain=nightly
if ! cargo "+$toolchain" miri --version >/dev/null 2>&1; then
    rustup toolchain install "$toolchain" --profile minimal --component miri,rust-src
fi
rustup component add miri rust-src --toolchain "$toolchain"
cargo "+$toolchain" miri --version

# Each masking test checks every routine this target has against the byte-at-a-time reference.
mask_tests=(
    frame::mask::tests::rfc_6455_masked_hello
    frame::mask::tests::pieces_at_any_offset_equal_the_whole
    frame::mask::tests::aligning_prologue_of_the_long_kernels
    connection::buffer::tests::tx_drains_and_masks
)
utf8_tests=(
    utf8::tests::split_characters_are_carried_over
    utf8::tests::fails_fast_on_impossible_prefixes
    utf8::tests::truncated_character_fails_at_finish
    utf8::tests::feed_masked_small_cases
)
# Payload copies, both ways, and the copied text made a `String` unchecked.
copy_tests=(
    copy::tests::a_copy_in_the_slow_position_is_made_backward_and_is_exact
    copy::tests::copies_are_exact_wherever_they_land
)
# Received text, masked and split at every byte, through the connection to `from_utf8_unchecked`.
text_tests=(
    single_frame_masked_text_received_by_a_server
    examples_survive_any_split_of_the_input
    replies_from_borrowed_events_through_the_sender
)

run() {
    local what=$1
    shift
    local started=$SECONDS
    printf '\n--- miri: %s\n' "$what"
    "$@"
    printf -- '--- miri: %s ok (%ss)\n' "$what" "$((SECONDS - started))"
}

run "x86_64 baseline, unit tests" \
    cargo "+$toolchain" miri test -p wslane --lib --target-dir target/miri/x86_64 \
    -- --exact "${mask_tests[@]}" "${utf8_tests[@]}" "${copy_tests[@]}"
run "x86_64 baseline, received text" \
    cargo "+$toolchain" miri test -p wslane --test rfc_examples --test connection \
    --target-dir target/miri/x86_64 -- --exact "${text_tests[@]}"
run "x86_64 +avx2, masking" \
    env RUSTFLAGS="-C target-feature=+avx2" \
    cargo "+$toolchain" miri test -p wslane --lib --target-dir target/miri/x86_64-avx2 \
    -- --exact "${mask_tests[@]}"
run "x86_64 +avx512f +avx512bw, UTF-8" \
    env RUSTFLAGS="-C target-feature=+avx512f,+avx512bw" \
    cargo "+$toolchain" miri test -p wslane --lib --target-dir target/miri/x86_64-avx512 \
    -- --exact "${utf8_tests[@]}"
run "aarch64 NEON, masking" \
    cargo "+$toolchain" miri test -p wslane --lib --target aarch64-unknown-linux-gnu \
    --target-dir target/miri/aarch64 -- --exact "${mask_tests[@]}"
