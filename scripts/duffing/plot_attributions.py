"""Rule ``plot_attributions``: one explainer's attributions, surrogate vs true model.

Reads ``attributions/<explainer>.csv``; writes ``contributions_<explainer>.png``
(rows: outputs xt, vt; columns: the slice of each feature, plotting that feature's
contribution against its value over its sampling range, surrogate and true model side
by side) and
``aggregate_<explainer>.png`` (mean |attribution| per feature, model and output, over
all slices and over each feature's own slice as the notebook's aggregate).
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.common import save_figure, setup_logging  # noqa: E402
from xai_repro.duffing.ode import FEATURES, TARGETS  # noqa: E402
from xai_repro.duffing.tables import aggregate_importance, read_attributions  # noqa: E402

MODELS = {"ml": ("surrogate (ML)", "o"), "true": ("true model (ODE)", "x")}


def _contributions_figure(frame, explainer: str):
    fig, axs = plt.subplots(
        len(TARGETS), len(FEATURES), figsize=(4.2 * len(FEATURES), 7), squeeze=False
    )
    for k, target in enumerate(TARGETS):
        for j, feature in enumerate(FEATURES):
            ax = axs[k, j]
            sub = frame[(frame["slice"] == feature) & (frame["output"] == target)]
            for model, (label, marker) in MODELS.items():
                m = sub[sub["model"] == model].sort_values("value")
                ax.plot(m["value"], m[f"attr_{feature}"], marker=marker, ls="-", label=label)
            ax.axhline(0, color="grey", lw=0.5)
            ax.set(
                title=f"{feature} -> {target}",
                xlabel=f"{feature} (raw units; others at their training mean)",
                ylabel="contribution",
            )
    axs[0, 0].legend()
    fig.suptitle(f"{explainer}: feature contributions along one-feature slices")
    fig.tight_layout()
    return fig


AGGREGATES = {False: ("all slices", None), True: ("own slice (notebook)", "//")}


def _aggregate_figure(frame, explainer: str):
    """Bars of mean |contribution| per feature: each model, over all slices and over the
    feature's own slice (the notebook's aggregate), side by side."""
    fig, axs = plt.subplots(1, len(TARGETS), figsize=(6 * len(TARGETS), 4.5), squeeze=False)
    bars = [(m, own) for m in MODELS for own in AGGREGATES]
    width = 0.8 / len(bars)
    x = np.arange(len(FEATURES))
    tables = {own: aggregate_importance(frame, own_slice=own) for own in AGGREGATES}
    for k, target in enumerate(TARGETS):
        ax = axs[0, k]
        for i, (model, own) in enumerate(bars):
            agg = tables[own]
            if (model, target) in agg.index:
                ax.bar(
                    x + i * width - 0.4 + width / 2,
                    agg.loc[(model, target)].to_numpy(),
                    width,
                    color=f"C{list(MODELS).index(model)}",
                    hatch=AGGREGATES[own][1],
                    edgecolor="white" if AGGREGATES[own][1] else None,
                    label=f"{MODELS[model][0]}, {AGGREGATES[own][0]}",
                )
        ax.set(
            xticks=x,
            xticklabels=FEATURES,
            ylabel="mean |contribution|",
            title=f"Aggregate importance for {target}",
        )
    axs[0, 0].legend(fontsize="small")
    fig.suptitle(f"{explainer}: aggregate feature importance")
    fig.tight_layout()
    return fig


def main(attributions_csv, contributions_png, aggregate_png, *, explainer):
    (frame,) = read_attributions([attributions_csv]).values()
    save_figure(_contributions_figure(frame, explainer), contributions_png)
    save_figure(_aggregate_figure(frame, explainer), aggregate_png)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(
        sm.input.attributions,
        sm.output.contributions,
        sm.output.aggregate,
        explainer=sm.wildcards.explainer,
    )
