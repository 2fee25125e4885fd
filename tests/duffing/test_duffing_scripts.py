"""The Duffing rule scripts called through main() on tmp_path: outputs and bad input."""

import json

import numpy as np
import pandas as pd
import pytest

import evaluate_surrogate
import select_points
import simulate_duffing
import split_duffing
from xai_repro.common import InputError
from xai_repro.duffing.ode import SEED_ODE, duffing_flow, load_scaler
from xai_repro.duffing.surrogate import build_surrogate, load_surrogate

SAMPLING = {
    "n_trajectories": 12,
    "points_per_trajectory": 5,
    "x0_range": [-2.0, 2.0],
    "v0_range": [-2.0, 2.0],
    "t_max": 5.0,
    "t_grid": None,
    "test_fraction": 0.25,
}
TOL = {"rtol": 1e-9, "atol": 1e-9}


@pytest.fixture
def samples(tmp_path):
    path = tmp_path / "samples.csv"
    simulate_duffing.main(path, seed=3, ode=SEED_ODE, sampling=SAMPLING, tolerances=TOL)
    return path


def test_simulate_writes_consistent_trajectories(samples):
    frame = pd.read_csv(samples)
    assert len(frame) == 60
    per_traj = frame.groupby("trajectory")[["x0", "v0"]].nunique()
    assert (per_traj == 1).all().all()
    X = frame[["x0", "v0", "t"]].to_numpy()
    np.testing.assert_allclose(frame[["xt", "vt"]].to_numpy(), duffing_flow(X), atol=1e-12)


def test_simulate_on_the_original_grid_draws_grid_times_one_per_trajectory(tmp_path):
    sampling = {**SAMPLING, "n_trajectories": 400, "points_per_trajectory": 1}
    sampling |= {"v0_range": [-1.0, 1.0], "t_max": 50.0, "t_grid": 500}
    path = tmp_path / "grid.csv"
    simulate_duffing.main(path, seed=0, ode=SEED_ODE, sampling=sampling, tolerances=TOL)
    frame = pd.read_csv(path)
    assert len(frame) == frame["trajectory"].nunique() == 400
    steps = frame["t"].to_numpy() / 0.1
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)  # on the 0.1 grid
    assert frame["t"].min() >= 0 and frame["t"].max() <= 49.9 + 1e-12
    assert frame["v0"].abs().max() <= 1 and frame["x0"].abs().max() > 1
    np.testing.assert_allclose(
        frame[["xt", "vt"]].to_numpy(),
        duffing_flow(frame[["x0", "v0", "t"]].to_numpy(), SEED_ODE, **TOL),
        atol=1e-12,
    )


def test_simulate_is_seeded(tmp_path, samples):
    again = tmp_path / "again.csv"
    simulate_duffing.main(again, seed=3, ode=SEED_ODE, sampling=SAMPLING, tolerances=TOL)
    assert again.read_bytes() == samples.read_bytes()


def test_split_keeps_trajectories_whole_and_scales_on_train(tmp_path, samples):
    out = [tmp_path / n for n in ("train.csv", "test.csv", "scaler.json")]
    split_duffing.main(samples, *out, seed=0, test_fraction=0.25)
    train, test = pd.read_csv(out[0]), pd.read_csv(out[1])
    assert set(train["trajectory"]).isdisjoint(test["trajectory"])
    assert test["trajectory"].nunique() == 3
    scaler = load_scaler(out[2])
    np.testing.assert_allclose(
        scaler.transform(train[["x0", "v0", "t"]]).mean(axis=0), 0, atol=1e-12
    )


def test_missing_input_names_the_file_and_writes_nothing(tmp_path):
    out = [tmp_path / "res" / n for n in ("train.csv", "test.csv", "scaler.json")]
    with pytest.raises(InputError, match="nope.csv"):
        split_duffing.main(tmp_path / "nope.csv", *out, seed=0, test_fraction=0.25)
    assert not (tmp_path / "res").exists() or not any((tmp_path / "res").iterdir())


def test_csv_missing_a_column_is_refused(tmp_path, samples):
    bad = tmp_path / "bad.csv"
    pd.read_csv(samples).drop(columns=["vt"]).to_csv(bad, index=False)
    out = [tmp_path / n for n in ("train.csv", "test.csv", "scaler.json")]
    with pytest.raises(InputError, match=r"bad.csv.*vt"):
        split_duffing.main(bad, *out, seed=0, test_fraction=0.25)
    assert not any(p.exists() for p in out)


