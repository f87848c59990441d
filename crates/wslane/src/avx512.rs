//! Whether the CPU has AVX-512, as a value the AVX-512 kernels ask for.
//!
//! The kernels (UTF-8 validation fused with unmasking in [`utf8`](crate::utf8), masking in
//! [`frame`](crate::frame)) are methods of [`Avx512`], which only [`Avx512::detect`] makes: holding one
//! proves the CPU has the instructions, so the kernels are safe to call. The module is compiled only on
//! x86_64, by compilers with stable AVX-512 intrinsics (Rust 1.89 and later; see the build script).

/// Proof that the CPU has AVX-512 F and BW.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Avx512(());

impl Avx512 {
    /// The proof, if the CPU has AVX-512 F and BW: detected once and cached by `std`, or known at compile
    /// time without it.
    #[inline]
    pub(crate) fn detect() -> Option<Avx512> {
        #[cfg(feature = "std")]
        let available =
            std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw");
        #[cfg(not(feature = "std"))]
        let available = cfg!(all(target_feature = "avx512f", target_feature = "avx512bw"));
        available.then_some(Avx512(()))
    }
}

/// The bits `from..to` of a 64-bit mask (`to` at most 64), one per byte of a 64-byte block: none when
/// `to <= from`. The partial blocks at either end of a buffer are loaded and stored under such a mask.
#[inline(always)]
pub(crate) fn byte_range(from: usize, to: usize) -> u64 {
    if to <= from {
        return 0;
    }
    (u64::MAX >> (64 - (to - from))) << from
}
