//! Connecting a client's transport under the section 4.1 gate.

use std::net::SocketAddr;

use crate::gate::{ConnectGate, GateGuard};

/// Connects to the first of `addrs` that answers, holding the [global gate](ConnectGate::global) for the
/// address being tried (so a timeout inside `connect` bounds the attempt, not the wait for the gate).
/// Returns the transport with the guard: hold it until the opening handshake ends.
pub async fn connect_gated<S, E, F, Fut>(
    addrs: impl IntoIterator<Item = SocketAddr>,
    mut connect: F,
) -> Result<(S, GateGuard<'static>), E>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: core::future::Future<Output = Result<S, E>>,
    E: From<std::io::Error>,
{
    let mut last_error = None;
    for addr in addrs {
        let guard = ConnectGate::global().acquire(addr).await;
        match connect(addr).await {
            Ok(stream) => return Ok((stream, guard)),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the host has no address").into()
    }))
}
