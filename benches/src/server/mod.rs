//! Server-only echo: each library's server fed pre-built, masked client frames from memory, with no client
//! task in the loop.
//!
//! The async servers ([`wslane_tokio`](crate::echo::wslane_tokio), [`fastwebsockets`](crate::echo::fastwebsockets),
//! [`tokio_websockets`](crate::echo::tokio_websockets), and tokio-tungstenite here) run as a task on a
//! current-thread tokio runtime over a [`Replay`] stream: a round rewinds the batch, wakes the server and
//! waits until the whole echo was written. Writes are copied into a scratch area, as a socket copies them
//! into the kernel, and counted; the output of a round can be captured and checked against the expected
//! frames ([`Echo::verify`]). The core ([`CoreServer`]) runs synchronously, its transmitted bytes copied
//! the same way.
//!
//! Unlike the echo over `tokio::io::duplex` ([`crate::echo`]), nothing here is spent on a client, so the
//! time per message is the server's alone.

mod wire;

use std::future::Future;
use std::marker::PhantomData;

use futures_util::{future, StreamExt, TryStreamExt};
use tokio::runtime::Runtime;
use tokio::task::LocalSet;

pub use self::wire::{replay, Replay, Rounds};
use crate::copies::Scratch;
use crate::echo::wslane_core::WslaneCore;
use crate::echo::{self, Case, Echo};

/// A library's echo server, as a task over a [`Replay`] stream.
pub trait Server {
    /// The name in benchmark ids and reports.
    const NAME: &'static str;

    /// Serves the stream until it ends (it never does here: the task is dropped with the runtime).
    fn serve(stream: Replay) -> impl Future<Output = ()> + 'static;
}

/// One async library's server and the rounds that drive it.
#[derive(Debug)]
pub struct ServerOnly<L> {
    runtime: Runtime,
    local: LocalSet,
    rounds: Rounds,
    library: PhantomData<L>,
}

impl<L: Server> ServerOnly<L> {
    fn run(&mut self, capture: bool) -> (usize, Option<Vec<u8>>) {
        let ServerOnly {
            runtime,
            local,
            rounds,
            ..
        } = self;
        local.block_on(runtime, rounds.run(capture))
    }
}

impl<L: Server> Echo for ServerOnly<L> {
    const NAME: &'static str = L::NAME;

    fn new(case: &Case) -> ServerOnly<L> {
        let (stream, rounds) = replay(case.input(), case.expected_output().len());
        let local = LocalSet::new();
        local.spawn_local(L::serve(stream));
        ServerOnly {
            runtime: echo::runtime(),
            local,
            rounds,
            library: PhantomData,
        }
    }

    fn round(&mut self) -> usize {
        self.run(false).0
    }

    fn round_captured(&mut self) -> Vec<u8> {
        self.run(true).1.unwrap_or_default()
    }
}

/// wslane-tokio: `recv_with_reply`, as in [`crate::echo::wslane_tokio`].
#[derive(Debug)]
pub struct WslaneTokio;

impl Server for WslaneTokio {
    const NAME: &'static str = "wslane_tokio";

    async fn serve(stream: Replay) {
        if let Err(err) = echo::wslane_tokio::serve(stream).await {
            eprintln!("{}: {err}", Self::NAME);
        }
    }
}

/// wslane-tokio with owned messages: `recv` then `feed`, as in [`crate::echo::wslane_tokio::serve_owned`]
/// (the way tokio-websockets' and tokio-tungstenite's servers echo).
#[derive(Debug)]
pub struct WslaneTokioOwned;

impl Server for WslaneTokioOwned {
    const NAME: &'static str = "wslane_tokio_owned";

    async fn serve(stream: Replay) {
        if let Err(err) = echo::wslane_tokio::serve_owned(stream).await {
            eprintln!("{}: {err}", Self::NAME);
        }
    }
}

/// fastwebsockets: `read_frame` then `write_frame`, as in [`crate::echo::fastwebsockets`].
#[derive(Debug)]
pub struct Fastwebsockets;

impl Server for Fastwebsockets {
    const NAME: &'static str = "fastwebsockets";

    async fn serve(stream: Replay) {
        if let Err(err) = echo::fastwebsockets::serve(stream).await {
            eprintln!("{}: {err}", Self::NAME);
        }
    }
}

/// tokio-websockets: `next`, `feed`, and `flush` when the input runs dry, as in
/// [`crate::echo::tokio_websockets`].
#[derive(Debug)]
pub struct TokioWebsockets;

impl Server for TokioWebsockets {
    const NAME: &'static str = "tokio_websockets";

    async fn serve(stream: Replay) {
        if let Err(err) = echo::tokio_websockets::serve(stream).await {
            eprintln!("{}: {err}", Self::NAME);
        }
    }
}

/// tokio-tungstenite, as its own echo-server example (and the loopback peer) writes it: the read half
/// forwarded into the write half, which flushes when the input runs dry.
#[derive(Debug)]
pub struct TokioTungstenite;

impl Server for TokioTungstenite {
    const NAME: &'static str = "tokio_tungstenite";

