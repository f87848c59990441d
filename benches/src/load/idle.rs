//! `wsload idle`: a server's memory per open connection, idle after the handshake and again after every
//! connection has echoed one large message.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use super::engine::Engine;
use super::frame::OP_BINARY;
use super::json::Json;
use super::procfs::{self, Memory};
use super::run::{machine_json, servers_json, unix_time};
use super::scenario::{binary_payload, Workload};
use super::server::{ServerProcess, ServerSpec};

/// Descriptors the tool and each server need besides one per connection.
const SPARE_FILES: u64 = 64;

/// How long a server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What `wsload idle` measures.
#[derive(Clone, Debug)]
pub struct IdleConfig {
    /// The servers, each measured with a fresh process.
    pub servers: Vec<ServerSpec>,
    /// Connections opened to each server.
    pub connections: usize,
    /// Handshakes in progress at once.
    pub max_pending: usize,
    /// Size of the message each connection exchanges after the idle measurement.
    pub exchange_len: usize,
    /// Connections exchanging their message at once.
    pub exchange_concurrency: usize,
}

/// One server's memory measurement.
#[derive(Clone, Debug, Default)]
pub struct IdleResult {
    /// The server's name.
    pub name: String,
    /// Connections opened.
    pub connections: usize,
    /// Memory once started, before any connection.
    pub before: Memory,
    /// Memory with every connection open and idle.
    pub idle: Memory,
    /// Memory after every connection echoed one message.
    pub after: Memory,
    /// Seconds to open every connection.
    pub connect_secs: f64,
    /// Seconds for every connection to exchange its message.
    pub exchange_secs: f64,
    /// Connections the server did not close within the closing deadline.
    pub unclean_closes: usize,
    /// Of those, connections whose close frame the server did not answer.
    pub unanswered_closes: usize,
    /// Lines the server wrote to its standard error.
    pub server_error_lines: u64,
    /// The first of them.
    pub server_errors: Vec<String>,
    /// Why the measurement failed, if it did.
    pub failure: Option<String>,
}

impl IdleResult {
    fn per_connection(&self, later: u64, earlier: u64) -> Option<f64> {
        (self.connections > 0 && self.failure.is_none())
            .then(|| (later as f64 - earlier as f64) / self.connections as f64)
    }

    /// Resident bytes per idle connection.
    #[must_use]
    pub fn idle_rss_per_connection(&self) -> Option<f64> {
        self.per_connection(self.idle.rss, self.before.rss)
    }

    /// Anonymous resident bytes per idle connection.
    #[must_use]
    pub fn idle_anon_per_connection(&self) -> Option<f64> {
        self.per_connection(self.idle.anon, self.before.anon)
    }

    /// Resident bytes per connection after the exchange.
    #[must_use]
    pub fn after_rss_per_connection(&self) -> Option<f64> {
        self.per_connection(self.after.rss, self.before.rss)
    }

    /// Anonymous resident bytes per connection after the exchange.
    #[must_use]
    pub fn after_anon_per_connection(&self) -> Option<f64> {
        self.per_connection(self.after.anon, self.before.anon)
    }

    /// Peak resident bytes per connection, over the whole measurement.
    #[must_use]
    pub fn peak_rss_per_connection(&self) -> Option<f64> {
        self.per_connection(self.after.peak, self.before.rss)
    }
}

/// Checks that this process (and so each server it starts) may open enough descriptors and local ports.
///
/// # Errors
///
/// With a message that says what to raise, when they do not suffice.
pub fn check_limits(connections: usize) -> io::Result<()> {
    let need = connections as u64 + SPARE_FILES;
    let (soft, hard) = procfs::open_files_limit()?;
    if soft < need {
        let fix = if hard >= need {
            format!("raise it first (`ulimit -n {hard}`) or pass fewer --connections")
        } else {
            format!(
                "the hard limit is {hard}, so pass --connections {} or fewer",
                hard.saturating_sub(SPARE_FILES)
            )
        };
        return Err(io::Error::other(format!(
            "{connections} connections need about {need} open files in this process and in each server, but \
             the limit is {soft}: {fix}"
        )));
    }
    let ports = procfs::local_port_count()?;
    if (connections as u64) > ports {
        return Err(io::Error::other(format!(
            "{connections} connections need as many local ports, but only {ports} are in \
             net.ipv4.ip_local_port_range: pass fewer --connections"
        )));
    }
    Ok(())
}

/// Measures every server in turn, calling `done` after each.
#[must_use]
pub fn run(config: &IdleConfig, mut done: impl FnMut(&IdleResult)) -> Vec<IdleResult> {
    let mut results = Vec::new();
    for spec in &config.servers {
        eprintln!(
            "== idle: {} connections to {}",
            config.connections, spec.name
        );
        let mut result = IdleResult {
            name: spec.name.clone(),
            connections: config.connections,
            ..IdleResult::default()
        };
        match ServerProcess::start(spec, START_TIMEOUT) {
            Ok(mut server) => {
                if let Err(err) = measure(&mut server, config, &mut result) {
                    result.failure = Some(err.to_string());
                }
                let log = server.error_log();
                result.server_error_lines = log.lines;
                result.server_errors = log.first;
            }
            Err(err) => result.failure = Some(err.to_string()),
        }
        if let Some(why) = &result.failure {
            eprintln!("{}: FAILED: {why}", spec.name);
        }
        done(&result);
        results.push(result);
    }
    results
}

