#!/usr/bin/env python3
"""Builds docs/performance.md from the load tool's JSON (`wsload run` and `wsload idle`).

Usage: perf_report.py --load FILE --idle FILE [--criterion FILE] [--toolchain FILE] [--label TEXT]
                      [--output FILE]

Every number on the page comes from the JSON files; the page says which run each table came from. The
in-memory criterion tables are included as they are when --criterion names an existing file (written by
scripts/criterion_table.py --markdown). Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

OURS = ["wslane-tokio", "wslane-async-std", "wslane-mio"]
# The reference adapter: the targets are judged on it, and every ratio in the tables is paired with it.
BASELINE = "wslane-tokio"
# Peers whose idiomatic echo loop writes and flushes each message as it arrives (fastwebsockets' write_frame,
# tokio-websockets' send); tokio-tungstenite's forward() batches until its input runs dry, as ours do.
FLUSH_PER_MESSAGE = ["fastwebsockets", "tokio-websockets"]

PIPELINED = "pipelined"
PIPELINED_MIN_RATE = 1_000_000
PIPELINED_MIN_FACTOR = 5.0
MIN_ROUNDS = 5
IDLE_MAX_BYTES = 4096

REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


# ---------------------------------------------------------------------------------------------- helpers


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def when(unix_time):
    if not unix_time:
        return "unknown time"
    moment = datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def relative(arg):
    """A command-line argument with this checkout's absolute path taken out."""
    return arg.replace(REPO + os.sep, "").replace(REPO, ".")


def shell_quote(arg):
    return arg if re.fullmatch(r"[\w@%+=:,./-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def command_line(argv):
    """The command as a shell line, one option per line."""
    line = ""
    for arg in argv:
        arg = shell_quote(relative(arg))
        line += (" \\\n    " if arg.startswith("--") else " ") + arg if line else arg
    return line


def num(value, decimals=0):
    if value is None:
        return "–"
    return f"{value:,.{decimals}f}"


def rate(value):
    """Messages per second: millions to two decimals, else whole."""
    if value is None:
        return "–"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M"
    return f"{value:,.0f}"


def nanos(value):
    if value is None:
        return "–"
    if value >= 1e6:
        return f"{value / 1e6:.2f} ms"
    if value >= 1e4:
        return f"{value / 1e3:.0f} µs"
    if value >= 1e3:
        return f"{value / 1e3:.2f} µs"
    return f"{value:.0f} ns"


def ratio(value):
    return "–" if value is None else f"{value:.2f}"


def share(value):
    return "–" if value is None else f"{value * 100:.0f}%"


def bytes_(value):
    if value is None:
        return "–"
    if abs(value) >= 10 * 1024:
        return f"{value / 1024:,.0f} KiB"
    if abs(value) >= 1024:
        return f"{value / 1024:.1f} KiB"
    return f"{value:.0f} B"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def table(header, rows, align=None):
    align = align or ["l"] + ["r"] * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def spread_cells(spread, fmt):
    if not spread:
        return "–", "–"
    return fmt(spread["median"]), f"{fmt(spread['min'])} – {fmt(spread['max'])}"


# ------------------------------------------------------------------------------------------ load numbers


def per_round(scenario, name, key):
    """{round: value} of one server in one scenario, failed rounds left out."""
    for server in scenario["servers"]:
        if server["name"] == name:
            return {r["round"]: r[key] for r in server["rounds"] if r.get(key) is not None and not r.get("failure")}
    return {}


def paired(scenario, a, b, key, invert=False):
    """Median over rounds of a/b (b/a when invert), rounds where both have a number."""
    ra, rb = per_round(scenario, a, key), per_round(scenario, b, key)
    ratios = []
    for rnd in sorted(set(ra) & set(rb)):
        x, y = (rb[rnd], ra[rnd]) if invert else (ra[rnd], rb[rnd])
        if y:
            ratios.append(x / y)
    return (median(ratios), len(ratios))


def summary(scenario, name):
    for server in scenario["servers"]:
        if server["name"] == name:
            return server["summary"]
    return None


def scenario_named(load, name):
    for scenario in load["scenarios"]:
        if scenario["name"] == name:
            return scenario
    return None


def peers(load):
    return [s["name"] for s in load["servers"] if s["name"] not in OURS]


# -------------------------------------------------------------------------------------------- charts

CHART_OURS = "#1f6f8b"
CHART_PEER = "#b0b7bf"


def svg_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bar_panel(x0, title, bars, fmt, width=330, bar_h=18, gap=6):
    """SVG elements of one horizontal bar panel: bars are (label, value, ours)."""
    out = [f'<text x="{x0}" y="20" font-weight="bold">{svg_escape(title)}</text>']
    top = max((v for _, v, _ in bars if v), default=0) or 1
    label_w = 130
    for i, (label, value, ours) in enumerate(bars):
        y = 34 + i * (bar_h + gap)
        weight = ' font-weight="bold"' if ours else ""
        out.append(f'<text x="{x0 + label_w - 6}" y="{y + bar_h - 5}" text-anchor="end"{weight}>'
                   f'{svg_escape(label)}</text>')
        if value:
            w = max(1, round((width - label_w - 70) * value / top))
            out.append(f'<rect x="{x0 + label_w}" y="{y}" width="{w}" height="{bar_h}" '
                       f'fill="{CHART_OURS if ours else CHART_PEER}"/>')
            out.append(f'<text x="{x0 + label_w + w + 4}" y="{y + bar_h - 5}">{svg_escape(fmt(value))}</text>')
        else:
            out.append(f'<text x="{x0 + label_w + 4}" y="{y + bar_h - 5}">–</text>')
    return out


def scenario_chart(scenario):
    """An SVG bar chart of one scenario: median msgs/s and median server CPU per message, per server."""
    servers = scenario["servers"]
    rate_bars, cpu_bars = [], []
    for server in servers:
        s = server["summary"]
        ours = server["name"] in OURS
        rate_bars.append((server["name"], s["msgs_per_s"]["median"] if s["msgs_per_s"] else None, ours))
        cpu_bars.append((server["name"], s["cpu_ns_per_msg"]["median"] if s["cpu_ns_per_msg"] else None, ours))
    height = 34 + len(servers) * 24 + 28
    body = bar_panel(10, "messages/s (higher is better)", rate_bars, rate)
    body += bar_panel(360, "server CPU per message (lower is better)", cpu_bars, nanos)
    caption = f"{scenario['name']}: {scenario['description']} (medians over rounds)"
    body.append(f'<text x="10" y="{height - 8}" fill="#555">{svg_escape(caption)}</text>')
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="700" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        *body,
        "</svg>",
        "",
    ])


