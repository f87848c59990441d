//! `wsload run`: every scenario against every server, servers alternating within each round, with the
//! server's CPU time read before and after each measurement.

use std::io;
use std::thread;
use std::time::{Duration, Instant};

use super::client::LoadClient;
use super::json::Json;
use super::procfs;
use super::scenario::Scenario;
use super::server::{ServerProcess, ServerSpec};
use super::stats::{paired_ratio, spread, Spread};

/// A measurement fails when no echo arrives for this long.
const STALL: Duration = Duration::from_secs(5);

/// How long opening a scenario's connections may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What `wsload run` measures and how.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The servers, in the order of the first round.
    pub servers: Vec<ServerSpec>,
    /// The scenarios, in order.
    pub scenarios: Vec<Scenario>,
    /// Rounds per scenario; each round measures every server once.
    pub rounds: usize,
    /// Length of one measurement.
    pub duration: Duration,
    /// Load before each measurement starts, not counted.
    pub warmup: Duration,
    /// The server the others are compared with, round by round.
    pub baseline: String,
    /// Threads of the load client.
    pub client_threads: usize,
}

/// One measurement: one server, one scenario, one round.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// The round, from 0.
    pub round: usize,
    /// Echoes received during the measurement.
    pub messages: u64,
    /// Length of the measurement, in seconds.
    pub secs: f64,
    /// CPU time the server used during the measurement.
    pub server_cpu: Duration,
    /// CPU time the load client used during the measurement.
    pub client_cpu: Duration,
    /// Connections that received no echo during the measurement.
    pub stalled: usize,
    /// Connections that failed.
    pub errors: u64,
    /// The first connection errors.
    pub first_errors: Vec<String>,
    /// Connections the server did not close within the closing deadline.
    pub unclean_closes: usize,
    /// Of those, connections whose close frame the server did not answer.
    pub unanswered_closes: usize,
    /// Lines the server wrote to its standard error during the measurement and the closing handshakes.
    pub server_error_lines: u64,
    /// The last few of them.
    pub server_errors: Vec<String>,
    /// Why the measurement failed, if it did; its numbers are then left out of the summaries.
    pub failure: Option<String>,
}

impl Sample {
    fn failed(round: usize, why: String) -> Self {
        Self {
            round,
            failure: Some(why),
            ..Self::default()
        }
    }

    /// Whether the numbers count.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.failure.is_none() && self.messages > 0 && self.secs > 0.0
    }

    /// Echoed messages per second.
    #[must_use]
    pub fn msgs_per_s(&self) -> Option<f64> {
        self.ok().then(|| self.messages as f64 / self.secs)
    }

    /// Echoed payload, one direction, in MB (10^6 bytes) per second.
    #[must_use]
    pub fn mb_per_s(&self, payload_len: usize) -> Option<f64> {
        self.msgs_per_s()
            .map(|rate| rate * payload_len as f64 / 1e6)
    }

    /// Server CPU time per echoed message, in nanoseconds.
    #[must_use]
    pub fn cpu_ns_per_msg(&self) -> Option<f64> {
        self.ok()
            .then(|| self.server_cpu.as_nanos() as f64 / self.messages as f64)
    }

    /// The load client's CPU use as a share of one core.
    #[must_use]
    pub fn client_cpu_share(&self) -> Option<f64> {
        self.ok().then(|| self.client_cpu.as_secs_f64() / self.secs)
    }

    /// The server's CPU use as a share of one core.
    #[must_use]
    pub fn server_cpu_share(&self) -> Option<f64> {
        self.ok().then(|| self.server_cpu.as_secs_f64() / self.secs)
    }
}

/// One server's measurements in a scenario, one per round.
#[derive(Clone, Debug)]
pub struct ServerRun {
    /// The server's name.
    pub name: String,
    /// The measurements, by round.
    pub samples: Vec<Sample>,
}

/// A scenario's measurements.
#[derive(Clone, Debug)]
pub struct ScenarioRun {
    /// The scenario.
    pub scenario: Scenario,
    /// Each server's measurements, in the configured order.
    pub servers: Vec<ServerRun>,
}

/// A server's numbers in a scenario, over rounds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    /// Messages per second.
    pub msgs_per_s: Option<Spread>,
    /// Payload MB per second.
    pub mb_per_s: Option<Spread>,
    /// Server CPU nanoseconds per message.
    pub cpu_ns_per_msg: Option<Spread>,
    /// Load client CPU, share of one core.
    pub client_cpu: Option<Spread>,
    /// Server CPU, share of one core.
    pub server_cpu: Option<Spread>,
    /// Median over rounds of this server's messages per second divided by the baseline's in the same round.
    pub ratio_msgs_per_s: Option<f64>,
    /// Median over rounds of this server's CPU per message divided by the baseline's in the same round.
    pub ratio_cpu_per_msg: Option<f64>,
    /// Rounds whose numbers count.
    pub ok_rounds: usize,
}

