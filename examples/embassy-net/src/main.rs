//! A WebSocket client on embassy-net, for a Nucleo-F767ZI (STM32F767, Cortex-M7) over its Ethernet port.
//!
//! It takes an address by DHCP, connects to `ws://SERVER/` over TCP, says hello, and echoes every
//! message the server sends until the server closes; then it connects again. The connection lives in
//! two 1 KiB buffers: a message larger than that arrives in pieces and is echoed piece by piece.
//! Pings are answered and keepalive pings sent by the adapter. docs/embedded.md walks through it.
//!
//! Build (no probe needed): `cargo build --release` in this directory (the target is set in
//! `.cargo/config.toml`). Flash with `probe-rs run --chip STM32F767ZITx` and point `SERVER` at a machine
//! running, say, `python -m websockets`'s echo server, or the workspace's `embedded_echo_server` example.
#![no_std]
#![no_main]

use embassy_executor::Spawner;
use embassy_net::tcp::TcpSocket;
use embassy_net::{Ipv4Address, Runner, Stack, StackResources};
use embassy_stm32::eth::generic_smi::GenericSMI;
use embassy_stm32::eth::{Ethernet, PacketQueue};
use embassy_stm32::peripherals::{ETH, RNG};
use embassy_stm32::rng::Rng;
use embassy_stm32::{bind_interrupts, eth, peripherals, rng};
use embassy_time::{Duration, Timer};
use panic_halt as _;
use rand_core::RngCore;
use static_cell::StaticCell;
#[cfg(not(feature = "baseline"))]
use wslane::mask_keys::ChaChaKeys;
#[cfg(not(feature = "baseline"))]
use wslane::unbuffered::handshake::ClientRequest;
#[cfg(not(feature = "baseline"))]
use wslane::{CloseCode, DataKind};
use wslane_embedded::Error;
#[cfg(not(feature = "baseline"))]
use wslane_embedded::{connect, EmbassyClock, Event, Options};

/// The server: its address and port, and the `Host` field and path of the request.
const SERVER: (Ipv4Address, u16) = (Ipv4Address::new(192, 168, 1, 10), 8080);
#[cfg(not(feature = "baseline"))]
const HOST: &str = "192.168.1.10:8080";
#[cfg(not(feature = "baseline"))]
const PATH: &str = "/";

/// The size of each WebSocket buffer (receive, transmit) and of each TCP socket buffer.
const BUFFER: usize = 1024;

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    RNG => rng::InterruptHandler<peripherals::RNG>;
});

type Device = Ethernet<'static, ETH, GenericSMI>;

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Device>) -> ! {
    runner.run().await
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_stm32::init(embassy_stm32::Config::default());
    let mut rng = Rng::new(p.RNG, Irqs);

    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let mac_addr = [0x02, 0x00, 0x00, 0x57, 0x4c, 0x01];
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::new()),
        p.ETH,
        Irqs,
        p.PA1,
        p.PA2,
        p.PC1,
        p.PA7,
        p.PC4,
        p.PC5,
        p.PG13,
        p.PB13,
        p.PG11,
        GenericSMI::new(0),
        mac_addr,
    );

    static RESOURCES: StaticCell<StackResources<2>> = StaticCell::new();
    let config = embassy_net::Config::dhcpv4(Default::default());
    let (stack, runner) = embassy_net::new(
        device,
        config,
        RESOURCES.init(StackResources::new()),
        rng.next_u64(),
    );
    if spawner.spawn(net_task(runner)).is_err() {
        return;
    }
    stack.wait_config_up().await;

    loop {
        // Whatever ended the session (the server's close, a failure), start over after a pause.
        let _ = session(stack, &mut rng).await;
        Timer::after(Duration::from_secs(5)).await;
    }
}