    async fn serve(stream: Replay) {
        use tokio_tungstenite::tungstenite::protocol::Role;
        let ws =
            tokio_tungstenite::WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
        let (write, read) = ws.split();
        let echoed = read
            .try_filter(|message| future::ready(message.is_text() || message.is_binary()))
            .forward(write)
            .await;
        if let Err(err) = echoed {
            eprintln!("{}: {err}", Self::NAME);
        }
    }
}

/// No WebSocket at all: the input written back as it was read, 16 KiB at a time. What any server spends
/// on the harness (the copy of every read and write, the runtime, the task), a floor under every library;
/// not an echo (the frames go back masked), so it has no `Echo::verify` and only
/// `server_rounds` runs it.
#[derive(Debug)]
pub struct Floor;

/// The buffer [`Floor`] reads into: a 16 KiB frame's worth, so that it stays in the first-level cache.
const FLOOR_BUFFER: usize = 16 << 10;

impl Server for Floor {
    const NAME: &'static str = "floor";

    async fn serve(stream: Replay) {
        write_back(stream, Self::NAME, |_| {}).await;
    }
}

/// The key the floors unmask with: the cost is that of any key (the output is checked against it).
pub const FLOOR_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// [`Floor`] with the one pass over the payload the RFC asks of every server: each read is unmasked in
/// place (with the core's [`apply_mask`](wslane::frame::apply_mask)) before it is written back. The work
/// any server that hands out what it received must do, in 16 KiB pieces and nothing more; like
/// [`Floor`], not an echo, so only `server_rounds` runs it.
#[derive(Debug)]
pub struct FloorUnmask;

impl Server for FloorUnmask {
    const NAME: &'static str = "floor_unmask";

    async fn serve(stream: Replay) {
        let mut offset = 0;
        write_back(stream, Self::NAME, |bytes| {
            wslane::frame::apply_mask(bytes, FLOOR_KEY, offset);
            offset = offset.wrapping_add(bytes.len());
        })
        .await;
    }
}

/// [`FloorUnmask`] holding a whole frame before writing it back, as a server that hands out whole
/// messages must: reads of at most 64 KiB fill a buffer the size of the batch's frames (their size taken
/// from the first header), each read unmasked in place as it arrives, and the buffer is written back once
/// full. The work any whole-message server does at the least, written plainly (a library may still lay
/// out its buffers more kindly to the cache); like [`Floor`], not an echo, so only `server_rounds` runs it.
#[derive(Debug)]
pub struct FloorMessage;

/// The most [`FloorMessage`] reads at a time (as the core reads inside a large frame).
const FRAME_READ: usize = 64 << 10;

impl Server for FloorMessage {
    const NAME: &'static str = "floor_message";

    async fn serve(mut stream: Replay) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0; FLOOR_BUFFER];
        let mut filled = 0;
        loop {
            let asked = (buf.len() - filled).min(FRAME_READ);
            let n = match stream.read(&mut buf[filled..filled + asked]).await {
                Ok(0) => return,
                Ok(n) => n,
                Err(err) => {
                    eprintln!("{}: {err}", Self::NAME);
                    return;
                }
            };
            if filled == 0 {
                // Every frame of a batch has the same size: size the buffer to one.
                if let Ok(wslane::frame::Parsed::Complete { header, len }) =
                    wslane::FrameHeader::parse(&buf[..n])
                {
                    let frame = len + usize::try_from(header.payload_len).unwrap_or(0);
                    buf.resize(frame.max(FLOOR_BUFFER), 0);
                }
            }
            wslane::frame::apply_mask(&mut buf[filled..filled + n], FLOOR_KEY, filled);
            filled += n;
            if filled == buf.len() || n < asked {
                // A whole frame, or the batch ran dry.
                if let Err(err) = stream.write_all(&buf[..filled]).await {
                    eprintln!("{}: {err}", Self::NAME);
                    return;
                }
                filled = 0;
            }
        }
    }
}

/// Reads `stream` [`FLOOR_BUFFER`] bytes at a time, passes each read to `work`, and writes it back.
async fn write_back(mut stream: Replay, name: &str, mut work: impl FnMut(&mut [u8])) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0; FLOOR_BUFFER];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return,
            Ok(n) => {
                work(&mut buf[..n]);
                if let Err(err) = stream.write_all(&buf[..n]).await {
                    eprintln!("{name}: {err}");
                    return;
                }
            }
            Err(err) => {
                eprintln!("{name}: {err}");
                return;
            }
        }
    }
}

/// The wslane core driven by hand ([`WslaneCore`]), its transmitted bytes copied into a scratch area as
/// [`Replay`] copies writes.
#[derive(Debug)]
pub struct CoreServer {
    core: WslaneCore,
    scratch: Scratch,
}

impl Echo for CoreServer {
    const NAME: &'static str = "wslane_core";

    fn new(case: &Case) -> CoreServer {
        CoreServer {
            core: WslaneCore::new(case),
            scratch: Scratch::new(wire::SCRATCH),
        }
    }

    fn round(&mut self) -> usize {
        let scratch = &mut self.scratch;
        self.core.round_with(|out| scratch.take(out))
    }

    fn round_captured(&mut self) -> Vec<u8> {
        self.core.round_captured()
    }
}