impl ScenarioRun {
    /// The summary of server `index`, compared with `baseline` (by name).
    #[must_use]
    pub fn summary(&self, index: usize, baseline: &str) -> Summary {
        let samples = &self.servers[index].samples;
        let collect = |f: &dyn Fn(&Sample) -> Option<f64>| -> Vec<Option<f64>> {
            samples.iter().map(f).collect()
        };
        let spread_of =
            |values: &[Option<f64>]| spread(&values.iter().flatten().copied().collect::<Vec<_>>());
        let rate = collect(&Sample::msgs_per_s);
        let cpu = collect(&Sample::cpu_ns_per_msg);
        let base = self.servers.iter().find(|s| s.name == baseline);
        let base_rate: Option<Vec<Option<f64>>> =
            base.map(|b| b.samples.iter().map(Sample::msgs_per_s).collect());
        let base_cpu: Option<Vec<Option<f64>>> =
            base.map(|b| b.samples.iter().map(Sample::cpu_ns_per_msg).collect());
        Summary {
            msgs_per_s: spread_of(&rate),
            mb_per_s: spread_of(&collect(&|s| s.mb_per_s(self.scenario.payload_len))),
            cpu_ns_per_msg: spread_of(&cpu),
            client_cpu: spread_of(&collect(&Sample::client_cpu_share)),
            server_cpu: spread_of(&collect(&Sample::server_cpu_share)),
            ratio_msgs_per_s: base_rate.and_then(|b| paired_ratio(&rate, &b)),
            ratio_cpu_per_msg: base_cpu.and_then(|b| paired_ratio(&cpu, &b)),
            ok_rounds: samples.iter().filter(|s| s.ok()).count(),
        }
    }
}

/// Runs every scenario of `config`, calling `done` after each one, and returns all measurements.
///
/// Each scenario starts fresh server processes; within a round the servers take turns, and the order
/// rotates from round to round so that no server always runs first or last.
#[must_use]
pub fn run(config: &RunConfig, mut done: impl FnMut(&ScenarioRun)) -> Vec<ScenarioRun> {
    let mut runs = Vec::new();
    for scenario in &config.scenarios {
        eprintln!("== {}: {}", scenario.name, scenario.describe());
        let mut servers: Vec<Result<ServerProcess, String>> = config
            .servers
            .iter()
            .map(|spec| ServerProcess::start(spec, START_TIMEOUT).map_err(|e| e.to_string()))
            .collect();
        let mut run = ScenarioRun {
            scenario: *scenario,
            servers: config
                .servers
                .iter()
                .map(|spec| ServerRun {
                    name: spec.name.clone(),
                    samples: Vec::new(),
                })
                .collect(),
        };
        for round in 0..config.rounds {
            for turn in 0..servers.len() {
                let index = (turn + round) % servers.len();
                let sample = match &mut servers[index] {
                    Ok(server) => measure(server, scenario, config, round),
                    Err(why) => Sample::failed(round, format!("not started: {why}")),
                };
                progress(
                    scenario,
                    &config.servers[index].name,
                    &sample,
                    config.rounds,
                );
                if sample.failure.is_some() {
                    // A server that died gets a fresh process for the next rounds.
                    if let Ok(server) = &mut servers[index] {
                        if server.check_alive().is_err() {
                            servers[index] =
                                ServerProcess::start(&config.servers[index], START_TIMEOUT)
                                    .map_err(|e| e.to_string());
                        }
                    }
                }
                run.servers[index].samples.push(sample);
            }
        }
        drop(servers);
        for server in &mut run.servers {
            server.samples.sort_by_key(|s| s.round);
        }
        done(&run);
        runs.push(run);
    }
    runs
}

fn progress(scenario: &Scenario, name: &str, sample: &Sample, rounds: usize) {
    let round = format!(
        "{} round {}/{rounds} {name}",
        scenario.name,
        sample.round + 1
    );
    match (&sample.failure, sample.msgs_per_s(), sample.cpu_ns_per_msg()) {
        (Some(why), _, _) => eprintln!("{round}: FAILED: {why}"),
        (None, Some(rate), Some(cpu)) => eprintln!(
            "{round}: {rate:.0} msgs/s, server CPU {cpu:.0} ns/msg ({:.0}% of a core), client {:.0}% of a core{}",
            sample.server_cpu_share().unwrap_or(0.0) * 100.0,
            sample.client_cpu_share().unwrap_or(0.0) * 100.0,
            if sample.stalled > 0 { format!(", {} connections stalled", sample.stalled) } else { String::new() },
        ),
        _ => eprintln!("{round}: no echo"),
    }
}

/// One measurement of `server` under `scenario`.
fn measure(
    server: &mut ServerProcess,
    scenario: &Scenario,
    config: &RunConfig,
    round: usize,
) -> Sample {
    match try_measure(server, scenario, config, round) {
        Ok(sample) => sample,
        Err(err) => Sample::failed(round, err.to_string()),
    }
}

fn try_measure(
    server: &mut ServerProcess,
    scenario: &Scenario,
    config: &RunConfig,
    round: usize,
) -> io::Result<Sample> {
    server.check_alive()?;
    let log_before = server.error_log().lines;
    let client = LoadClient::connect(
        server.addr,
        scenario,
        config.client_threads,
        CONNECT_TIMEOUT,
    )?;
    client.go();
    let mut watch = Watch::new(client.received());
    let warm_until = Instant::now() + config.warmup;
    let mut failure = None;
    while Instant::now() < warm_until && failure.is_none() {
        thread::sleep(
            Duration::from_millis(20).min(warm_until.saturating_duration_since(Instant::now())),
        );
        failure = watch.check(&client);
    }
    let (received_0, server_0, client_0, start) = (
        client.received(),
        server.cpu_time()?,
        procfs::own_cpu_time()?,
        Instant::now(),
    );
    client.mark();
    let end = start + config.duration;
    while failure.is_none() {
        let now = Instant::now();
        if now >= end {
            break;
        }
        thread::sleep(Duration::from_millis(50).min(end - now));
        failure = watch.check(&client);
    }
    let (received_1, server_1, client_1, stop) = (
        client.received(),
        server.cpu_time()?,
        procfs::own_cpu_time()?,
        Instant::now(),
    );
    client.mark();
    let report = client.finish()?;
    // Give the server a moment to report what the closing handshakes did.
    thread::sleep(Duration::from_millis(50));
    if report.errors > 0 && failure.is_none() {
        failure = Some(format!(
            "{} connections failed: {}",
            report.errors,
            report.first_errors.join("; ")
        ));
    }
    if let Err(err) = server.check_alive() {
        failure = Some(err.to_string());
    }
    let log = server.error_log();
    Ok(Sample {
        round,
        messages: received_1 - received_0,
        secs: (stop - start).as_secs_f64(),
        server_cpu: server_1.saturating_sub(server_0),
        client_cpu: client_1.saturating_sub(client_0),
        stalled: report.stalled,
        errors: report.errors,
        first_errors: report.first_errors,
        unclean_closes: report.close.unclean,
        unanswered_closes: report.close.unanswered,
        server_error_lines: log.lines - log_before,
        server_errors: log.since(log_before),
        failure,
    })
}

/// Notices a measurement that stopped making progress or lost connections.
struct Watch {
    received: u64,
    since: Instant,
}

impl Watch {
    fn new(received: u64) -> Self {
        Self {
            received,
            since: Instant::now(),
        }
    }

    fn check(&mut self, client: &LoadClient) -> Option<String> {
        if client.errors() > 0 {
            return Some(format!("{} connections failed", client.errors()));
        }
        let received = client.received();
        if received != self.received {
            self.received = received;
            self.since = Instant::now();
        } else if self.since.elapsed() >= STALL {
            return Some(format!(
                "stalled: no echo for {} s after {received} echoes",
                STALL.as_secs()
            ));
        }
        None
    }
}

fn spread_json(spread: Option<Spread>) -> Json {
    spread.map_or(Json::Null, |s| {
        Json::obj([
            ("min", Json::Num(s.min)),
            ("median", Json::Num(s.median)),
            ("max", Json::Num(s.max)),
        ])
    })
}

