"""Rule ``select_points``: the points every explainer explains, one slice per feature.

Reads ``scaler.json`` and ``surrogate.keras``; writes ``points.csv`` (slice, raw value
of the varying feature, scaled x0, v0, t, true and predicted xt, vt). For each feature an
even grid of ``slice_grid`` values over its sampling range, the other features at their
training mean (scaled 0), is labelled by the true model; the grid points the surrogate
predicts well (| ||y_pred|| - ||y_true|| | < error_tol, the notebook's "good values")
are kept and ``points_per_slice`` of them, spread evenly, are explained.
"""

import logging

from xai_repro.common import InputError, limit_threads, setup_logging, write_csv
from xai_repro.duffing.ode import FEATURES, TrueModel, load_scaler
from xai_repro.duffing.slices import select_slice_points, slice_grid, well_predicted

log = logging.getLogger(__name__)


def main(scaler_json, model_path, points_csv, *, ranges, ode, tolerances, explain):
    from xai_repro.duffing.surrogate import keras_predictor, load_surrogate

    scaler = load_scaler(scaler_json)
    grid = slice_grid(scaler, ranges, explain["slice_grid"])
    Z = grid[list(FEATURES)].to_numpy()
    y_true = TrueModel(scaler, ode, tolerances["rtol"], tolerances["atol"]).predict(Z)
    y_pred = keras_predictor(load_surrogate(model_path))(Z)
    good = well_predicted(y_pred, y_true, explain["error_tol"])
    for feature in FEATURES:
        in_slice = (grid["slice"] == feature).to_numpy()
        log.info(
            "slice %s: %d of %d grid points well predicted (error_tol %g)",
            feature,
            good[in_slice].sum(),
            in_slice.sum(),
            explain["error_tol"],
        )
    try:
        points = select_slice_points(
            grid, y_true, y_pred, explain["error_tol"], explain["points_per_slice"]
        )
    except ValueError as err:
        raise InputError(
            f"{model_path}: {err} (duffing.explain.error_tol); the surrogate is too poor "
            "(train longer) or the tolerance too tight"
        ) from err
    for feature, sub in points.groupby("slice", sort=False):
        log.info(
            "slice %s: %d points, %s from %.3g to %.3g",
            feature,
            len(sub),
            feature,
            sub["value"].min(),
            sub["value"].max(),
        )
    write_csv(points_csv, points)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.scaler, sm.input.model, sm.output.points, **sm.params)
