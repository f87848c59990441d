//! A server echoing large payloads from the receive buffer: the output is the same, slice by slice or as one
//! slice, whatever the reads and writes between the events (the receive buffer handed over while payloads in
//! it are queued, a failure while they are queued).

use wslane::{Config, Connection, Event, Instant};

/// A masked client frame and the server's echo of it.
fn frames(opcode: u8, payload: &[u8], key: [u8; 4]) -> (Vec<u8>, Vec<u8>) {
    let header = |masked: bool| {
        let mut out = vec![0x80 | opcode];
        let bit = if masked { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => out.push(bit | n as u8),
            n if n <= 0xffff => {
                out.push(bit | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(bit | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out
    };
    let mut client = header(true);
    client.extend_from_slice(&key);
    client.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    let mut server = header(false);
    server.extend_from_slice(payload);
    (client, server)
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

/// Echoes every event ready; returns how many.
fn echo_ready(server: &mut Connection) -> usize {
    let mut echoed = 0;
    while let Some(result) = server
        .poll_event_with(|event, sender| match event {
            Event::Binary(data) => sender.send_binary(data),
            Event::Text(text) => sender.send_text(text),
            other => panic!("unexpected {other:?}"),
        })
        .unwrap()
    {
        result.unwrap();
        echoed += 1;
    }
    echoed
}

/// Transmits at most `limit` bytes with vectored writes; returns them.
fn transmit_vectored(server: &mut Connection, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut slices = [&[][..]; 4];
        let n = server.poll_transmit_vectored(&mut slices);
        if n == 0 || out.len() >= limit {
            return out;
        }
        let mut taken = 0;
        for slice in &slices[..n] {
            let room = limit - out.len();
            let part = &slice[..slice.len().min(room)];
            out.extend_from_slice(part);
            taken += part.len();
        }
        server.advance_transmit(Instant::ZERO, taken);
    }
}

#[test]
fn echoes_from_the_receive_buffer_match_copied_echoes_across_reads_and_partial_writes() {
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for (i, len) in [3000, 20, 70_000, 2048, 100, 300_000, 5000]
        .into_iter()
        .enumerate()
    {
        let (client, server) = frames(0x2, &payload(len, i as u8), [i as u8, 7, 9, 200]);
        input.extend_from_slice(&client);
        expected.extend_from_slice(&server);
    }
    let text = "héllo wörld ✓ ".repeat(400);
    let (client, server) = frames(0x1, text.as_bytes(), [1, 2, 3, 4]);
    input.extend_from_slice(&client);
    expected.extend_from_slice(&server);

    // Reads of several sizes, and writes that take only part of the output, so reads happen while
    // payloads in the receive buffer are still queued (and it is handed over).
    for (read, write) in [
        (1 << 20, usize::MAX),
        (4096, 1000),
        (65_536, 10_000),
        (999, 50_000),
    ] {
        let mut server = Connection::server(Instant::ZERO, Config::default());
        let mut output = Vec::new();
        let mut at = 0;
        let mut echoed = 0;
        while at < input.len() || server.buffered_output() > 0 {
            if at < input.len() {
                let room = server.read_buffer(1);
                let n = room.len().min(read).min(input.len() - at);
                room[..n].copy_from_slice(&input[at..at + n]);
                server.handle_read(Instant::ZERO, n);
                at += n;
            }
            echoed += echo_ready(&mut server);
            let limit = if at < input.len() { write } else { usize::MAX };
            output.extend(transmit_vectored(&mut server, limit));
        }
        assert_eq!(echoed, 8, "read {read}, write {write}");
        assert!(output == expected, "read {read}, write {write}");
    }
}

#[test]
fn one_slice_output_copies_queued_payloads_in_order() {
    let mut server = Connection::server(Instant::ZERO, Config::default());
    let mut expected = Vec::new();
    for (i, len) in [4096, 10, 9000].into_iter().enumerate() {
        let (client, echo) = frames(0x2, &payload(len, i as u8), [9, 8, 7, i as u8]);
        server.handle_input(Instant::ZERO, &client);
        expected.extend_from_slice(&echo);
    }
    assert_eq!(echo_ready(&mut server), 3);
    let mut slices = [&[][..]; 8];
    assert_eq!(
        server.poll_transmit_vectored(&mut slices),
        4,
        "header, payload, small frame and header, payload"
    );
    assert_eq!(server.poll_transmit(), &expected[..]);
    server.advance_transmit(Instant::ZERO, expected.len());
    assert_eq!(server.buffered_output(), 0);
}

#[test]
fn a_failure_keeps_queued_payloads_and_sends_them_before_the_close() {
    let mut server = Connection::server(Instant::ZERO, Config::default());
    let (client, echo) = frames(0x2, &payload(8000, 3), [5, 6, 7, 8]);
    server.handle_input(Instant::ZERO, &client);
    assert_eq!(echo_ready(&mut server), 1);
    // An unmasked frame from a client is a protocol error: the connection fails and drops its input.
    server.handle_input(Instant::ZERO, &[0x82, 0x01, 0xff]);
    assert!(server.poll_event().is_err());
    let output = transmit_vectored(&mut server, usize::MAX);
    assert_eq!(&output[..echo.len()], &echo[..]);
    assert_eq!(output[echo.len()], 0x88, "then the close frame");
}
