//! `wsload`: the loopback load tool. It starts echo servers as child processes and measures them.
//!
//! ```text
//! wsload run  --server NAME=COMMAND... [--scenarios LIST] [--rounds 5] [--duration 2.5] [--warmup 0.5]
//!             [--baseline wslane-tokio] [--client-threads 1] [--json FILE]
//! wsload idle --server NAME=COMMAND... [--connections 10000] [--exchange-bytes 65536]
//!             [--exchange-concurrency 100] [--max-pending 128] [--json FILE]
//! wsload after --server NAME=COMMAND... [--connections 1000] [--messages 100] [--largest 65536]
//!             [--loads 2]
//! wsload scenarios
//! ```
//!
//! A server's COMMAND is its program and arguments separated by spaces; the listen address (a free loopback
//! port) is passed as the first argument, or wherever `{addr}` appears. The server must print a line with
//! "listening" once it accepts connections.
//!
//! `run` measures, for each scenario and round, every server in turn: echoed messages per second and the
//! server's CPU time per message (utime + stime from `/proc`), and compares each server with the baseline
//! in the same round. `idle` opens many connections to a fresh server process and reports its resident
//! memory per connection, idle and after every connection echoed one message. `after` loads a fresh server
//! with many clients echoing messages of 1 B to 64 KiB, closes them, and reports its resident memory (and
//! its live heap, when it prints it) after each load.

use std::process::ExitCode;
use std::time::Duration;

use wslane_benches::load::after::{self, AfterConfig};
use wslane_benches::load::idle::{self, IdleConfig};
use wslane_benches::load::procfs;
use wslane_benches::load::run::{self, RunConfig};
use wslane_benches::load::scenario::{Scenario, SCENARIOS};
use wslane_benches::load::server::ServerSpec;
use wslane_benches::load::table;

const USAGE: &str = "usage:
  wsload run  --server NAME=COMMAND... [--scenarios LIST|all] [--rounds N] [--duration SECS]
              [--warmup SECS] [--baseline NAME] [--client-threads N] [--json FILE]
  wsload idle --server NAME=COMMAND... [--connections N] [--exchange-bytes N]
              [--exchange-concurrency N] [--max-pending N] [--json FILE]
  wsload after --server NAME=COMMAND... [--connections N] [--messages N] [--largest BYTES] [--loads N]
  wsload scenarios";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wsload: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Options common to both commands, and the rest as name/value pairs.
struct Options {
    servers: Vec<ServerSpec>,
    json: Option<String>,
    rest: Vec<(String, String)>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        servers: Vec::new(),
        json: None,
        rest: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        if !name.starts_with("--") {
            return Err(format!("unexpected argument {arg:?}\n{USAGE}"));
        }
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?
                .clone(),
        };
        match name {
            "--server" => options.servers.push(ServerSpec::parse(&value)?),
            "--json" => options.json = Some(value),
            _ => options.rest.push((name.to_owned(), value)),
        }
    }
    if options.servers.is_empty() {
        return Err(format!("no --server given\n{USAGE}"));
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{name}: {value:?} is not a valid number"))
}

fn seconds(name: &str, value: &str) -> Result<Duration, String> {
    let secs: f64 = number(name, value)?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{name}: {value:?} is not a duration in seconds"))
}

