//! Properties checked with proptest: masking, the header codec, message delivery under any fragmentation,
//! interleaving and read boundaries, and the close rules under any following input.

mod support;

use proptest::prelude::*;
use proptest::sample::Index;
use support::*;
use wslane::frame::{apply_mask, apply_mask_reference, EncodeError, Parsed};
use wslane::{
    CloseCode, Config, Connection, FrameHeader, OpCode, ReceiveMode, Role, SendError, State,
};
use wslane::{DataKind, Instant};

// ---------------------------------------------------------------------------------------------------------
// Masking

#[test]
fn apply_mask_equals_the_reference_for_every_short_length_and_offset() {
    let key = [0x01, 0x80, 0x7f, 0xfe];
    for len in 0..=300 {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        for offset in 0..=7 {
            let mut fast = data.clone();
            let mut reference = data.clone();
            apply_mask(&mut fast, key, offset);
            apply_mask_reference(&mut reference, key, offset);
            assert_eq!(fast, reference, "len {len} offset {offset}");
            apply_mask(&mut fast, key, offset);
            assert_eq!(fast, data, "unmasking restores, len {len} offset {offset}");
        }
    }
}

#[test]
fn apply_mask_equals_the_reference_for_large_buffers() {
    for len in [4096, 65_537, (1 << 20) + 3] {
        let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        for offset in 0..=7 {
            let mut fast = data.clone();
            let mut reference = data.clone();
            apply_mask(&mut fast, [9, 8, 7, 6], offset);
            apply_mask_reference(&mut reference, [9, 8, 7, 6], offset);
            assert!(fast == reference, "len {len} offset {offset}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mask_matches_reference_and_is_an_involution(
        data in prop::collection::vec(any::<u8>(), 0..=300),
        key in any::<[u8; 4]>(),
        offset in 0usize..=7,
    ) {
        let mut fast = data.clone();
        let mut reference = data.clone();
        apply_mask(&mut fast, key, offset);
        apply_mask_reference(&mut reference, key, offset);
        prop_assert_eq!(&fast, &reference);
        apply_mask(&mut fast, key, offset);
        prop_assert_eq!(&fast, &data);
    }

    #[test]
    fn masking_in_pieces_equals_masking_whole(
        data in prop::collection::vec(any::<u8>(), 0..=300),
        key in any::<[u8; 4]>(),
        cuts in prop::collection::vec(any::<Index>(), 0..5),
    ) {
        let mut whole = data.clone();
        apply_mask_reference(&mut whole, key, 0);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = data.clone();
        let mut start = 0;
        for end in points.into_iter().chain([data.len()]) {
            apply_mask(&mut pieces[start..end], key, start);
            start = end;
        }
        prop_assert_eq!(pieces, whole);
    }
}

// ---------------------------------------------------------------------------------------------------------
// The header codec

fn opcode() -> impl Strategy<Value = OpCode> {
    prop::sample::select(vec![
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ])
}

fn payload_len() -> impl Strategy<Value = u64> {
    prop_oneof![
        prop::sample::select(vec![
            0,
            1,
            124,
            125,
            126,
            127,
            65_535,
            65_536,
            65_537,
            (1 << 63) - 1
        ]),
        0u64..=300,
        65_000u64..=66_000,
        any::<u64>().prop_map(|n| n >> 1),
    ]
}

fn header() -> impl Strategy<Value = FrameHeader> {
    (
        any::<bool>(),
        0u8..8,
        opcode(),
        any::<Option<[u8; 4]>>(),
        payload_len(),
    )
        .prop_map(|(fin, rsv, opcode, mask, payload_len)| FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn header_encode_then_parse_is_the_identity(header in header(), trailing in prop::collection::vec(any::<u8>(), 0..4)) {
        let bytes = header.to_bytes();
        let len = bytes.len();
        prop_assert_eq!(len, header.encoded_len());
        let mut buf = [0u8; 20];
        prop_assert_eq!(header.encode(&mut buf), Ok(len));
        prop_assert_eq!(&buf[..len], &bytes[..len]);

        // Any bytes after the header do not change it.
        let mut wire = bytes[..len].to_vec();
        wire.extend_from_slice(&trailing);
        prop_assert_eq!(FrameHeader::parse(&wire), Ok(Parsed::Complete { header, len }));

        // Every proper prefix is partial and never asks for more than the header has.
        for cut in 0..len {
            match FrameHeader::parse(&bytes[..cut]) {
                Ok(Parsed::Partial { needed }) => prop_assert!(needed >= 1 && cut + needed <= len),
                other => prop_assert!(false, "prefix of {} bytes: {:?}", cut, other),
            }
        }

        // A buffer too small is left alone and says how much is needed.
        let mut small = vec![0xaa; len - 1];
        prop_assert_eq!(header.encode(&mut small), Err(EncodeError::BufferTooSmall { needed: len }));
        prop_assert!(small.iter().all(|&b| b == 0xaa));
    }

    #[test]
    fn header_bytes_follow_the_section_5_2_layout(header in header()) {
        let bytes = header.to_bytes();
        let len = bytes.len();
        prop_assert_eq!(bytes[0] >> 7 == 1, header.fin);
        prop_assert_eq!((bytes[0] >> 4) & 0b111, header.rsv);
        prop_assert_eq!(bytes[0] & 0x0f, header.opcode as u8);
        prop_assert_eq!(bytes[1] >> 7 == 1, header.mask.is_some());
        let expected_len_bytes = match header.payload_len {
            0..=125 => 0,
            126..=65_535 => 2,
            _ => 8,
        };
        prop_assert_eq!(len, 2 + expected_len_bytes + if header.mask.is_some() { 4 } else { 0 });
        if let Some(key) = header.mask {
            prop_assert_eq!(&bytes[len - 4..len], &key[..]);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Delivery under any fragmentation, interleaving and read boundaries

#[derive(Clone, Debug)]
enum Data {
    Text(String),
    Binary(Vec<u8>),
}

impl Data {
    fn bytes(&self) -> &[u8] {
        match self {
            Data::Text(text) => text.as_bytes(),
            Data::Binary(data) => data,
        }
    }

    fn opcode(&self) -> u8 {
        match self {
            Data::Text(_) => TEXT,
            Data::Binary(_) => BINARY,
        }
    }

    fn event(&self) -> Ev {
        match self {
            Data::Text(text) => Ev::Text(text.clone()),
            Data::Binary(data) => Ev::Binary(data.clone()),
        }
    }
}

#[derive(Clone, Debug)]
enum Control {
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

/// A message, where to cut it into fragments, and control frames to put before some of its fragments.
#[derive(Clone, Debug)]
struct Planned {
    data: Data,
    cuts: Vec<Index>,
    controls: Vec<(Index, Control)>,
}

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        prop::collection::vec(any::<char>(), 0..80)
            .prop_map(|chars| Data::Text(chars.into_iter().collect())),
        prop::collection::vec(any::<u8>(), 0..400).prop_map(Data::Binary),
    ]
}

fn control() -> impl Strategy<Value = Control> {
    let payload = prop::collection::vec(any::<u8>(), 0..=125);
    prop_oneof![
        payload.clone().prop_map(Control::Ping),
        payload.prop_map(Control::Pong)
    ]
}

fn planned() -> impl Strategy<Value = Planned> {
    (
        data(),
        prop::collection::vec(any::<Index>(), 0..5),
        prop::collection::vec((any::<Index>(), control()), 0..3),
    )
        .prop_map(|(data, cuts, controls)| Planned {
            data,
            cuts,
            controls,
        })
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Client), Just(Role::Server)]
}

fn mode() -> impl Strategy<Value = ReceiveMode> {
    prop_oneof![Just(ReceiveMode::Messages), Just(ReceiveMode::Fragments)]
}

/// Writes frames as the peer of `receiver` would, masking with the given keys in turn.
struct Writer<'a> {
    receiver: Role,
    keys: &'a [[u8; 4]],
    used: usize,
    wire: Vec<u8>,
}

impl Writer<'_> {
    fn frame(&mut self, b0: u8, payload: &[u8]) {
        let mask = match self.receiver {
            Role::Server => {
                self.used += 1;
                Some(self.keys[self.used % self.keys.len()])
            }
            Role::Client => None,
        };
        self.wire.extend(frame(b0, mask, payload));
    }

    fn control(&mut self, control: &Control) -> Ev {
        match control {
            Control::Ping(p) => {
                self.frame(FIN | PING, p);
                Ev::Ping(p.clone())
            }
            Control::Pong(p) => {
                self.frame(FIN | PONG, p);
                Ev::Pong(p.clone())
            }
        }
    }

    /// Writes a planned message with its controls; returns the events it should produce, in order.
    fn message(&mut self, plan: &Planned) -> Vec<Ev> {
        let bytes = plan.data.bytes();
        let mut points: Vec<usize> = plan.cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let bounds: Vec<usize> = [0].into_iter().chain(points).chain([bytes.len()]).collect();
        let pieces: Vec<&[u8]> = bounds.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
        let mut expected = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            for (at, control) in &plan.controls {
                if at.index(pieces.len()) == i {
                    expected.push(self.control(control));
                }
            }
            let opcode = if i == 0 { plan.data.opcode() } else { CONT };
            let fin = if i == pieces.len() - 1 { FIN } else { 0 };
            self.frame(fin | opcode, piece);
        }
        expected.push(plan.data.event());
        expected
    }
}

