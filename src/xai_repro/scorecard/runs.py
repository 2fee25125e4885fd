"""The scorecard over every run: each reference row beside each run it names.

A row lists the runs (``configs``) at whose scale our number is comparable. For each of those
runs that this invocation built, the row is judged against that run's metrics, in its kind's
words (:mod:`~xai_repro.scorecard.verdict`); for a run of the sheet that was not built, the
row reads *not run*. A row naming no run of the sheet and no built run appears once, as not
run. A row without a metric (a published number the workflow computes nothing beside) is not
comparable at any run and appears once, with no run. A built seeds run (config/runs.yaml's
``seeds``) shows, besides the rows naming it, the rows of the run it compares as (its
``compare_as``) for its studies, each judged over its seeds
(:mod:`~xai_repro.scorecard.seeds`: mean, 95 % interval, reproduced / deviates /
inconclusive).

Rendering: the verdicts counted per kind (all runs, then each run), the verdicts counted per
study and run, a compact table (claim, ours, reference, verdict, run, kind), then the sources,
tolerances and the reason behind each verdict in a details table.
"""

from xai_repro.common import InputError
from xai_repro.scorecard.seeds import judge_seeded
from xai_repro.scorecard.verdict import KINDS, VERDICTS, count, fmt, headline, judge, kind_text

ANY_RUN = "any run"  # the run column of a row without a metric


def run_pairs(row: dict, built: dict, sheet: dict, seeded=None, study=None) -> list[str]:
    """The runs a reference row is shown at: its ``configs`` that are built or in the sheet,
    then each built seeds run of ``study`` that compares as one of its ``configs``."""
    runs = [run for run in row["configs"] if run in built or run in sheet]
    for run, info in (seeded or {}).items():
        if run in built and run not in runs and study in built[run]:
            if info.get("compare_as") in row["configs"]:
                runs.append(run)
    return runs


def _judge_runs(row, study, metrics, built, sheet, seeded, seed_metrics) -> list[dict]:
    """The row judged at each run it is shown at (one row with run None when it has no
    metric); raises InputError naming the row for a metric path absent at a built run."""
    if row["metric"] is None:
        return [{"run": None, **judge(row, study, {}, "", "")}]
    out = []
    for run in run_pairs(row, built, sheet, seeded, study) or row["configs"][:1]:
        if run in built and run in seeded:
            judged = judge_seeded(row, study, seed_metrics, run, seeded[run])
        elif run in built:
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
        out.append({"run": run, **judged})
    return out


def _check_given(built: dict, metrics: dict, seeded: dict, seed_metrics: dict) -> None:
    for run, studies in built.items():
        if run in seeded:
            missing = [
                f"{s} seed {k}"
                for s in studies
                for k in seeded[run]["seeds"]
                if k not in seed_metrics.get((run, s), {})
            ]
        else:
            missing = [s for s in studies if (run, s) not in metrics]
        if missing:
            raise InputError(f"run {run}: no metrics.json given for its studies {missing}")


def build_run_scorecard(
    references: dict,
    metrics: dict,
    built: dict,
    sheet: dict,
    known: list,
    *,
    seeded: dict | None = None,
    seed_metrics: dict | None = None,
) -> dict:
    """The scorecard of every run.

    ``references``: study -> rows (:func:`load_references`); ``metrics``: (run, study) ->
    (metrics dict, its path) for every built run's studies; ``built``: run -> its studies,
    for the runs this invocation built; ``sheet``: run -> size (laptop or cluster) for the
    runs of config/runs.yaml; ``known``: every study the workflow has, in order;
    ``seeded``: run -> {seeds, compare_as} for the sheet's seeds runs; ``seed_metrics``:
    (run, study) -> {seed: (metrics dict, its path)} for the built seeds runs. Every bad row
    is named in one :class:`InputError`.
    """
    seeded, seed_metrics = seeded or {}, seed_metrics or {}
    unknown = sorted(set(references) - set(known))
    if unknown:
        raise InputError(f"references for unknown studies {unknown}; known: {known}")
    _check_given(built, metrics, seeded, seed_metrics)
    rows, errors = [], []
    for study in known:
        for row in references.get(study, []):
            try:
                rows += _judge_runs(row, study, metrics, built, sheet, seeded, seed_metrics)
            except InputError as err:  # report every bad row at once
                errors.append(str(err))
    if errors:
        raise InputError("scorecard:\n  " + "\n  ".join(errors))
    named = [r["run"] for r in rows if r["run"] and r["run"] not in sheet and r["run"] not in built]
    runs = list(dict.fromkeys([*sheet, *built, *named]))
    counts = {}
    for study in known:
        for run in [*runs, None]:
            mine = [r for r in rows if r["study"] == study and r["run"] == run]
            if mine:
                counts.setdefault(study, {})[run or ANY_RUN] = count(mine)["all"]
    overall = count(rows)
    info = {}
    for run in runs:
        of_run = count([r for r in rows if r["run"] == run])
        info[run] = {
            "size": sheet.get(run, "ad hoc" if run in built else "not in config/runs.yaml"),
            "built": run in built,
            "studies": list(built.get(run, [])),
            "seeds": seeded.get(run, {}).get("seeds"),
            "counts_by_kind": {k: of_run[k] for k in KINDS},
            "headline": headline(of_run),
        }
    return {
        "runs": info,
        "headline": headline(overall),
        "counts_by_kind": {k: overall[k] for k in KINDS},
        "totals": overall["all"],
        "counts": counts,
        "studies_without_references": [s for s in known if s not in references],
        "rows": rows,
    }


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


