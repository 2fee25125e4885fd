"""Rule ``build_scorecard``: every headline number of every run beside the original's.

Reads each built run's ``results/<run>/<study>/metrics.json`` (a seeds run's
``results/<run>/seed<k>/<study>/metrics.json``), those that earlier invocations left on disk
for the sheet's other runs (not inputs: param ``earlier``), and the reference files
``config/references/<study>.yaml`` (validated by ``config/schema/references.schema.yaml``);
writes ``results/scorecard.json`` (rows with their run, kind and who built them, verdict
counts per kind and per study and run), ``results/scorecard.md`` and
``results/scorecard.rst`` (the report's landing page includes it). The format and the
verdicts are documented in docs/scorecard.md.
"""

import logging
from datetime import UTC, datetime
from pathlib import Path

from xai_repro.common import atomic_output, read_json, setup_logging, write_json
from xai_repro.scorecard import build_run_scorecard, load_references, to_markdown, to_rst
from xai_repro.scorecard.seeds import locate

log = logging.getLogger(__name__)


def _modified(paths: list[Path]) -> str:
    """The newest modification time of ``paths``, UTC, to the second."""
    newest = max(p.stat().st_mtime for p in paths)
    return datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _on_disk(earlier: dict, seeded: dict) -> tuple[list[Path], dict]:
    """The metrics.json files of the sheet's runs outside the invocation that are on disk
    now, of each study whose files are all there (every seed of a seeds run), and per run
    with any file on disk: {"modified": {complete study: newest time}, "missing": {other
    study: its absent paths}}."""
    present, found = [], {}
    for run, paths in earlier.items():
        by_study = {}
        for path in map(Path, paths):
            by_study.setdefault(locate(path, seeded)[2], []).append(path)
        modified, missing = {}, {}
        for study, files in by_study.items():
            absent = [str(p) for p in files if not p.exists()]
            if absent:
                missing[study] = absent
            else:
                modified[study] = _modified(files)
                present += files
        if modified or sum(map(len, missing.values())) < len(paths):
            found[run] = {"modified": modified, "missing": missing}
    return present, found


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
    earlier=None,
):
    """``metrics_paths``: results/<run>/[seed<k>/]<study>/metrics.json of the built runs (any
    order); ``runs``: built run -> its studies; ``sheet``: run of config/runs.yaml -> its
    size; ``seeded``: seeds run of the sheet -> {seeds, compare_as}; ``earlier``: each run of
    the sheet outside the invocation -> {every metrics.json it has when complete (each study
    of its sheet config, each seed): its mtime in ns or None}, as the workflow saw them (the
    mtimes are for Snakemake's params trigger; the files are read as they are now)."""
    references = load_references(reference_paths, schema)
    seeded = seeded or {}
    present, found = _on_disk(earlier or {}, seeded)
    metrics, seed_metrics = {}, {}
    for path in [*map(Path, metrics_paths), *present]:
        run, seed, study = locate(path, seeded)
        entry = (read_json(path), str(path))
        if seed is None:
            metrics[(run, study)] = entry
        else:
            seed_metrics.setdefault((run, study), {})[seed] = entry
    for run, info in found.items():
        log.info("run %s: results of an earlier invocation, %s", run, info)
    card = build_run_scorecard(
        references,
        metrics,
        runs,
        sheet,
        known,
        seeded=seeded,
        seed_metrics=seed_metrics,
        earlier=found,
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
