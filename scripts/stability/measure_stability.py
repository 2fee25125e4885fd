"""Rule ``measure_stability``: reads one study's attribution outputs of every training seed of
a seeds run (results/<run>/seed<k>/<study>/, beside each seed's metrics.json), writes the
run's metrics.json for the study (results/<run>/<study>/metrics.json: under ``stability``, the
rank correlation and top-k overlap over seed pairs, with the study's sanity checks) and the
stability figure."""

import logging

from xai_repro.common import InputError, limit_threads, save_figure, setup_logging, write_json
from xai_repro.stability.measure import measure, stability_figure

log = logging.getLogger(__name__)


def main(metrics, metrics_path, figure_path, *, run, study, seeds, top_k_fraction, options):
    if len(metrics) != len(seeds):
        raise InputError(f"{len(metrics)} metrics.json files for the {len(seeds)} seeds {seeds}")
    result = measure(
        study,
        dict(zip(seeds, metrics)),
        top_k_fraction=top_k_fraction,
        options=options,
    )
    for name, v in result["vectors"].items():
        log.info(
            "%s %s: Spearman mean %s over %d pairs, top-k overlap mean %s",
            study,
            name,
            v["spearman"]["mean"],
            v["pairs"],
            v["top_k_overlap"]["mean"],
        )
    figure = stability_figure(result)
    write_json(metrics_path, {"stability": {"run": run, **result}})
    save_figure(figure, figure_path)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821  (injected by Snakemake)
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.metrics, sm.output.metrics, sm.output.figure, **sm.params)
