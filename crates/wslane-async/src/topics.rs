//! Publish and subscribe by topic: one [`PreparedMessage`] to every subscriber of a topic.
//!
//! [`Topics`] maps topic names to subscribers. A subscriber is the sending side of one connection
//! ([`WriteHalf::subscriber`](crate::WriteHalf::subscriber)), of any runtime and transport: TCP on tokio,
//! async-std or smol, TLS, a `wslane-hyper` upgrade, all in one `Topics`. [`Topics::publish`] queues the
//! message on each subscriber without waiting ([`WebSocket::try_send_prepared`](crate::WebSocket::try_send_prepared)):
//! on a server, each connection queues a reference to the message's one framed (and, where the
//! connection's permessage-deflate settings allow it, compressed) copy, so publishing costs no copy and
//! no allocation per subscriber. The subscriber's own task, receiving on the read half, writes it out.
//!
//! # Slow subscribers
//!
//! Each subscriber's queue is its connection's output buffer, bounded by [`SlowPolicy::max_buffered`]
//! (and by [`Config::max_output_buffer`](wslane::Config::max_output_buffer)). A publish that finds it
//! full drops the message for that subscriber (counted in [`TopicStats::dropped`]); after
//! [`SlowPolicy::max_dropped`] drops in a row (0 by default: the first one) the subscriber is cut off: its
//! connection is aborted through its [`AbortHandle`](crate::AbortHandle) with close code 1013 (Try Again
//! Later) and it leaves the topic (counted in [`TopicStats::closed_slow`]). The abort drops the queued
//! output: the close frame reaches the peer only if the transport takes it at once, so a peer that stopped
//! reading usually sees the transport end. The subscriber's read half returns
//! [`Error::Aborted`](crate::Error::Aborted). A subscriber whose connection has closed leaves the topic at
//! the next publish.
//!
//! ```
//! # async fn serve<S: Unpin + Send + 'static, R: wslane_async::Transport<S> + 'static>(
//! #     topics: wslane_async::topics::Topics,
//! #     ws: wslane_async::WebSocket<S, R>,
//! # ) where wslane_async::WebSocket<S, R>: Send {
//! use wslane::PreparedMessage;
//!
//! let (mut read, write) = ws.split();
//! let me = write.subscriber();
//! topics.subscribe("prices", &me);
//! // Elsewhere: topics.publish("prices", &PreparedMessage::text("EURUSD 1.0842"));
//! while let Some(Ok(_message)) = read.recv().await {} // keeps writing what is published
//! topics.unsubscribe_all(&me);
//! # }
//! ```

use std::collections::HashMap;
use std::string::String;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use wslane::{CloseCode, PreparedMessage};

use crate::runtime::Transport;
use crate::{TrySendPreparedError, WebSocket};

/// What a publish can do with one connection; implemented by the lock a split socket's halves share.
pub(crate) trait Deliver: Send + Sync {
    /// Queues `message` unless `max_buffered` bytes or the connection's own limit would be passed.
    fn try_deliver(
        &self,
        message: &PreparedMessage,
        max_buffered: usize,
    ) -> Result<(), TrySendPreparedError>;

    /// Aborts the connection with `code` and `reason`.
    fn abort(&self, code: CloseCode, reason: &str);
}

impl<S: Unpin, R: Transport<S>> Deliver for Mutex<WebSocket<S, R>>
where
    WebSocket<S, R>: Send,
{
    fn try_deliver(
        &self,
        message: &PreparedMessage,
        max_buffered: usize,
    ) -> Result<(), TrySendPreparedError> {
        let mut ws = self.lock().unwrap_or_else(PoisonError::into_inner);
        let buffered = ws.connection().buffered_output();
        if buffered > 0 && buffered.saturating_add(message.frame().len()) > max_buffered {
            return Err(TrySendPreparedError::Full);
        }
        ws.try_send_prepared(message)
    }

    fn abort(&self, code: CloseCode, reason: &str) {
        let handle = self
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .abort_handle();
        handle.abort(code, reason);
    }
}

/// One connection as a subscriber: a cheap, cloneable handle (clones are the same subscriber). Made by
/// [`WriteHalf::subscriber`](crate::WriteHalf::subscriber).
#[derive(Clone)]
pub struct Subscriber {
    inner: Arc<SubscriberInner>,
}

struct SubscriberInner {
    id: u64,
    socket: Arc<dyn Deliver>,
    /// Publishes dropped in a row for lack of room.
    missed: AtomicU32,
}

impl core::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Subscriber")
            .field("id", &self.inner.id)
            .field("missed", &self.inner.missed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Subscriber {
    pub(crate) fn new(socket: Arc<dyn Deliver>) -> Subscriber {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Subscriber {
            inner: Arc::new(SubscriberInner {
                id: NEXT.fetch_add(1, Ordering::Relaxed),
                socket,
                missed: AtomicU32::new(0),
            }),
        }
    }

    /// A number unique to this subscriber in the process.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.inner.id
    }
}

/// What [`Topics`] does with a subscriber that does not keep up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlowPolicy {
    /// The most bytes a subscriber may have queued for it: a publish that would go past it (on a
    /// connection with anything queued) is dropped for that subscriber. The connection's own
    /// [`Config::max_output_buffer`](wslane::Config::max_output_buffer) applies too. Default: 1 MiB (that
    /// of the default `Config`).
    pub max_buffered: usize,
    /// How many publishes in a row a subscriber may miss before it is cut off with close code 1013.
    /// Default: 0, cut off at the first message it cannot take (no silent gaps).
    pub max_dropped: u32,
}

