"""Rule ``differentiate_true_model``: central finite differences of the true model.

Reads ``points.csv`` and ``scaler.json``; writes ``finite_differences.csv``: one row
per (point, output) with grad_x0, grad_v0, grad_t, the derivative of the output (raw
units) with respect to each scaled feature. This is the analytic reference the seed
notebook planned ("num_grad") and left unfinished.
"""

import pandas as pd

from xai_repro.common import limit_threads, read_csv, setup_logging, write_csv
from xai_repro.duffing.ode import FEATURES, TARGETS, TrueModel, central_differences, load_scaler


def gradient_frame(points: pd.DataFrame, gradients) -> pd.DataFrame:
    """Long table of (n, n_outputs, n_features) gradients, one row per (point, output)."""
    frames = []
    for k, target in enumerate(TARGETS):
        frame = points[["slice", "row", *FEATURES]].copy()
        frame.insert(0, "point", range(len(points)))
        frame["output"] = target
        for j, feature in enumerate(FEATURES):
            frame[f"grad_{feature}"] = gradients[:, k, j]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def main(points_csv, scaler_json, gradients_csv, *, ode, tolerances, delta):
    points = read_csv(points_csv, columns=["slice", "row", *FEATURES], text=("slice",))
    model = TrueModel(load_scaler(scaler_json), ode, tolerances["rtol"], tolerances["atol"])
    gradients = central_differences(model.predict, points[list(FEATURES)].to_numpy(), delta)
    write_csv(gradients_csv, gradient_frame(points, gradients))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.points, sm.input.scaler, sm.output.gradients, **sm.params)