def chart_file(scenario_name):
    return "load-" + re.sub(r"[^A-Za-z0-9_.-]", "_", scenario_name) + ".svg"


def write_charts(load, directory):
    """Writes one SVG per load scenario into `directory`; returns {scenario name: file name}."""
    os.makedirs(directory, exist_ok=True)
    written = {}
    for scenario in load["scenarios"]:
        name = chart_file(scenario["name"])
        with open(os.path.join(directory, name), "w") as f:
            f.write(scenario_chart(scenario))
        written[scenario["name"]] = name
    return written


# -------------------------------------------------------------------------------------------- sections


def machine_section(load, idle, toolchain, label):
    machine = (load or idle or {}).get("machine", {})
    rows = [
        ["CPU", f"{machine.get('cpu_model') or platform.processor() or 'unknown'}, "
                f"{machine.get('cpus') or os.cpu_count()} logical cores"],
        ["kernel", machine.get("kernel") or platform.release()],
        ["toolchain", toolchain],
    ]
    for name, data in [("load run", load), ("idle run", idle)]:
        if not data:
            rows.append([name, "not run"])
            continue
        avg_start = data.get("machine", {}).get("load_average_start")
        avg_end = data.get("machine", {}).get("load_average_end")
        load_text = ""
        if avg_start and avg_end:
            load_text = f"; load average (1 min) {avg_start[0]:.2f} at the start, {avg_end[0]:.2f} at the end"
        rows.append([name, f"{when(data.get('started_unix_time'))} to {when(data.get('finished_unix_time'))}{load_text}"])
    out = ["## Machine and runs", "", table(["", ""], rows, ["l", "l"]), ""]
    out += [
        f"Generated by `{label}`, which built every server and the load tool with `cargo build --profile bench`",
        "and then ran:",
        "",
        "```sh",
    ]
    for data in (load, idle):
        if data:
            out.append(command_line(data["command"]))
    out += ["```", ""]
    cpus = machine.get("cpus") or os.cpu_count() or 0
    busy = [d["machine"]["load_average_start"][0] for d in (load, idle)
            if d and d.get("machine", {}).get("load_average_start")]
    if cpus and busy and max(busy) > cpus / 2:
        out += [
            f"**This machine was busy** (load average up to {max(busy):.1f} on {cpus} cores when a run started):",
            "absolute numbers are low and noisy; the paired ratios and the CPU time per message hold up better.",
            "",
        ]
    if load and load.get("rounds", 0) < MIN_ROUNDS:
        out += [
            f"**Smoke run**: {load['rounds']} round of {load['duration_s']} s per scenario and server. The numbers",
            "show that every server works under every scenario; they are too short and too few to compare.",
            "",
        ]
    return out


