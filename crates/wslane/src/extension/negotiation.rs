//! Negotiation in the opening handshake: the [`ExtensionFactory`] each supported extension provides, and
//! the [`NegotiationError`] it refuses an offer or a response with.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{Extension, ExtensionElement};

/// A failed negotiation: the peer's offer or response cannot be honoured and the handshake must fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NegotiationError(pub String);

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "extension negotiation failed: {}", self.0)
    }
}

impl core::error::Error for NegotiationError {}

/// A server's acceptance of an offer: the response element to send and the extension to install.
pub type Accepted = (ExtensionElement, Box<dyn Extension>);

/// An extension this endpoint supports, as seen by the opening handshake. Both roles negotiate through it;
/// permessage-deflate is one implementation.
pub trait ExtensionFactory: Send + Sync {
    /// The registered extension name, such as `permessage-deflate`.
    fn name(&self) -> &str;

    /// Client side: the offers to send, most preferred first (each becomes one header element).
    fn offers(&self) -> Vec<ExtensionElement>;

    /// Server side: given every offer of this extension's name, in the client's order, accept the first one
    /// it can honour. Returns the response element and the extension instance, `Ok(None)` to decline, or an
    /// error when an offer is malformed (the handshake is then refused with 400).
    fn accept(&self, offers: &[ExtensionElement]) -> Result<Option<Accepted>, NegotiationError>;

    /// Client side: check the server's response element against what was offered and build the extension,
    /// or fail the connection.
    fn confirm(&self, response: &ExtensionElement) -> Result<Box<dyn Extension>, NegotiationError>;
}
