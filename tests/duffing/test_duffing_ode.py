"""The Duffing true model: accuracy against a tight reference, scaling, finite differences."""

import numpy as np
import pytest

from xai_repro.duffing.ode import (
    SEED_ODE,
    StandardScaler,
    TrueModel,
    central_differences,
    duffing_flow,
    odeint_loop_flow,
    reference_flow,
)


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(1)
    return np.column_stack([rng.uniform(-2, 2, 40), rng.uniform(-2, 2, 40), rng.uniform(0, 10, 40)])


def test_flow_matches_tight_reference(rows):
    fast = duffing_flow(rows, SEED_ODE, rtol=1e-9, atol=1e-9)
    ref = reference_flow(rows, SEED_ODE, tol=1e-11)
    assert np.abs(fast - ref).max() < 1e-6


def test_seed_odeint_loop_agrees_to_its_tolerance(rows):
    assert np.abs(odeint_loop_flow(rows[:10]) - reference_flow(rows[:10])).max() < 1e-4


def test_zero_time_returns_initial_state():
    X = np.array([[0.5, -1.0, 0.0], [1.5, 0.2, 0.0]])
    np.testing.assert_array_equal(duffing_flow(X), X[:, :2])


def test_undamped_unforced_flow_conserves_energy():
    ode = {"alpha": -1.0, "beta": 1.0, "delta": 0.0, "gamma": 0.0, "omega": 1.0}
    X = np.array([[0.3, 0.4, 7.0], [-1.2, 0.9, 9.5]])
    Y = duffing_flow(X, ode, rtol=1e-10, atol=1e-10)

    def energy(x, v):
        return 0.5 * v**2 + ode["alpha"] * x**2 / 2 + ode["beta"] * x**4 / 4

    np.testing.assert_allclose(energy(Y[:, 0], Y[:, 1]), energy(X[:, 0], X[:, 1]), atol=1e-8)


def test_harmonic_oscillator_closed_form():
    # alpha=1, beta=0, no damping or forcing: x(t) = x0 cos t + v0 sin t
    ode = {"alpha": 1.0, "beta": 0.0, "delta": 0.0, "gamma": 0.0, "omega": 1.0}
    X = np.array([[1.0, 0.0, 3.0], [0.2, -0.7, 5.5]])
    Y = duffing_flow(X, ode, rtol=1e-11, atol=1e-11)
    x0, v0, t = X.T
    np.testing.assert_allclose(Y[:, 0], x0 * np.cos(t) + v0 * np.sin(t), atol=1e-8)
    np.testing.assert_allclose(Y[:, 1], -x0 * np.sin(t) + v0 * np.cos(t), atol=1e-8)


def test_rows_are_independent(rows):
    whole = duffing_flow(rows)
    one_by_one = np.vstack([duffing_flow(r[None]) for r in rows[:5]])
    np.testing.assert_array_equal(whole[:5], one_by_one)


@pytest.mark.parametrize("bad", [np.zeros((3, 2)), np.array([[0.0, np.nan, 1.0]])])
def test_flow_rejects_bad_rows(bad):
    with pytest.raises(ValueError):
        duffing_flow(bad)


def test_missing_coefficient_is_named():
    with pytest.raises(KeyError, match="omega"):
        duffing_flow(np.zeros((1, 3)), {"alpha": 1, "beta": 1, "delta": 0, "gamma": 0})


def test_scaler_roundtrip_and_serialisation(rows):
    scaler = StandardScaler.fit(rows)
    Z = scaler.transform(rows)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-12)
    again = StandardScaler.from_dict(scaler.to_dict())
    np.testing.assert_allclose(again.inverse_transform(Z), rows)


def test_central_differences_of_linear_map_are_exact():
    A = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    Z = np.random.default_rng(0).normal(size=(6, 3))
    J = central_differences(lambda X: X @ A.T, Z, delta=0.1)
    assert J.shape == (6, 2, 3)
    np.testing.assert_allclose(J, np.broadcast_to(A, J.shape), atol=1e-12)


def test_true_model_gradient_matches_reference_differences(rows):
    scaler = StandardScaler.fit(rows)
    model = TrueModel(scaler)
    Z = scaler.transform(rows[:3])
    J = central_differences(model.predict, Z, delta=1e-3)

    def ref_predict(A):
        return reference_flow(scaler.inverse_transform(A))

    J_ref = central_differences(ref_predict, Z, delta=1e-3)
    np.testing.assert_allclose(J, J_ref, atol=1e-3)


def test_benchmark_compare_reports_both_models_and_errors():
    from xai_repro.duffing.benchmark import compare_true_models as compare

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-2, 2, 50), rng.uniform(-2, 2, 50), rng.uniform(0, 5, 50)])
    result = compare(X, ode=SEED_ODE, rtol=1e-8, atol=1e-8, loop_rows=5, repeats=2)
    assert result["vectorized"]["rows"] == 50 and result["odeint_loop"]["rows"] == 5
    for key in ("rows_per_s", "rows_per_s_one_thread"):
        stats = result["vectorized"][key]
        assert 0 < stats["min"] <= stats["median"] <= stats["max"]
    assert result["vectorized"]["max_abs_error"] < 1e-6
    assert result["odeint_loop"]["max_abs_error"] < 1e-4
