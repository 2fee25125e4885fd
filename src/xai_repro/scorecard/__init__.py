"""The reproduction scorecard: each study's headline numbers beside the original's.

``references``: read and validate ``config/references/<study>.yaml``. ``verdict``: judge one
reference row against a run's ``metrics.json`` in its kind's words (published and derived
numbers are reproduced or deviate, goals are met or missed) and count the verdicts per kind.
``render``: the scorecard as Markdown and as reStructuredText (the report's landing page
includes the latter). Imports no study.
"""

from xai_repro.scorecard.references import load_references
from xai_repro.scorecard.render import to_markdown, to_rst
from xai_repro.scorecard.verdict import ABSENT, KINDS, VERDICTS, build_scorecard, judge, lookup

__all__ = [
    "ABSENT",
    "KINDS",
    "VERDICTS",
    "build_scorecard",
    "judge",
    "load_references",
    "lookup",
    "to_markdown",
    "to_rst",
]
