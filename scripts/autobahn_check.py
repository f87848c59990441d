#!/usr/bin/env python3
"""Judges Autobahn|Testsuite reports strictly, prints a per-group table, and writes docs/conformance.md.

    scripts/autobahn_check.py [options] RUN_DIR...
    scripts/autobahn_check.py --summary RUN_DIR

Each RUN_DIR holds the reports of one wstest run (index.json, and a .json and .html report per case) and is
named <adapter>-<role>, as scripts/autobahn.sh lays them out under target/autobahn/. A case passes when both
its `behavior` and its `behaviorClose` are OK or INFORMATIONAL. Anything else fails, NON-STRICT included.
UNIMPLEMENTED fails like NON-STRICT: every adapter negotiates permessage-deflate, so groups 12 and 13 are
judged like the rest. Exits with 1 when a case fails or is missing.

Python 3 standard library only.
"""

import argparse
import datetime
import json
import os
import sys

GROUPS = {
    1: "Framing",
    2: "Pings/Pongs",
    3: "Reserved bits",
    4: "Opcodes",
    5: "Fragmentation",
    6: "UTF-8 handling",
    7: "Close handling",
    9: "Limits/Performance",
    10: "Misc",
    12: "WebSocket compression (different payloads)",
    13: "WebSocket compression (different parameters)",
}
COLUMNS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
SHORT = {"OK": "ok", "NON-STRICT": "non-strict", "INFORMATIONAL": "info", "UNIMPLEMENTED": "unimpl",
         "FAILED": "FAILED"}
ROLES = {
    "server": "`wstest -m fuzzingclient` connects to the adapter's echo server example (`echo_server` or "
              "`<prefix>_echo_server`; for hyper, the axum integration's `axum_echo`, over HTTP/1.1)",
    "client": "the adapter's `autobahn_client` example connects to `wstest -m fuzzingserver`",
}
# Failures listed per run on the terminal; the rest are counted.
MAX_LISTED = 40


def case_key(case_id):
    return tuple(int(part) for part in case_id.split("."))


def group_of(case_id):
    return int(case_id.split(".", 1)[0])


def classify(behavior, behavior_close):
    """The column a case counts in: its worse verdict. FAILED also takes WRONG CODE, UNCLEAN, NO_CLOSE,
    FAILED BY CLIENT and anything unknown."""
    verdicts = {behavior, behavior_close}
    if not verdicts <= {"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED"}:
        return "FAILED"
    for verdict in ("NON-STRICT", "UNIMPLEMENTED", "INFORMATIONAL"):
        if verdict in verdicts:
            return verdict
    return "OK"


def passes(column):
    return column in ("OK", "INFORMATIONAL")


class Run:
    """One run directory: its cases, their columns, and what is wrong with it."""

    def __init__(self, path):
        self.path = os.path.normpath(path)
        self.name = os.path.basename(self.path)
        self.adapter, _, self.role = self.name.rpartition("-")
        if not self.adapter:
            self.adapter, self.role = self.name, "?"
        self.cases = {}  # case id -> (behavior, behaviorClose, column, report file)
        self.problems = []  # run-level failures: missing index, missing cases
        self.failing = []  # failing case ids
        self.started = None
        index = os.path.join(self.path, "index.json")
        try:
            with open(index, encoding="utf-8") as file:
                agents = json.load(file)
        except (OSError, ValueError) as err:
            self.problems.append(f"no readable {index} ({err})")
            return
        if len(agents) != 1:
            self.problems.append(f"{index} holds {len(agents)} agents, expected one: {sorted(agents)}")
            return
        for case_id, result in next(iter(agents.values())).items():
            behavior, behavior_close = result.get("behavior", "?"), result.get("behaviorClose", "?")
            column = classify(behavior, behavior_close)
            report = os.path.join(self.path, result.get("reportfile", "?"))
            self.cases[case_id] = (behavior, behavior_close, column, report)
            if not passes(column):
                self.failing.append(case_id)
        self.failing.sort(key=case_key)
        self.started = self._started()

    def _started(self):
        """When the run's first case started (YYYY-MM-DD), from its report."""
        if not self.cases:
            return None
        first = min(self.cases, key=case_key)
        try:
            with open(self.cases[first][3], encoding="utf-8") as file:
                return json.load(file).get("started", "")[:10] or None
        except (OSError, ValueError):
            return None

    def counts(self, group=None):
        counts = dict.fromkeys(COLUMNS, 0)
        for case_id, (_, _, column, _) in self.cases.items():
            if group is None or group_of(case_id) == group:
                counts[column] += 1
        return counts

    def ok(self):
        return not self.problems and not self.failing

    def summary(self):
        counts = self.counts()
        parts = [f"{counts[c]} {c}" for c in COLUMNS if counts[c] or c == "FAILED"]
        verdict = "pass" if self.ok() else "FAIL"
        text = f"{len(self.cases)} cases: " + ", ".join(parts) + f" -> {verdict}"
        return "; ".join([text] + self.problems)


