"""Rule ``perturb_highway``: perturbations of the last hidden layer on the trained agent's pooled
states: the notebook's +0.1 shift (mean and max |dQ| per action) and the greedy-action flip
rate under Gaussian noise of growing std (with episode-bootstrap 95 % intervals), trained vs
untrained.

Writes the perturbation figure and the perturbation JSON.
"""

import matplotlib.pyplot as plt
import numpy as np

from xai_repro.common import save_figure, seed_everything, write_json
from xai_repro.highway.data import MODELS, load_analysis_inputs, run_analysis_rule
from xai_repro.highway.intervention import noise_flips, shift_last_hidden
from xai_repro.highway.network import ACTIONS
from xai_repro.highway.plots import grouped_bars
from xai_repro.highway.states import mean_interval


def main(models, states, figures, out_path, *, seed, perturb_sigmas, perturb_shift):
    seed_everything(seed)
    nets, st, x = load_analysis_inputs(models, states)
    rng = np.random.default_rng(seed)
    per_state = {m: noise_flips(nets[m], x, perturb_sigmas, rng) for m in MODELS}
    intervals = {m: mean_interval(per_state[m].T, st["episode"], rng) for m in MODELS}
    flips = {m: intervals[m][0] for m in MODELS}
    shift = {m: shift_last_hidden(nets[m], x, perturb_shift) for m in MODELS}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for m in MODELS:
        ci = np.array(intervals[m][1])
        axes[0].plot(perturb_sigmas, flips[m], marker="o", label=m)
        axes[0].fill_between(perturb_sigmas, ci[:, 0], ci[:, 1], alpha=0.2)
    axes[0].set_xlabel("noise std / hidden std")
    axes[0].set_ylabel("greedy action flip rate")
    axes[0].legend()
    grouped_bars(
        axes[1],
        ACTIONS,
        {f"{m} {k}": shift[m][f"{k}_abs_dq"] for m in MODELS for k in ("mean", "max")},
        f"|dQ| after +{perturb_shift} on the last hidden layer",
    )
    fig.tight_layout()
    save_figure(fig, figures["perturbation"])
    result = {
        "final_hidden_perturbation": {"sigmas": list(perturb_sigmas), **flips},
        "final_hidden_perturbation_ci95": {m: intervals[m][1] for m in MODELS},
        "final_hidden_shift": shift,
    }
    write_json(out_path, result)


if __name__ == "__main__":
    run_analysis_rule(main, snakemake)  # noqa: F821