/// Feeds `wire` in reads of the given sizes (cycled), collecting events, which must all succeed.
fn feed_chunked(conn: &mut Connection, wire: &[u8], sizes: &[usize]) -> Vec<Ev> {
    feed_chunked_via(conn, wire, sizes, false)
}

/// As [`feed_chunked`], optionally reading straight into the connection's buffer as a driver would
/// (`read_buffer` then `handle_read`) instead of through `handle_input`.
fn feed_chunked_via(
    conn: &mut Connection,
    wire: &[u8],
    sizes: &[usize],
    in_place: bool,
) -> Vec<Ev> {
    let mut got = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= wire.len() {
            break;
        }
        let end = (at + size).min(wire.len());
        let piece = &wire[at..end];
        if in_place {
            let room = conn.read_buffer(piece.len());
            assert!(room.len() >= piece.len());
            room[..piece.len()].copy_from_slice(piece);
            conn.handle_read(Instant::ZERO, piece.len());
        } else {
            conn.handle_input(Instant::ZERO, piece);
        }
        got.extend(events(conn));
        at = end;
    }
    got
}

/// Joins fragment events into whole messages, checking the `first`/`fin` flags and the opcode on the way.
fn reassemble(events: Vec<Ev>) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut current: Option<(DataKind, Vec<u8>)> = None;
    for ev in events {
        let Ev::Fragment {
            kind,
            data,
            first,
            fin,
        } = ev
        else {
            out.push(ev);
            continue;
        };
        assert_eq!(
            first,
            current.is_none(),
            "`first` on exactly the first fragment"
        );
        let (message_kind, bytes) = current.get_or_insert_with(|| (kind, Vec::new()));
        assert_eq!(
            *message_kind, kind,
            "every fragment carries the message's kind"
        );
        bytes.extend_from_slice(&data);
        if kind == DataKind::Text {
            // The text so far is valid UTF-8 except perhaps for an incomplete last character.
            if let Err(err) = std::str::from_utf8(bytes) {
                assert!(err.error_len().is_none(), "invalid UTF-8 delivered");
            }
        }
        if fin {
            let Some((kind, bytes)) = current.take() else {
                unreachable!("`current` was just filled");
            };
            out.push(match kind {
                DataKind::Text => {
                    Ev::Text(String::from_utf8(bytes).expect("complete text is UTF-8"))
                }
                DataKind::Binary => Ev::Binary(bytes),
            });
        }
    }
    assert!(current.is_none(), "a message was left open");
    out
}

