//! The heap a connection holds, watched by a counting allocator: after large traffic followed by a few
//! small messages, a connection returns to its idle figure (every buffer grown for the large traffic is
//! released), in both roles, with and without permessage-deflate; and hostile input within the limits never
//! makes a connection hold more than [`wslane::memory::worst_case`] computes.
//!
//! A global allocator is per test binary, hence this file of its own (the allocator is `support/heap.rs`).

#[path = "support/heap.rs"]
mod heap;
mod support;

use heap::{live, HeapWatch};

use proptest::prelude::*;
use support::*;
use wslane::memory::worst_case;
use wslane::{Config, Connection, DataKind, Event, Instant, ReceiveMode, Role};

// ---------------------------------------------------------------------------------------------------------
// Driving a pair the way a driver does: transmit in pieces, read into the connection's own buffer, poll
// every event after each read.

/// The most a connection may hold above its idle figure after the small messages. What varies by a few
/// hundred bytes is which small allocation a released buffer comes back as: the receive buffer's first
/// read room (1 KiB, or nothing between a release and the next read), the transmit buffer sized for the
/// last small burst, and with deflate the reassembly and encode buffers sized for the last small message.
const SLACK: isize = 4 << 10;

/// Moves everything `from` has queued to `to`, `piece` bytes per read at most, polling `to`'s events after
/// every read. Allocates nothing itself.
fn transfer(from: &mut Connection, to: &mut Connection, piece: usize) {
    loop {
        let out = from.poll_transmit();
        if out.is_empty() {
            return;
        }
        let n = out.len().min(piece);
        let mut done = 0;
        while done < n {
            let room = to.read_buffer(1);
            let k = room.len().min(n - done);
            room[..k].copy_from_slice(&out[done..done + k]);
            done += k;
            to.handle_read(Instant::ZERO, k);
            drain(to);
        }
        from.advance_transmit(Instant::ZERO, n);
    }
}

/// Polls every event, checking none is an error.
fn drain(conn: &mut Connection) {
    while let Some(_event) = conn.poll_event().expect("no failure") {}
}

/// Bytes that do not compress, so deflate cannot make a large message small.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One small message each way (compressed too with deflate: above its threshold).
fn small_each_way(pair: &mut Pair, count: usize) {
    let text = "a small message, long enough to be compressed by permessage-deflate; ".repeat(2);
    for _ in 0..count {
        pair.client.sender().send_text(&text).unwrap();
        transfer(&mut pair.client, &mut pair.server, usize::MAX);
        pair.server.sender().send_text(&text).unwrap();
        transfer(&mut pair.server, &mut pair.client, usize::MAX);
    }
}

#[derive(Clone, Copy, Debug)]
enum Scenario {
    /// One 8 MiB message in 1 MiB fragments, read in 1 MiB pieces.
    Fragmented,
    /// One 1 MiB frame read in 16 KiB pieces.
    LargeFrame,
    /// One 4 MiB message sent and transmitted in 64 KiB writes, the peer not reading it.
    SendOnly,
}

fn pair_for(scenario: Scenario, deflate: bool, sender: Role) -> Pair {
    let mut config = Config::default();
    if let Scenario::Fragmented = scenario {
        config.fragment_size = Some(1 << 20);
    }
    let _ = sender;
    if deflate {
        #[cfg(feature = "deflate")]
        return deflate::pair(config, config);
    }
    Pair::new(config)
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use wslane::deflate::{DeflateConfig, PerMessageDeflate};
    use wslane::extension::ExtensionFactory;
    use wslane::memory::worst_case_with_deflate;

    /// The bound for a connection of [`pair`].
    pub(super) fn bound(config: &Config) -> usize {
        worst_case_with_deflate(config, &DeflateConfig::fastest()).total()
    }

    /// A pair with permessage-deflate at level 1 (the defaults otherwise), so debug builds compress the
    /// large messages quickly.
    pub(super) fn pair(client: Config, server: Config) -> Pair {
        let factory = PerMessageDeflate::new(DeflateConfig::fastest());
        let (element, server_codec) = factory
            .accept(&factory.offers())
            .unwrap()
            .expect("accepted");
        let client_codec = factory.confirm(&element).unwrap();
        Pair {
            client: Connection::client(Instant::ZERO, client, counting_keys(0x40))
                .with_extension(client_codec),
            server: Connection::server(Instant::ZERO, server).with_extension(server_codec),
        }
    }
}

