#!/usr/bin/env python3
"""Tables from criterion results: the echo comparison of wslane against its peers, and the other groups.

Reads <criterion dir>/<group>/<bench>/new/{benchmark,estimates}.json (the criterion directory is
<target>/criterion). For the echo groups (echo_<kind>_<size>, one benchmark per implementation, throughput
in messages per iteration) it prints the time per message and the ratio of each peer's time to wslane's:
above 1 means wslane is faster. Like is compared with like:

  - synchronous, in-memory streams: wslane_core vs tungstenite
  - async, over tokio::io::duplex:  wslane_tokio vs fastwebsockets and tokio_websockets
  - and the core against every implementation.

For the server-only groups (server_<kind>_<size>, benches/benches/server.rs) it prints wslane-tokio against
the core, its own owned-message echo (recv then feed) and every peer, each server fed replayed frames with
no client in the loop.

Usage: criterion_table.py [CRITERION_DIR] [--markdown FILE] [--estimate slope|mean|median]
"""

import argparse
import json
import math
import os
import re
import sys

KINDS = ["binary", "text"]
SIZES = ["20B", "1KiB", "16KiB", "1MiB"]
CORE = "wslane_core"
ADAPTER = "wslane_tokio"
SYNC_PEERS = ["tungstenite"]
ASYNC_PEERS = ["fastwebsockets", "tokio_websockets"]
ALL_OTHERS = ["tungstenite", "wslane_tokio", "fastwebsockets", "tokio_websockets"]
SERVER_PEERS = ["wslane_core", "wslane_tokio_owned", "fastwebsockets", "tokio_websockets", "tokio_tungstenite"]


def load(criterion_dir, estimate):
    """{group: {bench: (ns per iteration, throughput dict or None)}} from every benchmark found."""
    results = {}
    for root, dirs, files in os.walk(criterion_dir):
        dirs.sort()
        if os.path.basename(root) != "new" or "estimates.json" not in files:
            continue
        try:
            with open(os.path.join(root, "benchmark.json")) as f:
                meta = json.load(f)
            with open(os.path.join(root, "estimates.json")) as f:
                estimates = json.load(f)
        except (OSError, ValueError):
            continue
        chosen = estimate
        if chosen == "slope" and not estimates.get("slope"):
            chosen = "mean"  # flat sampling has no slope; criterion reports the mean then
        point = estimates[chosen]["point_estimate"]
        group = meta.get("group_id")
        # A parameterised benchmark (mask/size/apply_mask/16KiB) keeps its parameter in the name.
        bench = "/".join(part for part in (meta.get("function_id"), meta.get("value_str")) if part)
        results.setdefault(group, {})[bench] = (point, meta.get("throughput"))
    return results


def per_element(entry):
    """ns per element (message) of a result whose throughput is in elements, else per iteration."""
    ns, throughput = entry
    if throughput and "Elements" in throughput and throughput["Elements"]:
        return ns / throughput["Elements"]
    return ns


def fmt_time(ns):
    if ns is None:
        return "-"
    if ns < 1e3:
        return f"{ns:.1f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.2f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.2f} ms"
    return f"{ns / 1e9:.2f} s"


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}×"


def geomean(values):
    values = [v for v in values if v]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def echo_rows(results, prefix="echo"):
    """(label, {impl: ns per message}) for every echo case found (groups <prefix>_<kind>_<size>), in size
    then kind order."""
    rows = []
    for size in SIZES:
        for kind in KINDS:
            group = results.get(f"{prefix}_{kind}_{size}")
            if not group:
                continue
            rows.append((f"{kind} {size}", {b: per_element(e) for b, e in group.items()}))
    return rows


def comparison(rows, base, peers):
    """A table: per case, base's time, then each peer's time and its ratio to base; a geomean row."""
    header = ["case", base]
    for peer in peers:
        header += [peer, "ratio"]
    body = []
    ratios = {peer: [] for peer in peers}
    for label, times in rows:
        b = times.get(base)
        line = [label, fmt_time(b)]
        for peer in peers:
            p = times.get(peer)
            r = p / b if (p and b) else None
            if r:
                ratios[peer].append(r)
            line += [fmt_time(p), fmt_ratio(r)]
        body.append(line)
    if body:
        line = ["geomean", ""]
        for peer in peers:
            line += ["", fmt_ratio(geomean(ratios[peer]))]
        body.append(line)
    return header, body


def text_table(header, body):
    widths = [max(len(str(row[i])) for row in [header] + body) for i in range(len(header))]
    lines = []
    for n, row in enumerate([header] + body):
        cells = [str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header, body):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for row in body:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


def natural(name):
    """Sort key putting numbers in numeric order: 7bit before 16bit, 2_fragments before 16_fragments."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def other_rows(results):
    """(group, bench, time per iteration, throughput) for every group that is not an echo group."""
    rows = []
    for group in sorted((g for g in results if g and not g.startswith(("echo_", "server_"))), key=natural):
        for bench in sorted(results[group], key=natural):
            ns, throughput = results[group][bench]
            rate = "-"
            if throughput and throughput.get("Bytes"):
                rate = f"{throughput['Bytes'] / ns * 1e9 / (1 << 30):.2f} GiB/s"
            elif throughput and throughput.get("Elements"):
                rate = f"{fmt_time(ns / throughput['Elements'])}/element"
            rows.append([group, bench, fmt_time(ns), rate])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("criterion_dir", nargs="?", default=os.path.join("target", "bench", "criterion"))
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables as a Markdown fragment")
    parser.add_argument("--estimate", choices=["slope", "mean", "median"], default="slope",
                        help="which criterion estimate to use (default: slope, as criterion reports it)")
    args = parser.parse_args()

    if not os.path.isdir(args.criterion_dir):
        sys.exit(f"no criterion results in {args.criterion_dir}")
    results = load(args.criterion_dir, args.estimate)
    rows = echo_rows(results)

    sections = [
        ("Synchronous, in-memory streams: wslane core vs tungstenite", comparison(rows, CORE, SYNC_PEERS)),
        ("Async, over tokio::io::duplex: wslane-tokio vs fastwebsockets and tokio-websockets",
         comparison(rows, ADAPTER, ASYNC_PEERS)),
        ("The wslane core vs every implementation", comparison(rows, CORE, ALL_OTHERS)),
    ]
    server_rows = echo_rows(results, "server")
    if server_rows:
        sections.append(("Server only (benches/benches/server.rs: frames replayed from memory, no client task): "
                         "wslane-tokio vs every peer", comparison(server_rows, ADAPTER, SERVER_PEERS)))
    intro = ("Echo, time per message (lower is better). A ratio is the peer's time over wslane's: "
             "above 1 means wslane is faster.")

    out = [intro, ""]
    if not rows and not server_rows:
        out.append("(no echo results found)")
    for title, (header, body) in sections:
        if body:
            out += [title, text_table(header, body), ""]
    others = other_rows(results)
    if others:
        out += ["Other benchmarks (time per iteration)",
                text_table(["group", "benchmark", "time", "throughput"], others), ""]
    print("\n".join(out).rstrip())

    if args.markdown:
        md = [intro, ""]
        for title, (header, body) in sections:
            if body:
                md += [f"**{title}**", "", markdown_table(header, body), ""]
        if others:
            md += ["**Other benchmarks** (time per iteration)", "",
                   markdown_table(["group", "benchmark", "time", "throughput"], others), ""]
        with open(args.markdown, "w") as f:
            f.write("\n".join(md).rstrip() + "\n")


if __name__ == "__main__":
    main()
