"""The scorecard's tables, cell by cell: the verdicts counted per kind and per study and run,
the compact table and the details, and the lines above them (which runs have results, and
from which invocation). :mod:`~xai_repro.scorecard.runs` renders them as Markdown and rst.
"""

from xai_repro.scorecard.verdict import ANY_RUN, EARLIER, KINDS, VERDICTS, fmt, kind_text

EARLIER_MARK = " (earlier)"  # after the name of a run read from an earlier invocation


def ours(row: dict) -> str:
    """Our value as text: "mean [low, high] (n = k seeds)" for a seeds run's row, else the
    value with its spread ("± s" or "[low, high]")."""
    value, spread = fmt(row["value"]), row["spread"]
    if row.get("interval") is not None and row["value"] is not None:
        return f"{value} {fmt(row['interval'])} (n = {len(row['seeds'])} seeds)"
    if spread is None or row["value"] is None:
        return value
    if isinstance(spread, list) and len(spread) == 2:
        return f"{value} [{fmt(spread[0])}, {fmt(spread[1])}]"
    return f"{value} ± {fmt(spread)}"


def label(card: dict, run: str | None) -> str:
    """A run's name in the tables: "<run> (earlier)" when its results are an earlier
    invocation's, "any run" for a row without a metric."""
    if run is None or run == ANY_RUN:
        return ANY_RUN
    return run + EARLIER_MARK if card["runs"].get(run, {}).get("built_by") == EARLIER else run


def kind_rows(card: dict) -> list[tuple[str, ...]]:
    """(run, one text per kind) for all runs together, then for each run that has rows."""
    groups = [("all runs", card["counts_by_kind"])]
    groups += [(label(card, run), info["counts_by_kind"]) for run, info in card["runs"].items()]
    return [
        (name, *(kind_text(k, by_kind[k]) or "—" for k in KINDS))
        for name, by_kind in groups
        if any(any(by_kind[k].values()) for k in KINDS)
    ]


def count_rows(card: dict) -> list[tuple[str, ...]]:
    """(study, run, one count per verdict) for each study and run that has rows."""
    return [
        (study, label(card, run), *(str(counts[v]) for v in VERDICTS))
        for study, by_run in card["counts"].items()
        for run, counts in by_run.items()
    ]


def compact_rows(card: dict) -> list[tuple[str, ...]]:
    """(claim, ours, reference, verdict, run, kind) per row: the table read at a glance."""
    return [
        (
            f"{r['study']}: {r['claim']}",
            ours(r),
            fmt(r["reference"]),
            r["verdict"],
            label(card, r["run"]),
            r["kind"],
        )
        for r in card["rows"]
    ]


def detail_rows(card: dict) -> list[tuple[str, ...]]:
    """(run, id, tolerance, why, source) per row: what stands behind each verdict."""
    return [
        (label(card, r["run"]), r["id"], r["tolerance"], r["why"], r["source"])
        for r in card["rows"]
    ]


KIND_COLUMNS = ("Run", *KINDS)
COUNT_COLUMNS = ("Study", "Run", *VERDICTS)
COMPACT_COLUMNS = ("Claim", "Ours", "Reference", "Verdict", "Run", "Kind")
DETAIL_COLUMNS = ("Run", "Row", "Tolerance", "Why", "Source")


def _when(modified: dict) -> str:
    times = sorted(modified.values())
    return f"metrics.json of {times[0]}" + (f" to {times[-1]}" if times[-1] != times[0] else "")


def summary(card: dict) -> list[str]:
    """Lines above the tables: the runs built by this invocation, those read from an earlier
    one (when their files were written, the studies absent on disk), the runs without
    results, studies without references."""
    runs = card["runs"].items()
    seeds = {r: f" ({len(i['seeds'])} seeds)" if i.get("seeds") else "" for r, i in runs}
    built = [r + seeds[r] for r, info in runs if info["built"]]
    earlier = [r for r, info in runs if info["built_by"] == EARLIER]
    rest = [f"{r} ({info['size']})" for r, info in runs if info["built_by"] is None]
    lines = [f"Runs built: {', '.join(built) or 'none'}."]
    if earlier:
        read = [f"{r}{seeds[r]}, {_when(card['runs'][r]['metrics_modified'])}" for r in earlier]
        mark = EARLIER_MARK.strip()
        lines.append(
            f'Read from an earlier invocation\'s results, not rebuilt now (marked "{mark}" in '
            f"the tables): {'; '.join(read)}."
        )
    for r, info in runs:
        if info.get("missing") and not info["built"]:
            absent = [f"{s} ({len(p)} metrics.json absent)" for s, p in info["missing"].items()]
            lines.append(
                f"{r}: no complete results on disk for {', '.join(absent)}; those rows are not run."
            )
    if rest:
        lines.append(
            f"Not built by this invocation, no complete results on disk: {', '.join(rest)}."
        )
    for study in card["studies_without_references"]:
        lines.append(f"{study}: no config/references/{study}.yaml, so no rows.")
    return lines
