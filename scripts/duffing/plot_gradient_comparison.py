"""Rule ``plot_gradient_comparison``: attributions against finite-difference gradients.

Reads every ``attributions/<explainer>.csv`` and ``finite_differences.csv``; writes
``attribution_vs_gradient.png``. For a locally linear model, a Shapley value is close
to gradient x (feature - background mean); each panel plots an explainer's
contributions (surrogate and true model) against that first-order reference built from
the same model's central differences, feature by feature on the slice where that
feature varies, over every explained point (filtered and unfiltered selections). Points
on the diagonal agree with it.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.common import save_figure, setup_logging  # noqa: E402
from xai_repro.duffing.ode import FEATURES, TARGETS  # noqa: E402
from xai_repro.duffing.tables import read_attributions, read_gradients  # noqa: E402

MODELS = {"ml": ("surrogate (ML)", "o"), "true": ("true model (ODE)", "x")}


def _figure(attributions: dict, gradients):
    fig, axs = plt.subplots(
        len(TARGETS), len(attributions), figsize=(4.5 * len(attributions), 8), squeeze=False
    )
    for c, (explainer, frame) in enumerate(attributions.items()):
        for k, target in enumerate(TARGETS):
            ax = axs[k, c]
            lim = 0.0
            for j, feature in enumerate(FEATURES):
                for model, (label, marker) in MODELS.items():
                    ref = gradients[
                        (gradients["output"] == target)
                        & (gradients["model"] == model)
                        & (gradients["slice"] == feature)
                    ].sort_values("point")
                    ref = ref[f"taylor_{feature}"].to_numpy()
                    lim = max(lim, np.abs(ref).max(initial=0.0))
                    sub = frame[
                        (frame["output"] == target)
                        & (frame["model"] == model)
                        & (frame["slice"] == feature)
                    ].sort_values("point")
                    ax.scatter(
                        ref,
                        sub[f"attr_{feature}"],
                        s=18,
                        marker=marker,
                        color=f"C{j}",
                        facecolors="none" if marker == "o" else None,
                        label=f"{feature} slice, {label}",
                    )
            lim = lim * 1.1 or 1.0
            diagonal = np.linspace(-lim, lim, 401)
            ax.plot(diagonal, diagonal, color="grey", lw=0.7)
            # chaotic flow: gradients reach tens where attributions stay below 1, so both
            # axes are linear near 0 and logarithmic beyond (the diagonal stays y = x)
            ax.set_xscale("symlog", linthresh=0.1)
            ax.set_yscale("symlog", linthresh=0.1)
            ax.set(
                title=f"{explainer}, output {target}",
                xlabel="the model's FD gradient x (feature - background mean)",
                ylabel="attribution of the slice's feature",
            )
    axs[0, 0].legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def main(attribution_csvs, gradients_csv, figure_png):
    attributions = read_attributions(attribution_csvs)
    save_figure(_figure(attributions, read_gradients(gradients_csv)), figure_png)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.attributions, sm.input.gradients, sm.output.figure)
