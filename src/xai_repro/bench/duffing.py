"""Duffing rows: the vectorized true model against the notebook's per-row odeint loop (one
thread and all threads, errors against solve_ivp DOP853 at 1e-11), and KernelSHAP / exact
Shapley values on the true model against the notebook's KernelSHAP over the loop; scaling
curves of ``duffing_flow`` and the loop. Needs no trained model."""

import numpy as np

from xai_repro.bench.report import interleaved, make_curve, make_row, timed
from xai_repro.duffing import ode
from xai_repro.duffing.benchmark import compare_true_models
from xai_repro.duffing.data import sample_inputs
from xai_repro.duffing.explain import background_sample, exact_shapley, kernel_shap


def sample_rows(n: int, sampling: dict, seed: int) -> np.ndarray:
    """``n`` seeded rows (x0, v0, t) from the config's sampling ranges, one per trajectory."""
    ranges = (sampling[k] for k in ("x0_range", "v0_range", "t_max"))
    return sample_inputs(n, 1, *ranges, np.random.default_rng(seed))[0]


def true_model_rows(cfg: dict, repeats: int, quick: bool) -> list:
    """Rows/s of the true model on one thread and on all threads, each against the loop
    (``compare_true_models``: interleaved repeats), and its error."""
    n, n_loop = (20_000, 300) if quick else (100_000, 1_000)
    X, tol = sample_rows(n, cfg["sampling"], cfg["seed"]), cfg["true_model"]
    got = compare_true_models(X, ode=cfg["ode"], **tol, loop_rows=n_loop, repeats=repeats)
    fast, loop = got["vectorized"], got["odeint_loop"]
    rates = {"1thread": fast["rows_per_s_one_thread"], "threads": fast["rows_per_s"]}
    rows = [
        make_row(
            f"duffing.true_model_{key}",
            f"true model, rows/s ({label} vs the loop)",
            "rows/s",
            {"label": f"numba DOP853, {label} ({n} rows)", **rates[key], "n": repeats},
            {"label": f"odeint loop ({n_loop} rows)", **loop["rows_per_s"], "n": repeats},
            goal={"min": 100},
        )
        for key, label in (("1thread", "1 thread"), ("threads", f"{fast['threads']} threads"))
    ]
    what = f"true model max abs error vs solve_ivp 1e-11 (rtol=atol={tol['rtol']:g})"
    notes = f"odeint loop: {loop['max_abs_error']:.2e} on the same rows"
    ours = ("numba DOP853", [fast["max_abs_error"]])
    row = make_row(
        "duffing.true_model_error", what, "abs error", ours, goal={"max": 1e-6}, notes=notes
    )
    return rows + [row]


def attribution_rows(cfg: dict, repeats: int, quick: bool) -> list:
    """KernelSHAP of the same points over both true models (seeded, same background), and
    the exact Shapley values against the notebook's KernelSHAP (3 features: KernelSHAP
    enumerates every coalition, so both estimate the same values; the difference is noted)."""
    tol, seed = cfg["true_model"], cfg["seed"]
    train = sample_rows(2000, cfg["sampling"], seed)
    scaler = ode.StandardScaler.fit(train)
    background = background_sample(scaler.transform(train), cfg["explain"]["background_size"], seed)
    Z = scaler.transform(sample_rows(3 if quick else 9, cfg["sampling"], seed + 1))
    model, asked, out = ode.TrueModel(scaler, cfg["ode"], **tol).predict, [0], {}

    def counted(A):  # the rows shap asks the model for
        asked[0] += len(A)
        return model(A)

    def loop(A):
        return ode.odeint_loop_flow(scaler.inverse_transform(A), cfg["ode"])

    runs = {
        "fast": lambda: out.update(fast=kernel_shap(counted, background, Z, seed=seed)),
        "loop": lambda: out.update(loop=kernel_shap(loop, background, Z, seed=seed)),
        "exact": lambda: out.update(exact=exact_shapley(model, background, Z)),
    }
    kernel_shap(model, background, Z[:1], seed=seed)  # numba compile, shap import
    per_point = interleaved(runs, repeats, dict.fromkeys(runs, len(Z)))
    rows_per_point = asked[0] / (repeats * len(Z))
    (model_s,) = timed(lambda: model(np.repeat(Z, int(np.ceil(rows_per_point)), 0)), 1)
    diff = {k: float(np.abs(out[k] - out["loop"]).max()) for k in ("fast", "exact")}
    notebook = ("notebook KernelSHAP (odeint per row)", per_point["loop"])
    sizes = f"s per point ({len(Z)} points, background {len(background)})"
    notes = {
        "fast": f"shap asks for {rows_per_point:.0f} rows per point, {model_s / len(Z):.3g} s of "
        "the numba model: the rest is shap's own work, which caps the ratio",
        "exact": "same points, background",
    }
    what = {
        "kernel_shap": ("fast", "KernelSHAP on the true model", "workflow KernelSHAP"),
        "exact_shapley": (
            "exact",
            "exact Shapley values (workflow) vs KernelSHAP (notebook) on the true model",
            "workflow exact explainer",
        ),
    }
    return [
        make_row(
            f"duffing.{key}_true_model",
            f"{title}, {sizes}",
            "s/point",
            (f"{label} (numba flow)", per_point[k]),
            notebook,
            higher_is_better=False,
            goal={"min": 100},
            notes=f"max abs difference of the values {diff[k]:.2e}; {notes[k]}",
            extra={"max_abs_difference": diff[k]},
        )
        for key, (k, title, label) in what.items()
    ]


def curves(cfg: dict, repeats: int, quick: bool) -> list:
    tol, params = cfg["true_model"], cfg["ode"]
    X = sample_rows(10**6, cfg["sampling"], cfg["seed"])
    ode.duffing_flow(X[:8], params, **tol)
    fast = {
        n: timed(lambda n=n: ode.duffing_flow(X[:n], params, **tol), repeats)
        for n in (10**3, 10**4, 10**5, 10**6)
    }
    sizes = [10, 10**2, 10**3] if quick else [10, 10**2, 10**3, 10**4]
    loop = {n: timed(lambda n=n: ode.odeint_loop_flow(X[:n], params), repeats) for n in sizes}
    cap = f"capped at {max(sizes):.0e} rows (10^6 would take ~10 min per repeat)"
    return [
        make_curve("duffing.flow", "Duffing true model (numba)", "rows", fast),
        make_curve("duffing.odeint_loop", "notebook odeint loop", "rows", loop, note=cap),
    ]


def measure(cfg: dict, results, repeats: int, quick: bool):
    """The Duffing group's rows and curves."""
    rows = true_model_rows(cfg, repeats, quick) + attribution_rows(cfg, repeats, quick)
    return {"rows": rows, "curves": curves(cfg, repeats, quick)}