/// One connection: connect, greet, echo until the server closes.
#[cfg(not(feature = "baseline"))]
async fn session(
    stack: Stack<'static>,
    rng: &mut Rng<'static, RNG>,
) -> Result<(), Error<embassy_net::tcp::Error>> {
    let (mut socket_rx, mut socket_tx) = ([0; BUFFER], [0; BUFFER]);
    let mut socket = TcpSocket::new(stack, &mut socket_rx, &mut socket_tx);
    if socket.connect(SERVER).await.is_err() {
        return Err(Error::TransportClosed);
    }

    // The client's randomness: the handshake nonce and the seed of its masking keys.
    let mut nonce = [0; 16];
    rng.fill_bytes(&mut nonce);
    let mut seed = [0; 32];
    rng.fill_bytes(&mut seed);

    let request = ClientRequest::new(HOST, PATH).map_err(Error::Build)?;
    let (mut rx, mut tx) = ([0; BUFFER], [0; BUFFER]);
    let (mut ws, _protocol) = connect(
        &mut socket,
        EmbassyClock,
        &request,
        nonce,
        ChaChaKeys::from_seed(seed),
        Options::default(),
        &mut rx,
        &mut tx,
    )
    .await?;

    ws.send_text("hello from embassy-net").await?;
    // An event borrows the receive buffer: its payload is copied here before the echo is sent.
    let mut scratch = [0; BUFFER];
    loop {
        let (kind, len, whole, fin) = match ws.next().await {
            Ok(Event::Text(text)) => (
                DataKind::Text,
                copy(&mut scratch, text.as_bytes()),
                true,
                true,
            ),
            Ok(Event::Binary(data)) => (DataKind::Binary, copy(&mut scratch, data), true, true),
            Ok(Event::Fragment(piece)) => {
                let whole = piece.first && piece.fin;
                (piece.kind, copy(&mut scratch, piece.data), whole, piece.fin)
            }
            // The server's close: the reply is on its way; the next call ends the session.
            Ok(Event::Close { .. }) => continue,
            Ok(_) => continue,
            Err(Error::Closed) => return Ok(()),
            Err(err) => return Err(err),
        };
        let data = &scratch[..len];
        match (whole, kind) {
            (true, DataKind::Text) => {
                let text = core::str::from_utf8(data).unwrap_or_default();
                ws.send_text(text).await?;
            }
            (true, DataKind::Binary) => ws.send_binary(data).await?,
            (false, kind) => ws.send_fragment(kind, data, fin).await?,
        }
        if data == b"bye" {
            return ws.close(CloseCode::NORMAL, "bye").await;
        }
    }
}

/// The same session over plain TCP, without WebSocket: built with `--features baseline` only to
/// measure what the WebSocket code adds to the binary (docs/embedded.md).
#[cfg(feature = "baseline")]
async fn session(
    stack: Stack<'static>,
    rng: &mut Rng<'static, RNG>,
) -> Result<(), Error<embassy_net::tcp::Error>> {
    use embedded_io_async::Write;

    let (mut socket_rx, mut socket_tx) = ([0; BUFFER], [0; BUFFER]);
    let mut socket = TcpSocket::new(stack, &mut socket_rx, &mut socket_tx);
    if socket.connect(SERVER).await.is_err() {
        return Err(Error::TransportClosed);
    }
    let mut nonce = [0; 16];
    rng.fill_bytes(&mut nonce);
    socket
        .write_all(b"hello from embassy-net")
        .await
        .map_err(Error::Io)?;
    let mut scratch = [0; BUFFER];
    loop {
        let n = socket.read(&mut scratch).await.map_err(Error::Io)?;
        if n == 0 {
            return Ok(());
        }
        socket.write_all(&scratch[..n]).await.map_err(Error::Io)?;
    }
}

/// Copies `data` (at most a buffer's worth: it came out of one) into `scratch`.
#[cfg(not(feature = "baseline"))]
fn copy(scratch: &mut [u8], data: &[u8]) -> usize {
    let len = data.len().min(scratch.len());
    scratch[..len].copy_from_slice(&data[..len]);
    len
}