def kind_rows(card: dict) -> list[tuple[str, ...]]:
    """(run, one text per kind) for all runs together, then for each run that has rows."""
    groups = [("all runs", card["counts_by_kind"])]
    groups += [(run, info["counts_by_kind"]) for run, info in card["runs"].items()]
    return [
        (name, *(kind_text(k, by_kind[k]) or "—" for k in KINDS))
        for name, by_kind in groups
        if any(any(by_kind[k].values()) for k in KINDS)
    ]


def count_rows(card: dict) -> list[tuple[str, ...]]:
    """(study, run, one count per verdict) for each study and run that has rows."""
    return [
        (study, run, *(str(counts[v]) for v in VERDICTS))
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
            r["run"] or ANY_RUN,
            r["kind"],
        )
        for r in card["rows"]
    ]


def detail_rows(card: dict) -> list[tuple[str, ...]]:
    """(run, id, tolerance, why, source) per row: what stands behind each verdict."""
    return [
        (r["run"] or ANY_RUN, r["id"], r["tolerance"], r["why"], r["source"]) for r in card["rows"]
    ]


KIND_COLUMNS = ("Run", *KINDS)
COUNT_COLUMNS = ("Study", "Run", *VERDICTS)
COMPACT_COLUMNS = ("Claim", "Ours", "Reference", "Verdict", "Run", "Kind")
DETAIL_COLUMNS = ("Run", "Row", "Tolerance", "Why", "Source")


def summary(card: dict) -> list[str]:
    """Lines above the tables: which runs were built and which not, studies without
    references."""
    built = [
        f"{r} ({len(info['seeds'])} seeds)" if info.get("seeds") else r
        for r, info in card["runs"].items()
        if info["built"]
    ]
    rest = [f"{r} ({info['size']})" for r, info in card["runs"].items() if not info["built"]]
    lines = [f"Runs built: {', '.join(built) or 'none'}."]
    if rest:
        lines.append(f"Not built by this invocation: {', '.join(rest)}.")
    for study in card["studies_without_references"]:
        lines.append(f"{study}: no config/references/{study}.yaml, so no rows.")
    return lines


KINDS_NOTE = (
    "Published and derived numbers are reproduced or deviate; goals of this project "
    "are met or missed; over the seeds of a seeds run, a row whose 95 % interval straddles "
    'the tolerance is inconclusive; "of N" counts the rows compared.'
)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(columns, rows) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]


def to_markdown(card: dict) -> str:
    lines = ["# Reproduction scorecard", ""]
    lines += [line + "  " for line in summary(card)]
    lines += ["", "## Verdicts per kind", "", KINDS_NOTE, ""]
    lines += _md_table(KIND_COLUMNS, kind_rows(card))
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
    """The counts per kind and per study and run, the compact table (class ``scorecard``,
    which the report's browser test reads) and the details, as ``list-table`` s; the
    report's landing page includes it."""
    lines = [f"| {_rst_cell(line)}" for line in summary(card)]
    if not card["rows"]:  # docutils refuses a table without a body row
        return "\n".join([*lines, "| No reference rows."]) + "\n"
    lines += ["", _rst_cell(KINDS_NOTE)]
    lines += _rst_table(
        "Verdicts per kind", "scorecard-kinds", KIND_COLUMNS, kind_rows(card), [16, 28, 28, 28]
    )
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
        [40, 14, 12, 14, 10, 10],
    )
    lines += ["", ".. _scorecard-details:", ""]
    lines += _rst_table(
        "Scorecard details", "details", DETAIL_COLUMNS, detail_rows(card), [12, 20, 14, 30, 24]
    )
    return "\n".join(lines) + "\n"
