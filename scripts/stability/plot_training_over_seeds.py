"""Rule ``plot_training_over_seeds``: reads the training histories of one study at every
training seed of a seeds run (``files``, relative to each seed's results/<run>/seed<k>/<study>/
folder, where its metrics.json lies), writes figures/training_over_seeds.png: each seed's
curve of every quantity the training records, with the mean and range over seeds."""

import logging
from pathlib import Path

from xai_repro.common import InputError, limit_threads, save_figure, setup_logging
from xai_repro.stability.curves import training_curves, training_figure

log = logging.getLogger(__name__)


def main(metrics, figure_path, *, run, study, seeds, files):
    if len(metrics) != len(seeds):
        raise InputError(f"{len(metrics)} metrics.json files for the {len(seeds)} seeds {seeds}")
    folders = {seed: Path(path).parent for seed, path in zip(seeds, metrics)}
    curves = training_curves(study, folders, files)
    for title, entry in curves.items():
        points = ", ".join(f"seed {s}: {len(x)}" for s, (x, _) in entry["per_seed"].items())
        log.info("%s %s (%s): points %s", study, title, entry["source"], points)
    save_figure(training_figure(curves, study=study, run=run, seeds=seeds), figure_path)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821  (injected by Snakemake)
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.metrics, sm.output[0], **sm.params)