fn config_for(mode: ReceiveMode) -> Config {
    let mut config = Config::default();
    config.receive_mode = mode;
    config
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn any_fragmentation_interleaving_and_reads_yield_the_messages_in_order(
        plans in prop::collection::vec(planned(), 0..6),
        trailing_controls in prop::collection::vec(control(), 0..2),
        keys in prop::collection::vec(any::<[u8; 4]>(), 1..4),
        sizes in prop::collection::vec(1usize..200, 1..8),
        role in role(),
        mode in mode(),
        in_place in any::<bool>(),
    ) {
        let mut writer = Writer { receiver: role, keys: &keys, used: 0, wire: Vec::new() };
        let mut expected = Vec::new();
        for plan in &plans {
            expected.extend(writer.message(plan));
        }
        for control in &trailing_controls {
            expected.push(writer.control(control));
        }
        let pings: Vec<Vec<u8>> = expected
            .iter()
            .filter_map(|ev| match ev {
                Ev::Ping(p) => Some(p.clone()),
                _ => None,
            })
            .collect();

        let mut conn = connection(role, config_for(mode));
        let got = feed_chunked_via(&mut conn, &writer.wire, &sizes, in_place);
        if mode == ReceiveMode::Messages {
            prop_assert!(got.iter().all(|ev| !matches!(ev, Ev::Fragment { .. })), "no fragments");
        } else {
            prop_assert!(got.iter().all(|ev| !matches!(ev, Ev::Text(_) | Ev::Binary(_))), "no whole messages");
        }
        prop_assert_eq!(reassemble(got), expected);

        // Every ping was answered, in order, with its own payload, and nothing else was sent.
        let sent = take_sent(&mut conn);
        prop_assert!(sent.iter().all(|f| f.opcode == OpCode::Pong && f.fin));
        let pongs: Vec<Vec<u8>> = sent.into_iter().map(|f| f.payload).collect();
        prop_assert_eq!(pongs, pings);
        prop_assert_eq!(conn.state(), State::Open);
    }

    #[test]
    fn a_pair_delivers_what_was_sent(
        messages in prop::collection::vec(data(), 0..8),
        fragment_size in prop::option::of(1usize..50),
        mode in mode(),
    ) {
        let mut sender = Config::default();
        sender.fragment_size = fragment_size;
        let mut pair = Pair::with_configs(sender, config_for(mode));
        for message in &messages {
            match message {
                Data::Text(text) => pair.client.sender().send_text(text).unwrap(),
                Data::Binary(data) => pair.client.sender().send_binary(data).unwrap(),
            }
        }
        let got = reassemble(pair.client_events());
        prop_assert_eq!(got, messages.iter().map(Data::event).collect::<Vec<_>>());
    }
}