def check_case_sets(runs, expect_cases):
    for run in runs:
        if not run.cases:
            continue
        if expect_cases is not None and len(run.cases) != expect_cases:
            run.problems.append(f"{len(run.cases)} cases reported, expected {expect_cases}")
    every = set().union(*(run.cases for run in runs)) if runs else set()
    for run in runs:
        if run.cases and len(run.cases) < len(every):
            missing = sorted(every - set(run.cases), key=case_key)
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            run.problems.append(f"{len(missing)} cases missing that other runs have: {shown}")


def groups_in(runs):
    found = {group_of(case_id) for run in runs for case_id in run.cases}
    return sorted(set(GROUPS) | found)


def group_label(group):
    return f"{group} {GROUPS.get(group, '(unknown group)')}"


def cell(counts):
    return " ".join(f"{counts[c]} {SHORT[c]}" for c in COLUMNS if counts[c]) or "-"


def print_report(runs):
    failing = [run for run in runs if run.failing]
    if failing:
        print("autobahn: failing cases (verdicts behavior / behaviorClose; an .html report sits beside each .json):")
        for run in failing:
            for case_id in run.failing[:MAX_LISTED]:
                behavior, behavior_close, _, report = run.cases[case_id]
                print(f"  {run.name:<20} {case_id:<9} {behavior + ' / ' + behavior_close:<30} {report}")
            if len(run.failing) > MAX_LISTED:
                more = len(run.failing) - MAX_LISTED
                print(f"  {run.name:<20} ... and {more} more: {os.path.join(run.path, 'index.html')}")
    for run in runs:
        for problem in run.problems:
            print(f"autobahn: {run.name}: {problem}")

    width = max(len(group_label(g)) for g in groups_in(runs)) + 2
    cells = {run.name: [cell(run.counts(g)) for g in groups_in(runs)] for run in runs}
    widths = [max(len(run.name), *(len(c) for c in cells[run.name])) + 2 for run in runs]
    print("group".ljust(width) + "".join(run.name.ljust(w) for run, w in zip(runs, widths)).rstrip())
    for i, group in enumerate(groups_in(runs)):
        row = "".join(cells[run.name][i].ljust(w) for run, w in zip(runs, widths))
        print((group_label(group).ljust(width) + row).rstrip())


