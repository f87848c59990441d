//! The chat example scaled out over Redis (`chat ADDR --redis URL`): three processes share their rooms
//! through one `redis-server` (Debian's, started by the test on a free loopback port; see
//! `wslane_interop::RedisServer`), with WebSocket members on each.
//!
//! - Every line reaches the members of every process, rooms stay apart, and a process that dies takes
//!   only its own members with it.
//! - Redis restarting: each process logs the loss, keeps serving its own members, reconnects, and logs
//!   the gap; lines said during the gap are not relayed, and lines flow again afterwards.
//!
//! Like the interop tests, these run the example binary that `cargo test` (default targets) builds, and a
//! missing `redis-server` fails them (`scripts/setup-interop.sh` installs it). Every wait is bounded by
//! [`TIMEOUT`]; nothing sleeps for a fixed time.

use futures_util::StreamExt;
use serde_json::Value;
use wslane_interop::{Process, RedisServer, TIMEOUT};
use wslane_tokio::{
    ClientRequest, Config, Connector, MaybeTlsStream, Message, Url, WebSocketStream,
};

const PACKAGE: &str = "wslane-tokio";

/// One chat process, linked to Redis.
struct Chat {
    process: Process,
    /// The page's URL, `http://127.0.0.1:<port>/`.
    page: String,
}

/// Starts the chat with `--redis` and `flags`, and waits until it has subscribed on Redis.
fn spawn_linked(redis: &RedisServer, flags: &[&str]) -> Chat {
    let url = redis.url();
    let mut args = vec!["--redis", url.as_str()];
    args.extend_from_slice(flags);
    let (mut process, page) = wslane_interop::spawn_chat_with(PACKAGE, &args);
    process.wait_for_output("the Redis link", TIMEOUT, |out| {
        out.contains("redis: relaying rooms through ")
    });
    Chat { process, page }
}

/// Waits until `chat` has written `needle` `times` times.
fn wait_for_log(chat: &mut Chat, needle: &str, times: usize) {
    chat.process
        .wait_for_output(&format!("{times} × {needle:?}"), TIMEOUT, |out| {
            out.matches(needle).count() >= times
        });
}

/// A WebSocket member of a room, with the lines it has read.
struct Member {
    name: String,
    ws: WebSocketStream<MaybeTlsStream>,
    seen: Vec<Value>,
}

impl Member {
    /// Joins `room` (the default room for `None`) on `chat`, reads its name, and waits for its own join
    /// notice, after which it is in the room.
    async fn join(chat: &Chat, room: Option<&str>) -> Member {
        let origin = chat.page.trim_end_matches('/');
        let query = room.map(|room| format!("?room={room}")).unwrap_or_default();
        let url = format!("{}/ws{query}", origin.replacen("http://", "ws://", 1));
        let request = ClientRequest::new(Url::parse(&url).unwrap())
            .origin(origin)
            .unwrap();
        let (ws, _) = wslane_tokio::connect_with(request, Config::default(), Connector::Default)
            .await
            .unwrap_or_else(|err| panic!("{url}: {err}"));
        let mut member = Member {
            name: String::new(),
            ws,
            seen: Vec::new(),
        };
        let welcome = member
            .expect("its welcome", |v| v["kind"] == "welcome")
            .await;
        member.name = welcome["name"].as_str().unwrap().to_owned();
        assert_eq!(welcome["room"], room.unwrap_or("lobby"), "{welcome}");
        let joined = format!("{} joined", member.name);
        member
            .expect(&joined, |v| {
                v["kind"] == "notice" && v["text"] == joined.as_str()
            })
            .await;
        member
    }

