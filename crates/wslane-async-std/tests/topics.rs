//! Topics on the async-io runtimes (async-std and smol), over loopback TCP: every subscriber receives every
//! published message, in order, whether the publisher queues a burst before any reader has run (one wake,
//! one write of them all) or publishes again after the readers have written and gone back to waiting.

mod support;

use futures_util::StreamExt;
use support::bounded;
use wslane_async_std::{Message, PreparedMessage, TopicStats, Topics};

const SUBSCRIBERS: usize = 3;
const BURST: usize = 50;

async fn publish_to_subscribers() {
    let listener = async_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let topics = Topics::new();

    // The clients connect; the server subscribes each connection and starts its read half's task.
    let mut clients = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let connect = wslane_async_std::connect(&url);
        let accept = async {
            let (tcp, _) = listener.accept().await.unwrap();
            wslane_async_std::accept(tcp).await.unwrap()
        };
        let (client, server) = futures_util::join!(connect, accept);
        clients.push(client.unwrap().0);
        let (mut read, write) = server.split();
        assert!(topics.subscribe("news", &write.subscriber()));
        readers.push(smol::spawn(async move {
            let _write = write;
            while let Some(Ok(_)) = read.recv().await {}
        }));
    }

    // A burst queued before any reader ran, then one message at a time after the clients caught up.
    for i in 0..BURST {
        let published = topics.publish("news", &PreparedMessage::text(&format!("burst {i}")));
        assert_eq!(published.delivered, SUBSCRIBERS as u64, "burst {i}");
    }
    for client in &mut clients {
        for i in 0..BURST {
            let message = client.next().await.unwrap().unwrap();
            assert_eq!(message, Message::text(format!("burst {i}")));
        }
    }
    for i in 0..10 {
        topics.publish("news", &PreparedMessage::text(&format!("single {i}")));
        for client in &mut clients {
            let message = client.next().await.unwrap().unwrap();
            assert_eq!(message, Message::text(format!("single {i}")));
        }
    }
    let mut want = TopicStats::default();
    want.delivered = ((BURST + 10) * SUBSCRIBERS) as u64;
    assert_eq!(topics.stats(), want);
    drop(readers);
}

#[test]
fn topics_on_async_std() {
    async_std::task::block_on(bounded(publish_to_subscribers()));
}

#[test]
fn topics_on_smol() {
    smol::block_on(bounded(publish_to_subscribers()));
}
