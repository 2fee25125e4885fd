"""Explainers of the Duffing study, checked by properties on models with known answers."""

import numpy as np
import pandas as pd
import pytest

from xai_repro.duffing.explain import QueryCounter, background_sample, exact_shapley, explain
from xai_repro.duffing.tables import (
    aggregate_importance,
    attribution_frame,
    cube,
    gradient_times_deviation,
    rank_correlation,
)

W = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])  # 2 outputs x 3 features
B = np.array([0.3, -0.1])


def linear(Z):
    return np.asarray(Z) @ W.T + B


def nonlinear(Z):
    Z = np.asarray(Z)
    return np.column_stack([np.sin(Z[:, 0]) * Z[:, 1] + Z[:, 2] ** 2, Z[:, 0] * Z[:, 2]])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 3)), rng.normal(size=(5, 3))


@pytest.mark.parametrize("name", ["kernel_shap", "exact"])
def test_shapley_of_linear_model_is_weight_times_deviation(data, name):
    background, Z = data
    phi = explain(name, linear, background, Z)
    expected = W[None] * (Z - background.mean(axis=0))[:, None, :]
    np.testing.assert_allclose(phi, expected, atol=1e-8)


@pytest.mark.parametrize("name", ["kernel_shap", "exact"])
def test_shapley_efficiency_on_nonlinear_model(data, name):
    background, Z = data
    phi = explain(name, nonlinear, background, Z)
    np.testing.assert_allclose(
        phi.sum(axis=2), nonlinear(Z) - nonlinear(background).mean(axis=0), atol=1e-8
    )


def test_kernel_shap_equals_exact_for_three_features(data):
    background, Z = data
    np.testing.assert_allclose(
        explain("kernel_shap", nonlinear, background, Z),
        explain("exact", nonlinear, background, Z),
        atol=1e-8,
    )


@pytest.mark.parametrize("around", ["mean", "point"])
def test_lime_recovers_linear_contributions(data, around):
    background, Z = data
    phi = explain("lime", linear, background, Z, lime_num_samples=2000, lime_sample_around=around)
    expected = W[None] * (Z - background.mean(axis=0))[:, None, :]
    np.testing.assert_allclose(phi, expected, atol=0.05 * np.abs(expected).max())


def test_batched_equals_unbatched(data):
    background, Z = data
    batched = explain("exact", nonlinear, background, Z)
    single = np.concatenate(
        [explain("exact", nonlinear, background, Z[i : i + 1]) for i in range(len(Z))]
    )
    np.testing.assert_allclose(batched, single, atol=1e-12)


@pytest.mark.parametrize("n_features", [1, 4])
def test_exact_equals_shaps_exact_explainer(n_features):
    """Our batched coalition sum against shap's ExactExplainer (Independent masker over the
    whole background), on an interaction-heavy two-output model; chunking changes nothing."""
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(1)
    background, Z = rng.normal(size=(20, n_features)), rng.normal(size=(6, n_features))

    def model(X):
        return np.column_stack([np.sin(X.prod(axis=1)) + X[:, 0] ** 3, np.exp(X).sum(axis=1)])

    masker = shap.maskers.Independent(background, max_samples=len(background))
    theirs = shap.explainers.ExactExplainer(model, masker)(Z).values.transpose(0, 2, 1)
    ours = exact_shapley(model, background, Z)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    # chunk_rows=1 asks the model one point at a time: other batch shapes, which a BLAS-backed
    # model may round differently, so the same tolerance as against shap, not bit equality
    np.testing.assert_allclose(
        exact_shapley(model, background, Z, chunk_rows=1), ours, rtol=0, atol=1e-12
    )


def test_exact_asks_each_coalition_once(data):
    background, Z = data
    counter = QueryCounter(nonlinear, [-np.inf] * 3, [np.inf] * 3)
    exact_shapley(counter, background, Z)
    assert counter.rows == len(background) + len(Z) + len(Z) * (2**3 - 2) * len(background)


def test_exact_refuses_mismatched_background():
    with pytest.raises(ValueError, match=r"background \(4, 2\)"):
        exact_shapley(linear, np.zeros((4, 2)), np.zeros((1, 3)))


