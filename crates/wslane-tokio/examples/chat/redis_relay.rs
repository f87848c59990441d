//! Scale-out (`--redis URL`): processes share rooms through Redis pub/sub.
//!
//! Each process keeps one Redis connection (RESP3, so one connection both subscribes and publishes). It
//! subscribes to every room's channel (`PSUBSCRIBE wslane-chat:room:*`) and publishes each line its own
//! members say, or its own join and leave notices, to the room's channel, in the format of
//! [`relay_wire`](crate::relay_wire).
//!
//! - **Own lines are delivered locally, at once**, and handed to Redis; when Redis hands them back, the
//!   process passes over them (they carry its [`origin`](crate::node::Node::origin)). So members of one
//!   process keep chatting while Redis is away, and a line reaches its own process without a round trip.
//!   The price: two processes may show two lines said at the same moment in different orders.
//! - **From Redis to the topics there is no queue**: the connection's push handler checks each message and
//!   publishes it to the room's topic, which never waits. A malformed message is logged and dropped.
//! - **From the topics to Redis, one bounded queue** ([`OUTBOX`] lines): [`Relay::publish`] never waits;
//!   a line that finds it full is not relayed (counted, and logged).
//! - **When the connection is lost** (Redis restarts, or stops answering the 5-second ping), the process
//!   says so, keeps serving its own members, and reconnects with a growing, jittered delay (0.1 s doubling
//!   to 5 s). Lines said meanwhile are not relayed, and lines published by others meanwhile are never seen
//!   here: the reconnection is logged with the gap (`redis: reconnected after N ms; messages published
//!   meanwhile were not relayed`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ProtocolVersion, PushInfo, PushKind, RedisError, Value,
};
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use wslane_tokio::{PreparedMessage, Topics};

use crate::event::ChatEvent;
use crate::node::{random_u64, Node};
use crate::relay_wire::{self, BadPayload, PATTERN};

/// Lines waiting to be published to Redis, at most.
pub(crate) const OUTBOX: usize = 1024;
/// The first delay before reconnecting; each failure doubles it, up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
/// The longest delay between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a connection attempt, or a command, may take before the link counts as lost.
const TIMEOUT: Duration = Duration::from_secs(2);
/// How often an idle link is checked with a `PING` (a Redis that hangs sends no end of stream).
const PING_EVERY: Duration = Duration::from_secs(5);

/// The sending side of the relay, shared by the rooms. The link itself runs in a task of its own.
pub(crate) struct Relay {
    outbox: mpsc::Sender<Outgoing>,
    shared: Arc<Shared>,
    origin: String,
}

/// What [`Relay::publish`] and the link task both see.
#[derive(Default)]
struct Shared {
    /// Whether the link is up: while it is down, lines are counted, not queued.
    linked: AtomicBool,
    /// Lines not relayed while the link was down, since the last report.
    unrelayed: AtomicU64,
    /// Lines not relayed because the outbox was full, since the last report.
    overflowed: AtomicU64,
}

/// One line for Redis: the room's channel and the payload.
struct Outgoing {
    channel: String,
    payload: String,
}

/// Why the relay cannot start.
#[derive(Debug)]
pub(crate) enum RelayError {
    /// The `--redis` argument is not a Redis URL.
    Url(RedisError),
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RelayError::Url(err) => write!(f, "not a Redis URL: {err}"),
        }
    }
}

impl std::error::Error for RelayError {}

/// Why a link ended, or could not be made.
#[derive(Debug)]
enum LinkError {
    Connect(RedisError),
    Subscribe(RedisError),
    Publish(RedisError),
    Ping(RedisError),
    /// The connection reported its end (Redis closed it, or went away).
    Closed,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Connect(err) => write!(f, "connect: {err}"),
            LinkError::Subscribe(err) => write!(f, "subscribe: {err}"),
            LinkError::Publish(err) => write!(f, "publish: {err}"),
            LinkError::Ping(err) => write!(f, "ping: {err}"),
            LinkError::Closed => f.write_str("connection closed"),
        }
    }
}

