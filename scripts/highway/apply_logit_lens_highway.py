"""Rule ``apply_logit_lens_highway``: the Q head applied to the ego embedding, the attention
output and each hidden layer of the output MLP, over the trained rollout's states: how often
each already picks the final greedy action, and the mean |Q_lens - Q|.

Writes the logit_lens figure and the logit-lens JSON.
"""

import matplotlib.pyplot as plt

from xai_repro.common import limit_threads, save_figure, seed_everything, setup_logging, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, snakemake_analysis_io
from xai_repro.highway.intervention import logit_lens
from xai_repro.highway.plots import grouped_bars


def main(models, rollouts, figures, out_path, *, seed):
    seed_everything(seed)
    nets, _, x = load_analysis_inputs(models, rollouts)
    lens = {m: logit_lens(nets[m], x) for m in MODELS}
    layers = list(lens["trained"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in (
        (axes[0], "agreement", "agreement with the final greedy action"),
        (axes[1], "mean_abs_dq", "mean |Q_lens - Q|"),
    ):
        grouped_bars(ax, layers, {m: [lens[m][n][key] for n in layers] for m in MODELS}, label)
    fig.suptitle("logit lens: the Q head applied to intermediate representations")
    fig.tight_layout()
    save_figure(fig, figures["logit_lens"])
    write_json(out_path, {"logit_lens": lens})


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    models, rollouts, figures, out_path, params = snakemake_analysis_io(sm)
    main(models, rollouts, figures, out_path, **params)
