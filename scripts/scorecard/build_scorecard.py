"""Rule ``build_scorecard``: every headline number of every run beside the original's.

Reads each built run's ``results/<run>/<study>/metrics.json`` (a seeds run's
``results/<run>/seed<k>/<study>/metrics.json``) and the reference files
``config/references/<study>.yaml`` (validated by ``config/schema/references.schema.yaml``);
writes ``results/scorecard.json`` (rows with their run and kind, verdict counts per kind and
per study and run), ``results/scorecard.md`` and ``results/scorecard.rst`` (the report's
landing page includes it). The format and the verdicts are documented in docs/scorecard.md.
"""

import logging
from pathlib import Path

from xai_repro.common import atomic_output, read_json, setup_logging, write_json
from xai_repro.scorecard import build_run_scorecard, load_references, to_markdown, to_rst
from xai_repro.scorecard.seeds import locate

log = logging.getLogger(__name__)


def main(
    metrics_paths,
    reference_paths,
    schema,
    out_json,
    out_md,
    out_rst,
    *,
    runs,
    sheet,
    known,
    seeded=None,
):
    """``metrics_paths``: results/<run>/[seed<k>/]<study>/metrics.json of the built runs (any
    order); ``runs``: built run -> its studies; ``sheet``: run of config/runs.yaml -> its
    size; ``seeded``: seeds run of the sheet -> {seeds, compare_as}."""
    references = load_references(reference_paths, schema)
    seeded = seeded or {}
    metrics, seed_metrics = {}, {}
    for path in map(Path, metrics_paths):
        run, seed, study = locate(path, seeded)
        entry = (read_json(path), str(path))
        if seed is None:
            metrics[(run, study)] = entry
        else:
            seed_metrics.setdefault((run, study), {})[seed] = entry
    card = build_run_scorecard(
        references, metrics, runs, sheet, known, seeded=seeded, seed_metrics=seed_metrics
    )
    log.info("scorecard: %s", "; ".join(card["headline"]))
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
