"""Rule ``plot_surrogate``: the notebook's model summary figure.

Reads ``history.csv`` (none for an imported network) and ``test_predictions.csv``;
writes ``surrogate_summary.png``: loss curves (or, for an imported network, the test MSE), the relative-error histogram (top 5% of errors left out of the view, as
in the notebook), and the phase space (x, v) of true and predicted test states.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.common import read_csv, save_figure, setup_logging  # noqa: E402

PHASE_POINTS = 2000


def _figure(history, predictions):
    fig, axs = plt.subplots(2, 2, figsize=(12, 8))
    ax = axs[0, 0]
    if history is None:
        err = predictions[["xt_pred", "vt_pred"]].to_numpy() - predictions[["xt", "vt"]].to_numpy()
        ax.bar(["xt", "vt", "both"], [*np.mean(err**2, axis=0), np.mean(err**2)])
        ax.set(ylabel="test MSE", title="Imported network (no training history): test MSE")
    else:
        ax.plot(history["epoch"], history["loss"], label="loss")
        ax.plot(history["epoch"], history["val_loss"], label="val_loss")
        ax.set(xlabel="epoch", ylabel="MSE", title="Losses by epoch", yscale="log")
        ax.legend()
    ax = axs[0, 1]
    rel = predictions["relative_error"].to_numpy()
    shown = rel[rel <= np.quantile(rel, 0.95)]
    ax.hist(shown, bins=40, weights=np.full(len(shown), 1 / len(rel)))
    ax.set(
        xlabel=r"$|\,\|y_{pred}\| - \|y_{true}\|\,| / \|y_{true}\|$",
        ylabel="share of test rows",
        title=f"Relative error (median {np.median(rel):.3f}; top 5% not shown)",
    )
    sub = predictions.iloc[:PHASE_POINTS]
    for ax, (xc, vc, title) in zip(
        axs[1], [("xt", "vt", "true model"), ("xt_pred", "vt_pred", "surrogate")]
    ):
        ax.scatter(sub[xc], sub[vc], s=4, marker="x", linewidths=0.6)
        ax.set(
            xlim=(-2.5, 2.5),
            ylim=(-2.5, 2.5),
            xlabel="x",
            ylabel="v",
            title=f"Phase space ({title})",
        )
    fig.tight_layout()
    return fig


def main(history_csv, predictions_csv, figure_png):
    """``history_csv`` None: an imported network, whose training history is not known."""
    history = None
    if history_csv is not None:
        history = read_csv(history_csv, columns=["epoch", "loss", "val_loss"])
    predictions = read_csv(
        predictions_csv, columns=["xt", "vt", "xt_pred", "vt_pred", "relative_error"]
    )
    save_figure(_figure(history, predictions), figure_png)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.history or None, sm.input.predictions, sm.output.figure)
