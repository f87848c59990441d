//! The connection an opening handshake ends in: built from the handshake's outcome, with the negotiated
//! extension, and fed the bytes that followed the head. The blocking API and the event loop both open
//! their connections here.

use wslane::handshake::{ClientUpgrade, ServerUpgrade};
use wslane::mask_keys::ChaChaKeys;
use wslane::{Config, Connection};

/// The server's connection for an accepted upgrade, fed the bytes that followed the request head.
pub(crate) fn server_connection(config: Config, upgrade: &mut ServerUpgrade) -> Connection {
    let mut conn = Connection::server(config);
    if let Some(extension) = upgrade.extension.take() {
        conn = conn.with_extension(extension);
    }
    conn.handle_input(&upgrade.trailing);
    conn
}

/// The client's connection for an upgrade the server accepted, masking with `keys`, fed the bytes that
/// followed the response head (taken out of `upgrade`).
pub(crate) fn client_connection(
    config: Config,
    keys: ChaChaKeys,
    upgrade: &mut ClientUpgrade,
) -> Connection {
    let mut conn = Connection::client(config, keys);
    if let Some(extension) = upgrade.extension.take() {
        conn = conn.with_extension(extension);
    }
    conn.handle_input(&std::mem::take(&mut upgrade.trailing));
    conn
}
