"""Rule ``plot_cfrl_training``: CFRL's training curves.

Reads ``training_log.csv`` (written by fit_cfrl's alibi Callback); writes
``figures/training_curves.png``: the mean reward of the sampled counterfactuals (share
classified as their target) and the actor, critic and sparsity losses per step.
"""

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from xai_repro.cfrl.explainer import LOG_COLUMNS  # noqa: E402
from xai_repro.common import InputError, limit_threads, read_csv, save_figure, setup_logging  # noqa: E402

log = logging.getLogger(__name__)


def _plot_training(frame):
    """Reward (training validity) against fit seconds (left), losses against step (right)."""
    fig, (ax_r, ax_l) = plt.subplots(1, 2, figsize=(11, 4))
    ax_r.plot(frame["seconds"], frame["reward"], color="C0")
    ax_r.set(
        xlabel="fit time (s)",
        ylabel="mean reward = training validity",
        title="Reward against fit time",
        ylim=(-0.05, 1.05),
    )
    for i, col in enumerate(["actor_loss", "critic_loss", "sparsity_loss", "consistency_loss"]):
        if frame[col].notna().any():
            ax_l.plot(frame["step"], frame[col], label=col, color=f"C{i + 1}")
    ax_l.set(xlabel="training step", ylabel="loss", title="Losses")
    ax_l.legend()
    for ax in (ax_r, ax_l):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def main(log_csv, figure_path):
    frame = read_csv(log_csv, columns=LOG_COLUMNS[:3])
    if frame.empty:
        raise InputError(f"{log_csv}: no rows (train_steps shorter than log_every?)")
    save_figure(_plot_training(frame), figure_path)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.log_csv, sm.output.figure)
