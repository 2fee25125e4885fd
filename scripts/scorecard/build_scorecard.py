"""Rule ``build_scorecard``: every headline number beside the original's, with a verdict.

Reads each configured study's ``results/<study>/metrics.json`` and the reference files
``config/references/<study>.yaml`` (validated by ``config/schema/references.schema.yaml``);
writes ``results/scorecard.json`` (rows with their kind, verdict counts overall and per kind,
the headline lines), ``results/scorecard.md`` and
``results/scorecard.rst`` (the table the report's landing page includes). The format and the
verdicts are documented in docs/scorecard.md.
"""

import logging
from pathlib import Path

from xai_repro.common import atomic_output, read_json, setup_logging, write_json
from xai_repro.scorecard import build_scorecard, load_references, to_markdown, to_rst

log = logging.getLogger(__name__)


def main(metrics_paths, reference_paths, schema, out_json, out_md, out_rst, *, run, studies, known):
    """``metrics_paths``: results/<study>/metrics.json of the run's studies (any order)."""
    references = load_references(reference_paths, schema)
    metrics = {Path(p).parent.name: (read_json(p), str(p)) for p in metrics_paths}
    missing = [s for s in studies if s not in metrics]
    if missing:
        raise ValueError(f"no metrics.json given for the run's studies {missing}")
    card = build_scorecard(references, metrics, run, studies, known)
    log.info("config %s: %s", run, "; ".join(card["headline"]))
    write_json(out_json, card)
    for path, text in ((out_md, to_markdown(card)), (out_rst, to_rst(card))):
        with atomic_output(path) as tmp:
            tmp.write_text(text)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    out = sm.output
    main(
        sm.input.metrics,
        sm.input.references,
        sm.input.schema,
        out.json,
        out.md,
        out.rst,
        **sm.params,
    )
