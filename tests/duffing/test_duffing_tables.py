"""The Duffing long tables: one writer, one reader, checked on small known tables."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from xai_repro.common import InputError, write_csv
from xai_repro.duffing.tables import (
    attribution_frame,
    bootstrap_rank_correlation,
    cube,
    long_frame,
    read_attributions,
    read_gradients,
)

POINTS = pd.DataFrame(
    {
        "slice": ["x0", "x0", "t"],
        "value": [-1.2, 1.3, 5.0],
        "well_predicted": 1,
        "filtered": 1,
        "unfiltered": [1, 0, 1],
        "x0": [-1.0, 1.0, 0.0],
        "v0": 0.0,
        "t": 0.0,
    }
)


def test_written_attributions_read_back_per_model(tmp_path):
    values = np.arange(18, dtype=float).reshape(3, 2, 3)
    path = tmp_path / "lime.csv"
    write_csv(
        path,
        pd.concat(
            [attribution_frame(POINTS, "ml", values), attribution_frame(POINTS, "true", 2 * values)]
        ),
    )
    (frame,) = read_attributions([path]).values()
    assert list(read_attributions([path])) == ["lime"]
    np.testing.assert_array_equal(cube(frame, "attr", "ml"), values)
    np.testing.assert_array_equal(cube(frame, "attr", "true"), 2 * values)
    np.testing.assert_array_equal(cube(frame, None, "ml")[:, 0], POINTS[["x0", "v0", "t"]])


def test_a_table_missing_a_column_is_refused(tmp_path):
    path = tmp_path / "finite_differences.csv"
    frame = long_frame(POINTS, {"grad": np.ones((3, 2, 3))}).drop(columns=["grad_t"])
    write_csv(path, frame)
    with pytest.raises(InputError, match=r"finite_differences.csv.*grad_t"):
        read_gradients(path)


def test_bootstrap_interval_holds_rho_and_excludes_zero_only_with_enough_points():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    y = x + rng.normal(size=200)  # rho about 0.7
    many = bootstrap_rank_correlation(x, y)
    assert many["n"] == 200 and many["low"] <= many["rho"] <= many["high"]
    assert many["rho"] == pytest.approx(spearmanr(x, y).statistic)
    assert 0 < many["low"] and many["high"] - many["low"] < 0.3
    few = bootstrap_rank_correlation(x[:5], y[:5])
    assert few["low"] < 0.3  # five pairs cannot tell a rho of 0.7 from a weak one
    # the vectorised resampling equals spearmanr on each resample
    idx = np.random.default_rng(0).integers(0, 5, (2000, 5))
    draws = [spearmanr(x[:5][i], y[:5][i]).statistic for i in idx]
    draws = np.asarray(draws)[~np.isnan(draws)]
    np.testing.assert_allclose(
        [few["low"], few["high"]], np.quantile(draws, [0.025, 0.975]), atol=1e-12
    )
    flat = bootstrap_rank_correlation(np.ones(4), np.arange(4.0))
    assert np.isnan(flat["rho"]) and np.isnan(flat["low"])