def targets_section(load, idle):
    out = ["## Targets", ""]
    rows = []
    rounds = load.get("rounds", 0) if load else 0
    few = rounds < MIN_ROUNDS

    def verdict(met, margin_text, per_round=True):
        if met is None:
            return "not measured"
        text = "met" if met else f"**missed** {margin_text}"
        if per_round and few:
            text += f" (only {rounds} round{'s' if rounds != 1 else ''}; needs ≥ {MIN_ROUNDS})"
        return text

    # 1. pipelined rate.
    pipelined = scenario_named(load, PIPELINED) if load else None
    ours_rate = None
    if pipelined:
        s = summary(pipelined, BASELINE)
        ours_rate = s["msgs_per_s"]["median"] if s and s["msgs_per_s"] else None
    missing = None if ours_rate is None else PIPELINED_MIN_RATE - ours_rate
    rows.append([
        f"`{PIPELINED}` (10 connections × 16 in flight × 20 B): ≥ 1 M msgs/s",
        f"{rate(ours_rate)} msgs/s (median)",
        verdict(None if ours_rate is None else ours_rate >= PIPELINED_MIN_RATE,
                f"by {rate(missing)} msgs/s ({missing / PIPELINED_MIN_RATE * 100:.0f}%)" if missing else ""),
    ])

    # 2. pipelined against the libraries that flush per message.
    for peer in FLUSH_PER_MESSAGE:
        factor, n = paired(pipelined, BASELINE, peer, "msgs_per_s") if pipelined else (None, 0)
        rows.append([
            f"`{PIPELINED}`: ≥ {PIPELINED_MIN_FACTOR:.0f}× {peer} (flushes per message)",
            f"{ratio(factor)}× (median of {n} paired rounds)",
            verdict(None if factor is None else factor >= PIPELINED_MIN_FACTOR,
                    f"by {PIPELINED_MIN_FACTOR - factor:.2f}× ({factor / PIPELINED_MIN_FACTOR * 100:.0f}% of the target)"
                    if factor is not None else ""),
        ])

    # 3. no scenario below the best peer, on throughput and on server CPU per message.
    for key, what, invert in [("msgs_per_s", "throughput", False), ("cpu_ns_per_msg", "server CPU per message", True)]:
        worst = None
        details = []
        for scenario in (load or {}).get("scenarios", []):
            ratios = [(paired(scenario, BASELINE, p, key, invert=invert)[0], p) for p in peers(load)]
            ratios = [(r, p) for r, p in ratios if r is not None]
            if not ratios:
                continue
            r, p = min(ratios)
            details.append((scenario["name"], r, p))
            worst = r if worst is None else min(worst, r)
        below = [f"`{n}` {r:.2f} vs {p}" for n, r, p in details if r < 1.0]
        measured = ", ".join(f"`{n}` {r:.2f}" for n, r, _ in details) or "–"
        rows.append([
            f"no loopback scenario below the best peer ({what}, paired ratio ≥ 1.0, median of ≥ {MIN_ROUNDS} rounds)",
            f"lowest ratio to the best peer per scenario: {measured}",
            verdict(None if worst is None else worst >= 1.0, "in " + "; ".join(below) if below else ""),
        ])

    # 4. idle memory.
    idle_bytes = None
    if idle:
        for server in idle["servers"]:
            if server["name"] == BASELINE:
                idle_bytes = server.get("idle_rss_per_connection")
    rows.append([
        f"idle connection ≤ 4 KiB for the tokio adapter ({BASELINE}, resident memory per connection)",
        f"{bytes_(idle_bytes)} per connection ({idle['connections']:,} connections)" if idle else "–",
        verdict(None if idle_bytes is None else idle_bytes <= IDLE_MAX_BYTES,
                f"by {bytes_(idle_bytes - IDLE_MAX_BYTES)} ({idle_bytes / IDLE_MAX_BYTES:.2f}× the target)"
                if idle_bytes else "", per_round=False),
    ])
    out += [table(["target", "measured", "verdict"], rows, ["l", "l", "l"]), ""]
    out += [
        f"Ratios are {BASELINE}'s over the peer's, paired by round (both measured in the same round, one after the",
        "other) and then the median taken over rounds; for CPU per message the ratio is the peer's over ours, so",
        "above 1.0 means we use less CPU per message in both rows. \"Best peer\" is, per scenario, the peer with",
        "the lowest such ratio.",
        "",
    ]
    return out


