"""The reproduction scorecard: each study's headline numbers beside the original's, per run.

``references``: read and validate ``config/references/<study>.yaml``. ``verdict``: judge one
reference row against a run's ``metrics.json`` in its kind's words (published and derived
numbers are reproduced or deviate, goals are met or missed) and count the verdicts per kind.
``runs``: the scorecard over every run of the invocation and the run sheet, as JSON, Markdown
and reStructuredText (the report's landing page includes the latter). ``snapshot``: a run's
rows kept in expected/<run>.json and checked against a finished run. Imports no study.
"""

from xai_repro.scorecard.references import load_references
from xai_repro.scorecard.runs import build_run_scorecard, to_markdown, to_rst
from xai_repro.scorecard.verdict import ABSENT, KINDS, VERDICTS, judge, lookup

__all__ = [
    "ABSENT",
    "KINDS",
    "VERDICTS",
    "build_run_scorecard",
    "judge",
    "load_references",
    "lookup",
    "to_markdown",
    "to_rst",
]
