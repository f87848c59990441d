//! What permessage-deflate costs: heap bytes per connection and CPU time per message.
//!
//! ```sh
//! cargo run --release -p wslane --features deflate --example deflate_cost
//! ```
//!
//! Memory: a server `Connection` (and, separately, a client one) is built with the negotiated codec,
//! receives one compressed message and sends one, and its heap use is what a counting global allocator
//! saw it allocate and not free, compared with a connection without the extension doing the same.
//!
//! Time: a client compresses a run of about 64 MiB of messages (context takeover on, so each message may
//! refer to the ones before) and a server inflates the same run; the figures are the mean per message,
//! framing and masking included, best of three runs.

#[cfg(not(feature = "deflate"))]
fn main() {
    eprintln!("run with --features deflate");
}

#[cfg(feature = "deflate")]
fn main() {
    cost::main();
}

#[cfg(feature = "deflate")]
mod cost {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use wslane::deflate::{DeflateConfig, PerMessageDeflate};
    use wslane::extension::ExtensionFactory;
    use wslane::{Config, Connection, Event};

    /// Live bytes per account; allocations and frees count against the account current at the time.
    static LIVE: [AtomicIsize; 3] = [
        AtomicIsize::new(0),
        AtomicIsize::new(0),
        AtomicIsize::new(0),
    ];
    static ACCOUNT: AtomicUsize = AtomicUsize::new(OTHER);
    const OTHER: usize = 0;
    const SERVER: usize = 1;
    const CLIENT: usize = 2;

    struct Counting;

    fn count(delta: isize) {
        LIVE[ACCOUNT.load(Ordering::Relaxed)].fetch_add(delta, Ordering::Relaxed);
    }

    // SAFETY: every call is forwarded to `System` unchanged; the counters only observe sizes.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract for `alloc` is passed on as it is.
            let ptr = unsafe { System.alloc(layout) };
            if !ptr.is_null() {
                count(layout.size() as isize);
            }
            ptr
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: as for `alloc`.
            let ptr = unsafe { System.alloc_zeroed(layout) };
            if !ptr.is_null() {
                count(layout.size() as isize);
            }
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            count(-(layout.size() as isize));
            // SAFETY: `ptr` came from `System` with this layout, as the caller promises.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: `ptr` came from `System` with this layout, as the caller promises.
            let new = unsafe { System.realloc(ptr, layout, new_size) };
            if !new.is_null() {
                count(new_size as isize - layout.size() as isize);
            }
            new
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    /// Runs `f` with its allocations counted against `account`.
    fn on<T>(account: usize, f: impl FnOnce() -> T) -> T {
        let before = ACCOUNT.swap(account, Ordering::Relaxed);
        let result = f();
        ACCOUNT.store(before, Ordering::Relaxed);
        result
    }

    fn live(account: usize) -> isize {
        LIVE[account].load(Ordering::Relaxed)
    }

    /// English-like text: words drawn from a small vocabulary, as chat or JSON text compresses.
    fn english(len: usize, seed: u64) -> String {
        const WORDS: &[&str] = &[
            "the",
            "of",
            "and",
            "to",
            "in",
            "is",
            "that",
            "for",
            "it",
            "as",
            "was",
            "with",
            "be",
            "by",
            "on",
            "not",
            "he",
            "this",
            "are",
            "or",
            "his",
            "from",
            "at",
            "which",
            "but",
            "have",
            "an",
            "had",
            "they",
            "you",
            "were",
            "their",
            "one",
            "all",
            "we",
            "can",
            "her",
            "has",
            "there",
            "been",
            "if",
            "more",
            "when",
            "will",
            "would",
            "who",
            "so",
            "no",
            "message",
            "server",
            "client",
            "window",
            "frame",
            "connection",
            "compression",
            "about",
            "people",
            "time",
            "year",
            "because",
            "through",
            "between",
            "under",
        ];
        let mut state = mix(seed);
        let mut out = String::with_capacity(len + 16);
        while out.len() < len {
            state = xorshift(state);
            out.push_str(WORDS[(state % WORDS.len() as u64) as usize]);
            out.push(if state % 13 == 0 { '.' } else { ' ' });
        }
        out.truncate(len);
        out
    }

    fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
        let mut state = mix(seed);
        (0..len)
            .map(|_| {
                state = xorshift(state);
                (state >> 24) as u8
            })
            .collect()
    }

    /// A distinct non-zero xorshift state for every seed.
    fn mix(seed: u64) -> u64 {
        (seed.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 1) | 1
    }

    fn xorshift(mut state: u64) -> u64 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }

    /// A client and a server with the extension negotiated between these settings, or without it.
    fn pair(deflate: Option<DeflateConfig>) -> (Connection, Connection) {
        let keys = || [0x37, 0xfa, 0x21, 0x3d];
        let Some(config) = deflate else {
            let server = on(SERVER, || {
                Connection::server(wslane::Instant::ZERO, Config::default())
            });
            let client = on(CLIENT, || {
                Connection::client(wslane::Instant::ZERO, Config::default(), keys)
            });
            return (client, server);
        };
        let client_factory = PerMessageDeflate::new(config);
        let server_factory = PerMessageDeflate::new(config);
        let (answer, server_codec) = on(SERVER, || {
            server_factory
                .accept(&client_factory.offers())
                .expect("no refusal")
                .expect("accepted")
        });
        let client_codec = on(CLIENT, || {
            client_factory.confirm(&answer).expect("confirmed")
        });
        on(SERVER, || drop(answer));
        let server = on(SERVER, || {
            Connection::server(wslane::Instant::ZERO, Config::default())
                .with_extension(server_codec)
        });
        let client = on(CLIENT, || {
            Connection::client(wslane::Instant::ZERO, Config::default(), keys)
                .with_extension(client_codec)
        });
        (client, server)
    }

    /// Moves `from`'s output to `to` and reads the one message it carries.
    fn deliver(from: &mut Connection, from_account: usize, to: &mut Connection, to_account: usize) {
        // The copy in between is nobody's.
        let wire = from.poll_transmit().to_vec();
        on(from_account, || {
            from.advance_transmit(wslane::Instant::ZERO, wire.len())
        });
        on(to_account, || {
            to.handle_input(wslane::Instant::ZERO, &wire);
            match to.poll_event() {
                Ok(Some(Event::Text(_) | Event::Binary(_))) => {}
                other => panic!("expected a message, got {other:?}"),
            }
        });
    }

    /// Heap bytes held by each end after the client sent one message (`up`) and the server one (`down`):
    /// (server, client).
    fn memory(
        deflate: Option<DeflateConfig>,
        message: &str,
        up: bool,
        down: bool,
    ) -> (isize, isize) {
        let (server0, client0) = (live(SERVER), live(CLIENT));
        let (mut client, mut server) = pair(deflate);
        if up {
            on(CLIENT, || client.sender().send_text(message).expect("send"));
            deliver(&mut client, CLIENT, &mut server, SERVER);
        }
        if down {
            on(SERVER, || server.sender().send_text(message).expect("send"));
            deliver(&mut server, SERVER, &mut client, CLIENT);
        }
        let held = (live(SERVER) - server0, live(CLIENT) - client0);
        on(SERVER, || drop(server));
        on(CLIENT, || drop(client));
        held
    }

    fn kib(bytes: isize) -> String {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }

    /// Mean time per message to compress (client side) and to decompress (server side) `messages`.
    fn timing(level: u8, messages: &[Vec<u8>], text: bool) -> (Duration, Duration, usize) {
        let mut config = DeflateConfig::default();
        config.level = level;
        let (mut client, mut server) = pair(Some(config));
        let mut wire = Vec::new();
        let start = Instant::now();
        for message in messages {
            if text {
                let text = std::str::from_utf8(message).expect("text");
                client.sender().send_text(text).expect("send");
            } else {
                client.sender().send_binary(message).expect("send");
            }
            let out = client.poll_transmit();
            wire.extend_from_slice(out);
            let n = out.len();
            client.advance_transmit(wslane::Instant::ZERO, n);
        }
        let compress = start.elapsed();
        let start = Instant::now();
        let mut received = 0;
        for chunk in wire.chunks(64 << 10) {
            server.handle_input(wslane::Instant::ZERO, chunk);
            while let Ok(Some(event)) = server.poll_event() {
                match event {
                    Event::Text(_) | Event::Binary(_) => received += 1,
                    other => panic!("{other:?}"),
                }
            }
        }
        let decompress = start.elapsed();
        assert_eq!(received, messages.len());
        let n = messages.len() as u32;
        (compress / n, decompress / n, wire.len() / messages.len())
    }

    fn micros(d: Duration) -> String {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }

    fn rate(bytes: usize, d: Duration) -> String {
        format!("{:.0} MB/s", bytes as f64 / d.as_secs_f64() / 1e6)
    }

    pub(crate) fn main() {
        let message = english(1024, 1);
        println!("## Heap per connection, after one 1 KiB text message each way\n");
        println!("| settings | server | client |");
        println!("|---|---|---|");
        let (base_server, base_client) = memory(None, &message, true, true);
        println!(
            "| no extension (baseline) | {} | {} |",
            kib(base_server),
            kib(base_client)
        );
        let window = |bits: u8, mem_level: u8| {
            let mut config = DeflateConfig::default();
            config.server_max_window_bits = bits;
            config.client_max_window_bits = bits;
            config.mem_level = mem_level;
            config
        };
        let mut no_takeover = DeflateConfig::default();
        no_takeover.server_no_context_takeover = true;
        no_takeover.client_no_context_takeover = true;
        let rows = [
            (
                "window 15, memory level 8 (defaults)",
                DeflateConfig::default(),
            ),
            ("window 12, memory level 8", window(12, 8)),
            ("window 9, memory level 8", window(9, 8)),
            ("window 9, memory level 1", window(9, 1)),
            (
                "no context takeover (window 15, memory level 8)",
                no_takeover,
            ),
            (
                "memory-conscious (window 12, memory level 5, server no context takeover)",
                DeflateConfig::memory_conscious(),
            ),
        ];
        for (name, config) in rows {
            let (server, client) = memory(Some(config), &message, true, true);
            println!(
                "| {name} | {} (+{}) | {} (+{}) |",
                kib(server),
                kib(server - base_server),
                kib(client),
                kib(client - base_client)
            );
        }

        println!("\n## The server's share by direction\n");
        println!("| settings | after receiving one | after sending one | after neither |");
        println!("|---|---|---|---|");
        for (name, config) in rows {
            let received = memory(Some(config), &message, true, false).0;
            let sent = memory(Some(config), &message, false, true).0;
            let idle = memory(Some(config), &message, false, false).0;
            println!(
                "| {name} | {} | {} | {} |",
                kib(received),
                kib(sent),
                kib(idle)
            );
        }

        println!("\n## CPU time per message (context takeover on)\n");
        println!("| payload | level | compressed to | compress | decompress |");
        println!("|---|---|---|---|---|");
        for (name, size, text) in [
            ("1 KiB English-like text", 1 << 10, true),
            ("64 KiB English-like text", 64 << 10, true),
            ("1 KiB random bytes", 1 << 10, false),
            ("64 KiB random bytes", 64 << 10, false),
        ] {
            // About 64 MiB of payload per run, at least 200 messages.
            let count = ((64 << 20) / size).clamp(200, 20_000);
            let messages: Vec<Vec<u8>> = (0..count as u64)
                .map(|seed| {
                    if text {
                        english(size, seed + 7).into_bytes()
                    } else {
                        random_bytes(size, seed + 7)
                    }
                })
                .collect();
            for level in [1, 6] {
                // One warm-up run, then the best of three (other work on the machine only adds time).
                timing(level, &messages[..count / 10], text);
                let (mut compress, mut decompress, mut wire) = timing(level, &messages, text);
                for _ in 0..2 {
                    let (c, d, w) = timing(level, &messages, text);
                    (compress, decompress, wire) = (compress.min(c), decompress.min(d), w);
                }
                println!(
                    "| {name} | {level} | {:.0}% | {} ({}) | {} ({}) |",
                    wire as f64 * 100.0 / size as f64,
                    micros(compress),
                    rate(size, compress),
                    micros(decompress),
                    rate(size, decompress)
                );
            }
        }
    }
}
