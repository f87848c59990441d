//! The axum extractor: [`WebSocketUpgrade`] as a handler's argument, and [`Refusal`] as its rejection.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use wslane::handshake::ServerConfig;

use crate::refusal::Refusal;
use crate::upgrade::WebSocketUpgrade;

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Refusal;

    /// Checks the request with the `Arc<ServerConfig>` found in the request's extensions (put there by an
    /// `axum::Extension` layer), or [`default_server_config`](crate::default_server_config).
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Refusal> {
        let server = parts
            .extensions
            .get::<Arc<ServerConfig>>()
            .cloned()
            .unwrap_or_else(crate::default_server_config);
        WebSocketUpgrade::from_parts(parts, server)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        Refusal::into_response(self)
    }
}
