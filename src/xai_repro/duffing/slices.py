"""The points the Duffing study explains: one slice per feature (pure functions).

The notebook's ``choose_data`` meant, for each feature, points where that feature
varies over its range while the other (scaled) features sit near 0, among the points
the surrogate predicts well. Test rows cannot give that: each trajectory contributes
many rows with the same (x0, v0), so almost no row has both x0 and v0 near 0 and the
t slice shrank to a few rows of one orbit. Here the slice rows are generated: an even
grid over the feature's range, the other features at their training mean (scaled 0),
labelled by the true model; the notebook's good-prediction filter then keeps the rows
the surrogate predicts within ``error_tol``, and the explained points are spread evenly
over the kept ones ("filtered"). Since that filter keeps the points where the surrogate is
right, agreement measured on them is biased upward; an even spread over the whole grid
("unfiltered") is explained beside them, and every point carries both flags.

Used by the rule select_points.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from xai_repro.duffing.ode import FEATURES, TARGETS, StandardScaler


def well_predicted(y_pred, y_true, tol: float) -> np.ndarray:
    """Mask of rows whose predicted state norm is within ``tol`` of the true one.

    The notebook's criterion: | ||y_pred|| - ||y_true|| | < tol.
    """
    y_pred = np.asarray(y_pred, dtype=float)
    y_true = np.asarray(y_true, dtype=float)
    return np.abs(np.linalg.norm(y_pred, axis=1) - np.linalg.norm(y_true, axis=1)) < tol


def slice_grid(scaler: StandardScaler, ranges: Mapping[str, tuple], size: int) -> pd.DataFrame:
    """For each feature, ``size`` rows on an even grid over ``ranges[feature]`` (raw units).

    The other features sit at their training mean, i.e. exactly 0 once scaled.
    Columns: slice, value (the varying feature, raw units), x0, v0, t (scaled).
    """
    frames = []
    for j, feature in enumerate(FEATURES):
        low, high = (float(v) for v in ranges[feature])
        values = np.linspace(low, high, size)
        Z = np.zeros((size, len(FEATURES)))
        Z[:, j] = (values - scaler.mean[j]) / scaler.scale[j]
        frame = pd.DataFrame(Z, columns=list(FEATURES))
        frame.insert(0, "value", values)
        frame.insert(0, "slice", feature)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def spread(n_rows: int, k: int) -> np.ndarray:
    """Indices of ``k`` rows spread evenly over ``n_rows`` (first and last included)."""
    if n_rows <= k:
        return np.arange(n_rows)
    return np.unique(np.round(np.linspace(0, n_rows - 1, k)).astype(int))


def select_slice_points(
    grid: pd.DataFrame, y_true, y_pred, error_tol: float, points_per_slice: int
) -> pd.DataFrame:
    """Per slice, ``points_per_slice`` well-predicted rows and as many over the whole grid.

    ``grid`` is slice_grid's table; ``y_true``/``y_pred`` (n, 2) its true and predicted
    states. Returns the union of both selections, in grid order, with the flags
    well_predicted, filtered (spread evenly over the well-predicted rows, the notebook's
    choice) and unfiltered (spread evenly over the whole slice), 0 or 1, and the states as
    columns xt, vt, xt_pred, vt_pred. A slice with no well-predicted row raises ValueError
    naming it.
    """
    frame = grid.reset_index(drop=True).copy()
    good = well_predicted(y_pred, y_true, error_tol)
    frame.insert(2, "well_predicted", good.astype(int))
    for k, target in enumerate(TARGETS):
        frame[target] = np.asarray(y_true)[:, k]
        frame[f"{target}_pred"] = np.asarray(y_pred)[:, k]
    parts = []
    for feature in FEATURES:
        in_slice = np.flatnonzero((frame["slice"] == feature).to_numpy())
        rows = in_slice[good[in_slice]]
        if len(rows) == 0:
            raise ValueError(f"slice {feature}: no grid point is predicted within {error_tol}")
        filtered = rows[spread(len(rows), points_per_slice)]
        unfiltered = in_slice[spread(len(in_slice), points_per_slice)]
        chosen = np.union1d(filtered, unfiltered)
        part = frame.iloc[chosen].copy()
        part.insert(3, "filtered", np.isin(chosen, filtered).astype(int))
        part.insert(4, "unfiltered", np.isin(chosen, unfiltered).astype(int))
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
