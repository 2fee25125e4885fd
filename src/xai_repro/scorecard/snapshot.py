"""Snapshots of a run's scorecard rows (expected/<run>.json), checked row by row.

A finished run is one with results in results/scorecard.json: built by the invocation that
wrote it, or read from the results an earlier invocation left on disk (``built_by``; verify
says so). ``snapshot``: write a finished run's rows of results/scorecard.json (each with its
kind) to expected/<run>.json. ``verify``: compare a finished run with its snapshot, each row within
the tolerance that expected/tolerances.yaml gives it (first matching id pattern; exact when
none matches), its verdict and kind the snapshot's, and print a table of the differences;
the exit status is 1 when a row is out of tolerance. ``headline``: the README's headline
table (Markdown) from a snapshot, with the verdicts counted per kind (a seeds run's rows as
mean [95 % interval] over n seeds).

    python -m xai_repro.scorecard.snapshot snapshot --run default
    python -m xai_repro.scorecard.snapshot verify [--run test]
    python -m xai_repro.scorecard.snapshot headline --run default
"""

from __future__ import annotations

import argparse
import fnmatch
import math
import sys
from pathlib import Path

from xai_repro.common.io import InputError, read_json, read_yaml, write_json
from xai_repro.scorecard.verdict import EARLIER, KINDS, NOT_RUN, THIS, VERDICTS, fmt
from xai_repro.scorecard.verdict import headline as kind_lines

KEEP = (
    "study",
    "kind",
    "claim",
    "metric",
    "value",
    "spread",
    "reference",
    "tolerance",
    "verdict",
    "source",
    "seeds",
    "interval",
)


def built_by(card: dict, run: str) -> str | None:
    """Who built ``run``'s results in the scorecard: this invocation (of the scorecard), an
    earlier one (results found on disk), or None (no results; also an unknown run)."""
    info = card["runs"].get(run, {})
    return info.get("built_by", THIS if info.get("built") else None)


def snapshot_rows(card: dict, run: str) -> dict:
    """The snapshot of ``run``: its rows of the scorecard, keyed by row id, when the run has
    results (built by the invocation that wrote the scorecard, or an earlier one)."""
    if built_by(card, run) is None:
        raise InputError(
            f"run {run} is not built in this scorecard, nor are its results on disk; build it first"
        )
    rows = {r["id"]: {k: r.get(k) for k in KEEP} for r in card["rows"] if r["run"] == run}
    return {"run": run, "rows": rows}


def tolerance_for(row_id: str, tolerances: list[dict]) -> dict:
    """The first entry of expected/tolerances.yaml whose ``ids`` pattern matches the row."""
    for entry in tolerances:
        if any(fnmatch.fnmatchcase(row_id, pattern) for pattern in entry["ids"]):
            return entry
    return {"abs": 0.0, "why": "no pattern matches: exact"}


def _flat(value) -> list:
    return value if isinstance(value, list) else [value]


def differs(expected, got, entry: dict) -> float | None:
    """The largest difference beyond the tolerance (None when within it); a value that
    appears or disappears, or a list of another length, is infinitely different."""
    if expected is None and got is None:
        return None
    a, b = _flat(expected), _flat(got)
    if expected is None or got is None or len(a) != len(b):
        return math.inf
    worst = None
    for x, y in zip(a, b, strict=True):
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y)):
            if x != y:
                return math.inf
            continue
        bound = entry.get("abs", 0.0) + entry.get("rel", 0.0) * abs(x)
        if abs(x - y) > bound:
            worst = max(worst or 0.0, abs(x - y))
    return worst


def compare(card: dict, snap: dict, tolerances: list[dict]) -> list[dict]:
    """One record per snapshot row: expected and got value and verdict, tolerance, ok."""
    run = snap["run"]
    got = {r["id"]: r for r in card["rows"] if r["run"] == run}
    out = []
    for row_id, want in snap["rows"].items():
        if "kind" not in want:
            raise InputError(
                f"expected/{run}.json: row {row_id} has no kind (a snapshot older than the "
                f"kinds); rewrite it from a finished run: make snapshot RUN={run}"
            )
        entry = tolerance_for(row_id, tolerances)
        have = got.get(row_id)
        value = None if have is None else have["value"]
        verdict = NOT_RUN if have is None else have["verdict"]
        kind = want["kind"] if have is None else have["kind"]
        off = differs(want["value"], value, entry)
        tol = " ".join(f"{k} {fmt(entry[k])}" for k in ("abs", "rel") if k in entry)
        out.append(
            {
                "run": run,
                "id": row_id,
                "expected_kind": want["kind"],
                "kind": kind,
                "expected": want["value"],
                "got": value,
                "tolerance": tol or "exact",
                "expected_verdict": want["verdict"],
                "verdict": verdict,
                "ok": off is None and verdict == want["verdict"] and kind == want["kind"],
                "why": entry["why"],
            }
        )
    for row_id in sorted(set(got) - set(snap["rows"])):
        out.append(
            {
                "run": run,
                "id": row_id,
                "expected_kind": "(not in the snapshot)",
                "kind": got[row_id]["kind"],
                "expected": None,
                "got": got[row_id]["value"],
                "tolerance": "—",
                "expected_verdict": "(not in the snapshot)",
                "verdict": got[row_id]["verdict"],
                "ok": False,
                "why": "a new reference row: make snapshot RUN=" + run,
            }
        )
    return out