/// Runs `scenario` from `sender` and returns (idle figure, figure after the small messages) of the pair.
fn measure(scenario: Scenario, deflate: bool, sender: Role) -> (isize, isize) {
    let base = live();
    let mut pair = pair_for(scenario, deflate, sender);
    // Warm up: every lazily allocated part (the compressor and decompressor of both ends) exists.
    small_each_way(&mut pair, 3);
    let idle = live() - base;
    {
        let (size, seed) = match scenario {
            Scenario::Fragmented => (8 << 20, 1),
            Scenario::LargeFrame => (1 << 20, 2),
            Scenario::SendOnly => (4 << 20, 3),
        };
        let payload = noise(size, seed);
        let Pair { client, server } = &mut pair;
        let (from, to) = match sender {
            Role::Client => (client, server),
            Role::Server => (server, client),
        };
        from.sender().send_binary(&payload).unwrap();
        match scenario {
            Scenario::Fragmented => transfer(from, to, 1 << 20),
            Scenario::LargeFrame => transfer(from, to, 16 << 10),
            Scenario::SendOnly => {
                while !from.poll_transmit().is_empty() {
                    let n = from.poll_transmit().len().min(64 << 10);
                    from.advance_transmit(Instant::ZERO, n);
                }
                let text = "a small message, long enough to be compressed by permessage-deflate; ";
                for _ in 0..100 {
                    from.sender().send_text(text).unwrap();
                    let n = from.poll_transmit().len();
                    from.advance_transmit(Instant::ZERO, n);
                }
            }
        }
    }
    if !matches!(scenario, Scenario::SendOnly) {
        small_each_way(&mut pair, 50);
    }
    let after = live() - base;
    (idle, after)
}

fn check(scenario: Scenario, deflate: bool) {
    let figures =
        [Role::Client, Role::Server].map(|sender| (sender, measure(scenario, deflate, sender)));
    for (sender, (idle, after)) in figures {
        eprintln!(
            "{scenario:?}, deflate {deflate}, sent by the {sender:?}: idle {idle} B, after {after} B"
        );
    }
    for (sender, (idle, after)) in figures {
        assert!(
            after <= idle + SLACK,
            "{scenario:?} (deflate {deflate}, sent by the {sender:?}): the pair holds {after} B after the \
             small messages, against {idle} B idle"
        );
    }
}

#[test]
fn buffers_are_released_after_a_fragmented_large_message_and_small_ones() {
    check(Scenario::Fragmented, false);
}

#[test]
fn buffers_are_released_after_a_large_frame_read_in_pieces_and_small_whole_frames() {
    check(Scenario::LargeFrame, false);
}

