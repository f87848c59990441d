//! Where a client's masking keys come from.
//!
//! RFC 6455 section 10.3 asks for keys an attacker cannot predict. The core has no random source, so the
//! caller supplies one: any [`MaskKeySource`], or [`ChaChaKeys`], a ChaCha20 key stream seeded once with 32
//! bytes from the operating system's generator, which costs one block computation per 16 frames.

/// A supplier of masking keys for the frames a client sends.
pub trait MaskKeySource: Send {
    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

impl<F: FnMut() -> [u8; 4] + Send> MaskKeySource for F {
    fn next_key(&mut self) -> [u8; 4] {
        self()
    }
}

/// Masking keys from a ChaCha20 key stream (RFC 8439) under a caller-supplied 32-byte seed.
///
/// Seed it from a cryptographically secure source, such as `getrandom`; a predictable seed gives
/// predictable keys.
#[derive(Clone)]
pub struct ChaChaKeys {
    key: [u32; 8],
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl ChaChaKeys {
    /// A key stream under `seed`.
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> ChaChaKeys {
        let mut key = [0; 8];
        for (word, bytes) in key.iter_mut().zip(seed.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        ChaChaKeys {
            key,
            counter: 0,
            block: [0; 64],
            used: 64,
        }
    }
}

impl core::fmt::Debug for ChaChaKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChaChaKeys { .. }") // never print key material
    }
}

impl MaskKeySource for ChaChaKeys {
    fn next_key(&mut self) -> [u8; 4] {
        if self.used == self.block.len() {
            // The 64-bit counter takes the first nonce word too: 2^64 blocks never repeat in practice.
            let nonce = [(self.counter >> 32) as u32, 0, 0];
            self.block = chacha20_block(&self.key, self.counter as u32, nonce);
            self.counter = self.counter.wrapping_add(1);
            self.used = 0;
        }
        let at = self.used;
        self.used += 4;
        [
            self.block[at],
            self.block[at + 1],
            self.block[at + 2],
            self.block[at + 3],
        ]
    }
}

/// The ChaCha20 block function of RFC 8439 section 2.3.
fn chacha20_block(key: &[u32; 8], counter: u32, nonce: [u32; 3]) -> [u8; 64] {
    let mut state = [0u32; 16];
    state[..4].copy_from_slice(&[0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574]);
    state[4..12].copy_from_slice(key);
    state[12] = counter;
    state[13..].copy_from_slice(&nonce);
    let mut working = state;
    for _ in 0..10 {
        quarter_round(&mut working, 0, 4, 8, 12);
        quarter_round(&mut working, 1, 5, 9, 13);
        quarter_round(&mut working, 2, 6, 10, 14);
        quarter_round(&mut working, 3, 7, 11, 15);
        quarter_round(&mut working, 0, 5, 10, 15);
        quarter_round(&mut working, 1, 6, 11, 12);
        quarter_round(&mut working, 2, 7, 8, 13);
        quarter_round(&mut working, 3, 4, 9, 14);
    }
    let mut out = [0u8; 64];
    for ((bytes, w), s) in out.chunks_exact_mut(4).zip(working).zip(state) {
        bytes.copy_from_slice(&w.wrapping_add(s).to_le_bytes());
    }
    out
}

fn quarter_round(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8439_block_test_vector() {
        // Section 2.3.2: key 00..1f, counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00.
        let seed: [u8; 32] = core::array::from_fn(|i| i as u8);
        let keys = ChaChaKeys::from_seed(seed);
        let block = chacha20_block(&keys.key, 1, [0x0900_0000, 0x4a00_0000, 0]);
        assert_eq!(
            &block[..16],
            &[
                0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20,
                0x71, 0xc4
            ]
        );
    }

    #[test]
    fn keys_differ_across_blocks_and_seeds() {
        let mut a = ChaChaKeys::from_seed([1; 32]);
        let mut b = ChaChaKeys::from_seed([2; 32]);
        let first: [[u8; 4]; 40] = core::array::from_fn(|_| a.next_key());
        let other: [[u8; 4]; 40] = core::array::from_fn(|_| b.next_key());
        assert_ne!(first, other);
        // Keys of the second block are not the first block's again.
        assert_ne!(first[..16], first[16..32]);
        let mut counter = 0u8;
        let mut f = move || {
            counter += 1;
            [counter; 4]
        };
        assert_eq!(MaskKeySource::next_key(&mut f), [1; 4]);
    }
}
