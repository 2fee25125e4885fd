"""The Duffing data set, its split, the surrogate's errors and the timing helpers."""

import json

import numpy as np
import pytest

from xai_repro.common import InputError
from xai_repro.duffing.benchmark import compare_true_models, rate_summary, rows_per_second
from xai_repro.duffing.data import (
    relative_norm_error,
    relative_state_error,
    sample_inputs,
    split_by_trajectory,
)
from xai_repro.duffing.ode import SEED_ODE
from xai_repro.duffing.summary import benchmark_metrics, read_queries


def test_sample_inputs_shares_the_initial_state_along_a_trajectory():
    X, ids = sample_inputs(4, 3, (-1, 1), (-2, 2), 5.0, np.random.default_rng(0))
    assert X.shape == (12, 3)
    np.testing.assert_array_equal(ids, np.repeat(np.arange(4), 3))
    for k in range(4):
        rows = X[ids == k]
        assert np.unique(rows[:, 0]).size == 1 and np.unique(rows[:, 1]).size == 1
        assert (np.diff(rows[:, 2]) >= 0).all()  # times sorted within a trajectory
    assert (np.abs(X[:, 0]) <= 1).all() and (np.abs(X[:, 1]) <= 2).all()
    assert ((X[:, 2] >= 0) & (X[:, 2] <= 5)).all()


def test_sample_inputs_on_a_grid_draws_only_grid_times():
    X, _ = sample_inputs(50, 2, (0, 1), (0, 1), 4.0, np.random.default_rng(1), t_grid=4)
    assert set(np.unique(X[:, 2])) <= {0.0, 1.0, 2.0, 3.0}


def test_split_keeps_each_trajectory_on_one_side():
    trajectory = np.repeat(np.arange(10), 3)
    test = split_by_trajectory(trajectory, 0.3, np.random.default_rng(0))
    assert len(np.unique(trajectory[test])) == 3
    assert not set(trajectory[test]) & set(trajectory[~test])
    # at least one trajectory each side, whatever the fraction
    assert split_by_trajectory(trajectory, 0.0, np.random.default_rng(0)).sum() == 3
    assert (~split_by_trajectory(trajectory, 1.0, np.random.default_rng(0))).sum() == 3
    with pytest.raises(InputError, match="2 trajectories"):
        split_by_trajectory(np.zeros(5), 0.5, np.random.default_rng(0))


def test_norm_error_misses_a_phase_error_the_state_error_sees():
    y_true = np.array([[3.0, 4.0], [1.0, 0.0]])
    y_pred = np.array([[4.0, 3.0], [2.0, 0.0]])  # same radius / doubled
    np.testing.assert_allclose(relative_norm_error(y_pred, y_true), [0.0, 1.0])
    np.testing.assert_allclose(relative_state_error(y_pred, y_true), [np.sqrt(2) / 5, 1.0])


def test_rows_per_second_counts_rows_and_the_summary_orders_them():
    rates = rows_per_second(lambda X: X.sum(), np.zeros((1000, 3)), 3)
    assert len(rates) == 3 and all(r > 0 for r in rates)
    assert rate_summary([3.0, 1.0, 2.0]) == {"min": 1.0, "median": 2.0, "max": 3.0}


def test_compare_true_models_reports_small_errors_and_feeds_the_summary():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-1, 1, 20), rng.uniform(-1, 1, 20), rng.uniform(0, 2, 20)])
    result = compare_true_models(X, ode=SEED_ODE, rtol=1e-9, atol=1e-9, loop_rows=5, repeats=1)
    assert result["vectorized"]["rows"] == 20 and result["odeint_loop"]["rows"] == 5
    assert result["vectorized"]["max_abs_error"] < 1e-6
    assert result["odeint_loop"]["max_abs_error"] < 1e-3
    loop = result["odeint_loop"]["rows_per_s"]["median"]
    assert result["speedup_median"] == pytest.approx(
        result["vectorized"]["rows_per_s"]["median"] / loop
    )
    metrics = benchmark_metrics(result)
    assert metrics["odeint_loop_rows_per_s"] == loop
    assert metrics["true_model_speedup_vs_odeint_loop"] == result["speedup_median"]


def test_read_queries_names_a_bad_file(tmp_path):
    good = {m: {"outside": 0.25, "below": {"t": 0.1}} for m in ("ml", "true")}
    path = tmp_path / "lime_queries.json"
    path.write_text(json.dumps(good))
    assert read_queries(path)["true"]["outside"] == 0.25
    path.write_text(json.dumps({"ml": good["ml"]}))
    with pytest.raises(InputError, match="lime_queries.json"):
        read_queries(path)
