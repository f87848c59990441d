//! The fuzz targets of `wslane`, as library functions.
//!
//! Each module of [`targets`] has a `run(data: &[u8])` that decodes the fuzzer's bytes into its input and
//! panics when an invariant breaks. The binaries in `fuzz_targets/` only call it, so the same checks replay
//! the seed corpus and the saved regressions on stable Rust (`cargo test` in this directory), and
//! [`seeds`] builds the seed corpus from valid frames and handshakes.
//!
//! Structured inputs are a fixed-size setup derived with `arbitrary`, followed by the rest of the bytes
//! taken verbatim, so a seed is the setup's bytes followed by real protocol bytes.

pub mod known;
pub mod seeds;
pub mod targets;
pub mod wire;

use wslane::extension::{
    Accepted, Extension, ExtensionElement, ExtensionFactory, NegotiationError,
};
use wslane::{OpCode, ProtocolError, SendError};

/// A test extension for the connection target: it "inflates" by doubling every byte, so the decoded size
/// limit, UTF-8 checks of decoded text and the RSV1 path can be exercised without a real compressor.
///
/// Sending halves a message made of byte pairs and sets RSV1; any other message is sent as it is.
#[derive(Debug, Default)]
pub struct Doubler;

/// The RSV bit [`Doubler`] claims (RSV1).
pub const DOUBLER_RSV: u8 = 0b100;

impl Doubler {
    /// The decoding, as a plain function for reference models.
    pub fn double(input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            out.extend_from_slice(&[b, b]);
        }
    }

    /// The encoding: `Some` when `input` is a non-empty sequence of equal byte pairs.
    pub fn halve(input: &[u8]) -> Option<Vec<u8>> {
        if input.is_empty() || !input.len().is_multiple_of(2) {
            return None;
        }
        let pairs = input.chunks_exact(2);
        if pairs.clone().any(|p| p[0] != p[1]) {
            return None;
        }
        Some(pairs.map(|p| p[0]).collect())
    }
}

impl Extension for Doubler {
    fn rsv_bits(&self) -> u8 {
        DOUBLER_RSV
    }

    fn decode(
        &mut self,
        rsv: u8,
        input: &[u8],
        _fin: bool,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        assert_eq!(
            rsv, DOUBLER_RSV,
            "decode called for RSV bits the extension does not claim"
        );
        if out.len() + 2 * input.len() > limit {
            return Err(ProtocolError::MessageTooLarge { max: limit as u64 });
        }
        Doubler::double(input, out);
        Ok(())
    }

    fn encode(
        &mut self,
        _opcode: OpCode,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Option<u8>, SendError> {
        match Doubler::halve(input) {
            Some(half) => {
                out.extend_from_slice(&half);
                Ok(Some(DOUBLER_RSV))
            }
            None => Ok(None),
        }
    }
}

/// The handshake side of [`Doubler`]: the extension `x-test`. A server accepts the first offer, unless it
/// has a parameter `bad` (a malformed offer: 400), `decline` (declined), or `invalid` (answered with an
/// element that is not a token, a server bug the handshake must catch: 500). A client confirms any
/// response element without a `bad` parameter.
#[derive(Debug, Default)]
pub struct TestFactory;

/// The name [`TestFactory`] negotiates.
pub const TEST_EXTENSION: &str = "x-test";

impl ExtensionFactory for TestFactory {
    fn name(&self) -> &str {
        TEST_EXTENSION
    }

    fn offers(&self) -> Vec<ExtensionElement> {
        vec![ExtensionElement::new(TEST_EXTENSION).param("mode", Some("double"))]
    }

    fn accept(&self, offers: &[ExtensionElement]) -> Result<Option<Accepted>, NegotiationError> {
        let Some(offer) = offers.first() else {
            return Ok(None);
        };
        assert!(
            offer.name.eq_ignore_ascii_case(TEST_EXTENSION),
            "offered {:?}",
            offer.name
        );
        let has = |name: &str| offer.params.iter().any(|(n, _)| n == name);
        if has("bad") {
            return Err(NegotiationError::UnknownParameter {
                extension: TEST_EXTENSION.into(),
                parameter: "bad".into(),
            });
        }
        if has("decline") {
            return Ok(None);
        }
        let name = if has("invalid") {
            "x test"
        } else {
            TEST_EXTENSION
        };
        Ok(Some((ExtensionElement::new(name), Box::new(Doubler))))
    }

    fn confirm(&self, response: &ExtensionElement) -> Result<Box<dyn Extension>, NegotiationError> {
        if response.params.iter().any(|(n, _)| n == "bad") {
            return Err(NegotiationError::UnknownParameter {
                extension: TEST_EXTENSION.into(),
                parameter: "bad".into(),
            });
        }
        Ok(Box::new(Doubler))
    }
}

/// `Sec-WebSocket-Accept` for a key, computed here rather than by the crate: base64(SHA-1(key + GUID)).
pub fn expected_accept(key: &str) -> String {
    use base64::Engine;
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha1.digest().bytes())
}

/// Whether `bytes` can begin a valid UTF-8 string: valid, or valid up to an incomplete last character.
pub fn is_utf8_prefix(bytes: &[u8]) -> bool {
    match core::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(err) => err.error_len().is_none(),
    }
}

/// Formats bytes as lowercase hex, for panic messages and reports.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
