//! Extension negotiation (RFC 6455 section 9.1) for both roles. A connection holds at most one extension.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::error::{ClientError, ServerError};
use super::headers::Headers;
use crate::extension::{
    is_token, parse_extensions, Accepted, Extension, ExtensionElement, ExtensionFactory,
};

/// Whether an offer or response element can be written into a header as it is: every part a token.
pub(crate) fn is_valid_element(element: &ExtensionElement) -> bool {
    is_token(&element.name)
        && element
            .params
            .iter()
            .all(|(name, value)| is_token(name) && value.as_deref().map_or(true, is_token))
}

/// Parses every `Sec-WebSocket-Extensions` field of `headers`, in order.
pub(crate) fn parse_all(headers: &Headers) -> Option<Vec<ExtensionElement>> {
    let mut elements = Vec::new();
    for value in headers.get_all("sec-websocket-extensions") {
        let value = core::str::from_utf8(value).ok()?;
        parse_extensions(value, &mut elements).ok()?;
    }
    Some(elements)
}

/// Server side: each factory in turn, in configuration order, gets the client's offers of its name in the
/// client's order; the first to accept one wins. Offers no factory knows are declined silently.
pub(crate) fn accept(
    factories: &[Arc<dyn ExtensionFactory>],
    offers: &[ExtensionElement],
) -> Result<Option<Accepted>, ServerError> {
    for factory in factories {
        let name = factory.name();
        let mine: Vec<ExtensionElement> = offers
            .iter()
            .filter(|offer| offer.name.eq_ignore_ascii_case(name))
            .cloned()
            .collect();
        if mine.is_empty() {
            continue;
        }
        match factory.accept(&mine) {
            Ok(Some((element, _))) if !is_valid_element(&element) => {
                return Err(ServerError::InvalidExtensionResponse)
            }
            Ok(Some(accepted)) => return Ok(Some(accepted)),
            Ok(None) => {}
            Err(err) => return Err(ServerError::ExtensionNegotiation(err)),
        }
    }
    Ok(None)
}

/// Client side: the server's response may name one of the offered extensions, once; its factory confirms it.
pub(crate) fn confirm(
    offered: &[Arc<dyn ExtensionFactory>],
    headers: &Headers,
) -> Result<Option<Box<dyn Extension>>, ClientError> {
    let elements = parse_all(headers).ok_or(ClientError::InvalidExtensionHeader)?;
    let mut confirmed = None;
    for element in &elements {
        let factory = offered
            .iter()
            .find(|factory| factory.name().eq_ignore_ascii_case(&element.name))
            .filter(|_| confirmed.is_none())
            .ok_or_else(|| ClientError::UnexpectedExtension(element.name.clone()))?;
        let extension = factory
            .confirm(element)
            .map_err(ClientError::ExtensionNegotiation)?;
        confirmed = Some(extension);
    }
    Ok(confirmed)
}
