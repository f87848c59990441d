//! Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key, eight bytes at a time.

/// XORs `buf` with `key`, starting at byte `offset` of the payload (so a payload can be unmasked in pieces).
/// Masking and unmasking are the same operation.
///
/// Works a machine word at a time: the key is rotated once to the starting offset and widened to 64 bits,
/// so the loop body is one load, one XOR and one store per 8 bytes, which the compiler vectorises.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ wide).to_ne_bytes());
    }
    // A whole number of words keeps the key's phase, so the tail starts at key[0].
    for (byte, k) in words.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// The byte-at-a-time definition of masking, kept as the reference the fast routine is tested against.
pub fn apply_mask_reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

/// The key as seen from payload byte `offset`.
const fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset % 4;
    [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_masked_hello() {
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }

    #[test]
    fn pieces_at_any_offset_equal_the_whole() {
        let key = [1, 2, 3, 4];
        let data: [u8; 37] = core::array::from_fn(|i| (i * 7) as u8);
        let mut whole = data;
        apply_mask_reference(&mut whole, key, 0);
        for cut in 0..data.len() {
            let mut pieces = data;
            let (a, b) = pieces.split_at_mut(cut);
            apply_mask(a, key, 0);
            apply_mask(b, key, cut);
            assert_eq!(pieces, whole, "cut at {cut}");
        }
    }
}