impl Default for SlowPolicy {
    fn default() -> SlowPolicy {
        SlowPolicy {
            max_buffered: 1 << 20,
            max_dropped: 0,
        }
    }
}

/// Counters, since the [`Topics`] was made; [`Published`] has one publish's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopicStats {
    /// Messages queued on a subscriber.
    pub delivered: u64,
    /// Messages a subscriber had no room for (the cut-off ones included).
    pub dropped: u64,
    /// Subscribers cut off as too slow (aborted with 1013).
    pub closed_slow: u64,
    /// Subscribers removed because their connection had ended or was closing.
    pub gone: u64,
}

/// What one [`Topics::publish`] did.
pub type Published = TopicStats;

/// A map from topic names to subscribers, shared by every task that subscribes or publishes (a cheap
/// clone: clones share the map). See the [module](self) documentation.
#[derive(Clone, Debug, Default)]
pub struct Topics {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    topics: Mutex<HashMap<String, HashMap<u64, Subscriber>>>,
    policy: SlowPolicy,
    delivered: AtomicU64,
    dropped: AtomicU64,
    closed_slow: AtomicU64,
    gone: AtomicU64,
}

impl Topics {
    /// No topics yet, the default [`SlowPolicy`].
    #[must_use]
    pub fn new() -> Topics {
        Topics::default()
    }

    /// No topics yet, with `policy` for slow subscribers.
    #[must_use]
    pub fn with_policy(policy: SlowPolicy) -> Topics {
        Topics {
            shared: Arc::new(Shared {
                policy,
                ..Shared::default()
            }),
        }
    }

    fn topics(&self) -> MutexGuard<'_, HashMap<String, HashMap<u64, Subscriber>>> {
        // Every change is a single insert or remove: a poisoned map is still consistent.
        self.shared
            .topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Subscribes `subscriber` to `topic`; `false` if it already was.
    pub fn subscribe(&self, topic: &str, subscriber: &Subscriber) -> bool {
        let mut topics = self.topics();
        let members = match topics.get_mut(topic) {
            Some(members) => members,
            None => topics.entry(topic.into()).or_default(),
        };
        members
            .insert(subscriber.id(), subscriber.clone())
            .is_none()
    }

    /// Unsubscribes `subscriber` from `topic`; `false` if it was not subscribed.
    pub fn unsubscribe(&self, topic: &str, subscriber: &Subscriber) -> bool {
        let mut topics = self.topics();
        let Some(members) = topics.get_mut(topic) else {
            return false;
        };
        let removed = members.remove(&subscriber.id()).is_some();
        if members.is_empty() {
            topics.remove(topic);
        }
        removed
    }

    /// Unsubscribes `subscriber` from every topic (when its connection ends); returns from how many.
    pub fn unsubscribe_all(&self, subscriber: &Subscriber) -> usize {
        let mut topics = self.topics();
        let mut count = 0;
        topics.retain(|_, members| {
            count += usize::from(members.remove(&subscriber.id()).is_some());
            !members.is_empty()
        });
        count
    }

    /// How many subscribers `topic` has.
    #[must_use]
    pub fn subscribers(&self, topic: &str) -> usize {
        self.topics().get(topic).map_or(0, HashMap::len)
    }

    /// Queues `message` on every subscriber of `topic`, without waiting on any, and applies the
    /// [`SlowPolicy`] to those without room. Returns what happened; [`stats`](Self::stats) adds it up.
    pub fn publish(&self, topic: &str, message: &PreparedMessage) -> Published {
        let policy = self.shared.policy;
        let mut published = Published::default();
        let mut topics = self.topics();
        let Some(members) = topics.get_mut(topic) else {
            return published;
        };
        members.retain(|_, subscriber| {
            let inner = &subscriber.inner;
            match inner.socket.try_deliver(message, policy.max_buffered) {
                Ok(()) => {
                    inner.missed.store(0, Ordering::Relaxed);
                    published.delivered += 1;
                    true
                }
                Err(TrySendPreparedError::Full) => {
                    published.dropped += 1;
                    let missed = inner.missed.fetch_add(1, Ordering::Relaxed) + 1;
                    if missed > policy.max_dropped {
                        inner.socket.abort(CloseCode::TRY_AGAIN_LATER, "too slow");
                        published.closed_slow += 1;
                        false
                    } else {
                        true
                    }
                }
                Err(TrySendPreparedError::Failed(_)) => {
                    published.gone += 1;
                    false
                }
            }
        });
        if members.is_empty() {
            topics.remove(topic);
        }
        drop(topics);
        let shared = &self.shared;
        shared
            .delivered
            .fetch_add(published.delivered, Ordering::Relaxed);
        shared
            .dropped
            .fetch_add(published.dropped, Ordering::Relaxed);
        shared
            .closed_slow
            .fetch_add(published.closed_slow, Ordering::Relaxed);
        shared.gone.fetch_add(published.gone, Ordering::Relaxed);
        published
    }

    /// The counters since this `Topics` was made.
    #[must_use]
    pub fn stats(&self) -> TopicStats {
        let shared = &self.shared;
        TopicStats {
            delivered: shared.delivered.load(Ordering::Relaxed),
            dropped: shared.dropped.load(Ordering::Relaxed),
            closed_slow: shared.closed_slow.load(Ordering::Relaxed),
            gone: shared.gone.load(Ordering::Relaxed),
        }
    }
}
