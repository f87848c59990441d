//! [`Refusal`]: the HTTP answer to a request that is not a valid opening handshake, the same status and
//! fields as the raw adapters write.

use core::fmt;

use http::{HeaderName, HeaderValue, Response, StatusCode};
use wslane::handshake::{HttpVersion, ServerError};

/// The body of a refusal of a valid request that the HTTP layer cannot hand over.
const NOT_UPGRADABLE: &str = "the connection cannot be taken over for a WebSocket";

/// Why a request was not upgraded, and the answer to send: the core's [`ServerError`] with the status and
/// fields it requires in the request's HTTP version (400, 403, 405 with `Allow`, 426 with `Upgrade` and
/// `Sec-WebSocket-Version` over HTTP/1.1, 431...), a `text/plain` body saying why, and over HTTP/1.1
/// `Connection: close`. Turn it into a response with [`into_response`](Self::into_response) (or, with the
/// `axum` feature, return it from a handler: it implements `IntoResponse`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// `None`: the request is valid, but the HTTP layer offers no way to take the connection over.
    error: Option<ServerError>,
    version: HttpVersion,
}

impl Refusal {
    pub(crate) fn new(error: ServerError, version: HttpVersion) -> Refusal {
        Refusal {
            error: Some(error),
            version,
        }
    }

    /// A valid request whose connection cannot be taken over: it did not come from hyper, or a layer
    /// before took its pending upgrade (500).
    pub(crate) fn not_upgradable(version: HttpVersion) -> Refusal {
        Refusal {
            error: None,
            version,
        }
    }

    /// The core's reason for the refusal; `None` when the request was valid but the HTTP layer could not
    /// hand its connection over (a 500: the request did not come from hyper, or a layer took its upgrade).
    #[must_use]
    pub fn error(&self) -> Option<&ServerError> {
        self.error.as_ref()
    }

    /// The status to answer with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        let status = self
            .error
            .as_ref()
            .map_or(500, |e| e.status_in(self.version));
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The answer: status, fields and body. `B` is the server's body type (`String`, hyper's
    /// `Full<Bytes>`, axum's `Body`...).
    #[must_use]
    pub fn into_response<B: From<String>>(self) -> Response<B> {
        let status = self.status();
        let Some(error) = self.error else {
            let mut response = Response::new(B::from(format!("{NOT_UPGRADABLE}\n")));
            *response.status_mut() = status;
            return response;
        };
        let mut response = Response::new(B::from(error.body()));
        *response.status_mut() = status;
        for (name, value) in error.fields_in(self.version) {
            // The core's names and values are valid HTTP; `from_bytes` also lowers the names' case.
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(error) => write!(f, "{} {error}", self.status().as_u16()),
            None => write!(f, "{} {NOT_UPGRADABLE}", self.status().as_u16()),
        }
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error
            .as_ref()
            .map(|error| error as &(dyn std::error::Error + 'static))
    }
}
