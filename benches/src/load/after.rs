//! `wsload after`: a server's memory after a load of many clients echoing messages of every size from
//! 1 B to 64 KiB, then closing; the load is repeated to see whether memory levels off.
//!
//! Resident memory after such a load has two parts: what the server still holds (its connections' buffers,
//! which should all be gone once they close), and what the allocator keeps for reuse. A server that
//! reports its live heap on standard output (a line starting with `heap:`, as the `echo_heap` server does
//! whenever its last connection ends) lets the report tell the two apart.

use std::io;
use std::time::{Duration, Instant};

use super::engine::Engine;
use super::frame::OP_BINARY;
use super::idle::{mib, settle};
use super::procfs::Memory;
use super::scenario::{binary_payload, Workload};
use super::server::{ServerProcess, ServerSpec};

/// How long a server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The prefix of the live-heap line a server may print.
pub const HEAP_LINE: &str = "heap:";

/// What `wsload after` measures.
#[derive(Clone, Debug)]
pub struct AfterConfig {
    /// The servers, each measured with a fresh process.
    pub servers: Vec<ServerSpec>,
    /// Clients connected at once in each load.
    pub connections: usize,
    /// Messages each client echoes in each load, sizes spread evenly on a log scale from 1 B to
    /// [`largest`](Self::largest).
    pub messages: usize,
    /// The largest message.
    pub largest: usize,
    /// Loads, one after the other, each with fresh connections.
    pub loads: usize,
}

/// One load's outcome.
#[derive(Clone, Debug, Default)]
pub struct Load {
    /// Seconds the load took.
    pub secs: f64,
    /// Memory after every client closed and the server settled.
    pub after: Memory,
    /// The server's last `heap:` line after the load, if it prints one.
    pub heap: Option<String>,
}

/// One server's measurement.
#[derive(Clone, Debug, Default)]
pub struct AfterResult {
    /// The server's name.
    pub name: String,
    /// Memory once started, before any connection.
    pub before: Memory,
    /// The server's `heap:` line before any connection, if it prints one.
    pub heap_before: Option<String>,
    /// Each load in turn.
    pub loads: Vec<Load>,
    /// Why the measurement failed, if it did.
    pub failure: Option<String>,
}

/// The size of message `index` of `count`: 1 B to `largest`, evenly spread on a log scale.
#[must_use]
pub fn message_size(index: usize, count: usize, largest: usize) -> usize {
    if count <= 1 {
        return largest;
    }
    let exponent = index as f64 / (count - 1) as f64;
    ((largest as f64).powf(exponent).round() as usize).clamp(1, largest)
}

/// Measures every server in turn.
#[must_use]
pub fn run(config: &AfterConfig) -> Vec<AfterResult> {
    let mut results = Vec::new();
    for spec in &config.servers {
        eprintln!(
            "== after: {} loads of {} clients × {} messages up to {} B against {}",
            config.loads, config.connections, config.messages, config.largest, spec.name
        );
        let mut result = AfterResult {
            name: spec.name.clone(),
            ..AfterResult::default()
        };
        match ServerProcess::start(spec, START_TIMEOUT) {
            Ok(mut server) => {
                if let Err(err) = measure(&mut server, config, &mut result) {
                    result.failure = Some(err.to_string());
                }
            }
            Err(err) => result.failure = Some(err.to_string()),
        }
        if let Some(why) = &result.failure {
            eprintln!("{}: FAILED: {why}", spec.name);
        }
        results.push(result);
    }
    results
}

fn measure(
    server: &mut ServerProcess,
    config: &AfterConfig,
    result: &mut AfterResult,
) -> io::Result<()> {
    result.before = settle(server)?;
    result.heap_before = last_heap_line(server);
    for load in 1..=config.loads {
        let start = Instant::now();
        let mut engine = Engine::new(server.addr)?;
        engine.open(config.connections, 128, Duration::from_secs(120))?;
        for index in 0..config.messages {
            let size = message_size(index, config.messages, config.largest);
            let workload = Workload::new(OP_BINARY, binary_payload(size), 1);
            engine.exchange(workload, config.connections, Duration::from_secs(300))?;
        }
        let close = engine.close(Duration::from_secs(20))?;
        if close.unclean > 0 {
            return Err(io::Error::other(format!(
                "{} connections were not closed cleanly",
                close.unclean
            )));
        }
        drop(engine);
        let secs = start.elapsed().as_secs_f64();
        let after = settle(server)?;
        let heap = last_heap_line(server);
        eprintln!(
            "{}: load {load} in {secs:.1} s; RSS {} → {} (peak {}){}",
            server.name,
            mib(result.before.rss),
            mib(after.rss),
            mib(after.peak),
            heap.as_deref()
                .map_or(String::new(), |line| format!("; {line}"))
        );
        result.loads.push(Load { secs, after, heap });
    }
    server.check_alive()
}

fn last_heap_line(server: &ServerProcess) -> Option<String> {
    server
        .output()
        .into_iter()
        .rev()
        .find(|line| line.starts_with(HEAP_LINE))
}

/// The report: one row per server, RSS before and after each load.
#[must_use]
pub fn table(config: &AfterConfig, results: &[AfterResult]) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "\n## After load: {} clients × {} messages of 1 B to {} B, then closed; {} loads\n\n",
        config.connections, config.messages, config.largest, config.loads
    );
    out.push_str("| server | RSS at start |");
    for load in 1..=config.loads {
        let _ = write!(out, " RSS after load {load} |");
    }
    out.push_str(" peak RSS |\n|---|---:|");
    for _ in 0..config.loads {
        out.push_str("---:|");
    }
    out.push_str("---:|\n");
    for result in results {
        let _ = write!(out, "| {} | {} |", result.name, mib(result.before.rss));
        for load in &result.loads {
            let _ = write!(out, " {} |", mib(load.after.rss));
        }
        let peak = result.loads.iter().map(|l| l.after.peak).max().unwrap_or(0);
        let _ = writeln!(out, " {} |", mib(peak));
    }
    let heaps: Vec<_> = results
        .iter()
        .filter(|r| r.loads.iter().any(|l| l.heap.is_some()))
        .collect();
    if !heaps.is_empty() {
        out.push_str("\nLive heap reported by the server:\n\n");
        for result in heaps {
            let _ = writeln!(
                out,
                "- {}: at start `{}`",
                result.name,
                result.heap_before.as_deref().unwrap_or("-")
            );
            for (load, entry) in result.loads.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  - after load {}: `{}`",
                    load + 1,
                    entry.heap.as_deref().unwrap_or("-")
                );
            }
        }
    }
    for result in results {
        if let Some(why) = &result.failure {
            let _ = writeln!(out, "\n{}: FAILED: {why}", result.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::message_size;

    #[test]
    fn sizes_run_from_one_byte_to_the_largest() {
        let sizes: Vec<usize> = (0..100).map(|i| message_size(i, 100, 64 << 10)).collect();
        assert_eq!(sizes[0], 1);
        assert_eq!(sizes[99], 64 << 10);
        assert!(sizes.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(message_size(0, 1, 10), 10);
    }
}
