"""Rule ``plot_gradient_comparison``: attributions against finite-difference gradients.

Reads every ``attributions/<explainer>.csv`` and ``finite_differences.csv``; writes
``attribution_vs_gradient.png``. For a locally linear model, a Shapley value is close
to gradient x (feature - background mean); each panel plots an explainer's
contributions (surrogate and true model) against that first-order reference built from
the true model's central differences. Points on the diagonal agree with it.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.common import save_figure, setup_logging  # noqa: E402
from xai_repro.duffing.ode import TARGETS  # noqa: E402
from xai_repro.duffing.tables import (  # noqa: E402
    cube,
    read_attributions,
    read_gradients,
    taylor_reference,
)

MODELS = {"ml": ("surrogate (ML)", "o"), "true": ("true model (ODE)", "x")}


def figure(attributions: dict, gradients):
    fig, axs = plt.subplots(
        len(TARGETS), len(attributions), figsize=(4.5 * len(attributions), 8), squeeze=False
    )
    reference = taylor_reference(gradients)
    for c, (explainer, frame) in enumerate(attributions.items()):
        for k, target in enumerate(TARGETS):
            ax = axs[k, c]
            ref = reference[:, k].ravel()
            for model, (label, marker) in MODELS.items():
                values = cube(frame, "attr", model)[:, k].ravel()
                face = "none" if marker == "o" else None
                ax.scatter(ref, values, s=18, marker=marker, facecolors=face, label=label)
            lim = np.nanmax(np.abs(ref)) * 1.1 or 1.0
            ax.plot([-lim, lim], [-lim, lim], color="grey", lw=0.7)
            ax.set(
                title=f"{explainer}, output {target}",
                xlabel="FD gradient x scaled feature (true model)",
                ylabel="attribution",
            )
    axs[0, 0].legend()
    fig.tight_layout()
    return fig


def main(attribution_csvs, gradients_csv, figure_png):
    attributions = read_attributions(attribution_csvs)
    save_figure(figure(attributions, read_gradients(gradients_csv)), figure_png)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.attributions, sm.input.gradients, sm.output.figure)