def test_unknown_explainer_is_named():
    with pytest.raises(ValueError, match="shapely"):
        explain("shapely", linear, np.zeros((2, 3)), np.zeros((1, 3)))


def test_attribution_frame_roundtrip_and_aggregate():
    points = pd.DataFrame({"slice": ["x0"] * 4, "value": range(4), "x0": 0.0, "v0": 0.0, "t": 0.0})
    points[["well_predicted", "filtered", "unfiltered"]] = 1
    values = np.arange(24, dtype=float).reshape(4, 2, 3) - 12
    frame = pd.concat(
        [attribution_frame(points, "ml", values), attribution_frame(points, "true", -values)]
    )
    np.testing.assert_array_equal(cube(frame, "attr", "ml"), values)
    np.testing.assert_array_equal(cube(frame, "attr", "true"), -values)
    agg = aggregate_importance(frame)
    np.testing.assert_allclose(agg.loc[("ml", "xt")].to_numpy(), np.abs(values[:, 0]).mean(axis=0))
    # every feature kept (the seed overwrote all but the last)
    assert list(agg.columns) == ["x0", "v0", "t"]


def test_own_slice_aggregate_averages_each_feature_over_its_slice():
    points = pd.DataFrame(
        {"slice": ["x0", "x0", "v0", "t"], "value": 0.0, "x0": 0.0, "v0": 0.0, "t": 0.0}
        | {"well_predicted": 1, "filtered": 1, "unfiltered": 1}
    )
    values = np.zeros((4, 2, 3))
    values[:2, :, 0] = [[1.0, 1.0], [-3.0, 3.0]]  # x0 on its own slice
    values[2:, :, 0] = 10.0  # x0 on the other slices
    values[2, :, 1] = -4.0  # v0 on its slice
    values[3, :, 2] = 6.0  # t on its slice
    frame = attribution_frame(points, "ml", values)
    own = aggregate_importance(frame, own_slice=True).loc[("ml", "xt")]
    np.testing.assert_allclose(own.to_numpy(), [2.0, 4.0, 6.0])
    every = aggregate_importance(frame).loc[("ml", "xt")]
    np.testing.assert_allclose(every.to_numpy(), [(1 + 3 + 20) / 4, 1.0, 1.5])


def test_lime_around_a_far_point_leaves_the_training_range_more_often(data):
    background, Z = data
    far = Z[:2] + 3.0  # points far from the background mean
    low, high = background.min(axis=0), background.max(axis=0)
    share = {}
    for around in ("mean", "point"):
        counter = QueryCounter(linear, low, high)
        explain("lime", counter, background, far, lime_num_samples=500, lime_sample_around=around)
        assert counter.rows == 2 * 2 * 500 + 1  # points x outputs x samples, + 1 probe
        share[around] = counter.summary()["outside"]
    assert share["point"] > share["mean"] > 0


def test_query_counter_counts_rows_outside_the_box():
    counter = QueryCounter(linear, [0, 0, 0], [1, 1, 1])
    out = counter(np.array([[0.5, 0.5, 0.5], [-1.0, 0.5, 0.5], [0.5, 0.5, 2.0], [2, 2, -1]]))
    np.testing.assert_allclose(
        out, linear(np.array([[0.5] * 3, [-1, 0.5, 0.5], [0.5, 0.5, 2], [2, 2, -1]]))
    )
    summary = counter.summary()
    assert summary["rows"] == 4 and summary["outside"] == 0.75
    assert summary["below"] == {"x0": 0.25, "v0": 0.0, "t": 0.25}
    assert summary["above"] == {"x0": 0.25, "v0": 0.25, "t": 0.25}


def test_rank_correlation_and_taylor_reference():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert rank_correlation(a, a**3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert np.isnan(rank_correlation(a, np.ones(4)))
    grads = np.ones((2, 2, 3))
    Z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(gradient_times_deviation(grads, Z, np.zeros(3))[:, 0], Z)


def test_background_sample_is_seeded_and_bounded():
    Z = np.arange(30.0).reshape(10, 3)
    np.testing.assert_array_equal(background_sample(Z, 4, 1), background_sample(Z, 4, 1))
    assert len(background_sample(Z, 4, 1)) == 4
    assert len(background_sample(Z, 40, 1)) == 10