def test_non_numeric_csv_is_refused(tmp_path, samples):
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(samples).astype({"x0": object})
    frame.loc[3, "x0"] = "oops"
    frame.to_csv(bad, index=False)
    with pytest.raises(InputError, match="bad.csv"):
        split_duffing.main(
            bad, *[tmp_path / n for n in ("a.csv", "b.csv", "c.json")], seed=0, test_fraction=0.2
        )


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04 truncated"])
def test_a_file_that_is_not_a_model_is_refused(tmp_path, content):
    bad = tmp_path / "surrogate.keras"
    bad.write_bytes(content)
    with pytest.raises(InputError, match="surrogate.keras"):
        load_surrogate(bad)


def test_bad_scaler_file_is_refused(tmp_path):
    bad = tmp_path / "scaler.json"
    bad.write_text(json.dumps({"mean": [0, 0], "scale": [1, 1]}))
    with pytest.raises(InputError, match="scaler.json"):
        load_scaler(bad)
    bad.write_text("{not json")
    with pytest.raises(InputError, match="scaler.json"):
        load_scaler(bad)


def test_evaluate_and_select_on_a_tiny_model(tmp_path, samples):
    split = [tmp_path / n for n in ("train.csv", "test.csv", "scaler.json")]
    split_duffing.main(samples, *split, seed=0, test_fraction=0.25)
    model = build_surrogate(width=8, depth=1, head_width=4, head_activations=["tanh"])
    model.save(tmp_path / "m.keras")
    assert load_surrogate(tmp_path / "m.keras").count_params() == model.count_params()
    preds, metrics = tmp_path / "pred.csv", tmp_path / "metrics.json"
    evaluate_surrogate.main(split[1], split[2], tmp_path / "m.keras", preds, metrics)
    m = json.loads(metrics.read_text())
    frame = pd.read_csv(preds)
    assert m["test_rows"] == len(frame) == 15
    mse = np.mean((frame[["xt_pred", "vt_pred"]].to_numpy() - frame[["xt", "vt"]].to_numpy()) ** 2)
    assert m["test_mse"] == pytest.approx(mse)
    explain = {"error_tol": 100.0, "points_per_slice": 2, "slice_grid": 5}
    ranges = {"x0": [-2.0, 2.0], "v0": [-2.0, 2.0], "t": [0.0, 5.0]}
    kw = dict(ranges=ranges, ode=SEED_ODE, tolerances=TOL)
    select_points.main(
        split[2], tmp_path / "m.keras", tmp_path / "points.csv", **kw, explain=explain
    )
    points = pd.read_csv(tmp_path / "points.csv")
    assert list(points["slice"].value_counts().sort_index()) == [2, 2, 2]
    t = points[points["slice"] == "t"]
    assert t["value"].tolist() == [0.0, 5.0]  # the t slice spans t's range
    raw = load_scaler(split[2]).inverse_transform(points[["x0", "v0", "t"]].to_numpy())
    np.testing.assert_allclose(points[["xt", "vt"]], duffing_flow(raw), atol=1e-7)
    with pytest.raises(InputError, match="error_tol"):
        select_points.main(
            split[2],
            tmp_path / "m.keras",
            tmp_path / "p2.csv",
            **kw,
            explain={**explain, "error_tol": 1e-12},
        )
    assert not (tmp_path / "p2.csv").exists()


@pytest.mark.parametrize("activations", [["relu", "relu", "sigmoid", "tanh"], ["elu", "linear"]])
def test_numpy_predictor_equals_keras(activations):
    from xai_repro.duffing.surrogate import keras_predictor

    model = build_surrogate(width=16, depth=2, head_width=8, head_activations=activations)
    Z = np.random.default_rng(0).normal(size=(50, 3)) * 3
    np.testing.assert_allclose(
        keras_predictor(model)(Z), np.asarray(model(Z.astype("float32"))), atol=1e-5
    )


def _outside_share(rows, low, high) -> float:
    return float(((rows < low) | (rows > high)).any(axis=1).mean())