def table(records: list[dict], *, only_differences: bool) -> str:
    shown = [r for r in records if not (only_differences and r["ok"])]
    head = ("run", "row", "kind", "expected", "got", "tolerance", "verdict (expected -> got)", "ok")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in shown:
        verdicts = f"{r['expected_verdict']} -> {r['verdict']}"
        kind = (
            r["kind"] if r["kind"] == r["expected_kind"] else f"{r['expected_kind']} -> {r['kind']}"
        )
        cells = (
            r["run"],
            r["id"],
            kind,
            fmt(r["expected"]),
            fmt(r["got"]),
            r["tolerance"],
            verdicts,
        )
        lines.append("| " + " | ".join(cells) + f" | {'yes' if r['ok'] else 'NO'} |")
    return "\n".join(lines)


def headline(snap: dict) -> str:
    """The README's headline table: a line with the verdicts counted per kind, then study,
    kind, claim, ours, reference, verdict per row (rows not run at this scale left out)."""
    counts = {k: {v: 0 for v in VERDICTS} for k in KINDS}
    for row in snap["rows"].values():
        counts[row["kind"]][row["verdict"]] += 1
    lines = [
        f"Run `{snap['run']}` (generated from expected/{snap['run']}.json by `make headline`): "
        + "; ".join(kind_lines(counts))
        + ".",
        "",
        "| Study | Kind | Claim | Ours | Reference | Verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in snap["rows"].values():
        if row["verdict"] == NOT_RUN:
            continue
        ours = fmt(row["value"])
        if row.get("interval") is not None:  # a seeds run: mean [95 % interval] (n seeds)
            ours += f" {fmt(row['interval'])} (n = {len(row['seeds'])} seeds)"
        elif row["spread"] is not None and not isinstance(row["spread"], list):
            ours += f" ± {fmt(row['spread'])}"
        cells = (
            row["study"],
            row["kind"],
            row["claim"],
            ours,
            fmt(row["reference"]),
            row["verdict"],
        )
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _say_earlier(card: dict, run: str) -> None:
    """Print that ``run``'s rows come from an earlier invocation's results, when they do."""
    if built_by(card, run) == EARLIER:
        newest = max(card["runs"][run]["metrics_modified"].values())
        print(f"{run}: results of an earlier invocation, not rebuilt (metrics.json of {newest})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("snapshot", "verify", "headline"))
    parser.add_argument("--run", help="the run (verify: every snapshot whose run has results)")
    parser.add_argument("--scorecard", default="results/scorecard.json", type=Path)
    parser.add_argument("--expected", default="expected", type=Path)
    args = parser.parse_args(argv)
    if args.command == "headline":
        print(headline(read_json(args.expected / f"{args.run or 'default'}.json")), end="")
        return 0
    card = read_json(args.scorecard)
    if args.command == "snapshot":
        if not args.run:
            parser.error("snapshot needs --run")
        path = args.expected / f"{args.run}.json"
        write_json(path, snapshot_rows(card, args.run))
        _say_earlier(card, args.run)
        print(f"wrote {path}")
        return 0
    tolerances = read_yaml(args.expected / "tolerances.yaml")["tolerances"]
    runs = [args.run] if args.run else [p.stem for p in sorted(args.expected.glob("*.json"))]
    runs = [r for r in runs if built_by(card, r)]
    if not runs:
        print(
            f"run {args.run} has no results in {args.scorecard}: not built by the "
            "invocation that wrote it, nor read from an earlier one's results"
            if args.run
            else f"no snapshot in {args.expected}/ is of a run with results in {args.scorecard}"
        )
        return 1
    for run in runs:
        _say_earlier(card, run)
    records = []
    for run in runs:
        records += compare(card, read_json(args.expected / f"{run}.json"), tolerances)
    bad = [r for r in records if not r["ok"]]
    print(f"{len(records) - len(bad)} of {len(records)} rows within tolerance ({', '.join(runs)}).")
    print(table(records, only_differences=False))
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InputError as err:  # a bad snapshot or scorecard: the message, not a traceback
        sys.exit(f"error: {err}")
