"""The per-seed figure of a seeds run: every seed's value of each row, the mean over the
seeds with its 95 % interval, and the tolerance's accepted values shaded."""

import math
import textwrap

from xai_repro.common import InputError

COLOURS = {"reproduced": "tab:green", "met": "tab:green", "deviates": "tab:red"}
COLOURS |= {"missed": "tab:red", "inconclusive": "tab:orange"}
COLUMNS = 3


def seeded_rows(card: dict, run: str) -> list[dict]:
    """The rows of ``run`` in a scorecard that have a mean and interval over seeds."""
    info = card["runs"].get(run)
    if not info or not info.get("seeds"):
        raise InputError(f"scorecard: run {run} is not a seeds run of this scorecard")
    return [r for r in card["rows"] if r["run"] == run and r.get("interval") is not None]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _panel(ax, row: dict) -> None:
    intervals = row["interval"] if isinstance(row["value"], list) else [row["interval"]]
    means = _as_list(row["value"])
    seeds = [s for s in row["per_seed"] if s["value"] is not None]
    n = len(seeds)
    for i, (mean, (lo, hi)) in enumerate(zip(means, intervals, strict=True)):
        xs = [i + 0.25 * (j - (n - 1) / 2) / max(n - 1, 1) for j in range(n)]
        ys = [_as_list(s["value"])[i] for s in seeds]
        ax.scatter(xs, ys, s=14, color="0.35", zorder=3, label="one seed" if i == 0 else None)
        ax.errorbar(
            [i + 0.35],
            [mean],
            yerr=[[mean - lo], [hi - mean]],
            fmt="D",
            color=COLOURS.get(row["verdict"], "0.5"),
            capsize=4,
            zorder=4,
            label="mean, 95 % interval" if i == 0 else None,
        )
    # the accepted values, drawn once the data have set the view (an open end past it)
    ymin, ymax = ax.get_ylim()
    span = max(ymax - ymin, 1e-12)
    for i, (low, high) in enumerate(row["accepted"]):
        low = ymin - span if low is None else low
        high = ymax + span if high is None else high
        ax.fill_between([i - 0.4, i + 0.5], low, high, color="tab:blue", alpha=0.12, lw=0)
    ax.set_ylim(ymin, ymax)
    ax.set_xticks(range(len(means)))
    ax.set_xticklabels([""] if len(means) == 1 else [str(i) for i in range(len(means))])
    claim = textwrap.shorten(f"{row['study']}: {row['claim']}", 90, placeholder=" …")
    ax.set_title(
        "\n".join(textwrap.wrap(claim, 45)) + f"\n{row['verdict']} ({row['tolerance']})",
        fontsize=8,
    )
    ax.tick_params(labelsize=7)


def plot_seeds(rows: list[dict], run: str):
    """One panel per row: each seed's value (grey), the mean and its 95 % interval (green
    reproduced / met, red deviates / missed, orange inconclusive), accepted values shaded
    blue. A run without such rows gets one panel saying so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(rows), 1)
    ncols = min(COLUMNS, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False)
    for ax in axes.flat[len(rows) :]:
        ax.axis("off")
    if not rows:
        axes[0, 0].text(0.5, 0.5, "no row with a value over seeds", ha="center", va="center")
    for ax, row in zip(axes.flat, rows, strict=False):
        _panel(ax, row)
    if rows:
        axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(f"Run {run}: every seed, the mean and its 95 % interval per scorecard row")
    fig.tight_layout()
    return fig
