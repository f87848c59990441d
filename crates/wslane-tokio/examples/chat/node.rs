//! This process's identity among the chat processes that share rooms through Redis.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// Letters for the tag: lower case without the ones easily confused (`i`, `l`, `o`, `0`, `1`).
const TAG_LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Letters in a tag: 31^4, about 920,000 tags.
const TAG_LEN: usize = 4;

/// A process's random identity, made at start.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// 64 random bits in hex: marks what this process publishes, so that it can pass over its own
    /// messages when Redis hands them back.
    pub(crate) origin: String,
    /// A short tag for names (`guest-3@k7qx`), so that members of different processes never share one.
    pub(crate) tag: String,
}

impl Node {
    /// A fresh identity from the standard library's per-process random keys.
    pub(crate) fn random() -> Node {
        let bits = random_u64();
        let mut rest = random_u64();
        let mut tag = String::with_capacity(TAG_LEN);
        for _ in 0..TAG_LEN {
            let letters = TAG_LETTERS.len() as u64;
            tag.push(char::from(TAG_LETTERS[(rest % letters) as usize]));
            rest /= letters;
        }
        Node {
            origin: format!("{bits:016x}"),
            tag,
        }
    }
}

/// 64 random bits: `RandomState` is seeded from the operating system's generator, and each one made
/// differs from the last.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}