def close_problem(result):
    """What went wrong in the closing handshakes of a measurement."""
    unanswered = result.get("unanswered_closes", 0)
    answered = result["unclean_closes"] - unanswered
    parts = []
    if unanswered:
        parts.append(f"{unanswered} connections whose close frame the server never answered")
    if answered:
        parts.append(f"{answered} connections the server left open after answering the close frame")
    return " and ".join(parts) + " (until the client gave up and dropped them)"


def load_section(load, charts=None, chart_dir="perf"):
    charts = charts or {}
    baseline = load.get("baseline", BASELINE)
    out = [
        "## Loopback load",
        "",
        f"From the load run of {when(load.get('started_unix_time'))}: {load['rounds']} round{'s' if load['rounds'] != 1 else ''}"
        " per scenario, each server",
        f"measured for {load['duration_s']} s after {load['warmup_s']} s of warm-up in every round, servers taking turns",
        "(the order rotates each round). Each connection keeps its messages in flight: a new one goes out as soon",
        "as an echo is back. msgs/s counts echoes received; MB/s is payload in one direction; server CPU is the",
        "server process's user + system time during the measurement, per echoed message. The ×-columns are",
        f"paired ratios to {baseline}: the median over rounds of the server's value divided by {baseline}'s in the",
        "same round (× msgs/s above 1: faster than ours; × CPU/msg above 1: more CPU per message than ours).",
        "\"client\" is the load tool's CPU use in cores: when it nears 1.0, the client, not the server, is the limit.",
        "",
    ]
    for scenario in load["scenarios"]:
        out += [f"### `{scenario['name']}`: {scenario['description']}", ""]
        if scenario["name"] in charts:
            out += [f"![{scenario['name']}: msgs/s and server CPU per message]({chart_dir}/{charts[scenario['name']]})", ""]
        rows = []
        notes = []
        for server in scenario["servers"]:
            s = server["summary"]
            rate_median, rate_range = spread_cells(s["msgs_per_s"], rate)
            cpu_median, cpu_range = spread_cells(s["cpu_ns_per_msg"], nanos)
            name = f"**{server['name']}**" if server["name"] in OURS else server["name"]
            rows.append([
                name,
                rate_median,
                rate_range,
                num(s["mb_per_s"]["median"], 1) if s["mb_per_s"] else "–",
                cpu_median,
                cpu_range,
                ratio(s["ratio_msgs_per_s"]),
                ratio(s["ratio_cpu_per_msg"]),
                f"{s['client_cpu_share']['median']:.2f}" if s["client_cpu_share"] else "–",
                f"{s['ok_rounds']}/{len(server['rounds'])}",
            ])
            for r in server["rounds"]:
                problems = []
                if r.get("failure"):
                    problems.append(f"failed: {r['failure']}")
                if r.get("stalled_connections"):
                    problems.append(f"{r['stalled_connections']} connections got no echo during the measurement")
                if r.get("unclean_closes"):
                    problems.append(close_problem(r))
                if r.get("server_error_lines"):
                    sample = "; ".join(r.get("server_errors", [])[:2])
                    problems.append(f"{r['server_error_lines']} lines on the server's stderr ({sample})")
                if problems:
                    notes.append(f"- {server['name']}, round {r['round'] + 1}: " + "; ".join(problems))
        out.append(table(
            ["server", "msgs/s", "min – max", "MB/s", "server CPU/msg", "min – max", "× msgs/s", "× CPU/msg",
             "client", "rounds"],
            rows,
        ))
        out.append("")
        if notes:
            out += notes + [""]
    return out


def idle_section(idle):
    out = [
        "## Memory per connection",
        "",
        f"From the idle run of {when(idle.get('started_unix_time'))}: {idle['connections']:,} connections opened to a fresh",
        "server process, which then settles; its resident memory is read from `/proc/<pid>/status` before any",
        "connection and with all of them open and idle, and the difference is divided by the number of",
        f"connections. Then every connection sends one {bytes_(idle['exchange_bytes'])} message and waits for the",
        f"echo ({idle['exchange_concurrency']} connections at a time), and memory is read again (\"after\"). RSS is",
        "`VmRSS`; anon is `RssAnon`, the private heap and stack pages alone, which does not depend on binary size",
        "or the page cache. Neither counts the kernel's socket buffers. Peak is `VmHWM` over the whole",
        "measurement, per connection.",
        "",
    ]
    rows = []
    notes = []
    for s in idle["servers"]:
        name = f"**{s['name']}**" if s["name"] in OURS else s["name"]
        rows.append([
            name,
            bytes_(s.get("idle_rss_per_connection")),
            bytes_(s.get("idle_anon_per_connection")),
            bytes_(s.get("after_rss_per_connection")),
            bytes_(s.get("after_anon_per_connection")),
            bytes_(s.get("peak_rss_per_connection")),
            f"{s['before']['rss'] / (1 << 20):.1f} MiB",
        ])
        if s.get("failure"):
            notes.append(f"- {s['name']}: failed: {s['failure']}")
        if s.get("unclean_closes"):
            notes.append(f"- {s['name']}: " + close_problem(s))
        if s.get("server_error_lines"):
            notes.append(f"- {s['name']}: {s['server_error_lines']} lines on the server's stderr, first: "
                         + "; ".join(s.get("server_errors", [])[:2]))
    out.append(table(["server", "RSS idle", "anon idle", "RSS after", "anon after", "peak RSS", "RSS at start"], rows))
    out.append("")
    if notes:
        out += notes + [""]
    return out


