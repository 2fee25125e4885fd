"""The scorecard over every run: each reference row beside each run it names.

A row lists the runs (``configs``) at whose scale our number is comparable. For each of those
runs that has results, the row is judged against that run's metrics, in its kind's words
(:mod:`~xai_repro.scorecard.verdict`): a run this invocation built, or a run of the sheet
whose metrics.json an earlier invocation left on disk (marked so: ``built_by``, the files'
times; a study whose file is absent, at some seed of a seeds run, is not run, with why). For
a run of the sheet without results, the row reads *not run*. A row naming no run of the sheet
and no built run appears once, as not run. A row without a metric (a published number the
workflow computes nothing beside) is not comparable at any run and appears once, with no run.
A seeds run with results (config/runs.yaml's ``seeds``) shows, besides the rows naming it,
the rows of the run it compares as (its ``compare_as``) for its studies, each judged over its
seeds (:mod:`~xai_repro.scorecard.seeds`: mean, 95 % interval, reproduced / deviates /
inconclusive).

Rendering (the cells: :mod:`~xai_repro.scorecard.tables`): the verdicts counted per kind (all
runs, then each run), the verdicts counted per study and run, a compact table (claim, ours,
reference, verdict, run, kind), then the sources, tolerances and the reason behind each
verdict in a details table; a run read from an earlier invocation is labelled
"<run> (earlier)" throughout.
"""

from xai_repro.common import InputError
from xai_repro.scorecard.seeds import judge_seeded
from xai_repro.scorecard.tables import (
    COMPACT_COLUMNS,
    COUNT_COLUMNS,
    DETAIL_COLUMNS,
    KIND_COLUMNS,
    compact_rows,
    count_rows,
    detail_rows,
    kind_rows,
    summary,
)
from xai_repro.scorecard.verdict import (
    ANY_RUN,
    EARLIER,
    KINDS,
    THIS,
    VERDICTS,
    count,
    headline,
    judge,
)


def run_pairs(row: dict, shown: dict, sheet: dict, seeded=None, study=None) -> list[str]:
    """The runs a reference row is shown at: its ``configs`` that have results or are in the
    sheet, then each seeds run of ``study`` with results that compares as one of its
    ``configs``. ``shown``: run with results -> its studies."""
    runs = [run for run in row["configs"] if run in shown or run in sheet]
    for run, info in (seeded or {}).items():
        if run in shown and run not in runs and study in shown[run]:
            if info.get("compare_as") in row["configs"]:
                runs.append(run)
    return runs


def _judged(row, study, run, given) -> dict:
    """The row against run ``run``'s metrics (over its seeds for a seeds run); ``given``:
    (metrics, built, seeded, seed_metrics) as :func:`build_run_scorecard` takes them."""
    metrics, _, seeded, seed_metrics = given
    if run in seeded:
        return judge_seeded(row, study, seed_metrics, run, seeded[run])
    data, path = metrics.get((run, study), (None, ""))
    judged = judge(row, study, data, run, path)
    if data is None:
        judged["why"] = f"{study} is not among run {run}'s studies"
    return judged


def _not_run(row, study, run, why, seeded) -> dict:
    seeds = seeded.get(run, {}).get("seeds")
    return {**judge(row, study, None, run, ""), "seeds": seeds, "why": why}


def _judge_at(row, study, run, given, sheet, earlier) -> dict:
    """The row at one run: judged when the run has results for ``study`` (built now, or on
    disk from an earlier invocation), else not run, with why. ``built_by`` says who wrote
    the metrics.json read (None: none was). An earlier run's metric that the row cannot read
    (results older than the reference row) is not run, naming the error: those files are
    not this invocation's to fix."""
    metrics, built, seeded, seed_metrics = given
    found = earlier.get(run, {"modified": {}, "missing": {}})
    if run in built or study in found["modified"]:
        try:
            judged = _judged(row, study, run, given)
        except InputError as err:
            if run in built:
                raise
            why = f"{err}; these results are from an earlier invocation: rebuild run {run}"
            judged = _not_run(row, study, run, why, seeded)
        read = (run, study) in metrics or (run, study) in seed_metrics
        by = (THIS if run in built else EARLIER) if read else None
        return {**judged, "built_by": by, "metrics_modified": found["modified"].get(study)}
    if study in found["missing"]:
        absent = ", ".join(found["missing"][study])
        why = f"run {run} was not built by this invocation, and not on disk: {absent}"
    elif run in earlier:
        why = f"{study} is not among run {run}'s studies"
    elif run in sheet:
        why = (
            f"run {run} ({sheet[run]}) was not built by this invocation and has no results on disk"
        )
    else:
        why = f"run {run} is not in config/runs.yaml and was not built"
    return {**_not_run(row, study, run, why, seeded), "built_by": None, "metrics_modified": None}


def _judge_runs(row, study, given, sheet, earlier) -> list[dict]:
    """The row judged at each run it is shown at (one row with run None when it has no
    metric); raises InputError naming the row for a metric path absent at a built run."""
    if row["metric"] is None:
        judged = judge(row, study, {}, "", "")
        return [{"run": None, **judged, "built_by": None, "metrics_modified": None}]
    _, built, seeded, _ = given
    shown = {**{r: [*e["modified"], *e["missing"]] for r, e in earlier.items()}, **built}
    runs = run_pairs(row, shown, sheet, seeded, study) or row["configs"][:1]
    return [{"run": run, **_judge_at(row, study, run, given, sheet, earlier)} for run in runs]


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
    earlier: dict | None = None,
) -> dict:
    """The scorecard of every run.

    ``references``: study -> rows (:func:`load_references`); ``metrics``: (run, study) ->
    (metrics dict, its path) for every built run's studies; ``built``: run -> its studies,
    for the runs this invocation built; ``sheet``: run -> size (laptop or cluster) for the
    runs of config/runs.yaml; ``known``: every study the workflow has, in order;
    ``seeded``: run -> {seeds, compare_as} for the sheet's seeds runs; ``seed_metrics``:
    (run, study) -> {seed: (metrics dict, its path)} for the built seeds runs; ``earlier``:
    run -> {"modified": {study: time of its metrics.json}, "missing": {study: its absent
    metrics.json paths}} for the sheet's runs outside the invocation with any metrics.json
    on disk, whose complete studies' metrics are in ``metrics`` / ``seed_metrics`` too. Every bad row
    is named in one :class:`InputError`.
    """
    seeded, seed_metrics, earlier = seeded or {}, seed_metrics or {}, earlier or {}
    unknown = sorted(set(references) - set(known))
    if unknown:
        raise InputError(f"references for unknown studies {unknown}; known: {known}")
    _check_given(built, metrics, seeded, seed_metrics)
    rows, errors = [], []
    given = (metrics, built, seeded, seed_metrics)
    for study in known:
        for row in references.get(study, []):
            try:
                rows += _judge_runs(row, study, given, sheet, earlier)
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
        found = earlier.get(run, {})
        info[run] = {
            "size": sheet.get(run, "ad hoc" if run in built else "not in config/runs.yaml"),
            "built": run in built,  # by this invocation
            "built_by": THIS if run in built else EARLIER if found.get("modified") else None,
            "studies": list(built.get(run, found.get("modified", []))),
            "metrics_modified": found.get("modified") or None,
            "missing": found.get("missing") or None,
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