fn measure(
    server: &mut ServerProcess,
    config: &IdleConfig,
    result: &mut IdleResult,
) -> io::Result<()> {
    result.before = settle(server)?;
    let mut engine = Engine::new(server.addr)?;
    let start = Instant::now();
    engine.open(
        config.connections,
        config.max_pending,
        Duration::from_secs(120),
    )?;
    result.connect_secs = start.elapsed().as_secs_f64();
    result.idle = settle(server)?;
    eprintln!(
        "{}: {} connections open in {:.1} s; RSS {} → {} ({:.0} B per connection)",
        server.name,
        config.connections,
        result.connect_secs,
        mib(result.before.rss),
        mib(result.idle.rss),
        result.idle_rss_per_connection().unwrap_or(f64::NAN)
    );
    let workload = Workload::new(OP_BINARY, binary_payload(config.exchange_len), 1);
    let start = Instant::now();
    engine.exchange(
        workload,
        config.exchange_concurrency,
        Duration::from_secs(300),
    )?;
    result.exchange_secs = start.elapsed().as_secs_f64();
    result.after = settle(server)?;
    eprintln!(
        "{}: every connection echoed {} bytes in {:.1} s; RSS {} ({:.0} B per connection), peak {}",
        server.name,
        config.exchange_len,
        result.exchange_secs,
        mib(result.after.rss),
        result.after_rss_per_connection().unwrap_or(f64::NAN),
        mib(result.after.peak)
    );
    let close = engine.close(Duration::from_secs(20))?;
    result.unclean_closes = close.unclean;
    result.unanswered_closes = close.unanswered;
    server.check_alive()
}

/// Waits until the server's memory stops changing (at most a few seconds) and returns it.
pub(crate) fn settle(server: &mut ServerProcess) -> io::Result<Memory> {
    const STEP: Duration = Duration::from_millis(200);
    const SAME: u64 = 64 << 10;
    let deadline = Instant::now() + Duration::from_secs(5);
    thread::sleep(STEP);
    let mut last = server.memory()?;
    let mut last_cpu = server.cpu_time()?;
    loop {
        thread::sleep(STEP);
        server.check_alive()?;
        let now = server.memory()?;
        let cpu = server.cpu_time()?;
        if (now.rss.abs_diff(last.rss) <= SAME && cpu == last_cpu) || Instant::now() >= deadline {
            return Ok(now);
        }
        (last, last_cpu) = (now, cpu);
    }
}

pub(crate) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

pub(crate) fn memory_json(memory: &Memory) -> Json {
    Json::obj([
        ("rss", Json::int(memory.rss)),
        ("anon", Json::int(memory.anon)),
        ("peak", Json::int(memory.peak)),
    ])
}

/// The JSON report of an idle measurement; `command` is the tool's command line, `started` the Unix time
/// and load average when it started.
#[must_use]
pub fn to_json(
    config: &IdleConfig,
    results: &[IdleResult],
    command: &[String],
    started: (u64, Option<[f64; 3]>),
) -> Json {
    let servers = results
        .iter()
        .map(|r| {
            Json::obj([
                ("name", Json::str(&r.name)),
                ("connections", Json::int(r.connections)),
                ("before", memory_json(&r.before)),
                ("idle", memory_json(&r.idle)),
                ("after_exchange", memory_json(&r.after)),
                (
                    "idle_rss_per_connection",
                    Json::opt(r.idle_rss_per_connection()),
                ),
                (
                    "idle_anon_per_connection",
                    Json::opt(r.idle_anon_per_connection()),
                ),
                (
                    "after_rss_per_connection",
                    Json::opt(r.after_rss_per_connection()),
                ),
                (
                    "after_anon_per_connection",
                    Json::opt(r.after_anon_per_connection()),
                ),
                (
                    "peak_rss_per_connection",
                    Json::opt(r.peak_rss_per_connection()),
                ),
                ("connect_secs", Json::Num(r.connect_secs)),
                ("exchange_secs", Json::Num(r.exchange_secs)),
                ("unclean_closes", Json::int(r.unclean_closes)),
                ("unanswered_closes", Json::int(r.unanswered_closes)),
                ("server_error_lines", Json::int(r.server_error_lines)),
                (
                    "server_errors",
                    Json::Arr(r.server_errors.iter().cloned().map(Json::Str).collect()),
                ),
                ("failure", r.failure.clone().map_or(Json::Null, Json::Str)),
            ])
        })
        .collect();
    Json::obj([
        ("kind", Json::str("wsload-idle")),
        ("version", Json::Int(1)),
        ("started_unix_time", Json::int(started.0)),
        ("finished_unix_time", Json::int(unix_time())),
        ("machine", machine_json(started.1)),
        (
            "command",
            Json::Arr(command.iter().cloned().map(Json::Str).collect()),
        ),
        ("connections", Json::int(config.connections)),
        ("exchange_bytes", Json::int(config.exchange_len)),
        (
            "exchange_concurrency",
            Json::int(config.exchange_concurrency),
        ),
        ("servers_spec", servers_json(&config.servers)),
        ("servers", Json::Arr(servers)),
    ])
}