impl Relay {
    /// Checks `url` and starts the link task, which delivers what other processes publish into `topics`.
    /// Must be called inside the tokio runtime.
    pub(crate) fn start(url: &str, topics: Topics, node: &Node) -> Result<Relay, RelayError> {
        let client = Client::open(url).map_err(RelayError::Url)?;
        // RESP3: pushes (the subscribed messages) and replies share one connection.
        let info = client.get_connection_info().clone();
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(settings)).map_err(RelayError::Url)?;
        let (outbox, queued) = mpsc::channel(OUTBOX);
        let shared = Arc::new(Shared::default());
        let link = Link {
            client,
            topics,
            node: node.clone(),
            shared: shared.clone(),
        };
        tokio::spawn(link.run(queued));
        Ok(Relay {
            outbox,
            shared,
            origin: node.origin.clone(),
        })
    }

    /// Hands `event`, said in `room`, to the other processes, without waiting: while the link is down,
    /// or when the outbox is full, it is counted and not relayed.
    pub(crate) fn publish(&self, room: &str, event: &ChatEvent) {
        if !self.shared.linked.load(Ordering::Acquire) {
            self.shared.unrelayed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let line = Outgoing {
            channel: relay_wire::channel(room),
            payload: relay_wire::encode(&self.origin, event),
        };
        match self.outbox.try_send(line) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if self.shared.overflowed.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("redis: outbox full ({OUTBOX} lines): lines are not relayed until it drains");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.shared.unrelayed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The link task's state: the client to (re)connect with, and where messages go.
struct Link {
    client: Client,
    topics: Topics,
    node: Node,
    shared: Arc<Shared>,
}

impl Link {
    /// Connects, serves until the link is lost, and reconnects, for as long as the [`Relay`] lives.
    async fn run(self, mut queued: mpsc::Receiver<Outgoing>) {
        let server = self.client.get_connection_info().addr().to_string();
        let mut ever_linked = false;
        // Since when the link has been down, when it is.
        let mut down_since: Option<Instant> = None;
        let mut backoff = MIN_BACKOFF;
        loop {
            let (connection, closed) = match self.connect().await {
                Ok(link) => link,
                Err(err) => {
                    if down_since.is_none() {
                        down_since = Some(Instant::now());
                        println!(
                            "redis: cannot connect to {server} ({err}); retrying with backoff"
                        );
                    }
                    tokio::time::sleep(jittered(backoff)).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            backoff = MIN_BACKOFF;
            // What was queued when the link went down is as stale as what was said since.
            let mut stale = 0;
            while queued.try_recv().is_ok() {
                stale += 1;
            }
            let unrelayed = self.shared.unrelayed.swap(0, Ordering::Relaxed) + stale;
            let gap = down_since.take().map(|since| since.elapsed().as_millis());
            match (ever_linked, gap) {
                (true, Some(ms)) => println!(
                    "redis: reconnected after {ms} ms; messages published meanwhile were not relayed \
                     ({unrelayed} from this process)"
                ),
                _ => println!(
                    "redis: relaying rooms through {server} as node {} (channels {PATTERN})",
                    self.node.tag
                ),
            }
            ever_linked = true;
            self.shared.linked.store(true, Ordering::Release);
            let ended = self.serve(connection, &closed, &mut queued).await;
            self.shared.linked.store(false, Ordering::Release);
            match ended {
                Ok(()) => return, // the relay was dropped
                Err(err) => {
                    down_since = Some(Instant::now());
                    println!("redis: connection lost ({err}); relaying paused, reconnecting");
                }
            }
        }
    }

    /// One connection, subscribed to every room. The returned `Notify` fires when it ends.
    async fn connect(&self) -> Result<(MultiplexedConnection, Arc<Notify>), LinkError> {
        let closed = Arc::new(Notify::new());
        let delivery = Delivery {
            topics: self.topics.clone(),
            origin: self.node.origin.clone(),
            closed: closed.clone(),
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_push_sender(move |push: PushInfo| {
                delivery.handle(push);
                Ok::<(), ()>(())
            });
        let mut connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(LinkError::Connect)?;
        connection
            .psubscribe(PATTERN)
            .await
            .map_err(LinkError::Subscribe)?;
        Ok((connection, closed))
    }

    /// Publishes queued lines, and pings when idle, until the connection fails (`Err`) or the relay is
    /// dropped (`Ok`).
    async fn serve(
        &self,
        mut connection: MultiplexedConnection,
        closed: &Notify,
        queued: &mut mpsc::Receiver<Outgoing>,
    ) -> Result<(), LinkError> {
        let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                () = closed.notified() => return Err(LinkError::Closed),
                line = queued.recv() => {
                    let Some(line) = line else { return Ok(()) };
                    let published = redis::cmd("PUBLISH")
                        .arg(&line.channel)
                        .arg(&line.payload)
                        .query_async::<i64>(&mut connection)
                        .await;
                    if let Err(err) = published {
                        // This line may or may not have reached Redis: count it with the gap's.
                        self.shared.unrelayed.fetch_add(1, Ordering::Relaxed);
                        return Err(LinkError::Publish(err));
                    }
                    let overflowed = self.shared.overflowed.swap(0, Ordering::Relaxed);
                    if overflowed > 0 {
                        eprintln!("redis: {overflowed} lines were not relayed: the outbox was full");
                    }
                }
                _ = ping.tick() => {
                    redis::cmd("PING")
                        .query_async::<String>(&mut connection)
                        .await
                        .map_err(LinkError::Ping)?;
                }
            }
        }
    }
}

/// The push handler of one connection: runs on the connection's own task for every push, and must not
/// wait.
struct Delivery {
    topics: Topics,
    origin: String,
    closed: Arc<Notify>,
}

impl Delivery {
    fn handle(&self, push: PushInfo) {
        match push.kind {
            PushKind::PMessage => match pattern_message(push.data) {
                // Ours: the members here had it when it was said.
                Ok(incoming) if incoming.origin == self.origin => {}
                Ok(incoming) => {
                    let line = PreparedMessage::text(&incoming.event.to_json());
                    self.topics.publish(&incoming.room, &line);
                }
                Err(err) => eprintln!("redis: dropped a message: {err}"),
            },
            PushKind::Disconnection => self.closed.notify_one(),
            // Subscription confirmations, and anything else Redis may push.
            _ => {}
        }
    }
}

/// A `pmessage` push: the pattern, the channel, the payload.
fn pattern_message(data: Vec<Value>) -> Result<relay_wire::Incoming, BadPayload> {
    match <[Value; 3]>::try_from(data) {
        Ok([_, Value::BulkString(channel), Value::BulkString(payload)]) => {
            relay_wire::decode(&channel, &payload)
        }
        _ => Err(BadPayload::Shape),
    }
}

/// `delay` and up to a quarter more, so that processes that lost Redis together do not all come back at
/// the same instant.
fn jittered(delay: Duration) -> Duration {
    delay + delay.mul_f64((random_u64() % 256) as f64 / 1024.0)
}
