"""Rule ``plot_rollout_highway``: the rollouts as pictures: activations of every nn.Linear over
time (both networks), the trained rollout's frames beside the ego's attention (contact sheet)
and as a GIF.

Writes the activations and contact_sheet figures and rollout.gif.
"""

import matplotlib.pyplot as plt
import numpy as np

from xai_repro.common import atomic_output, limit_threads, save_figure, setup_logging
from xai_repro.highway.data import MODELS, load_rollout
from xai_repro.highway.network import ACTIONS


def _activations_figure(rolls):
    keys = sorted(k for k in rolls["trained"] if k.startswith("act__"))
    fig, axes = plt.subplots(len(keys), 2, figsize=(12, 2.2 * len(keys)), squeeze=False)
    for i, k in enumerate(keys):
        for c, m in enumerate(MODELS):
            axes[i, c].imshow(rolls[m][k].T, aspect="auto", cmap="viridis")
            axes[i, c].set_title(f"{m}: {k[5:]} (neuron x step)", fontsize=8)
    fig.tight_layout()
    return fig


def _contact_sheet(roll, cols=6):
    frames, att, actions = roll["frames"], roll["attention"], roll["actions"]
    n = len(frames)
    cols = min(n, cols)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows * 2, cols, figsize=(2.6 * cols, 5.2 * rows), squeeze=False)
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        for ax in (axes[2 * r, c], axes[2 * r + 1, c]):
            ax.axis("off")
        if i < n:
            axes[2 * r, c].imshow(frames[i])
            axes[2 * r, c].set_title(f"t={i} {ACTIONS[actions[i]]}", fontsize=8)
            axes[2 * r + 1, c].axis("on")
            axes[2 * r + 1, c].bar(range(att.shape[-1]), att[i].mean(0))
            axes[2 * r + 1, c].set_ylim(0, 1)
            axes[2 * r + 1, c].set_xlabel("vehicle (0 = ego), mean over heads", fontsize=6)
    fig.tight_layout()
    return fig


def main(rollouts, figures, gif_path):
    import imageio.v2 as imageio

    rolls = {m: load_rollout(rollouts[m]) for m in MODELS}
    save_figure(_activations_figure(rolls), figures["activations"])
    save_figure(_contact_sheet(rolls["trained"]), figures["contact_sheet"])
    frames = [np.asarray(f, dtype=np.uint8)[::2, ::2] for f in rolls["trained"]["frames"]]
    with atomic_output(gif_path) as tmp:
        imageio.mimsave(tmp, frames, format="GIF", duration=0.5)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    rollouts = {m: sm.input[f"rollout_{m}"] for m in MODELS}
    main(rollouts, {name: sm.output[name] for name in sm.params.figures}, sm.output.gif)
