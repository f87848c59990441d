//! The memory of one connection on this target, for docs/embedded.md: each static below is as long as
//! the type it names, so `nm -S --size-sort` on the built binary reads the sizes off.
//!
//!     cargo build --release --bin sizes && nm -S -C target/thumbv7em-none-eabihf/release/sizes | grep SIZE_OF
#![no_std]
#![no_main]

use core::mem::size_of;

use embassy_net::tcp::TcpSocket;
use embassy_stm32 as _;
use panic_halt as _;
use wslane::mask_keys::ChaChaKeys;
use wslane::unbuffered::connection::{Connection, NoMask};
use wslane_embedded::{EmbassyClock, WebSocket};

/// The heap-free connection's state, client (with its ChaCha20 key stream) and server.
#[used]
static SIZE_OF_CLIENT_CONNECTION: [u8; size_of::<Connection<'static, ChaChaKeys>>()] =
    [1; size_of::<Connection<'static, ChaChaKeys>>()];
#[used]
static SIZE_OF_SERVER_CONNECTION: [u8; size_of::<Connection<'static, NoMask>>()] =
    [1; size_of::<Connection<'static, NoMask>>()];
/// The adapter's WebSocket over an embassy-net TCP socket (the connection, the socket handle, the clock).
#[used]
static SIZE_OF_CLIENT_WEBSOCKET: [u8; size_of::<
    WebSocket<'static, &'static mut TcpSocket<'static>, EmbassyClock, ChaChaKeys>,
>()] =
    [1; size_of::<WebSocket<'static, &'static mut TcpSocket<'static>, EmbassyClock, ChaChaKeys>>()];

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        cortex_m::asm::wfi();
    }
}
