//! permessage-deflate negotiation (RFC 7692 section 7.1) on arbitrary `Sec-WebSocket-Extensions` values:
//! `parse_extensions`, then `PerMessageDeflate::accept` with an arbitrary server configuration and
//! `PerMessageDeflate::confirm` of every parsed element with an arbitrary client configuration.
//!
//! Input: 9 setup bytes, then the header value (lossy UTF-8).
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | bit 0: also send a message each way through the codecs a client's own offer negotiates |
//! | 1-4 | the server's `DeflateConfig` (see `config`) |
//! | 5-8 | the client's `DeflateConfig` |
//!
//! Invariants (nothing else is asserted):
//! - nothing panics, and window bits given to `PerMessageDeflate::new` end up in 9..=15;
//! - an accepted answer is named `permessage-deflate`, is a valid response (known parameters, each once,
//!   values where RFC 7692 wants them), parses back to itself, is allowed by at least one of the offers
//!   (`server_no_context_takeover` kept, `server_max_window_bits` kept and not raised,
//!   `client_max_window_bits` only when offered and never above the offered value), and keeps to the
//!   server's own settings; an offer that is valid and that the server can honour is never declined;
//! - `confirm` succeeds exactly on the valid responses the client allowed: known parameters once each,
//!   `client_max_window_bits` with a value from 9 to the client's cap, `server_max_window_bits` (15 when
//!   absent) within what the client asked for, and `server_no_context_takeover` when the client asked;
//! - a client's own offer is accepted by any server, and the client confirms the answer; the codecs then
//!   carry the input bytes both ways unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wslane::deflate::{DeflateConfig, PerMessageDeflate, NAME};
use wslane::extension::{parse_extensions, ExtensionElement, ExtensionFactory};
use wslane::{Config, Connection, Event, Instant};

const SETUP: usize = 9;

/// A configuration from 4 bytes: flags (bit 0 `server_no_context_takeover`, bit 1
/// `client_no_context_takeover`, the rest a threshold), the two window sizes as they are (the factory
/// clamps them), and the compression and memory levels.
fn config(bytes: &[u8]) -> DeflateConfig {
    let mut config = DeflateConfig::default();
    config.server_no_context_takeover = bytes[0] & 1 != 0;
    config.client_no_context_takeover = bytes[0] & 2 != 0;
    config.threshold = usize::from(bytes[0] >> 2);
    config.server_max_window_bits = bytes[1];
    config.client_max_window_bits = bytes[2];
    config.level = bytes[3] % 10;
    config.mem_level = 1 + (bytes[3] / 10) % 9;
    config
}

/// The four parameters of one element, as RFC 7692 section 7.1 defines them; `client_max_window_bits` is
/// `Some(None)` when present without a value.
#[derive(Clone, Copy, Debug, Default)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
}

/// `8` to `15` written as the ABNF of section 7.1.2.1 writes them: no sign, no leading zero.
fn window_bits(value: &str) -> Option<u8> {
    let bits = match value {
        "8" => 8,
        "9" => 9,
        "10" => 10,
        "11" => 11,
        "12" => 12,
        "13" => 13,
        "14" => 14,
        "15" => 15,
        _ => return None,
    };
    Some(bits)
}

/// Reads an element's parameters; `None` when one is unknown, repeated or has an invalid value. A
/// response's `client_max_window_bits` must have a value.
fn read(element: &ExtensionElement, response: bool) -> Option<Params> {
    let mut params = Params::default();
    let mut seen = Vec::new();
    for (name, value) in &element.params {
        let name = name.to_ascii_lowercase();
        if seen.contains(&name) {
            return None;
        }
        match (name.as_str(), value.as_deref()) {
            ("server_no_context_takeover", None) => params.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => params.client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => {
                params.server_max_window_bits = Some(window_bits(v)?);
            }
            ("client_max_window_bits", Some(v)) => {
                params.client_max_window_bits = Some(Some(window_bits(v)?));
            }
            ("client_max_window_bits", None) if !response => {
                params.client_max_window_bits = Some(None);
            }
            _ => return None,
        }
        seen.push(name);
    }
    Some(params)
}

/// Whether a server's answer `answer` is one the offer `offer` allows (sections 7.1.1 and 7.1.2).
fn allows(offer: &Params, answer: &Params) -> bool {
    let server_bits = match (offer.server_max_window_bits, answer.server_max_window_bits) {
        (Some(offered), Some(answered)) => answered <= offered,
        (Some(_), None) => false,
        (None, _) => true,
    };
    let client_bits = match (offer.client_max_window_bits, answer.client_max_window_bits) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(None), Some(_)) => true,
        (Some(Some(offered)), Some(Some(answered))) => answered <= offered,
        (Some(Some(_)), Some(None)) => false,
    };
    (!offer.server_no_context_takeover || answer.server_no_context_takeover)
        && server_bits
        && client_bits
}

