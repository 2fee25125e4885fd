"""The scorecard as text: a Markdown file for readers of results/, and a reStructuredText
table that the report's landing page (report/workflow.rst) includes."""

from xai_repro.scorecard.verdict import fmt

COLUMNS = ("Study", "Kind", "Claim", "Ours", "Reference", "Tolerance", "Verdict", "Source")


def _ours(row: dict) -> str:
    value, spread = fmt(row["value"]), row["spread"]
    if spread is None:
        return value
    if isinstance(spread, list) and len(spread) == 2:
        return f"{value} [{fmt(spread[0])}, {fmt(spread[1])}]"
    return f"{value} ± {fmt(spread)}"


def table_rows(card: dict) -> list[tuple[str, ...]]:
    """One tuple of cell texts per scorecard row, in COLUMNS order."""
    return [
        (
            r["study"],
            r["kind"],
            r["claim"],
            _ours(r),
            fmt(r["reference"]),
            r["tolerance"],
            f"{r['verdict']}: {r['why']}",
            r["source"],
        )
        for r in card["rows"]
    ]


def summary(card: dict) -> list[str]:
    """Lines above the table: the run, the verdict counts per kind, studies with no
    references."""
    lines = [f"Run: config `{card['config']}`, studies {', '.join(card['studies'])}."]
    lines += [line + "." for line in card["headline"]]
    for study in card["studies_without_references"]:
        lines.append(f"{study}: no config/references/{study}.yaml, so no rows.")
    return lines


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(card: dict) -> str:
    lines = ["# Reproduction scorecard", ""]
    lines += [line + "  " for line in summary(card)]
    lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table_rows(card)]
    return "\n".join(lines) + "\n"


def _rst_cell(text: str) -> str:
    # inline markup characters would be read as rst syntax; escape them
    for char in ("\\", "*", "`", "|", "_"):
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ") or "\\ "


# The report's landing column is narrow: four columns, study and source folded in.
RST_COLUMNS = ("Claim", "Ours", "Reference (tolerance; source)", "Verdict")


def to_rst(card: dict) -> str:
    """A ``list-table`` of class ``scorecard`` (the report's browser test looks for it)."""
    lines = [f"| {_rst_cell(line)}" for line in summary(card)]
    if not card["rows"]:  # docutils refuses a table without a body row
        return "\n".join([*lines, "| No reference rows."]) + "\n"
    lines += ["", ".. list-table:: Reproduction scorecard", "   :name: scorecard"]
    lines += ["   :class: scorecard", "   :header-rows: 1", "   :widths: 30 12 38 20", ""]
    rows = [
        (f"{study} ({kind}): {claim}", ours, f"{ref} ({tol}; {source})", verdict)
        for study, kind, claim, ours, ref, tol, verdict, source in table_rows(card)
    ]
    for row in [RST_COLUMNS, *rows]:
        lines.append(f"   * - {_rst_cell(row[0])}")
        lines += [f"     - {_rst_cell(cell)}" for cell in row[1:]]
    return "\n".join(lines) + "\n"
