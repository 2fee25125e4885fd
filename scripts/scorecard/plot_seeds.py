"""Rule ``plot_seeds``: reads ``results/scorecard.json``; writes ``results/<run>/seeds.png``,
every seed's value of each row of seeds run ``run`` beside the mean, its 95 % interval and
the tolerance (xai_repro.scorecard.figures)."""

from xai_repro.common import read_json, save_figure, setup_logging
from xai_repro.scorecard.figures import plot_seeds, seeded_rows


def main(scorecard, out_path, *, run):
    rows = seeded_rows(read_json(scorecard), run)
    save_figure(plot_seeds(rows, run), out_path)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.scorecard, sm.output[0], **sm.params)
