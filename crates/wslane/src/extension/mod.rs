//! The extension point (RFC 6455 section 9): negotiation in the opening handshake, and one hook through which
//! a negotiated extension claims RSV bits and transforms message payloads.
//!
//! Without a negotiated extension, any RSV bit fails the connection (1002). With one, the RSV bits it claims
//! are allowed on the first frame of a data message only; continuation and control frames must carry none
//! (the rule of every registered extension, permessage-deflate included).
//!
//! The module has three parts:
//!
//! - the payload transform a connection runs: [`Extension`];
//! - the `Sec-WebSocket-Extensions` header grammar: [`ExtensionElement`], [`parse_extensions`] and
//!   [`InvalidExtensionHeader`];
//! - negotiation, as the handshake drives it: [`ExtensionFactory`], [`Accepted`] and [`NegotiationError`].

mod header;
mod negotiation;
mod transform;

pub(crate) use self::header::is_token;
pub use self::header::{parse_extensions, ExtensionElement, InvalidExtensionHeader};
pub use self::negotiation::{Accepted, ExtensionFactory, NegotiationError};
pub use self::transform::{Extension, SharedEncoding};