fn check_accept(server: &PerMessageDeflate, offers: &[ExtensionElement]) {
    let config = server.config();
    let accepted = server
        .accept(offers)
        .unwrap_or_else(|err| panic!("permessage-deflate refused instead of declining: {err}"));
    let valid: Vec<Params> = offers.iter().filter_map(|o| read(o, false)).collect();
    // An offer the server can honour: it may compress with a window of 9 or more, and it may cap the
    // client's window when it wants to.
    let honourable = valid.iter().any(|offer| {
        offer.server_max_window_bits != Some(8)
            && (offer.client_max_window_bits.is_some() || config.client_max_window_bits == 15)
    });
    let Some((answer, _codec)) = accepted else {
        assert!(!honourable, "declined {offers:?} with {config:?}");
        return;
    };
    assert_eq!(answer.name, NAME);
    let text = answer.to_string();
    let mut again = Vec::new();
    parse_extensions(&text, &mut again).unwrap_or_else(|_| panic!("{text:?} does not parse"));
    assert_eq!(
        again,
        std::slice::from_ref(&answer),
        "{text:?} parses to something else"
    );
    let params = read(&answer, true).unwrap_or_else(|| panic!("{text:?} is not a valid response"));
    assert!(
        valid.iter().any(|offer| allows(offer, &params)),
        "{text:?} is allowed by none of {offers:?}"
    );
    // The server's own settings.
    assert!(params.server_max_window_bits.unwrap_or(15) <= config.server_max_window_bits);
    assert!(params.server_max_window_bits.is_none_or(|bits| bits >= 9));
    if config.client_max_window_bits < 15 {
        let bits = params.client_max_window_bits.flatten();
        assert!(
            bits.is_some_and(|bits| bits <= config.client_max_window_bits),
            "{text:?}"
        );
    }
    assert!(!config.server_no_context_takeover || params.server_no_context_takeover);
    assert!(!config.client_no_context_takeover || params.client_no_context_takeover);
}

fn check_confirm(client: &PerMessageDeflate, response: &ExtensionElement) {
    let config = client.config();
    let allowed = read(response, true).is_some_and(|params| {
        let client_bits = params.client_max_window_bits.flatten();
        (!config.server_no_context_takeover || params.server_no_context_takeover)
            && params.server_max_window_bits.unwrap_or(15) <= config.server_max_window_bits
            && client_bits.is_none_or(|bits| (9..=config.client_max_window_bits).contains(&bits))
    });
    let confirmed = client.confirm(response);
    assert_eq!(
        confirmed.is_ok(),
        allowed,
        "confirm of {response} with {config:?}: {:?}",
        confirmed.err()
    );
}

/// Sends `data` from `from` to `to` and checks it arrives unchanged.
fn carry(from: &mut Connection, to: &mut Connection, data: &[u8]) {
    from.sender().send_binary(data).expect("send");
    let wire = from.poll_transmit().to_vec();
    from.advance_transmit(Instant::ZERO, wire.len());
    to.handle_input(Instant::ZERO, &wire);
    match to.poll_event() {
        Ok(Some(Event::Binary(got))) => assert!(got == data, "the message changed on the way"),
        other => panic!("expected the message, got {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < SETUP {
        return;
    }
    let (setup, rest) = data.split_at(SETUP);
    let server = PerMessageDeflate::new(config(&setup[1..5]));
    let client = PerMessageDeflate::new(config(&setup[5..9]));
    for factory in [&server, &client] {
        assert!((9..=15).contains(&factory.config().server_max_window_bits));
        assert!((9..=15).contains(&factory.config().client_max_window_bits));
    }

    let value = String::from_utf8_lossy(rest);
    let mut elements = Vec::new();
    if parse_extensions(&value, &mut elements).is_ok() {
        // The handshake gives a factory the elements with its name, in order.
        let mine: Vec<ExtensionElement> = elements
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(NAME))
            .cloned()
            .collect();
        if !mine.is_empty() {
            check_accept(&server, &mine);
        }
        for element in &mine {
            check_confirm(&client, element);
        }
    }

    // A client's own offer, to any server.
    let offers = client.offers();
    let (answer, server_codec) = server
        .accept(&offers)
        .expect("no refusal")
        .unwrap_or_else(|| panic!("{offers:?} declined by {:?}", server.config()));
    let client_codec = client.confirm(&answer).unwrap_or_else(|err| {
        panic!("{answer} refused by the client that offered {offers:?}: {err}")
    });
    if setup[0] & 1 != 0 {
        let mut server_conn =
            Connection::server(Instant::ZERO, Config::default()).with_extension(server_codec);
        let mut client_conn = Connection::client(Instant::ZERO, Config::default(), || [1, 2, 3, 4])
            .with_extension(client_codec);
        for _ in 0..2 {
            carry(&mut client_conn, &mut server_conn, rest);
            carry(&mut server_conn, &mut client_conn, rest);
        }
    }
});
