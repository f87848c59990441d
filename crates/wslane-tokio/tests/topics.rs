//! Topics: a prepared message published to many subscribers is queued on each as one shared allocation and
//! arrives whole; unsubscribed connections get nothing; a subscriber that does not keep up is cut off with
//! 1013 and counted; with permessage-deflate, connections that reset their compressor share one compressed
//! frame and the others compress for themselves. All over in-memory pipes, on tokio's paused clock.

mod support;

use std::sync::Arc;

use support::*;
use tokio::io::DuplexStream;
use wslane_tokio::{
    Acceptance, Config, DeflateConfig, Error, Message, PerMessageDeflate, PreparedMessage,
    ReadHalf, ServerConfig, SlowPolicy, Subscriber, TopicStats, Topics,
};

/// A server connection's read half (its task not started), its subscriber handle, and the raw client.
async fn subscriber() -> (ReadHalf<DuplexStream>, Subscriber, DuplexStream) {
    let (ws, raw) = server_with_raw_client_in_memory(Config::default()).await;
    let (read, write) = ws.split();
    let me = write.subscriber();
    (read, me, raw)
}

/// Receives on the read half until the connection ends, as a subscriber's task does; returns the error
/// that ended it, if any.
fn drive(mut read: ReadHalf<DuplexStream>) -> tokio::task::JoinHandle<Option<Error>> {
    tokio::spawn(async move {
        while let Some(result) = read.recv().await {
            if let Err(err) = result {
                return Some(err);
            }
        }
        None
    })
}

fn stats(delivered: u64, dropped: u64, closed_slow: u64, gone: u64) -> TopicStats {
    let mut stats = TopicStats::default();
    stats.delivered = delivered;
    stats.dropped = dropped;
    stats.closed_slow = closed_slow;
    stats.gone = gone;
    stats
}