def test_attribution_half_on_a_tiny_model(tmp_path, samples):
    import attribute_duffing
    import differentiate_models
    import plot_attributions
    import plot_gradient_comparison
    import summarize_duffing
    from xai_repro.duffing.explain import background_sample
    from xai_repro.duffing.surrogate import keras_predictor

    split = [tmp_path / n for n in ("train.csv", "test.csv", "scaler.json")]
    split_duffing.main(samples, *split, seed=0, test_fraction=0.25)
    build_surrogate(width=8, depth=1, head_width=4, head_activations=["tanh"]).save(
        tmp_path / "m.keras"
    )
    explain = {
        "error_tol": 0.5,
        "points_per_slice": 3,
        "slice_grid": 7,
        "background_size": 10,
        "lime_num_samples": 50,
        "lime_sample_around": "mean",
    }
    kw = dict(ode=SEED_ODE, tolerances=TOL)
    ranges = {"x0": [-2.0, 2.0], "v0": [-2.0, 2.0], "t": [0.0, 5.0]}
    points = tmp_path / "points.csv"
    select_points.main(split[2], tmp_path / "m.keras", points, ranges=ranges, **kw, explain=explain)
    att = {e: tmp_path / f"{e}.csv" for e in ("kernel_shap", "exact")}
    for e, path in att.items():
        queries = tmp_path / f"{e}_queries.json"
        attribute_duffing.main(
            points, split[0], split[2], tmp_path / "m.keras", path, queries,
            explainer=e, seed=0, **kw, explain=explain,
        )  # fmt: skip
        assert set(json.loads(queries.read_text())) == {"ml", "true"}
    fd = tmp_path / "fd.csv"
    differentiate_models.main(
        points, split[0], split[2], tmp_path / "m.keras", fd, **kw, delta=0.01, seed=0, size=10
    )
    grads = pd.read_csv(fd)
    scaler = load_scaler(split[2])
    Z_train = scaler.transform(pd.read_csv(split[0])[["x0", "v0", "t"]].to_numpy())
    background = background_sample(Z_train, 10, 0)
    # the reference is gradient x (feature - background mean), for each model
    for j, f in enumerate(("x0", "v0", "t")):
        np.testing.assert_allclose(
            grads[f"taylor_{f}"],
            grads[f"grad_{f}"] * (grads[f] - background[:, j].mean()),
            atol=1e-12,
        )
    # the surrogate's gradients are the surrogate's: central differences of its predictor
    ml = grads[grads["model"] == "ml"]
    Zp = pd.read_csv(points).sort_index()[["x0", "v0", "t"]].to_numpy()
    predict = keras_predictor(load_surrogate(tmp_path / "m.keras"))
    step = np.array([0.0, 0.0, 0.01])
    expected_t = (predict(Zp + step) - predict(Zp - step)) / 0.02  # (n, 2)
    for k, target in enumerate(("xt", "vt")):
        got = ml[ml["output"] == target].sort_values("point")["grad_t"]
        np.testing.assert_allclose(got, expected_t[:, k], rtol=1e-9, atol=1e-12)
    bench = {
        "vectorized": {"rows_per_s": {"median": 1.0}, "max_abs_error": 0.0, "threads": 1},
        "odeint_loop": {"rows_per_s": {"median": 1.0}, "max_abs_error": 0.0},
        "speedup_median": 1.0,
        "speedup_median_one_thread": 1.0,
    }
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    surrogate = {
        "test_mse": 1.0,
        "relative_error_median": 0.1,
        "relative_state_error_median": 0.2,
        "relative_state_error_p95": 0.3,
        "test_rows": 15,
    }
    (tmp_path / "sur.json").write_text(json.dumps(surrogate))
    out = tmp_path / "metrics.json"
    summarize_duffing.main(
        tmp_path / "sur.json", tmp_path / "bench.json", list(att.values()),
        [tmp_path / f"{e}_queries.json" for e in att], fd, out,
    )  # fmt: skip
    m = json.loads(out.read_text())
    frame = pd.read_csv(points)
    filtered = frame[frame["filtered"] == 1]
    assert m["slice_range"]["t"] == [
        filtered.loc[filtered["slice"] == "t", "value"].min(),
        filtered.loc[filtered["slice"] == "t", "value"].max(),
    ]
    assert m["points_per_selection"] == {s: int(frame[s].sum()) for s in ("filtered", "unfiltered")}
    assert frame["unfiltered"].sum() == 9 and 0 < frame["filtered"].sum() <= 9
    assert m["points_explained"] == len(frame)
    assert m["exact_vs_kernel_max_abs_diff"] < 1e-8
    corr = m["gradient_rank_correlation"]["exact"]["true"]["xt"]
    assert set(corr) == {"x0", "v0", "t"}
    for f, entry in corr.items():
        assert entry["n"] == (filtered["slice"] == f).sum()
        if entry["rho"] is not None:  # a percentile interval need not hold rho itself
            assert -1 - 1e-12 <= entry["low"] <= entry["high"] <= 1 + 1e-12
    # the importances are mean |attribution| over the filtered points: own slice / every slice
    exact = pd.read_csv(att["exact"])
    rows = exact[(exact["filtered"] == 1) & (exact["model"] == "true") & (exact["output"] == "vt")]
    own = m["aggregate_importance_own_slice"]["exact"]["true"]["vt"]
    every = m["aggregate_importance"]["exact"]["true"]["vt"]
    for f in ("x0", "v0", "t"):
        assert own[f] == pytest.approx(rows.loc[rows["slice"] == f, f"attr_{f}"].abs().mean())
        assert every[f] == pytest.approx(rows[f"attr_{f}"].abs().mean())
    # the share of exact Shapley's queries outside the training range, rebuilt row by row
    low, high = Z_train.min(axis=0), Z_train.max(axis=0)
    Z = frame[["x0", "v0", "t"]].to_numpy()
    masks = (np.arange(1, 7)[:, None] >> np.arange(3)) & 1 == 1
    mixed = np.where(masks[None, :, None, :], Z[:, None, None, :], background[None, None, :, :])
    asked = np.concatenate([Z, background, mixed.reshape(-1, 3)])
    expected = _outside_share(asked, low, high)
    assert m["queries_outside_training_range"]["exact"]["ml"] == pytest.approx(expected)
    assert m["queries_outside_training_range"]["exact"]["true"] == pytest.approx(expected)
    plot_attributions.main(att["exact"], tmp_path / "c.png", tmp_path / "a.png", explainer="exact")
    plot_gradient_comparison.main(list(att.values()), fd, tmp_path / "g.png")
    assert all((tmp_path / f).stat().st_size > 1000 for f in ("c.png", "a.png", "g.png"))
    (tmp_path / "kernel_shap_queries.json").write_text("{}")
    with pytest.raises(InputError, match="kernel_shap_queries.json"):
        summarize_duffing.main(
            tmp_path / "sur.json", tmp_path / "bench.json", list(att.values()),
            [tmp_path / f"{e}_queries.json" for e in att], fd, tmp_path / "m2.json",
        )  # fmt: skip