#[test]
fn send_buffers_are_released_after_a_large_message_and_small_ones() {
    check(Scenario::SendOnly, false);
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_buffers_are_released_after_a_fragmented_large_message_and_small_ones() {
    check(Scenario::Fragmented, true);
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_buffers_are_released_after_a_large_frame_read_in_pieces_and_small_whole_frames() {
    check(Scenario::LargeFrame, true);
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_send_buffers_are_released_after_a_large_message_and_small_ones() {
    check(Scenario::SendOnly, true);
}

// ---------------------------------------------------------------------------------------------------------
// The computed worst case holds under hostile input within the limits.

/// What the peer sends the connection under test.
#[derive(Clone, Debug)]
enum Op {
    /// A message of `len` bytes: through the extension (compressed, split by the peer's fragment size)
    /// or in pieces of `piece` bytes; some are over the message limit.
    Message {
        text: bool,
        len: usize,
        piece: usize,
        encoded: bool,
    },
    Ping(usize),
    Pong(usize),
    /// A frame with any first byte (any opcode, RSV bits, FIN): often a violation that fails the
    /// connection.
    Raw(u8, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), 0..300_000usize, 1..70_000usize, any::<bool>())
            .prop_map(|(text, len, piece, encoded)| Op::Message { text, len, piece, encoded }),
        2 => (0..=125usize).prop_map(Op::Ping),
        1 => (0..=125usize).prop_map(Op::Pong),
        1 => (any::<u8>(), 0..70_000usize).prop_map(|(b0, len)| Op::Raw(b0, len)),
    ]
}

/// The limits of the connection under test: small, so the cases are quick.
fn limited(receive_mode: ReceiveMode) -> Config {
    let mut config = Config::default();
    config.max_frame_size = 64 << 10;
    config.max_message_size = 256 << 10;
    config.max_output_buffer = 256 << 10;
    config.receive_mode = receive_mode;
    config
}

/// The wire bytes the peer's `ops` make, for a connection in `role`.
fn wire(peer: &mut Connection, role: Role, ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::new();
    let take = |peer: &mut Connection, out: &mut Vec<u8>| {
        let bytes = peer.poll_transmit();
        out.extend_from_slice(bytes);
        let n = bytes.len();
        peer.advance_transmit(Instant::ZERO, n);
    };
    for op in ops {
        match *op {
            Op::Message {
                text,
                len,
                piece,
                encoded,
            } => {
                let data = vec![b'w'; len];
                let kind = if text {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                let mut sender = peer.sender();
                if encoded {
                    if text {
                        sender
                            .send_text(std::str::from_utf8(&data).unwrap())
                            .unwrap();
                    } else {
                        sender.send_binary(&data).unwrap();
                    }
                } else {
                    let mut chunks = data.chunks(piece).peekable();
                    if chunks.peek().is_none() {
                        sender.send_fragment(kind, &[], true).unwrap();
                    }
                    while let Some(chunk) = chunks.next() {
                        sender
                            .send_fragment(kind, chunk, chunks.peek().is_none())
                            .unwrap();
                    }
                }
            }
            Op::Ping(len) => peer.sender().ping(&vec![7; len]).unwrap(),
            Op::Pong(len) => peer.sender().pong(&vec![7; len]).unwrap(),
            Op::Raw(b0, len) => {
                take(peer, &mut out);
                out.extend_from_slice(&frame_to(role, b0, &vec![b'r'; len]));
            }
        }
        take(peer, &mut out);
    }
    out
}

/// Drives `conn` as an echo server would over `input`, read in pieces of the sizes `pieces` cycles
/// through, transmitting everything after each read.
fn drive(conn: &mut Connection, input: &[u8], pieces: &[usize]) {
    let mut at = 0;
    let mut i = 0;
    while at < input.len() {
        let piece = pieces[i % pieces.len()];
        i += 1;
        let room = conn.read_buffer(1);
        let n = room.len().min(piece).min(input.len() - at);
        room[..n].copy_from_slice(&input[at..at + n]);
        at += n;
        conn.handle_read(Instant::ZERO, n);
        loop {
            let echoed = conn.poll_event_with(|event, sender| match event {
                Event::Text(text) => {
                    let _ = sender.send_text(text);
                }
                Event::Binary(data) => {
                    let _ = sender.send_binary(data);
                }
                Event::Fragment(fragment) => {
                    let _ = sender.send_fragment(fragment.kind, fragment.data, fragment.fin);
                }
                _ => {}
            });
            match echoed {
                Ok(Some(())) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
        let n = conn.poll_transmit().len();
        conn.advance_transmit(Instant::ZERO, n);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn hostile_input_within_the_limits_never_exceeds_the_worst_case(
        ops in proptest::collection::vec(op(), 1..12),
        pieces in proptest::collection::vec(1..70_000usize, 1..8),
        server in any::<bool>(),
        fragments in any::<bool>(),
        deflate in any::<bool>(),
        peer_fragment in 1_000..65_000usize,
    ) {
        let mode = if fragments { ReceiveMode::Fragments } else { ReceiveMode::Messages };
        let config = limited(mode);
        let mut peer_config = Config::default();
        peer_config.fragment_size = Some(peer_fragment);
        let role = if server { Role::Server } else { Role::Client };
        let deflate = deflate && cfg!(feature = "deflate");
        let (client, server_config) = if server { (peer_config, config) } else { (config, peer_config) };
        let pair = if deflate {
            #[cfg(feature = "deflate")]
            { deflate::pair(client, server_config) }
            #[cfg(not(feature = "deflate"))]
            { unreachable!() }
        } else {
            Pair::with_configs(client, server_config)
        };
        let (mut peer, mut conn) = match role {
            Role::Server => (pair.client, pair.server),
            Role::Client => (pair.server, pair.client),
        };
        let input = wire(&mut peer, role, &ops);
        drop(peer);
        let bound = if deflate {
            #[cfg(feature = "deflate")]
            { deflate::bound(&config) }
            #[cfg(not(feature = "deflate"))]
            { unreachable!() }
        } else {
            worst_case(&config).total()
        };
        // Everything the connection allocates from here on (its boxed key source and extension, a few
        // hundred bytes, exist already).
        let watch = HeapWatch::start();
        drive(&mut conn, &input, &pieces);
        let peak = watch.peak();
        prop_assert!(peak <= bound, "peak {peak} B above the start, bound {bound} B");
    }
}
