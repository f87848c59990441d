//! In-memory echo servers: wslane and its peers, each driven the way its documentation recommends for
//! throughput, over the same transports.
//!
//! Every harness receives a batch of pre-built client frames (masked, as a client sends them) and echoes
//! each data message. Two transports, so that like is compared with like:
//!
//! - **Synchronous, in memory** ([`wslane_core`], [`tungstenite`]): the batch is read from memory in reads
//!   of at most [`READ_CHUNK`] bytes, as from a socket (copied so that no library's buffer position makes
//!   them slower: [`crate::copies`]), and the output goes to a sink that counts it.
//! - **Async, over `tokio::io::duplex`** ([`wslane_tokio`], [`fastwebsockets`], [`tokio_websockets`]): a
//!   current-thread tokio runtime runs the library's server on one end of a duplex pipe of
//!   [`DUPLEX_BUFFER`] bytes; the client ([`DuplexClient`]) writes the batch into the other end and reads
//!   the echoes back until all of them arrived.
//!
//! The output of one batch can be captured and compared with the expected server frames
//! ([`Echo::verify`]); the benchmarks do so once before timing, and the tests for every case.

pub mod fastwebsockets;
pub mod tokio_websockets;
pub mod tungstenite;
pub mod wslane_core;
pub mod wslane_tokio;

use std::future::Future;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};
use tokio::runtime::Runtime;

use crate::frames::{self, Kind, SIZES};

/// The most bytes one read of the synchronous in-memory transport returns.
pub const READ_CHUNK: usize = 64 << 10;

/// The buffer size of the `tokio::io::duplex` pipe under every async harness (each direction).
pub const DUPLEX_BUFFER: usize = 64 << 10;

/// One echo workload: `batch` messages of `size` bytes of one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Binary or text.
    pub kind: Kind,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages per batch (one benchmark iteration).
    pub batch: usize,
}

impl Case {
    /// A case with the standard batch for its size.
    #[must_use]
    pub fn new(kind: Kind, size: usize) -> Case {
        Case {
            kind,
            size,
            batch: Case::batch_for(size),
        }
    }

    /// Messages per batch: 64 up to 16 KiB, 4 for larger messages.
    #[must_use]
    pub const fn batch_for(size: usize) -> usize {
        if size <= 16 << 10 {
            64
        } else {
            4
        }
    }

    /// Every case the benchmarks run: each size of [`SIZES`], binary then text.
    #[must_use]
    pub fn all() -> Vec<Case> {
        SIZES
            .iter()
            .flat_map(|&size| Kind::ALL.map(|kind| Case::new(kind, size)))
            .collect()
    }

    /// The benchmark group name: `echo_<kind>_<size>`, e.g. `echo_text_16KiB`.
    #[must_use]
    pub fn group_name(&self) -> String {
        format!(
            "echo_{}_{}",
            self.kind.name(),
            frames::size_label(self.size)
        )
    }

    /// The payload of every message.
    #[must_use]
    pub fn payload(&self) -> Vec<u8> {
        frames::payload(self.kind, self.size)
    }

    /// The batch as a client sends it.
    #[must_use]
    pub fn input(&self) -> Vec<u8> {
        frames::client_batch(self.kind, &self.payload(), self.batch)
    }

    /// What the server must send back for one batch.
    #[must_use]
    pub fn expected_output(&self) -> Vec<u8> {
        frames::server_batch(self.kind, &self.payload(), self.batch)
    }
}

/// An echo server under test, set up for one [`Case`].
pub trait Echo: Sized {
    /// The implementation's name in benchmark ids and reports.
    const NAME: &'static str;

    /// Sets up the server (and, for the async harnesses, its runtime and client).
    fn new(case: &Case) -> Self;

    /// Echoes one batch, discarding the output; returns how many bytes the server sent.
    fn round(&mut self) -> usize;

    /// Echoes one batch and returns the server's output.
    fn round_captured(&mut self) -> Vec<u8>;

    /// Runs two batches, capturing the output, and panics unless each equals the expected server frames
    /// (the second checks that the connection is reusable after a batch).
    fn verify(&mut self, case: &Case) {
        let expected = case.expected_output();
        for round in 0..2 {
            let output = self.round_captured();
            check_output(Self::NAME, case, round, &output, &expected);
        }
        assert_eq!(
            self.round(),
            expected.len(),
            "{}: byte count for {}",
            Self::NAME,
            case.group_name()
        );
    }
}

/// Panics with a short description of the first difference between `output` and `expected`.
fn check_output(name: &str, case: &Case, round: usize, output: &[u8], expected: &[u8]) {
    if output == expected {
        return;
    }
    let first = output
        .iter()
        .zip(expected)
        .position(|(a, b)| a != b)
        .unwrap_or(output.len().min(expected.len()));
    panic!(
        "{name}: wrong echo for {} in round {round}: {} bytes instead of {}, first difference at byte {first}",
        case.group_name(),
        output.len(),
        expected.len(),
    );
}

/// A current-thread tokio runtime, as every async harness uses.
///
/// # Panics
///
/// If the runtime cannot be built.
#[must_use]
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime")
}

/// The client side of the async harnesses: it owns the runtime, whose spawned task is the server, and one
/// end of the duplex pipe.
#[derive(Debug)]
pub struct DuplexClient {
    runtime: Runtime,
    reader: ReadHalf<DuplexStream>,
    writer: WriteHalf<DuplexStream>,
    input: Vec<u8>,
    expected_len: usize,
    buf: Vec<u8>,
}

impl DuplexClient {
    /// Creates the runtime and the pipe, and spawns `serve` on the server end.
    pub fn start<F, Fut>(case: &Case, serve: F) -> DuplexClient
    where
        F: FnOnce(DuplexStream) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let runtime = runtime();
        let (client, server) = tokio::io::duplex(DUPLEX_BUFFER);
        runtime.spawn(serve(server));
        let (reader, writer) = tokio::io::split(client);
        DuplexClient {
            runtime,
            reader,
            writer,
            input: case.input(),
            expected_len: case.expected_output().len(),
            buf: vec![0; DUPLEX_BUFFER],
        }
    }

    /// Writes the batch and reads until every echo arrived (by byte count), appending the echoes to
    /// `capture` when given. Returns the bytes read.
    ///
    /// # Panics
    ///
    /// If the server closes its end before all echoes arrived, or the pipe fails.
    pub fn round(&mut self, mut capture: Option<&mut Vec<u8>>) -> usize {
        let DuplexClient {
            runtime,
            reader,
            writer,
            input,
            expected_len,
            buf,
        } = self;
        let expected = *expected_len;
        runtime.block_on(async {
            let write = async {
                writer.write_all(input).await.expect("writing the batch");
                writer.flush().await.expect("flushing the batch");
            };
            let read = async {
                let mut received = 0;
                while received < expected {
                    let n = reader.read(buf).await.expect("reading the echoes");
                    assert!(
                        n > 0,
                        "the server ended after {received} of {expected} bytes"
                    );
                    if let Some(capture) = capture.as_deref_mut() {
                        capture.extend_from_slice(&buf[..n]);
                    }
                    received += n;
                }
                received
            };
            let ((), received) = tokio::join!(write, read);
            received
        })
    }

    /// [`round`](Self::round), returning the echoes.
    pub fn round_captured(&mut self) -> Vec<u8> {
        let mut output = Vec::with_capacity(self.expected_len);
        self.round(Some(&mut output));
        output
    }
}
