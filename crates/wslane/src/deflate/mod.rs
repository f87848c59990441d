//! permessage-deflate (RFC 7692), feature `deflate`.
//!
//! [`PerMessageDeflate`] is an [`ExtensionFactory`]: put it in the server's
//! [`ServerConfig::extensions`](crate::handshake::ServerConfig::extensions) or a client's
//! [`ClientRequest::extension`](crate::handshake::ClientRequest::extension), and the handshake negotiates it
//! and installs the codec on the connection.
//!
//! - Both roles handle all four parameters, with and without values, and several offers in preference
//!   order. A server declines (and moves on to the next offer) any offer with an unknown, repeated or
//!   invalid parameter, or one it cannot honour; it never answers with parameters the client did not
//!   allow. A client fails the handshake on a response it did not allow.
//! - Window sizes 9 to 15 are honoured in both directions. zlib, and so zlib-rs, cannot compress with a
//!   window of 8 bits (it uses 9), so a server declines an offer that asks it for
//!   `server_max_window_bits=8`, and a client fails on a response asking it for `client_max_window_bits=8`.
//!   Receiving is unaffected: 8-bit-window data inflates with a 9-bit window.
//! - The decompressed size counts against the connection's message size limit while inflating, so a small
//!   frame can never make the process allocate past the limit (1009).
//! - Messages shorter than [`DeflateConfig::threshold`] are sent uncompressed, and
//!   [`Sender::send_raw`](crate::Sender::send_raw) sends any message uncompressed.
//!
//! ## Memory
//!
//! Each direction's state is allocated when first used. Measured with zlib-rs (see `docs/compression.md`
//! for the tables and the command): the compressor takes about 371 KiB at window 15 and memory level 8,
//! down to about 200 KiB at window 9 and memory level 1; the decompressor takes about 46 KiB at every
//! window, because zlib-rs always allocates a 32 KiB window. So a server caps its per-connection cost with
//! [`DeflateConfig::server_max_window_bits`] and [`DeflateConfig::mem_level`] (its compressor);
//! [`DeflateConfig::client_max_window_bits`] limits what the client may use, not what the server
//! allocates. Without context takeover the state is reset after every message but stays allocated.

mod codec;
mod params;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use self::codec::{DeflateCodec, Direction};
use self::params::{Params, Side};
use crate::extension::{Accepted, Extension, ExtensionElement, ExtensionFactory, NegotiationError};

pub use self::params::NAME;

/// permessage-deflate settings, for either role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// zlib compression level, 0 (store) to 9 (smallest). Default: 6.
    pub level: u8,
    /// zlib memory level, 1 to 9: less memory for the compressor against a little compression. Default: 8.
    pub mem_level: u8,
    /// Messages shorter than this many bytes are sent uncompressed. Default: 32.
    pub threshold: usize,
    /// Server: never keep the compression context between messages. Client: ask the server not to.
    /// Default: off.
    pub server_no_context_takeover: bool,
    /// Server: require the client not to keep its context. Client: promise not to. Default: off.
    pub client_no_context_takeover: bool,
    /// Server: the largest window it compresses with. Client: the largest it asks the server to use.
    /// 9 to 15. Default: 15.
    pub server_max_window_bits: u8,
    /// Server: the largest window it lets the client compress with (an offer that does not allow the
    /// server to limit it is declined when this is below 15). Client: the largest it compresses with.
    /// 9 to 15. Default: 15.
    pub client_max_window_bits: u8,
}