    async fn say(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The first line read so far that `matches`, or else the next one read, within [`TIMEOUT`] (every
    /// line read is kept in `seen`: lines from different processes may come in any order).
    async fn expect(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(line) = self.seen.iter().find(|line| matches(line)) {
            return line.clone();
        }
        let found = tokio::time::timeout(TIMEOUT, async {
            loop {
                let text = match self.ws.next().await {
                    Some(Ok(Message::Text(text))) => text,
                    // Keepalive pings (the axum front end sends them) and their pongs.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    other => panic!(
                        "{}: the connection ended before {what}: {other:?}",
                        self.name
                    ),
                };
                let line: Value = serde_json::from_str(&text).unwrap();
                self.seen.push(line.clone());
                if matches(&line) {
                    break line;
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!(
                "{}: no {what} within {TIMEOUT:?}; saw {:?}",
                self.name, self.seen
            )
        })
    }

    /// Reads until `from` said `text`.
    async fn expect_said(&mut self, from: &str, text: &str) {
        self.expect(&format!("{from}: {text}"), |v| {
            v["kind"] == "message" && v["from"] == from && v["text"] == text
        })
        .await;
    }

    /// Whether any line read so far has `text`.
    fn saw_text(&self, text: &str) -> bool {
        self.seen.iter().any(|v| v["text"] == text)
    }

    /// Waits for the end of the connection (its process died): no more lines, within [`TIMEOUT`].
    async fn expect_end(&mut self) {
        let ended = tokio::time::timeout(TIMEOUT, async {
            while let Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) =
                self.ws.next().await
            {}
        })
        .await;
        assert!(ended.is_ok(), "{}: still connected", self.name);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Three processes (two on the raw adapter, one through axum), a member on each in the lobby and two more
/// in another room: every lobby line reaches every lobby member, whichever process it was said on; a line
/// of the other room reaches its members and no lobby member. Then one process dies: its member's
/// connection ends, and the members of the other two keep chatting.
#[test]
fn three_processes_share_rooms_and_one_dying_takes_only_its_members() {
    let redis = RedisServer::start();
    let mut a = spawn_linked(&redis, &[]);
    let b = spawn_linked(&redis, &["--axum"]);
    let mut c = spawn_linked(&redis, &[]);
    let rt = runtime();
    rt.block_on(async {
        let mut one = Member::join(&a, None).await;
        let mut two = Member::join(&b, None).await;
        let mut three = Member::join(&c, None).await;
        let names = [&one.name, &two.name, &three.name];
        for (i, name) in names.iter().enumerate() {
            assert!(
                names.iter().skip(i + 1).all(|other| other != name),
                "names must be unique across processes: {names:?}"
            );
        }

        let said = [
            (one.name.clone(), "hello from a ✓"),
            (two.name.clone(), "hello from b 🦀"),
            (three.name.clone(), "hello from c"),
        ];
        one.say(said[0].1).await;
        two.say(said[1].1).await;
        three.say(said[2].1).await;
        for member in [&mut one, &mut two, &mut three] {
            for (from, text) in &said {
                member.expect_said(from, text).await;
            }
        }

        // Rooms stay apart across processes: c's line in `side` reaches a's member there, not the lobby;
        // the lobby line c says after it reaches the lobby after it (one Redis connection keeps order).
        let mut side_a = Member::join(&a, Some("side")).await;
        let mut side_c = Member::join(&c, Some("side")).await;
        side_c.say("only in side").await;
        side_a.expect_said(&side_c.name, "only in side").await;
        three.say("back in the lobby").await;
        one.expect_said(&three.name, "back in the lobby").await;
        assert!(!one.saw_text("only in side"), "{:?}", one.seen);

        // b dies: its member is cut off, a and c go on.
        drop(b);
        two.expect_end().await;
        one.say("b is gone").await;
        three.expect_said(&one.name, "b is gone").await;
        three.say("still here").await;
        one.expect_said(&three.name, "still here").await;
    });
    for chat in [&mut a, &mut c] {
        assert!(
            !chat.process.output().contains("redis: dropped"),
            "{}",
            chat.process.output()
        );
    }
    drop(redis);
}

/// Redis restarts under three processes: each logs the loss and, once Redis is back, the reconnection and
/// its gap; a line said during the gap reaches its own process's members but no other process; lines
/// flow between all three again afterwards.
#[test]
fn a_redis_restart_is_survived_and_the_gap_is_logged() {
    let mut redis = RedisServer::start();
    let mut chats = [
        spawn_linked(&redis, &[]),
        spawn_linked(&redis, &[]),
        spawn_linked(&redis, &["--axum"]),
    ];
    let rt = runtime();
    let mut members = rt.block_on(async {
        let mut members = Vec::new();
        for chat in &chats {
            members.push(Member::join(chat, None).await);
        }
        members[0].say("before the restart").await;
        let from = members[0].name.clone();
        for member in &mut members {
            member.expect_said(&from, "before the restart").await;
        }
        members
    });

    redis.stop();
    for chat in &mut chats {
        wait_for_log(chat, "redis: connection lost", 1);
    }
    rt.block_on(async {
        // The process goes on serving its own members meanwhile.
        let from = members[0].name.clone();
        members[0].say("during the gap").await;
        members[0].expect_said(&from, "during the gap").await;
    });

    redis.restart();
    for chat in &mut chats {
        wait_for_log(chat, "redis: reconnected after ", 1);
    }
    let log = chats[0].process.output();
    let reconnected = log
        .lines()
        .find(|line| line.starts_with("redis: reconnected after "))
        .unwrap();
    assert!(
        reconnected
            .contains(" ms; messages published meanwhile were not relayed (1 from this process)"),
        "{reconnected}"
    );

    rt.block_on(async {
        let (first, rest) = members.split_at_mut(1);
        let first = &mut first[0];
        first.say("after the restart").await;
        for member in rest.iter_mut() {
            member.expect_said(&first.name, "after the restart").await;
            // The gap's line was never relayed: the next line from that process is the one after.
            assert!(!member.saw_text("during the gap"), "{:?}", member.seen);
        }
        let last = rest.len() - 1;
        let last_name = rest[last].name.clone();
        rest[last].say("and back").await;
        first.expect_said(&last_name, "and back").await;
        rest[0].expect_said(&last_name, "and back").await;
    });
    assert!(
        !redis.output().is_empty(),
        "the restarted Redis logged nothing"
    );
}
