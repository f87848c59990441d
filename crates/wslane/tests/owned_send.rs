//! Owned messages sent with `send_owned`: a large payload goes out from its own allocation (masked there by a
//! client), the bytes on the wire are those of the copying `send`, whatever the writes, and the allocation is
//! freed once transmitted.

mod support;

#[path = "support/heap.rs"]
mod heap;

use support::{connection, parse_frames, Sent};
use wslane::{CloseCode, CloseFrame, Config, Connection, Instant, Message, OpCode, Role};

/// Messages of every kind and of sizes on both sides of the 2 KiB threshold.
fn messages() -> Vec<Message> {
    let text = |len: usize| Message::Text("é".repeat(len / 2));
    let binary = |len: usize, seed: u8| {
        Message::Binary(
            (0..len)
                .map(|i| (i as u8).wrapping_mul(31) ^ seed)
                .collect(),
        )
    };
    vec![
        text(100),
        binary(2047, 1),
        binary(2048, 2),
        Message::Ping(b"are you there".to_vec()),
        text(70_000),
        binary(300_000, 3),
        Message::Pong(Vec::new()),
        text(4096),
        Message::Close(Some(CloseFrame {
            code: CloseCode::NORMAL,
            reason: "done".into(),
        })),
    ]
}

/// Transmits everything queued with vectored writes of at most `step` bytes each; returns the bytes.
fn transmit_in_steps(conn: &mut Connection, step: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut slices = [&[][..]; 3];
        let n = conn.poll_transmit_vectored(&mut slices);
        if n == 0 {
            return out;
        }
        let before = out.len();
        for slice in &slices[..n] {
            let room = step - (out.len() - before);
            out.extend_from_slice(&slice[..slice.len().min(room)]);
        }
        let taken = out.len() - before;
        conn.advance_transmit(Instant::ZERO, taken);
    }
}

/// The bytes `role` transmits for `messages`, queued with `send` (copied) or `send_owned`.
fn wire(role: Role, config: Config, owned: bool, step: usize) -> Vec<u8> {
    let mut conn = connection(role, config);
    for message in messages() {
        if owned {
            conn.send_owned(message).unwrap();
        } else {
            conn.send(&message).unwrap();
        }
    }
    transmit_in_steps(&mut conn, step)
}

#[test]
fn owned_sends_put_the_same_bytes_on_the_wire_as_copied_sends_in_either_role() {
    for role in [Role::Server, Role::Client] {
        let copied = wire(role, Config::default(), false, usize::MAX);
        let sent = parse_frames(&copied);
        assert_eq!(sent.len(), messages().len());
        assert!(sent
            .iter()
            .all(|frame| frame.masked == (role == Role::Client)));
        for step in [usize::MAX, 1000, 4093, 65_536] {
            assert_eq!(
                wire(role, Config::default(), true, step),
                copied,
                "{role:?}, writes of at most {step} bytes"
            );
        }
    }
}

#[test]
fn owned_messages_split_by_the_fragment_size_are_copied_as_before() {
    let mut config = Config::default();
    config.fragment_size = Some(10_000);
    for role in [Role::Server, Role::Client] {
        let owned = wire(role, config, true, 7000);
        assert_eq!(owned, wire(role, config, false, usize::MAX));
        let frames = parse_frames(&owned);
        assert!(frames.iter().all(|frame| frame.payload.len() <= 10_000));
        assert!(frames
            .iter()
            .any(|frame| frame.opcode == OpCode::Continuation));
    }
}

#[test]
fn a_large_owned_payload_is_written_from_its_own_allocation_on_a_server() {
    let mut server = connection(Role::Server, Config::default());
    let data = vec![9u8; 50_000];
    let at = data.as_ptr();
    server.send_owned(Message::Binary(data)).unwrap();
    let mut slices = [&[][..]; 4];
    let n = server.poll_transmit_vectored(&mut slices);
    assert_eq!(n, 2, "the header, then the payload");
    assert_eq!(slices[0], [0x82, 0x7e, 0xc3, 0x50]);
    assert_eq!(slices[1].as_ptr(), at, "not copied");
    assert_eq!(slices[1].len(), 50_000);
}