def test_train_then_plot_and_benchmark_on_tiny_settings(tmp_path, samples):
    import benchmark_true_model
    import plot_surrogate
    import train_surrogate

    split = [tmp_path / n for n in ("train.csv", "test.csv", "scaler.json")]
    split_duffing.main(samples, *split, seed=0, test_fraction=0.25)
    surrogate = {
        "width": 8,
        "depth": 1,
        "head_width": 4,
        "head_activations": ["tanh"],
        "epochs": 3,
        "batch_size": 16,
        "learning_rate": 1e-3,
        "beta_1": 0.7,
        "validation_split": 0.2,
        "patience": 15,
    }
    model, history = tmp_path / "m.keras", tmp_path / "history.csv"
    train_surrogate.main(split[0], split[2], model, history, seed=0, surrogate=surrogate)
    assert pd.read_csv(history)["epoch"].tolist() == [1, 2, 3]  # patience 15: all 3 epochs
    assert load_surrogate(model).count_params() == (3 * 8 + 8) + (8 * 4 + 4) + (4 * 2 + 2)
    preds, metrics = tmp_path / "pred.csv", tmp_path / "metrics.json"
    evaluate_surrogate.main(split[1], split[2], model, preds, metrics)
    frame = pd.read_csv(preds)
    y, p = frame[["xt", "vt"]].to_numpy(), frame[["xt_pred", "vt_pred"]].to_numpy()
    state = np.linalg.norm(p - y, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(frame["relative_state_error"], state, rtol=1e-12)
    m = json.loads(metrics.read_text())
    assert m["relative_state_error_median"] == pytest.approx(np.median(state))
    # the state error sees what the norm error cannot: it is never below it (triangle)
    assert (frame["relative_state_error"] >= frame["relative_error"] - 1e-12).all()
    for hist, name in ((history, "trained.png"), (None, "imported.png")):
        plot_surrogate.main(hist, preds, tmp_path / name)
        assert (tmp_path / name).stat().st_size > 1000
    bench = tmp_path / "bench.json"
    benchmark_true_model.main(
        split[1], bench, seed=0, ode=SEED_ODE, tolerances=TOL,
        benchmark={"rows": 20, "loop_rows": 4, "repeats": 1},
    )  # fmt: skip
    result = json.loads(bench.read_text())
    assert result["vectorized"]["max_abs_error"] < 1e-6
    assert result["speedup_median"] == pytest.approx(
        result["vectorized"]["rows_per_s"]["median"] / result["odeint_loop"]["rows_per_s"]["median"]
    )
