"""The scorecard over every run: each reference row beside each run it names.

A row lists the runs (``configs``) at whose scale our number is comparable. For each of those
runs that this invocation built, the row is judged against that run's metrics; for a run of
the sheet that was not built, the row reads *not run*. A row naming no run of the sheet and
no built run appears once, as not run. Rendering: the verdicts counted per study and run
first, then a compact table (run, claim, ours, reference, verdict); sources, tolerances and
the reasons behind each verdict follow in a details table.
"""

from xai_repro.common import InputError
from xai_repro.scorecard.verdict import VERDICTS, fmt, judge


def run_pairs(row: dict, built: dict, sheet: dict) -> list[str]:
    """The runs a reference row is shown at: its ``configs`` that are built or in the sheet."""
    return [run for run in row["configs"] if run in built or run in sheet]


def build_run_scorecard(
    references: dict, metrics: dict, built: dict, sheet: dict, known: list
) -> dict:
    """The scorecard of every run.

    ``references``: study -> rows (:func:`load_references`); ``metrics``: (run, study) ->
    (metrics dict, its path) for every built run's studies; ``built``: run -> its studies,
    for the runs this invocation built; ``sheet``: run -> size (laptop or cluster) for the
    runs of config/runs.yaml; ``known``: every study the workflow has, in order.
    """
    unknown = sorted(set(references) - set(known))
    if unknown:
        raise InputError(f"references for unknown studies {unknown}; known: {known}")
    for run, studies in built.items():
        missing = [s for s in studies if (run, s) not in metrics]
        if missing:
            raise InputError(f"run {run}: no metrics.json given for its studies {missing}")
    rows = []
    for study in known:
        for row in references.get(study, []):
            runs = run_pairs(row, built, sheet) or row["configs"][:1]
            for run in runs:
                if run in built:
                    data, path = metrics.get((run, study), (None, ""))
                    judged = judge(row, study, data, run, path)
                    if data is None:
                        judged["why"] = f"{study} is not among run {run}'s studies"
                else:
                    judged = judge(row, study, None, run, "")
                    where = sheet.get(run)
                    judged["why"] = (
                        f"run {run} ({where}) was not built by this invocation"
                        if where
                        else f"run {run} is not in config/runs.yaml and was not built"
                    )
                rows.append({"run": run, **judged})
    runs = list(dict.fromkeys([*sheet, *built]))
    counts = {}
    for study in known:
        for run in runs:
            mine = [r for r in rows if r["study"] == study and r["run"] == run]
            if mine:
                counts.setdefault(study, {})[run] = {
                    v: sum(r["verdict"] == v for r in mine) for v in VERDICTS
                }
    return {
        "runs": {
            run: {
                "size": sheet.get(run, "ad hoc"),
                "built": run in built,
                "studies": list(built.get(run, [])),
            }
            for run in runs
        },
        "totals": {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS},
        "counts": counts,
        "studies_without_references": [s for s in known if s not in references],
        "rows": rows,
    }


def _ours(row: dict) -> str:
    value, spread = fmt(row["value"]), row["spread"]
    if spread is None or row["value"] is None:
        return value
    if isinstance(spread, list) and len(spread) == 2:
        return f"{value} [{fmt(spread[0])}, {fmt(spread[1])}]"
    return f"{value} ± {fmt(spread)}"


def count_rows(card: dict) -> list[tuple[str, ...]]:
    """(study, run, one count per verdict) for each study and run that has rows."""
    return [
        (study, run, *(str(counts[v]) for v in VERDICTS))
        for study, by_run in card["counts"].items()
        for run, counts in by_run.items()
    ]


def compact_rows(card: dict) -> list[tuple[str, ...]]:
    """(claim, ours, reference, verdict, run) per row: the table read at a glance."""
    return [
        (f"{r['study']}: {r['claim']}", _ours(r), fmt(r["reference"]), r["verdict"], r["run"])
        for r in card["rows"]
    ]


def detail_rows(card: dict) -> list[tuple[str, ...]]:
    """(run, id, tolerance, why, source) per row: what stands behind each verdict."""
    return [(r["run"], r["id"], r["tolerance"], r["why"], r["source"]) for r in card["rows"]]


COUNT_COLUMNS = ("Study", "Run", *VERDICTS)
COMPACT_COLUMNS = ("Claim", "Ours", "Reference", "Verdict", "Run")
DETAIL_COLUMNS = ("Run", "Row", "Tolerance", "Why", "Source")


def summary(card: dict) -> list[str]:
    """Lines above the tables: which runs were built, the totals."""
    built = [r for r, info in card["runs"].items() if info["built"]]
    rest = [f"{r} ({info['size']})" for r, info in card["runs"].items() if not info["built"]]
    lines = [f"Runs built: {', '.join(built) or 'none'}."]
    if rest:
        lines.append(f"Not built by this invocation: {', '.join(rest)}.")
    lines.append(", ".join(f"{card['totals'][v]} {v}" for v in VERDICTS) + ".")
    for study in card["studies_without_references"]:
        lines.append(f"{study}: no config/references/{study}.yaml, so no rows.")
    return lines


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(columns, rows) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]


def to_markdown(card: dict) -> str:
    lines = ["# Reproduction scorecard", ""]
    lines += [line + "  " for line in summary(card)]
    lines += ["", "## Verdicts per study and run", "", *_md_table(COUNT_COLUMNS, count_rows(card))]
    lines += ["", "## Claims", "", "Sources and tolerances: [details](#details).", ""]
    lines += _md_table(COMPACT_COLUMNS, compact_rows(card))
    lines += ["", "## Details", "", *_md_table(DETAIL_COLUMNS, detail_rows(card))]
    return "\n".join(lines) + "\n"


def _rst_cell(text: str) -> str:
    # inline markup characters would be read as rst syntax; escape them
    for char in ("\\", "*", "`", "|", "_"):
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ") or "\\ "


def _rst_table(title, name, columns, rows, widths) -> list[str]:
    lines = ["", f".. list-table:: {title}", f"   :name: {name}", f"   :class: {name}"]
    lines += ["   :header-rows: 1", f"   :widths: {' '.join(map(str, widths))}", ""]
    for row in [columns, *rows]:
        lines.append(f"   * - {_rst_cell(row[0])}")
        lines += [f"     - {_rst_cell(cell)}" for cell in row[1:]]
    return lines


def to_rst(card: dict) -> str:
    """The counts, the compact table (class ``scorecard``, which the report's browser test
    reads) and the details, as ``list-table`` s; the report's landing page includes it."""
    lines = [f"| {_rst_cell(line)}" for line in summary(card)]
    if not card["rows"]:  # docutils refuses a table without a body row
        return "\n".join([*lines, "| No reference rows."]) + "\n"
    lines += _rst_table(
        "Verdicts per study and run",
        "scorecard-counts",
        COUNT_COLUMNS,
        count_rows(card),
        [16, 16, *[17] * len(VERDICTS)],
    )
    lines += ["", "Sources, tolerances and the reason for each verdict: `scorecard-details`_."]
    lines += _rst_table(
        "Reproduction scorecard",
        "scorecard",
        COMPACT_COLUMNS,
        compact_rows(card),
        [44, 16, 12, 16, 12],
    )
    lines += ["", ".. _scorecard-details:", ""]
    lines += _rst_table(
        "Scorecard details", "details", DETAIL_COLUMNS, detail_rows(card), [12, 20, 14, 30, 24]
    )
    return "\n".join(lines) + "\n"