#[test]
fn a_client_masks_an_owned_payload_in_place_and_the_server_reads_it_back() {
    let mut client = connection(Role::Client, Config::default());
    let text = "wslane ".repeat(1000);
    let message = Message::Text(text.clone());
    let Message::Text(ref inner) = message else {
        unreachable!()
    };
    let at = inner.as_ptr();
    client.send_owned(message).unwrap();
    let mut slices = [&[][..]; 4];
    assert_eq!(client.poll_transmit_vectored(&mut slices), 2);
    assert_eq!(slices[1].as_ptr(), at, "masked where it is");
    let bytes = client.poll_transmit().to_vec();
    client.advance_transmit(Instant::ZERO, bytes.len());
    assert_eq!(
        parse_frames(&bytes),
        [Sent {
            fin: true,
            rsv: 0,
            opcode: OpCode::Text,
            masked: true,
            payload: text.clone().into_bytes(),
        }]
    );
    let mut server = connection(Role::Server, Config::default());
    server.handle_input(Instant::ZERO, &bytes);
    assert_eq!(support::events(&mut server), [support::Ev::Text(text)]);
}

#[test]
fn an_owned_payload_is_freed_once_transmitted_and_copying_it_allocates_nothing_as_large() {
    let mut server = connection(Role::Server, Config::default());
    // The connection's own buffers at their working size first.
    server.send_owned(Message::Binary(vec![1; 100])).unwrap();
    transmit_in_steps(&mut server, usize::MAX);

    let data = vec![5u8; 1 << 20];
    let before = heap::live();
    let watch = heap::HeapWatch::start();
    server.send_owned(Message::Binary(data)).unwrap();
    assert_eq!(server.buffered_output(), 10 + (1 << 20));
    // Written out by vectored writes of at most 64 KiB, checked as they go instead of collected.
    let mut written = 0;
    loop {
        let mut slices = [&[][..]; 2];
        let n = server.poll_transmit_vectored(&mut slices);
        if n == 0 {
            break;
        }
        let mut taken = 0;
        for slice in &slices[..n] {
            let part = &slice[..slice.len().min((64 << 10) - taken)];
            let payload_start = 10usize.saturating_sub(written + taken);
            assert!(part[payload_start.min(part.len())..]
                .iter()
                .all(|&b| b == 5));
            taken += part.len();
        }
        written += taken;
        server.advance_transmit(Instant::ZERO, taken);
    }
    assert_eq!(written, 10 + (1 << 20));
    assert!(
        watch.largest() < 64 << 10 && watch.peak() < 64 << 10,
        "no copy of the payload: largest allocation {} B, at most {} B more live",
        watch.largest(),
        watch.peak()
    );
    assert_eq!(server.buffered_output(), 0);
    // (The queue's bookkeeping, a few hundred bytes, may stay.)
    assert!(
        heap::live() < before - (1 << 20) + 1024,
        "the payload's megabyte is freed: {} B live, {} B before",
        heap::live(),
        before
    );
}

#[test]
fn refused_owned_sends_fail_as_copied_sends_do() {
    let mut config = Config::default();
    config.max_output_buffer = 1000;
    let mut server = connection(Role::Server, config);
    server.send_owned(Message::Binary(vec![0; 5000])).unwrap();
    assert_eq!(
        server.send_owned(Message::Binary(vec![0; 5000])),
        Err(wslane::SendError::BufferFull)
    );
    transmit_in_steps(&mut server, usize::MAX);
    server.sender().close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(
        server.send_owned(Message::Text("late".repeat(1000))),
        Err(wslane::SendError::Closed)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    #[test]
    fn any_owned_sends_and_writes_match_copied_sends(
        sizes in proptest::collection::vec((0usize..12_000, proptest::bool::ANY), 1..8),
        client in proptest::bool::ANY,
        fragment_size in proptest::option::of(1000usize..20_000),
        step in 1usize..70_000,
    ) {
        let role = if client { Role::Client } else { Role::Server };
        let mut config = Config::default();
        config.fragment_size = fragment_size;
        let messages: Vec<Message> = sizes
            .iter()
            .enumerate()
            .map(|(i, &(len, text))| {
                if text {
                    Message::Text("ab".repeat(len / 2))
                } else {
                    Message::Binary(vec![i as u8; len])
                }
            })
            .collect();
        let mut copied = connection(role, config);
        let mut owned = connection(role, config);
        for message in messages {
            copied.send(&message).unwrap();
            owned.send_owned(message).unwrap();
        }
        let expected = transmit_in_steps(&mut copied, usize::MAX);
        proptest::prop_assert_eq!(transmit_in_steps(&mut owned, step), expected);
        proptest::prop_assert_eq!(owned.buffered_output(), 0);
    }
}
