//! The human-readable tables `wsload` prints.

use std::fmt::Write;

use super::idle::IdleResult;
use super::run::{ScenarioRun, Summary};
use super::stats::Spread;

/// A scenario's table: per server the median and range over rounds of messages per second and server CPU
/// per message, and the paired ratios to `baseline`.
#[must_use]
pub fn scenario(run: &ScenarioRun, baseline: &str, rounds: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{} ({}), {rounds} round{}, ratios to {baseline} paired by round",
        run.scenario.name,
        run.scenario.describe(),
        if rounds == 1 { "" } else { "s" }
    );
    let header = [
        "server",
        "msgs/s",
        "[min … max]",
        "MB/s",
        "CPU ns/msg",
        "[min … max]",
        "× msgs/s",
        "× CPU/msg",
        "server CPU",
        "client CPU",
        "ok",
    ];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    let mut notes = Vec::new();
    for (index, server) in run.servers.iter().enumerate() {
        let s: Summary = run.summary(index, baseline);
        rows.push(vec![
            server.name.clone(),
            median(s.msgs_per_s, 0),
            range(s.msgs_per_s, 0),
            median(s.mb_per_s, 1),
            median(s.cpu_ns_per_msg, 0),
            range(s.cpu_ns_per_msg, 0),
            ratio(s.ratio_msgs_per_s),
            ratio(s.ratio_cpu_per_msg),
            share(s.server_cpu),
            share(s.client_cpu),
            format!("{}/{}", s.ok_rounds, server.samples.len()),
        ]);
        for sample in &server.samples {
            let mut problems = Vec::new();
            if let Some(why) = &sample.failure {
                problems.push(format!("failed: {why}"));
            }
            if sample.stalled > 0 {
                problems.push(format!("{} connections without an echo", sample.stalled));
            }
            if sample.unclean_closes > 0 {
                problems.push(format!(
                    "{} connections not closed by the server ({} of them without a close frame in answer)",
                    sample.unclean_closes, sample.unanswered_closes
                ));
            }
            if sample.server_error_lines > 0 {
                problems.push(format!(
                    "{} lines on the server's stderr",
                    sample.server_error_lines
                ));
            }
            if !problems.is_empty() {
                notes.push(format!(
                    "  {} round {}: {}",
                    server.name,
                    sample.round + 1,
                    problems.join("; ")
                ));
            }
        }
    }
    out.push_str(&layout(&rows));
    for note in notes {
        let _ = writeln!(out, "{note}");
    }
    out
}

/// The memory table of `wsload idle`.
#[must_use]
pub fn idle(results: &[IdleResult], exchange_len: usize) -> String {
    let mut out = String::new();
    let connections = results.first().map_or(0, |r| r.connections);
    let _ = writeln!(
        out,
        "\nmemory per connection, {connections} connections; \"after\": once each echoed {exchange_len} bytes"
    );
    let mut rows = vec![[
        "server",
        "RSS idle",
        "anon idle",
        "RSS after",
        "anon after",
        "peak RSS",
        "RSS at start",
        "connect s",
        "note",
    ]
    .map(str::to_owned)
    .to_vec()];
    for r in results {
        let bytes = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0} B"));
        let mut note = r.failure.clone().unwrap_or_default();
        if r.unclean_closes > 0 {
            note = format!(
                "{note} {} not closed by the server ({} without a close frame in answer)",
                r.unclean_closes, r.unanswered_closes
            );
        }
        if r.server_error_lines > 0 {
            note = format!("{note} {} stderr lines", r.server_error_lines);
        }
        rows.push(vec![
            r.name.clone(),
            bytes(r.idle_rss_per_connection()),
            bytes(r.idle_anon_per_connection()),
            bytes(r.after_rss_per_connection()),
            bytes(r.after_anon_per_connection()),
            bytes(r.peak_rss_per_connection()),
            format!("{:.1} MiB", r.before.rss as f64 / f64::from(1 << 20)),
            format!("{:.1}", r.connect_secs),
            note.trim().to_owned(),
        ]);
    }
    out.push_str(&layout(&rows));
    out
}

fn median(spread: Option<Spread>, decimals: usize) -> String {
    spread.map_or("-".into(), |s| format!("{:.*}", decimals, s.median))
}

fn range(spread: Option<Spread>, decimals: usize) -> String {
    spread.map_or("-".into(), |s| {
        format!("[{:.*} … {:.*}]", decimals, s.min, decimals, s.max)
    })
}

fn ratio(ratio: Option<f64>) -> String {
    ratio.map_or("-".into(), |r| format!("{r:.2}"))
}

fn share(spread: Option<Spread>) -> String {
    spread.map_or("-".into(), |s| format!("{:.0}%", s.median * 100.0))
}

/// Columns padded to their widest cell: the first left-aligned, the others right-aligned.
fn layout(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                let _ = write!(out, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "  {}{cell}", " ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}
