"""Training curves over the seeds of a seeds run: each seed's curve of every quantity the
study's training records (xai_repro.stability.histories), one panel per quantity, with the
mean and the range over seeds where every seed has a point; and their figure."""

import math

import numpy as np
import pandas as pd

from xai_repro.common import InputError
from xai_repro.stability.histories import read_history

EMPTY = np.zeros(0)
# a curve with at most this many points is drawn with a marker at each
MARKER_POINTS = 40


def band(per_seed: dict) -> dict | None:
    """Mean, min and max over seeds at the x values that every seed's curve has (``per_seed``:
    seed -> (x, y)); None with fewer than 2 seeds, a seed without points or no shared x."""
    if len(per_seed) < 2:
        return None
    curves = [pd.Series(y, index=x).groupby(level=0).mean() for x, y in per_seed.values()]
    if any(c.empty for c in curves):
        return None
    frame = pd.concat(curves, axis=1, join="inner").sort_index()
    if frame.empty:
        return None
    return {
        "x": frame.index.to_numpy(float),
        "mean": frame.mean(axis=1).to_numpy(float),
        "min": frame.min(axis=1).to_numpy(float),
        "max": frame.max(axis=1).to_numpy(float),
    }


def training_curves(study: str, folders_by_seed: dict, files: list[str]) -> dict:
    """Panel title -> {panel, source, per_seed: {seed: (x, y)}, band} over every seed.

    ``folders_by_seed``: seed -> that seed's ``<study>/`` folder; ``files``: the history files
    (relative to it) the run's config trains. Every seed appears in every panel, with empty
    arrays where its file has no point of that quantity.
    """
    if not folders_by_seed:
        raise InputError(f"{study}: no seed folders")
    if not files:
        raise InputError(f"{study}: no training history files to read")
    panels = {}
    for seed, folder in folders_by_seed.items():
        for name in files:
            for curve in read_history(study, folder, name):
                entry = panels.setdefault(
                    curve.panel.title, {"panel": curve.panel, "source": curve.source}
                )
                entry.setdefault("per_seed", {})[seed] = (curve.x, curve.y)
    for entry in panels.values():
        entry["per_seed"] = {s: entry["per_seed"].get(s, (EMPTY, EMPTY)) for s in folders_by_seed}
        entry["band"] = band(entry["per_seed"])
    return panels


def _draw_panel(ax, entry: dict, colours: dict):
    """Every seed's curve (a colour each), the band over seeds behind them, and a note naming
    the seeds without a point."""
    panel, spread = entry["panel"], entry["band"]
    if spread is not None:
        ax.fill_between(
            spread["x"],
            spread["min"],
            spread["max"],
            color="grey",
            alpha=0.25,
            lw=0,
            label="range over seeds",
        )
        ax.plot(
            spread["x"],
            spread["mean"],
            color="black",
            ls="--",
            lw=1.2,
            zorder=3,
            label="mean over seeds",
        )
    missing, values = [], []
    for seed, (x, y) in entry["per_seed"].items():
        if len(x) == 0:
            missing.append(str(seed))
            continue
        marker = "." if len(x) <= MARKER_POINTS else None
        ax.plot(x, y, color=colours[seed], lw=1, marker=marker, label=f"seed {seed}")
        values.append(y)
    if missing:
        ax.text(
            0.02,
            0.96,
            f"no points: seed {', '.join(missing)}",
            transform=ax.transAxes,
            va="top",
            fontsize=7,
            color="tab:red",
        )
    if panel.log_y and values and all(np.all(v > 0) for v in values):
        ax.set_yscale("log")
    ax.set_title(f"{panel.title}\n{entry['source']}", fontsize=8)
    ax.set(xlabel=panel.x_label, ylabel=panel.y_label)
    ax.grid(alpha=0.3)


def training_figure(curves: dict, *, study: str, run: str, seeds: list):
    """One panel per quantity of :func:`training_curves`: each seed's curve, and the mean over
    seeds (dashed) with their range (grey) where every seed has a point."""
    import matplotlib.pyplot as plt

    ncols = min(3, len(curves))
    nrows = math.ceil(len(curves) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols, 3.3 * nrows + 0.6), squeeze=False)
    colours = {seed: f"C{i % 10}" for i, seed in enumerate(seeds)}
    for ax, entry in zip(axes.flat, curves.values()):
        _draw_panel(ax, entry, colours)
    for ax in list(axes.flat)[len(curves) :]:
        ax.axis("off")
    legend = {}
    for ax in axes.flat:
        handles, labels = ax.get_legend_handles_labels()
        legend.update(zip(labels, handles))
    fig.legend(legend.values(), legend.keys(), loc="lower center", ncol=min(len(legend), 8))
    seed_list = ", ".join(str(s) for s in seeds)
    fig.suptitle(f"{study}: training of run {run} at seeds {seed_list}", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