fn write_json(
    path: &Option<String>,
    json: &wslane_benches::load::json::Json,
) -> Result<(), String> {
    if let Some(path) = path {
        std::fs::write(path, json.pretty()).map_err(|err| format!("cannot write {path}: {err}"))?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

fn dispatch(args: &[String]) -> Result<(), String> {
    match args.get(1).map(String::as_str) {
        Some("run") => run_command(args),
        Some("idle") => idle_command(args),
        Some("after") => after_command(args),
        Some("scenarios") => {
            for scenario in SCENARIOS {
                println!("{:<10} {}", scenario.name, scenario.describe());
            }
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}

/// Descriptors the load tool and its servers may need beyond one per connection.
const SPARE_FILES: u64 = 1000;

/// Raises the open-file limit for `connections` (the servers inherit it).
fn raise_open_files(connections: usize) {
    let want = connections as u64 + SPARE_FILES;
    match wslane_benches::load::limits::raise_open_files(want) {
        Ok(limit) if limit < want => {
            eprintln!(
                "wsload: the open-file limit is {limit}; {connections} connections need {want}"
            )
        }
        Ok(_) => {}
        Err(err) => eprintln!("wsload: cannot raise the open-file limit: {err}"),
    }
}

fn run_command(args: &[String]) -> Result<(), String> {
    let options = parse(&args[2..])?;
    let mut config = RunConfig {
        servers: options.servers,
        scenarios: SCENARIOS.to_vec(),
        rounds: 5,
        duration: Duration::from_millis(2500),
        warmup: Duration::from_millis(500),
        baseline: "wslane-tokio".into(),
        client_threads: 1,
    };
    for (name, value) in &options.rest {
        match name.as_str() {
            "--scenarios" if value == "all" => config.scenarios = SCENARIOS.to_vec(),
            "--scenarios" => {
                config.scenarios = value
                    .split(',')
                    .map(|name| {
                        Scenario::find(name.trim()).ok_or_else(|| {
                            let known: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
                            format!("unknown scenario {name:?}; known: {}", known.join(", "))
                        })
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--rounds" => config.rounds = number::<usize>(name, value)?.max(1),
            "--duration" => config.duration = seconds(name, value)?,
            "--warmup" => config.warmup = seconds(name, value)?,
            "--baseline" => config.baseline.clone_from(value),
            "--client-threads" => config.client_threads = number::<usize>(name, value)?.max(1),
            _ => return Err(format!("unknown option {name} for run\n{USAGE}")),
        }
    }
    if !config.servers.iter().any(|s| s.name == config.baseline) {
        eprintln!(
            "wsload: baseline {} is not among the servers; ratios will be empty",
            config.baseline
        );
    }
    let started = (run::unix_time(), procfs::load_average());
    raise_open_files(
        config
            .scenarios
            .iter()
            .map(|s| s.connections)
            .max()
            .unwrap_or(0),
    );
    let runs = run::run(&config, |run| {
        print!("{}", table::scenario(run, &config.baseline, config.rounds));
    });
    write_json(&options.json, &run::to_json(&config, &runs, args, started))?;
    let failed = runs
        .iter()
        .flat_map(|r| &r.servers)
        .flat_map(|s| &s.samples)
        .filter(|s| s.failure.is_some())
        .count();
    if failed > 0 {
        return Err(format!(
            "{failed} measurements failed (see the notes under the tables)"
        ));
    }
    Ok(())
}

fn idle_command(args: &[String]) -> Result<(), String> {
    let options = parse(&args[2..])?;
    let mut config = IdleConfig {
        servers: options.servers,
        connections: 10_000,
        max_pending: 128,
        exchange_len: 64 << 10,
        exchange_concurrency: 100,
    };
    for (name, value) in &options.rest {
        match name.as_str() {
            "--connections" => config.connections = number::<usize>(name, value)?.max(1),
            "--max-pending" => config.max_pending = number::<usize>(name, value)?.max(1),
            "--exchange-bytes" => config.exchange_len = number(name, value)?,
            "--exchange-concurrency" => {
                config.exchange_concurrency = number::<usize>(name, value)?.max(1)
            }
            _ => return Err(format!("unknown option {name} for idle\n{USAGE}")),
        }
    }
    raise_open_files(config.connections);
    idle::check_limits(config.connections).map_err(|err| err.to_string())?;
    let started = (run::unix_time(), procfs::load_average());
    let results = idle::run(&config, |_| {});
    print!("{}", table::idle(&results, config.exchange_len));
    write_json(
        &options.json,
        &idle::to_json(&config, &results, args, started),
    )?;
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    if failed > 0 {
        return Err(format!("{failed} measurements failed"));
    }
    Ok(())
}

fn after_command(args: &[String]) -> Result<(), String> {
    let options = parse(&args[2..])?;
    let mut config = AfterConfig {
        servers: options.servers,
        connections: 1000,
        messages: 100,
        largest: 64 << 10,
        loads: 2,
    };
    for (name, value) in &options.rest {
        match name.as_str() {
            "--connections" => config.connections = number::<usize>(name, value)?.max(1),
            "--messages" => config.messages = number::<usize>(name, value)?.max(1),
            "--largest" => config.largest = number::<usize>(name, value)?.max(1),
            "--loads" => config.loads = number::<usize>(name, value)?.max(1),
            _ => return Err(format!("unknown option {name} for after\n{USAGE}")),
        }
    }
    idle::check_limits(config.connections).map_err(|err| err.to_string())?;
    let results = after::run(&config);
    print!("{}", after::table(&config, &results));
    let failed = results.iter().filter(|r| r.failure.is_some()).count();
    if failed > 0 {
        return Err(format!("{failed} measurements failed"));
    }
    Ok(())
}