#[tokio::test(start_paused = true)]
async fn a_publish_reaches_every_subscriber_from_one_shared_frame() {
    bounded(async {
        let topics = Topics::new();
        let mut clients = Vec::new();
        for _ in 0..20 {
            let (read, me, raw) = subscriber().await;
            assert!(topics.subscribe("news", &me));
            assert!(!topics.subscribe("news", &me), "already subscribed");
            drive(read);
            clients.push(raw);
        }
        assert_eq!(topics.subscribers("news"), 20);
        let payload: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let message = PreparedMessage::binary(&payload);
        // No task ran since the publish: each connection holds a reference to the one frame.
        assert_eq!(topics.publish("news", &message), stats(20, 0, 0, 0));
        assert_eq!(Arc::strong_count(message.shared_frame()), 1 + 20);
        for raw in &mut clients {
            let frame = read_frame(raw).await.expect("the published message");
            assert_eq!((frame.opcode, frame.masked), (2, false));
            assert_eq!(frame.payload, payload);
        }
        assert_eq!(
            Arc::strong_count(message.shared_frame()),
            1,
            "released once written"
        );
        assert_eq!(topics.stats(), stats(20, 0, 0, 0));
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn unsubscribed_connections_get_nothing() {
    bounded(async {
        let topics = Topics::new();
        let (read_a, a, mut raw_a) = subscriber().await;
        let (read_b, b, mut raw_b) = subscriber().await;
        drive(read_a);
        drive(read_b);
        topics.subscribe("one", &a);
        topics.subscribe("two", &a);
        topics.subscribe("one", &b);
        assert!(topics.unsubscribe("one", &a));
        assert!(!topics.unsubscribe("one", &a), "not subscribed any more");
        assert_eq!(
            topics.publish("one", &PreparedMessage::text("for b")),
            stats(1, 0, 0, 0)
        );
        assert_eq!(
            topics.publish("two", &PreparedMessage::text("for a")),
            stats(1, 0, 0, 0)
        );
        assert_eq!(read_frame(&mut raw_a).await.unwrap().payload, b"for a");
        assert_eq!(read_frame(&mut raw_b).await.unwrap().payload, b"for b");
        assert_eq!(topics.unsubscribe_all(&a), 1);
        assert_eq!(topics.unsubscribe_all(&b), 1);
        assert_eq!(topics.subscribers("one"), 0);
        assert_eq!(
            topics.publish("one", &PreparedMessage::text("nobody")),
            stats(0, 0, 0, 0)
        );
        // Nothing more arrives: the next thing each client sees is our close.
        drop(topics);
        let mut both = [raw_a, raw_b];
        for raw in &mut both {
            tokio::io::AsyncWriteExt::write_all(raw, &client_frame(0x8, &close_body(1000, "")))
                .await
                .unwrap();
            assert_eq!(read_frame(raw).await.unwrap().opcode, 0x8);
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_that_falls_behind_is_cut_off_with_1013_and_counted() {
    bounded(async {
        const PAYLOAD: usize = 4 << 10;
        let frame_len = PAYLOAD + 4;
        let mut policy = SlowPolicy::default();
        policy.max_buffered = 3 * frame_len;
        let topics = Topics::with_policy(policy);
        let mut fast = Vec::new();
        for _ in 0..2 {
            let (read, me, raw) = subscriber().await;
            topics.subscribe("ticks", &me);
            drive(read);
            fast.push(raw);
        }
        // The slow subscriber's task does not run yet: nothing of its output is written.
        let (slow_read, slow, mut slow_raw) = subscriber().await;
        topics.subscribe("ticks", &slow);
        for i in 0..6u8 {
            let published = topics.publish("ticks", &PreparedMessage::binary(&[i; PAYLOAD]));
            match i {
                0..=2 => assert_eq!(published, stats(3, 0, 0, 0), "publish {i}"),
                3 => assert_eq!(published, stats(2, 1, 1, 0), "publish {i}: over 3 frames"),
                _ => assert_eq!(published, stats(2, 0, 0, 0), "publish {i}"),
            }
            for raw in &mut fast {
                assert_eq!(read_frame(raw).await.unwrap().payload, [i; PAYLOAD]);
            }
        }
        assert_eq!(topics.subscribers("ticks"), 2);
        assert_eq!(topics.stats(), stats(2 * 6 + 3, 1, 1, 0));

        // Its task runs: the abort is carried out, with what it had queued and a close frame with 1013
        // (the pipe has room for them), and the transport ends.
        assert!(matches!(
            drive(slow_read).await.unwrap(),
            Some(Error::Aborted)
        ));
        for i in 0..3u8 {
            assert_eq!(
                read_frame(&mut slow_raw).await.unwrap().payload,
                [i; PAYLOAD]
            );
        }
        let close = read_frame(&mut slow_raw).await.unwrap();
        assert_eq!(close.opcode, 0x8);
        assert_eq!(close.close_code(), 1013);
        assert_eq!(&close.payload[2..], b"too slow");
        expect_eof(&mut slow_raw).await;
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_subscriber_may_miss_messages_within_the_policy_and_catch_up() {
    bounded(async {
        const PAYLOAD: usize = 4 << 10;
        let mut policy = SlowPolicy::default();
        policy.max_buffered = PAYLOAD + 4;
        policy.max_dropped = 2;
        let topics = Topics::with_policy(policy);
        let (read, me, mut raw) = subscriber().await;
        topics.subscribe("t", &me);
        let message = |i: u8| PreparedMessage::binary(&[i; PAYLOAD]);
        assert_eq!(topics.publish("t", &message(0)), stats(1, 0, 0, 0));
        assert_eq!(topics.publish("t", &message(1)), stats(0, 1, 0, 0));
        assert_eq!(topics.publish("t", &message(2)), stats(0, 1, 0, 0));
        // It catches up: the count of misses in a row starts again.
        drive(read);
        assert_eq!(read_frame(&mut raw).await.unwrap().payload, [0; PAYLOAD]);
        assert_eq!(topics.publish("t", &message(3)), stats(1, 0, 0, 0));
        assert_eq!(topics.publish("t", &message(4)), stats(0, 1, 0, 0));
        assert_eq!(topics.publish("t", &message(5)), stats(0, 1, 0, 0));
        assert_eq!(topics.publish("t", &message(6)), stats(0, 1, 1, 0));
        assert_eq!(read_frame(&mut raw).await.unwrap().payload, [3; PAYLOAD]);
        assert_eq!(topics.subscribers("t"), 0);
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_closed_subscriber_leaves_at_the_next_publish() {
    bounded(async {
        let topics = Topics::new();
        let (read, me, mut raw) = subscriber().await;
        topics.subscribe("t", &me);
        let task = drive(read);
        tokio::io::AsyncWriteExt::write_all(&mut raw, &client_frame(0x8, &close_body(1000, "")))
            .await
            .unwrap();
        assert!(task.await.unwrap().is_none());
        assert_eq!(
            topics.publish("t", &PreparedMessage::text("late")),
            stats(0, 0, 0, 1)
        );
        assert_eq!(topics.subscribers("t"), 0);
    })
    .await;
}

/// A server accepting permessage-deflate with `server`, and a client offering the defaults.
async fn deflate_subscriber(
    server: DeflateConfig,
) -> (
    ReadHalf<DuplexStream>,
    Subscriber,
    wslane_tokio::WebSocketStream<DuplexStream>,
) {
    let (server_io, client_io) = tokio::io::duplex(PIPE);
    let mut server_config = ServerConfig::default();
    server_config
        .extensions
        .push(Arc::new(PerMessageDeflate::new(server)));
    let request = in_memory_request()
        .extension(Arc::new(PerMessageDeflate::default()))
        .unwrap();
    let (accepted, connected) = tokio::join!(
        wslane_tokio::accept_with(server_io, server_config, Config::default(), |_| {
            Ok(Acceptance::new())
        }),
        wslane_tokio::client_on(client_io, request, Config::default())
    );
    let (read, write) = accepted.unwrap().split();
    let me = write.subscriber();
    (read, me, connected.unwrap().0)
}

#[tokio::test(start_paused = true)]
async fn deflate_is_shared_without_context_takeover_and_per_connection_with_it() {
    bounded(async {
        let topics = Topics::new();
        let mut no_takeover = DeflateConfig::default();
        no_takeover.server_no_context_takeover = true;
        let mut clients = Vec::new();
        for server in [
            no_takeover,
            no_takeover,
            no_takeover,
            DeflateConfig::default(),
        ] {
            let (read, me, client) = deflate_subscriber(server).await;
            topics.subscribe("t", &me);
            drive(read);
            clients.push(client);
        }
        let text: String = (0..3000)
            .map(|i| format!("{} ", i * 7919 % 10007))
            .collect();
        let message = PreparedMessage::text(&text);
        for _ in 0..2 {
            assert_eq!(topics.publish("t", &message), stats(4, 0, 0, 0));
        }
        assert_eq!(
            message.encodings(),
            1,
            "one compressed frame for the three that reset their compressor"
        );
        for client in &mut clients {
            for _ in 0..2 {
                assert_eq!(
                    client.recv().await.unwrap().unwrap(),
                    Message::text(text.clone())
                );
            }
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn accept_negotiates_the_memory_conscious_deflate_so_publishes_share_one_compression() {
    bounded(async {
        let topics = Topics::new();
        let mut clients = Vec::new();
        for _ in 0..3 {
            let (server_io, client_io) = tokio::io::duplex(PIPE);
            let request = in_memory_request()
                .extension(Arc::new(PerMessageDeflate::default()))
                .unwrap();
            let (accepted, connected) = tokio::join!(
                wslane_tokio::accept(server_io),
                wslane_tokio::client_on(client_io, request, Config::default())
            );
            let (client, response) = connected.unwrap();
            assert_eq!(
                response.headers.get_str("sec-websocket-extensions"),
                Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=12")
            );
            let (read, write) = accepted.unwrap().split();
            topics.subscribe("t", &write.subscriber());
            drive(read);
            clients.push(client);
        }
        let text: String = (0..3000)
            .map(|i| format!("{} ", i * 7919 % 10007))
            .collect();
        let message = PreparedMessage::text(&text);
        assert_eq!(topics.publish("t", &message), stats(3, 0, 0, 0));
        assert_eq!(message.encodings(), 1);
        for client in &mut clients {
            assert_eq!(
                client.recv().await.unwrap().unwrap(),
                Message::text(text.clone())
            );
        }
    })
    .await;
}
