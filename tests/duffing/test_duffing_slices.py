"""The Duffing slices: generated grid rows, the good-prediction filter, even spread."""

import numpy as np
import pytest

from xai_repro.duffing.ode import StandardScaler
from xai_repro.duffing.slices import select_slice_points, slice_grid, spread, well_predicted

SCALER = StandardScaler([0.1, -0.1, 5.0], [1.2, 1.1, 2.9])
RANGES = {"x0": [-2.0, 2.0], "v0": [-2.0, 2.0], "t": [0.0, 10.0]}


def test_well_predicted_uses_norm_difference():
    y_true = np.array([[3.0, 4.0], [1.0, 0.0]])
    y_pred = np.array([[4.0, 3.0], [2.0, 0.0]])  # same norm as truth / off by 1
    np.testing.assert_array_equal(well_predicted(y_pred, y_true, 0.1), [True, False])


def test_grid_spans_each_range_with_the_others_at_their_training_mean():
    grid = slice_grid(SCALER, RANGES, 11)
    assert list(grid["slice"].value_counts().sort_index()) == [11, 11, 11]
    for j, feature in enumerate(["x0", "v0", "t"]):
        sub = grid[grid["slice"] == feature]
        raw = SCALER.inverse_transform(sub[["x0", "v0", "t"]].to_numpy())
        np.testing.assert_allclose(raw[:, j], np.linspace(*RANGES[feature], 11))
        np.testing.assert_allclose(sub["value"], raw[:, j])
        others = np.delete(raw, j, axis=1)
        np.testing.assert_allclose(others, np.broadcast_to(np.delete(SCALER.mean, j), others.shape))


def test_spread_keeps_both_ends():
    np.testing.assert_array_equal(spread(11, 3), [0, 5, 10])
    np.testing.assert_array_equal(spread(2, 5), [0, 1])


def test_selection_keeps_only_good_rows_and_spans_them():
    grid = slice_grid(SCALER, RANGES, 21)
    y_true = np.ones((len(grid), 2))
    y_pred = y_true.copy()
    t_rows = np.flatnonzero(grid["slice"] == "t")
    y_pred[t_rows[-5:]] += 1.0  # the surrogate fails on the last quarter of the t slice
    points = select_slice_points(grid, y_true, y_pred, 0.1, 4)
    t = points[(points["slice"] == "t") & (points["filtered"] == 1)]
    assert len(t) == 4 and t["value"].min() == 0.0
    assert t["value"].max() == pytest.approx(7.5)  # last well-predicted grid value
    assert (t["well_predicted"] == 1).all()
    x0 = points[points["slice"] == "x0"]
    np.testing.assert_allclose(x0["value"], [-2.0, -0.6, 0.6, 2.0])
    assert (x0["filtered"] == 1).all() and (x0["unfiltered"] == 1).all()
    assert {"xt", "vt", "xt_pred", "vt_pred"} <= set(points.columns)


def test_the_unfiltered_selection_spans_the_whole_slice_beside_the_filtered_one():
    grid = slice_grid(SCALER, RANGES, 21)
    y_true = np.ones((len(grid), 2))
    y_pred = y_true.copy()
    t_rows = np.flatnonzero(grid["slice"] == "t")
    y_pred[t_rows[-5:]] += 1.0
    points = select_slice_points(grid, y_true, y_pred, 0.1, 4)
    t = points[points["slice"] == "t"]
    np.testing.assert_allclose(t.loc[t["unfiltered"] == 1, "value"], [0.0, 3.5, 6.5, 10.0])
    np.testing.assert_allclose(t.loc[t["filtered"] == 1, "value"], [0.0, 2.5, 5.0, 7.5])
    # the union, in grid order; 0.0 is in both; 10.0 is badly predicted
    np.testing.assert_allclose(t["value"], [0.0, 2.5, 3.5, 5.0, 6.5, 7.5, 10.0])
    np.testing.assert_array_equal(t["well_predicted"], [1, 1, 1, 1, 1, 1, 0])


def test_a_slice_without_good_rows_is_named():
    grid = slice_grid(SCALER, RANGES, 5)
    y_true = np.ones((len(grid), 2))
    y_pred = y_true + (grid["slice"] == "v0").to_numpy()[:, None]
    with pytest.raises(ValueError, match="slice v0"):
        select_slice_points(grid, y_true, y_pred, 0.1, 2)