// ---------------------------------------------------------------------------------------------------------
// The close rules under any following input

fn wire_code() -> impl Strategy<Value = u16> {
    prop_oneof![1000u16..=1003, 1007u16..=1014, 3000u16..=4999]
}

fn reason() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..30).prop_map(|chars| chars.into_iter().collect())
}

/// What follows a close: random bytes, or well-formed frames of every kind (another close included).
fn afterwards() -> impl Strategy<Value = Vec<u8>> {
    let frames = prop::collection::vec(
        (
            prop::sample::select(vec![
                FIN | TEXT,
                FIN | BINARY,
                TEXT,
                FIN | CONT,
                FIN | PING,
                FIN | PONG,
                FIN | CLOSE,
            ]),
            prop::collection::vec(any::<u8>(), 0..40),
        ),
        0..6,
    );
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        frames.prop_map(|frames| {
            let mut wire = Vec::new();
            for (b0, payload) in frames {
                let payload = if b0 & 0x0f == CLOSE {
                    close_body(1000, "again")
                } else {
                    payload
                };
                // Masked: for a client that is one more violation, to be ignored like the rest.
                wire.extend(frame(b0, Some([3, 1, 4, 1]), &payload));
            }
            wire
        }),
    ]
}

/// Every data command is refused with `Closed`.
fn sends_refused(conn: &mut Connection) -> bool {
    conn.sender().send_text("x") == Err(SendError::Closed)
        && conn.sender().send_binary(b"x") == Err(SendError::Closed)
        && conn.sender().send_fragment(DataKind::Binary, b"x", true) == Err(SendError::Closed)
        && conn.sender().ping(b"x") == Err(SendError::Closed)
        && conn.sender().close(CloseCode::NORMAL, "") == Err(SendError::Closed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn after_a_received_close_nothing_more_is_delivered_or_sent(
        before in prop::collection::vec(data(), 0..4),
        close in prop::option::of((wire_code(), reason())),
        after in afterwards(),
        sizes in prop::collection::vec(1usize..100, 1..6),
        role in role(),
        mode in mode(),
    ) {
        let mut wire = Vec::new();
        for message in &before {
            wire.extend(frame_to(role, FIN | message.opcode(), message.bytes()));
        }
        let body = close.as_ref().map(|(code, reason)| close_body(*code, reason)).unwrap_or_default();
        wire.extend(frame_to(role, FIN | CLOSE, &body));
        let close_at = wire.len();
        wire.extend(&after);

        let mut conn = connection(role, config_for(mode));
        let got = feed_chunked(&mut conn, &wire[..close_at], &sizes);
        let mut expected: Vec<Ev> = before.iter().map(Data::event).collect();
        expected.push(match &close {
            Some((code, reason)) => Ev::close(*code, reason),
            None => Ev::close(1005, ""),
        });
        prop_assert_eq!(reassemble(got), expected);
        prop_assert_eq!(conn.state(), State::Closed);

        // Anything at all after the close: no event, no output.
        let got = feed_chunked(&mut conn, &after, &sizes);
        prop_assert_eq!(got, vec![]);
        prop_assert_eq!(conn.poll_event(), Ok(None));
        prop_assert!(sends_refused(&mut conn));

        // The only frame sent is the reply, with the peer's code.
        let sent = take_sent(&mut conn);
        prop_assert_eq!(sent.len(), 1);
        prop_assert_eq!(sent[0].close_code(), close.map(|(code, _)| code));
        prop_assert_eq!(conn.should_close_transport(), role == Role::Server);
    }

    #[test]
    fn after_our_close_nothing_more_is_sent_and_the_peers_close_ends_delivery(
        our_code in wire_code(),
        before in prop::collection::vec(data(), 0..4),
        peer_close in prop::option::of(wire_code()),
        after in afterwards(),
        sizes in prop::collection::vec(1usize..100, 1..6),
        role in role(),
    ) {
        let mut conn = connection(role, Config::default());
        conn.sender().close(CloseCode::new(our_code).unwrap(), "ours").unwrap();
        prop_assert!(sends_refused(&mut conn));

        let mut wire = Vec::new();
        for message in &before {
            wire.extend(frame_to(role, FIN | message.opcode(), message.bytes()));
        }
        if let Some(code) = peer_close {
            wire.extend(frame_to(role, FIN | CLOSE, &close_body(code, "")));
            wire.extend(&after);
        }
        let got = feed_chunked(&mut conn, &wire, &sizes);
        prop_assert!(sends_refused(&mut conn));

        // Data in flight before the peer's close is still delivered; nothing after it.
        let mut expected: Vec<Ev> = before.iter().map(Data::event).collect();
        if let Some(code) = peer_close {
            expected.push(Ev::close(code, ""));
        }
        prop_assert_eq!(got, expected);

        // Our close is the only close sent, and no data follows it.
        let sent = take_sent(&mut conn);
        prop_assert_eq!(sent[0].close_code(), Some(our_code));
        prop_assert!(sent[1..].iter().all(|f| f.opcode.is_control() && f.opcode != OpCode::Close));
        let state = if peer_close.is_some() { State::Closed } else { State::CloseSent };
        prop_assert_eq!(conn.state(), state);
    }
}