def markdown(runs, args):
    dates = sorted(run.started for run in runs if run.started)
    date = dates[-1] if dates else datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    failures = sum(len(run.failing) for run in runs)
    problems = [f"{run.name}: {problem}" for run in runs for problem in run.problems]
    if failures or problems:
        result = f"**fails**: {failures} failing cases" + (f", {len(problems)} run problems" if problems else "")
    else:
        result = "**passes**"
    allowed = "UNIMPLEMENTED fails too, in every group (compression included)"
    lines = [
        "# Conformance: Autobahn|Testsuite",
        "",
        "<!-- Generated by scripts/autobahn_check.py from the reports of scripts/autobahn.sh. Do not edit by hand:",
        "     run `scripts/autobahn.sh --update-docs` instead. -->",
        "",
        f"- wstest (Autobahn|Testsuite) {args.wstest_version or 'version unknown'}, every case (`\"cases\": [\"*\"]`, "
        "no exclusions)",
        f"- run on {date} (UTC) by `{args.command or 'scripts/autobahn_check.py'}`",
        f"- result: {result}",
        "",
        "Strict judgement: a case passes only when both its `behavior` and its `behaviorClose` are OK or "
        f"INFORMATIONAL. NON-STRICT fails; {allowed}. A case counts in the column of its worse verdict; FAILED "
        "also takes WRONG CODE, UNCLEAN, NO_CLOSE and FAILED BY CLIENT.",
        "",
        "Roles:",
    ]
    lines += [f"- *{role}*: {text}." for role, text in ROLES.items()]
    roles = {}
    for run in runs:
        roles.setdefault(run.adapter, set()).add(run.role)
    server_only = [adapter for adapter, found in roles.items() if found == {"server"}]
    if server_only:
        lines += ["", f"Server role only: {', '.join(server_only)} (no Autobahn client example)."]
    for run in runs:
        lines += ["", f"## {run.adapter}, {run.role}", ""]
        lines.append("| Group | " + " | ".join(COLUMNS) + " |")
        lines.append("|---|" + "---:|" * len(COLUMNS))
        for group in groups_in(runs):
            counts = run.counts(group)
            lines.append(f"| {group_label(group)} | " + " | ".join(str(counts[c]) for c in COLUMNS) + " |")
        total = run.counts()
        lines.append("| **Total** | " + " | ".join(f"**{total[c]}**" for c in COLUMNS) + " |")
        for problem in run.problems:
            lines += ["", f"Run problem: {problem}."]
    lines += ["", "## Failing cases", ""]
    if not failures:
        lines.append("None.")
    for run in runs:
        for case_id in run.failing:
            behavior, behavior_close, _, report = run.cases[case_id]
            lines.append(f"- {run.name} {case_id}: {behavior} / {behavior_close} "
                         f"(`target/autobahn/{run.name}/{os.path.basename(report)}`)")
    lines += [
        "",
        "## Running it locally",
        "",
        "```sh",
        "scripts/autobahn.sh                # every adapter whose crate exists, in each of its roles",
        "scripts/autobahn.sh tokio          # one adapter",
        "scripts/autobahn.sh --update-docs  # and regenerate this page",
        "```",
        "",
        "wstest is Python 2.7 code. The first run installs it, with the pins of `scripts/autobahn-constraints.txt`,",
        "into `${WSLANE_CACHE:-~/.cache/wslane}/autobahn` (about a minute; later runs reuse it). That needs a",
        "CPython 2.7 under pyenv (`pyenv install 2.7.18`, or point `WSLANE_PYTHON2` at a `python2.7`), python3, a",
        "C compiler, and access to the Python package index. The installed fuzzing server is patched to listen on",
        "127.0.0.1 only; all traffic stays on loopback. The runs go side by side, `AUTOBAHN_JOBS` at a time",
        "(default: the number of CPUs).",
        "",
        "Reports land in `target/autobahn/<adapter>-<role>/`: `index.html` for a browser, and one `.json` and `.html`",
        "per case showing what was sent and received. `scripts/autobahn_check.py target/autobahn/*-*/` judges them",
        "again. CI (`.ci/run`) runs the script, beside its other stages, and fails on any failing case.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--summary", action="store_true",
                        help="print one summary line per run and exit with 0")
    parser.add_argument("--expect-cases", type=int, help="the number of cases each run must report")
    parser.add_argument("--markdown", action="append", default=[], metavar="FILE",
                        help="write the conformance page to FILE (repeatable)")
    parser.add_argument("--wstest-version", help="for the conformance page")
    parser.add_argument("--command", help="the command that produced the reports, for the conformance page")
    args = parser.parse_args()

    runs = [Run(path) for path in args.runs]
    check_case_sets(runs, args.expect_cases)
    if args.summary:
        for run in runs:
            print(run.summary())
        return 0
    print_report(runs)
    page = markdown(runs, args)
    for path in args.markdown:
        with open(path, "w", encoding="utf-8") as file:
            file.write(page)
    failures = sum(len(run.failing) for run in runs)
    problems = sum(len(run.problems) for run in runs)
    if failures or problems:
        print(f"autobahn: FAILED: {failures} failing cases, {problems} run problems, in "
              f"{sum(1 for run in runs if not run.ok())} of {len(runs)} runs")
        return 1
    print(f"autobahn: all {sum(len(run.cases) for run in runs)} cases of {len(runs)} runs pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