def criterion_section(path):
    out = ["## In-memory benchmarks (criterion)", ""]
    if not path or not os.path.exists(path):
        out += [
            "Not included in this run: `scripts/bench.sh --markdown target/perf/criterion.md` writes the criterion",
            "tables, and the next `scripts/perf.sh` puts them here.",
            "",
        ]
        return out
    modified = os.path.getmtime(path)
    out += [
        f"From the criterion run whose tables `scripts/criterion_table.py --markdown` wrote on {when(modified)} (not",
        "the load run above): in-memory echo, no sockets, one thread. Ratios above 1 mean wslane is faster.",
        "",
    ]
    with open(path) as f:
        text = f.read().strip("\n")
    # Its headings go below this section's.
    text = re.sub(r"^(#+)", lambda m: "#" * min(len(m.group(1)) + 2, 6), text, flags=re.M)
    out += [text, ""]
    return out


def notes_section(path):
    """The hand-written reading of the figures (why a target was met or missed), kept beside the page."""
    if not path or not os.path.exists(path):
        return []
    with open(path) as f:
        text = f.read().strip("\n")
    return [f"<!-- The notes below are {path}, written by hand from the figures above. -->", "", text, ""]


def toolchain_text(path):
    if path and os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    try:
        return subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", default="target/perf/load.json", help="JSON of wsload run")
    parser.add_argument("--idle", default="target/perf/idle.json", help="JSON of wsload idle")
    parser.add_argument("--criterion", default="target/perf/criterion.md", help="criterion tables (Markdown)")
    parser.add_argument("--toolchain", default="target/perf/toolchain.txt", help="`rustc --version` of the build")
    parser.add_argument("--label", default="scripts/perf.sh", help="the command that produced the JSON")
    parser.add_argument("--notes", default="docs/performance-notes.md", help="hand-written notes (Markdown)")
    parser.add_argument("--output", default="docs/performance.md")
    parser.add_argument("--charts", default="docs/perf", help="directory for the SVG charts (one per scenario)")
    args = parser.parse_args()

    load = load_json(args.load)
    idle = load_json(args.idle)
    if not load and not idle:
        sys.exit(f"perf_report.py: neither {args.load} nor {args.idle} exists; run scripts/perf.sh first")

    out = [
        "# Performance",
        "",
        "<!-- Generated by scripts/perf_report.py from the JSON that scripts/perf.sh writes; do not edit by hand",
        "     (the Notes section comes from docs/performance-notes.md). Regenerate with scripts/perf.sh. -->",
        "",
        "wslane's echo servers (the tokio, async-std and mio examples) against echo servers written the way",
        "tokio-tungstenite, fastwebsockets and tokio-websockets recommend (`benches/src/bin/`), all driven over",
        "loopback by the same load tool, `wsload` (`benches/src/bin/wsload.rs`): a single-threaded mio client",
        "that writes frames masked once per scenario and only counts, length-checks and samples the echoes. Client",
        "and server share the machine's cores, so the comparisons that matter are ratios measured in the same",
        "run and server CPU time per message, which does not depend on the number of cores.",
        "",
        "```sh",
        "scripts/perf.sh            # the full run, then this page",
        "scripts/perf.sh --quick    # a smoke run (about a minute)",
        "```",
        "",
    ]
    out += machine_section(load, idle, toolchain_text(args.toolchain), args.label)
    out += targets_section(load, idle)
    if load:
        charts = write_charts(load, args.charts)
        chart_dir = os.path.relpath(os.path.abspath(args.charts), os.path.dirname(os.path.abspath(args.output)))
        out += load_section(load, charts, chart_dir)
    if idle:
        out += idle_section(idle)
    out += criterion_section(args.criterion)
    out += notes_section(args.notes)
    text = "\n".join(out).rstrip("\n") + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
