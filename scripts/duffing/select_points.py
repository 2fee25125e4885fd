"""Rule ``select_points``: the test points every explainer explains.

Reads ``test_predictions.csv``; writes ``points.csv`` (slice, row, scaled x0, v0, t).
Only well-predicted points are kept (| ||y_pred|| - ||y_true|| | < error_tol, the
seed's "good values"), then for each feature a slice where that feature varies and
the others stay within ``slice_tol`` of 0.
"""

import logging

import numpy as np

from xai_repro.common import InputError, read_csv, setup_logging, write_csv
from xai_repro.duffing.explain import select_slices, well_predicted
from xai_repro.duffing.ode import FEATURES, TARGETS

log = logging.getLogger(__name__)


def main(predictions_csv, points_csv, *, seed, explain):
    pred_cols = [f"{t}_pred" for t in TARGETS]
    data = read_csv(predictions_csv, columns=[*FEATURES, *TARGETS, *pred_cols])
    good = well_predicted(
        data[pred_cols].to_numpy(), data[list(TARGETS)].to_numpy(), explain["error_tol"]
    )
    log.info(
        "%d of %d test points are well predicted (tol %g)",
        good.sum(),
        len(good),
        explain["error_tol"],
    )
    if not good.any():
        raise InputError(
            f"{predictions_csv}: no test point is predicted within duffing.explain.error_tol "
            f"= {explain['error_tol']}; the surrogate is too poor (train longer) or the tolerance too tight"
        )
    points = select_slices(
        data[list(FEATURES)].to_numpy(),
        good,
        explain["points_per_slice"],
        explain["slice_tol"],
        np.random.default_rng(seed),
    )
    for feature, sub in points.groupby("slice", sort=False):
        reach = sub["others_max_abs"].max()
        level = logging.WARNING if reach >= explain["slice_tol"] else logging.INFO
        log.log(
            level,
            "slice %s: %d points, other features within %.3g of 0 (slice_tol %g)",
            feature,
            len(sub),
            reach,
            explain["slice_tol"],
        )
    write_csv(points_csv, points)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.predictions, sm.output.points, **sm.params)