/// The JSON report of a run; `command` is the tool's command line, `started` the Unix time and load
/// average when the run started.
#[must_use]
pub fn to_json(
    config: &RunConfig,
    runs: &[ScenarioRun],
    command: &[String],
    started: (u64, Option<[f64; 3]>),
) -> Json {
    let scenarios = runs
        .iter()
        .map(|run| {
            let scenario = &run.scenario;
            let servers = run
                .servers
                .iter()
                .enumerate()
                .map(|(index, server)| {
                    let summary = run.summary(index, &config.baseline);
                    let rounds = server
                        .samples
                        .iter()
                        .map(|s| {
                            Json::obj([
                                ("round", Json::int(s.round)),
                                ("messages", Json::int(s.messages)),
                                ("secs", Json::Num(s.secs)),
                                ("msgs_per_s", Json::opt(s.msgs_per_s())),
                                ("mb_per_s", Json::opt(s.mb_per_s(scenario.payload_len))),
                                ("server_cpu_ns", Json::int(s.server_cpu.as_nanos())),
                                ("cpu_ns_per_msg", Json::opt(s.cpu_ns_per_msg())),
                                ("client_cpu_share", Json::opt(s.client_cpu_share())),
                                ("server_cpu_share", Json::opt(s.server_cpu_share())),
                                ("stalled_connections", Json::int(s.stalled)),
                                ("failed_connections", Json::int(s.errors)),
                                ("unclean_closes", Json::int(s.unclean_closes)),
                                ("unanswered_closes", Json::int(s.unanswered_closes)),
                                ("server_error_lines", Json::int(s.server_error_lines)),
                                (
                                    "server_errors",
                                    Json::Arr(
                                        s.server_errors.iter().cloned().map(Json::Str).collect(),
                                    ),
                                ),
                                ("failure", s.failure.clone().map_or(Json::Null, Json::Str)),
                                (
                                    "first_errors",
                                    Json::Arr(
                                        s.first_errors.iter().cloned().map(Json::Str).collect(),
                                    ),
                                ),
                            ])
                        })
                        .collect();
                    Json::obj([
                        ("name", Json::str(&server.name)),
                        ("rounds", Json::Arr(rounds)),
                        (
                            "summary",
                            Json::obj([
                                ("ok_rounds", Json::int(summary.ok_rounds)),
                                ("msgs_per_s", spread_json(summary.msgs_per_s)),
                                ("mb_per_s", spread_json(summary.mb_per_s)),
                                ("cpu_ns_per_msg", spread_json(summary.cpu_ns_per_msg)),
                                ("client_cpu_share", spread_json(summary.client_cpu)),
                                ("server_cpu_share", spread_json(summary.server_cpu)),
                                ("ratio_msgs_per_s", Json::opt(summary.ratio_msgs_per_s)),
                                ("ratio_cpu_per_msg", Json::opt(summary.ratio_cpu_per_msg)),
                            ]),
                        ),
                    ])
                })
                .collect();
            Json::obj([
                ("name", Json::str(scenario.name)),
                ("description", Json::str(scenario.describe())),
                ("connections", Json::int(scenario.connections)),
                ("in_flight", Json::int(scenario.in_flight)),
                ("payload_bytes", Json::int(scenario.payload_len)),
                ("text", Json::Bool(scenario.text)),
                ("servers", Json::Arr(servers)),
            ])
        })
        .collect();
    Json::obj([
        ("kind", Json::str("wsload-run")),
        ("version", Json::Int(1)),
        ("started_unix_time", Json::int(started.0)),
        ("finished_unix_time", Json::int(unix_time())),
        ("machine", machine_json(started.1)),
        (
            "command",
            Json::Arr(command.iter().cloned().map(Json::Str).collect()),
        ),
        ("rounds", Json::int(config.rounds)),
        ("duration_s", Json::Num(config.duration.as_secs_f64())),
        ("warmup_s", Json::Num(config.warmup.as_secs_f64())),
        ("baseline", Json::str(&config.baseline)),
        ("client_threads", Json::int(config.client_threads)),
        ("servers", servers_json(&config.servers)),
        ("scenarios", Json::Arr(scenarios)),
    ])
}

/// The servers' names and command lines, as JSON.
#[must_use]
pub fn servers_json(servers: &[ServerSpec]) -> Json {
    Json::Arr(
        servers
            .iter()
            .map(|s| {
                Json::obj([
                    ("name", Json::str(&s.name)),
                    (
                        "command",
                        Json::Arr(s.command.iter().cloned().map(Json::Str).collect()),
                    ),
                ])
            })
            .collect(),
    )
}

/// The machine the tool runs on, with the load average now and at `start` (also taken with
/// [`procfs::load_average`]), so a report can tell a quiet run from a busy one.
#[must_use]
pub fn machine_json(start: Option<[f64; 3]>) -> Json {
    let load = |l: Option<[f64; 3]>| l.map_or(Json::Null, |l| Json::Arr(l.map(Json::Num).to_vec()));
    Json::obj([
        (
            "cpu_model",
            procfs::cpu_model().map_or(Json::Null, Json::Str),
        ),
        (
            "cpus",
            Json::int(thread::available_parallelism().map_or(0, |n| n.get())),
        ),
        ("kernel", procfs::kernel().map_or(Json::Null, Json::Str)),
        ("load_average_start", load(start)),
        ("load_average_end", load(procfs::load_average())),
    ])
}

/// Seconds since the Unix epoch.
#[must_use]
pub fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
