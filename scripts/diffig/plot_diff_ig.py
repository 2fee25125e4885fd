"""Rule ``plot_diff_ig``: the differential-IG figures.

Reads ``diff_ig.json``; writes one 4x1 heatmap per configured (input, baseline) pair
(rows: cart position, cart velocity, pole angle, pole velocity — the seed's
``diff_IGs.jpg``) and ``diff_ig_matrix.png``: for each observation feature, its
attribution for every (input step, baseline step) pair of the sampled steps.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.common import InputError, read_json, save_figure, setup_logging  # noqa: E402


def _pair_figure(pair: dict, features):
    values = np.asarray(pair["attribution"], dtype=float)[:, None]
    fig, ax = plt.subplots(figsize=(2.6, 5))
    lim = np.abs(values).max() or 1.0
    im = ax.imshow(values, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_yticks(range(len(features)), features)
    ax.set_xticks([])
    for k, v in enumerate(values[:, 0]):
        ax.text(0, k, f"{v:.3g}", ha="center", va="center", fontsize=8)
    ax.set_title(f"input {pair['input']}, baseline {pair['baseline']}", fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.08)
    return fig


def _matrix_figure(matrix: dict, features):
    steps = matrix["steps"]
    values = np.asarray(matrix["attribution"], dtype=float)
    fig, axs = plt.subplots(1, len(features), figsize=(4 * len(features), 3.8))
    for k, (ax, name) in enumerate(zip(axs, features)):
        lim = np.abs(values[:, :, k]).max() or 1.0
        im = ax.imshow(values[:, :, k], cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set(title=name, xlabel="baseline step", ylabel="input step")
        ax.set_xticks(range(len(steps)), steps, rotation=90, fontsize=7)
        ax.set_yticks(range(len(steps)), steps, fontsize=7)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("Differential IG of each observation feature over (input, baseline) pairs")
    fig.tight_layout()
    return fig


def main(diff_ig_json, pair_pngs, matrix_png):
    data = read_json(diff_ig_json)
    if len(data["pairs"]) != len(pair_pngs):  # before any figure is written
        raise InputError(f"{diff_ig_json}: {len(data['pairs'])} pairs, {len(pair_pngs)} figures")
    for pair, path in zip(data["pairs"], pair_pngs, strict=True):
        save_figure(_pair_figure(pair, data["features"]), path)
    save_figure(_matrix_figure(data["matrix"], data["features"]), matrix_png)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.diff_ig, sm.output.pairs, sm.output.matrix)
