"""Figure helpers shared by the analysis rules (matplotlib, Agg backend)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PANELS = ("trained", "untrained", "difference")


def diverging(ax, mat, title, xlabels=None, ylabels=None, fontsize=8, vmax=None):
    """Heatmap centred on zero (RdBu) on [-vmax, vmax] (default: the matrix's own max |value|),
    optional tick labels; returns the image."""
    mat = np.asarray(mat, dtype=float)
    v = float(vmax if vmax is not None else np.abs(mat).max()) or 1.0
    im = ax.imshow(mat, cmap="RdBu_r", vmin=-v, vmax=v, aspect="auto", interpolation="nearest")
    ax.set_title(title, fontsize=fontsize)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), xlabels, rotation=45, fontsize=7)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), ylabels, fontsize=7)
    return im


def row_scale(mats):
    """The shared colour limit of a comparison: the largest |value| of its matrices."""
    return max(float(np.abs(np.asarray(m, dtype=float)).max()) for m in mats) or 1.0


def triplet_rows(rows, suptitle, xlabels=None, ylabels=None):
    """One row per (title, trained, untrained[, row ylabels]) with trained / untrained /
    difference panels, the three of a row on one colour scale (the largest |value| among
    them), so an untrained panel of far smaller values looks as faint as it is."""
    fig, axes = plt.subplots(len(rows), 3, figsize=(13, 3.2 * len(rows)), squeeze=False)
    for r, (title, trained, untrained, *row_ylabels) in enumerate(rows):
        mats = (trained, untrained, np.asarray(trained) - np.asarray(untrained))
        labels = row_ylabels[0] if row_ylabels else ylabels
        vmax = row_scale(mats)
        for c, (mat, panel) in enumerate(zip(mats, PANELS)):
            im = diverging(axes[r, c], mat, f"{title} - {panel}", xlabels, labels, vmax=vmax)
            fig.colorbar(im, ax=axes[r, c])
    fig.suptitle(suptitle)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.4 / fig.get_figheight()))  # room for the suptitle
    return fig


def grouped_bars(ax, labels, series, ylabel):
    """Side-by-side bars: ``series`` is {name: values aligned with labels}."""
    width = 0.8 / max(len(series), 1)
    for j, (name, values) in enumerate(series.items()):
        ax.bar(np.arange(len(labels)) + width * j, values, width, label=name)
    ax.set_xticks(np.arange(len(labels)) + width * (len(series) - 1) / 2, labels, rotation=30)
    ax.set_ylabel(ylabel)
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=7)


def metric_panels(results, labels, panels, suptitle=None):
    """One grouped-bar panel per (key, ylabel) in ``panels``: ``results[net][label][key]``
    for each label, one bar series per network."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, (key, ylabel) in zip(axes[0], panels):
        series = {net: [r[label][key] for label in labels] for net, r in results.items()}
        grouped_bars(ax, labels, series, ylabel)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig
