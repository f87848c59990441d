//! Whether the CPU has AVX-512, as a value the AVX-512 kernel asks for.
//!
//! The kernel (UTF-8 validation fused with unmasking, in [`utf8`](crate::utf8)) is a method of
//! [`Avx512`], which only [`Avx512::detect`] makes: holding one proves the CPU has the instructions, so
//! the kernel is safe to call. The module is compiled only on x86_64, by compilers with stable AVX-512
//! intrinsics (Rust 1.89 and later; see the build script).

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
