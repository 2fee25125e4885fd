"""Rule ``plot_counterfactuals``: CFRL's counterfactuals as images.

Reads ``cfrl.npz`` (explain_cfrl) and writes three figures:
``counterfactuals.png`` (the seed's grid: originals over their counterfactuals toward
one target class, with predicted labels), ``target_grid.png`` (per example, the
original and its counterfactual toward each of the 10 classes) and
``difference_maps.png`` (x_cf - x for the same examples and targets).
"""

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from xai_repro.common import (  # noqa: E402
    InputError,
    limit_threads,
    read_npz,
    save_figure,
    setup_logging,  # noqa: E402
)

log = logging.getLogger(__name__)
KEYS = ("x", "y_pred", "instance", "target", "x_cf", "cf_pred")


def _read_counterfactuals(path):
    """The arrays of cfrl.npz, checked for the keys and the instance-major layout."""
    out = read_npz(path, KEYS)
    if len(out["x_cf"]) != 10 * len(out["x"]):
        raise InputError(f"{path}: expected 10 counterfactuals per image")
    return out


def _show(ax, image, title, *, cmap="gray", vmin=0.0, vmax=1.0, color="black", below=False):
    ax.imshow(image.squeeze(-1), cmap=cmap, vmin=vmin, vmax=vmax)
    if below:  # the seed's layout: labels under the images
        ax.set_xlabel(title, fontsize=8, color=color)
    else:
        ax.set_title(title, fontsize=8, color=color)
    ax.set_xticks([])
    ax.set_yticks([])


def _plot_pairs(cf, target: int, n_examples: int):
    """The seed's grid: originals (top) and counterfactuals toward ``target`` (bottom)."""
    n = min(n_examples, len(cf["x"]))
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 4.0), squeeze=False)
    for i in range(n):
        row = i * 10 + target
        _show(axes[0, i], cf["x"][i], f"label {cf['y_pred'][i]}", below=True)
        ok = cf["cf_pred"][row] == target
        _show(
            axes[1, i],
            cf["x_cf"][row],
            f"label {cf['cf_pred'][row]}",
            color="black" if ok else "red",
            below=True,
        )
    axes[0, 0].set_ylabel("X")
    axes[1, 0].set_ylabel(f"X_cf (target {target})")
    fig.suptitle(
        f"CFRL counterfactuals toward class {target} (predicted labels; red: not the target)"
    )
    fig.tight_layout()
    return fig


def _plot_target_grid(cf, n_examples: int, *, differences: bool = False):
    """Per example (row): the original, then its counterfactual (or x_cf - x) per target."""
    n = min(n_examples, len(cf["x"]))
    fig, axes = plt.subplots(n, 11, figsize=(13, 1.35 * n + 0.6), squeeze=False)
    for i in range(n):
        _show(axes[i, 0], cf["x"][i], f"x: {cf['y_pred'][i]}")
        for t in range(10):
            row = i * 10 + t
            ok = cf["cf_pred"][row] == t
            color = "black" if ok else "red"
            if differences:
                diff = cf["x_cf"][row] - cf["x"][i]
                _show(axes[i, t + 1], diff, f"t={t}", cmap="RdBu_r", vmin=-1, vmax=1, color=color)
            else:
                _show(axes[i, t + 1], cf["x_cf"][row], f"t={t}: {cf['cf_pred'][row]}", color=color)
    what = (
        "x_cf - x (red: added ink, blue: removed)"
        if differences
        else "counterfactual: predicted label"
    )
    fig.suptitle(f"Each example toward every target t; {what}; red title: not the target")
    fig.tight_layout()
    return fig


def main(cf_npz, pairs_png, grid_png, diff_png, *, plot_target, n_examples):
    cf = _read_counterfactuals(cf_npz)
    save_figure(_plot_pairs(cf, plot_target, n_examples), pairs_png)
    save_figure(_plot_target_grid(cf, n_examples), grid_png)
    save_figure(_plot_target_grid(cf, n_examples, differences=True), diff_png)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    o = sm.output
    main(sm.input.counterfactuals, o.pairs, o.grid, o.differences, **sm.params)