impl Default for DeflateConfig {
    fn default() -> DeflateConfig {
        DeflateConfig {
            level: 6,
            mem_level: 8,
            threshold: 32,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

impl DeflateConfig {
    /// The defaults at compression level 1: several times less CPU per message than level 6 for a
    /// somewhat larger output (see `docs/compression.md`).
    #[must_use]
    pub fn fastest() -> DeflateConfig {
        DeflateConfig {
            level: 1,
            ..DeflateConfig::default()
        }
    }

    /// The settings `accept` uses in the async adapters (`wslane-tokio`, `wslane-async-std`) when their
    /// `deflate` feature is on: a server's memory-conscious choice for many connections, and the one that
    /// lets a broadcast compress each message once.
    ///
    /// - `server_no_context_takeover`: the server resets its compressor after every message, so a
    ///   [`PreparedMessage`](crate::prepared::PreparedMessage) is compressed once for every connection with
    ///   these settings, and a connection that only receives published messages never allocates a
    ///   compressor at all (0.3 KiB of deflate state while idle, 46 KiB once the client sends compressed).
    ///   The price: a small message cannot refer back to the ones before it, so it compresses less.
    /// - `server_max_window_bits` 12 and `mem_level` 5 (Python `websockets`' choice): a connection that
    ///   compresses its own messages holds about 160 KiB for its compressor instead of 371 KiB.
    /// - The client's window is not limited (the decompressor is the same size at every window), so every
    ///   browser's offer is accepted.
    ///
    /// `docs/broadcasting.md` and `docs/compression.md` have the measurements.
    ///
    /// ```
    /// use wslane::deflate::DeflateConfig;
    ///
    /// let config = DeflateConfig::memory_conscious();
    /// assert!(config.server_no_context_takeover);
    /// assert_eq!((config.server_max_window_bits, config.mem_level), (12, 5));
    /// ```
    #[must_use]
    pub fn memory_conscious() -> DeflateConfig {
        DeflateConfig {
            mem_level: 5,
            server_no_context_takeover: true,
            server_max_window_bits: 12,
            ..DeflateConfig::default()
        }
    }
}

/// The permessage-deflate [`ExtensionFactory`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerMessageDeflate {
    config: DeflateConfig,
}

impl PerMessageDeflate {
    /// The extension with these settings.
    #[must_use]
    pub fn new(config: DeflateConfig) -> PerMessageDeflate {
        let mut config = config;
        config.server_max_window_bits = config.server_max_window_bits.clamp(9, 15);
        config.client_max_window_bits = config.client_max_window_bits.clamp(9, 15);
        PerMessageDeflate { config }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &DeflateConfig {
        &self.config
    }

    /// The server's answer to one valid offer, or `None` to decline it.
    fn answer(&self, offer: Params) -> Option<Params> {
        let config = &self.config;
        let server_bits = offer
            .server_max_window_bits
            .unwrap_or(15)
            .min(config.server_max_window_bits);
        if server_bits < 9 {
            return None; // zlib cannot compress with an 8-bit window
        }
        let client_bits = match offer.client_max_window_bits {
            Some(offered) => {
                let bits = offered.unwrap_or(15).min(config.client_max_window_bits);
                (offered.is_some() || bits < 15).then_some(bits)
            }
            // The client did not let us limit its window: decline if we must.
            None if config.client_max_window_bits < 15 => return None,
            None => None,
        };
        Some(Params {
            server_no_context_takeover: offer.server_no_context_takeover
                || config.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover
                || config.client_no_context_takeover,
            server_max_window_bits: (server_bits < 15 || offer.server_max_window_bits.is_some())
                .then_some(server_bits),
            client_max_window_bits: client_bits.map(Some),
        })
    }

    fn codec(&self, ours: Direction, theirs: Direction) -> Box<dyn Extension> {
        let config = &self.config;
        Box::new(DeflateCodec::new(
            ours,
            theirs,
            config.level,
            config.mem_level,
            config.threshold,
        ))
    }
}

impl ExtensionFactory for PerMessageDeflate {
    fn name(&self) -> &str {
        NAME
    }

    fn offers(&self) -> Vec<ExtensionElement> {
        let config = &self.config;
        let offer = Params {
            server_no_context_takeover: config.server_no_context_takeover,
            client_no_context_takeover: config.client_no_context_takeover,
            server_max_window_bits: (config.server_max_window_bits < 15)
                .then_some(config.server_max_window_bits),
            // We can compress with any window the server asks for, down to 9.
            client_max_window_bits: Some(
                (config.client_max_window_bits < 15).then_some(config.client_max_window_bits),
            ),
        };
        alloc::vec![offer.to_element()]
    }

    fn accept(&self, offers: &[ExtensionElement]) -> Result<Option<Accepted>, NegotiationError> {
        // RFC 7692 section 5: an invalid offer, or one the server cannot honour, is declined; the next
        // offer may still be accepted.
        for offer in offers {
            let Some(answer) = Params::parse(offer, Side::Offer)
                .ok()
                .and_then(|p| self.answer(p))
            else {
                continue;
            };
            let ours = Direction {
                window_bits: answer.server_max_window_bits.unwrap_or(15),
                no_context_takeover: answer.server_no_context_takeover,
            };
            let theirs = Direction {
                // Data compressed with "8" was written with a 9-bit window by zlib peers.
                window_bits: answer.client_max_window_bits.flatten().unwrap_or(15).max(9),
                no_context_takeover: answer.client_no_context_takeover,
            };
            return Ok(Some((answer.to_element(), self.codec(ours, theirs))));
        }
        Ok(None)
    }

    fn confirm(&self, response: &ExtensionElement) -> Result<Box<dyn Extension>, NegotiationError> {
        let config = &self.config;
        let answer = Params::parse(response, Side::Response)?;
        let missing = |parameter: &str| NegotiationError::MissingParameter {
            extension: NAME.into(),
            parameter: parameter.into(),
        };
        let not_offered = |parameter: &str, bits: u8| NegotiationError::NotOffered {
            extension: NAME.into(),
            parameter: parameter.into(),
            value: Some(bits.to_string()),
        };
        if config.server_no_context_takeover && !answer.server_no_context_takeover {
            return Err(missing("server_no_context_takeover"));
        }
        let server_bits = match answer.server_max_window_bits {
            // RFC 7692 section 7.1.2.1: a server accepts a requested window by answering with one.
            None if config.server_max_window_bits < 15 => {
                return Err(missing("server_max_window_bits"))
            }
            None => 15,
            Some(bits) if bits > config.server_max_window_bits => {
                return Err(not_offered("server_max_window_bits", bits))
            }
            Some(bits) => bits,
        };
        let client_bits = match answer.client_max_window_bits.flatten() {
            Some(bits) if bits > config.client_max_window_bits => {
                return Err(not_offered("client_max_window_bits", bits))
            }
            // zlib, and so zlib-rs, cannot compress with a window of 8 bits.
            Some(8) => {
                return Err(NegotiationError::Unsupported {
                    extension: NAME.into(),
                    parameter: String::from("client_max_window_bits"),
                    value: String::from("8"),
                })
            }
            Some(bits) => bits,
            None => config.client_max_window_bits,
        };
        let ours = Direction {
            window_bits: client_bits,
            no_context_takeover: answer.client_no_context_takeover
                || config.client_no_context_takeover,
        };
        let theirs = Direction {
            window_bits: server_bits.max(9),
            no_context_takeover: answer.server_no_context_takeover,
        };
        Ok(self.codec(ours, theirs))
    }
}
