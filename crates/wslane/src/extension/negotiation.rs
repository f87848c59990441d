//! Negotiation in the opening handshake: the [`ExtensionFactory`] each supported extension provides, and
//! the [`NegotiationError`] it refuses an offer or a response with.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{Extension, ExtensionElement};

/// Why an extension refused the client's offers (server side) or the server's response element (client
/// side). The handshake fails: a server answers 400 (through
/// [`ServerError::ExtensionNegotiation`](crate::handshake::ServerError::ExtensionNegotiation)), a client
/// drops the connection (through
/// [`ClientError::ExtensionNegotiation`](crate::handshake::ClientError::ExtensionNegotiation)).
///
/// Every variant names the extension, and the parameter where there is one, as the peer wrote it.
///
/// ```
/// use wslane::extension::NegotiationError;
///
/// let err = NegotiationError::InvalidValue {
///     extension: "permessage-deflate".into(),
///     parameter: "server_max_window_bits".into(),
///     value: Some("16".into()),
/// };
/// assert_eq!(
///     err.to_string(),
///     "permessage-deflate negotiation failed: invalid value \"16\" for parameter server_max_window_bits"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NegotiationError {
    /// A parameter the extension does not define.
    UnknownParameter {
        /// The extension's name.
        extension: String,
        /// The parameter, as received.
        parameter: String,
    },
    /// A parameter that appears more than once in one element.
    DuplicateParameter {
        /// The extension's name.
        extension: String,
        /// The parameter, as received.
        parameter: String,
    },
    /// A parameter with a value it may not have: malformed, out of range, or given to a parameter that takes
    /// none (`value` is `Some`), or no value where one is required (`value` is `None`).
    InvalidValue {
        /// The extension's name.
        extension: String,
        /// The parameter, as received.
        parameter: String,
        /// The value received, if any.
        value: Option<String>,
    },
    /// Client side: the response has a parameter, or a value, that the offer did not allow (such as a
    /// larger window than the client asked for).
    NotOffered {
        /// The extension's name.
        extension: String,
        /// The parameter.
        parameter: String,
        /// The value received, if any.
        value: Option<String>,
    },
    /// Client side: the response leaves out a parameter the offer required the server to confirm.
    MissingParameter {
        /// The extension's name.
        extension: String,
        /// The parameter that was required.
        parameter: String,
    },
    /// A value the grammar allows but this implementation cannot honour (such as a compression window that
    /// the compressor does not support).
    Unsupported {
        /// The extension's name.
        extension: String,
        /// The parameter, as received.
        parameter: String,
        /// The value received.
        value: String,
    },
    /// A refusal none of the other variants describes, in the extension's own words: for extensions
    /// implemented outside this crate.
    Other {
        /// The extension's name.
        extension: String,
        /// What was wrong.
        reason: String,
    },
}

impl NegotiationError {
    /// The name of the extension that refused the negotiation.
    #[must_use]
    pub fn extension(&self) -> &str {
        match self {
            NegotiationError::UnknownParameter { extension, .. }
            | NegotiationError::DuplicateParameter { extension, .. }
            | NegotiationError::InvalidValue { extension, .. }
            | NegotiationError::NotOffered { extension, .. }
            | NegotiationError::MissingParameter { extension, .. }
            | NegotiationError::Unsupported { extension, .. }
            | NegotiationError::Other { extension, .. } => extension,
        }
    }
}

impl fmt::Display for NegotiationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} negotiation failed: ", self.extension())?;
        match self {
            NegotiationError::UnknownParameter { parameter, .. } => {
                write!(f, "unknown parameter {parameter}")
            }
            NegotiationError::DuplicateParameter { parameter, .. } => {
                write!(f, "parameter {parameter} given more than once")
            }
            NegotiationError::InvalidValue {
                parameter,
                value: Some(value),
                ..
            } => write!(f, "invalid value {value:?} for parameter {parameter}"),
            NegotiationError::InvalidValue {
                parameter,
                value: None,
                ..
            } => write!(f, "parameter {parameter} needs a value"),
            NegotiationError::NotOffered {
                parameter,
                value: Some(value),
                ..
            } => write!(
                f,
                "the response's {parameter}={value} is not what the offer allowed"
            ),
            NegotiationError::NotOffered {
                parameter,
                value: None,
                ..
            } => write!(
                f,
                "the response's {parameter} is not what the offer allowed"
            ),
            NegotiationError::MissingParameter { parameter, .. } => {
                write!(
                    f,
                    "the response does not confirm {parameter}, which the offer required"
                )
            }
            NegotiationError::Unsupported {
                parameter, value, ..
            } => write!(f, "{parameter}={value} is not supported"),
            NegotiationError::Other { reason, .. } => f.write_str(reason),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn deflate(parameter: &str) -> (String, String) {
        ("permessage-deflate".into(), parameter.into())
    }

    #[test]
    fn display_names_the_extension_and_the_parameter() {
        let (extension, parameter) = deflate("x-mux");
        let cases = [
            (
                NegotiationError::UnknownParameter {
                    extension: extension.clone(),
                    parameter: parameter.clone(),
                },
                "permessage-deflate negotiation failed: unknown parameter x-mux",
            ),
            (
                NegotiationError::DuplicateParameter {
                    extension: extension.clone(),
                    parameter,
                },
                "permessage-deflate negotiation failed: parameter x-mux given more than once",
            ),
            (
                NegotiationError::InvalidValue {
                    extension: extension.clone(),
                    parameter: "server_max_window_bits".into(),
                    value: None,
                },
                "permessage-deflate negotiation failed: parameter server_max_window_bits needs a value",
            ),
            (
                NegotiationError::NotOffered {
                    extension: extension.clone(),
                    parameter: "client_max_window_bits".into(),
                    value: Some("12".into()),
                },
                "permessage-deflate negotiation failed: the response's client_max_window_bits=12 is not \
                 what the offer allowed",
            ),
            (
                NegotiationError::MissingParameter {
                    extension: extension.clone(),
                    parameter: "server_no_context_takeover".into(),
                },
                "permessage-deflate negotiation failed: the response does not confirm \
                 server_no_context_takeover, which the offer required",
            ),
            (
                NegotiationError::Unsupported {
                    extension: extension.clone(),
                    parameter: "client_max_window_bits".into(),
                    value: "8".into(),
                },
                "permessage-deflate negotiation failed: client_max_window_bits=8 is not supported",
            ),
            (
                NegotiationError::Other {
                    extension,
                    reason: "no common mode".into(),
                },
                "permessage-deflate negotiation failed: no common mode",
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(err.extension(), "permessage-deflate");
            assert_eq!(err.to_string(), expected);
        }
    }
}
