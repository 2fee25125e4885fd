"""Duffing rows: the vectorized true model vs the notebook's per-row odeint loop, and
KernelSHAP on the true model (notebook: over the per-row loop; workflow: over the numba flow).

The true-model row reuses the rule ``benchmark_true_model``'s ``compare`` (interleaved
repeats, errors against solve_ivp DOP853 at 1e-11); the scaling curves time
``duffing_flow`` at 10^3..10^6 rows and the loop at 10^1..10^3 (10^4 without --quick).
"""

import numpy as np
from _common import load_config, parse_args, use_rule_scripts, write_group

from xai_repro.bench.report import make_curve, make_row
from xai_repro.bench.stats import timed
from xai_repro.common import limit_threads, seed_everything
from xai_repro.duffing.explain import background_sample, exact_shapley, kernel_shap
from xai_repro.duffing.ode import StandardScaler, TrueModel, duffing_flow, odeint_loop_flow

use_rule_scripts("duffing")
from benchmark_true_model import compare  # noqa: E402


def sample_rows(n: int, sampling: dict, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            rng.uniform(*sampling["x0_range"], n),
            rng.uniform(*sampling["v0_range"], n),
            rng.uniform(0.0, sampling["t_max"], n),
        ]
    )


def true_model_rows(cfg: dict, repeats: int, quick: bool) -> list:
    tol = cfg["true_model"]
    rows_n, loop_n = (20_000, 300) if quick else (100_000, 1_000)
    X = sample_rows(rows_n, cfg["sampling"], cfg["seed"])
    r = compare(
        X, ode=cfg["ode"], rtol=tol["rtol"], atol=tol["atol"], loop_rows=loop_n, repeats=repeats
    )
    loop = {"label": f"odeint loop ({loop_n} rows)", **r["odeint_loop"]["rows_per_s"], "n": repeats}
    vec = r["vectorized"]
    one = {"label": f"numba DOP853, 1 thread ({rows_n} rows)", **vec["rows_per_s_one_thread"]}
    par = {"label": f"numba DOP853, {vec['threads']} threads", **vec["rows_per_s"]}
    goal = {"min": 100}
    return [
        make_row(
            "duffing.true_model_1thread",
            "true model, rows/s (1 thread vs the loop)",
            "rows/s",
            dict(one, n=repeats),
            loop,
            goal=goal,
        ),
        make_row(
            "duffing.true_model_threads",
            f"true model, rows/s ({vec['threads']} threads vs the loop)",
            "rows/s",
            dict(par, n=repeats),
            loop,
            goal=goal,
        ),
        make_row(
            "duffing.true_model_error",
            f"true model max abs error vs solve_ivp 1e-11 (rtol=atol={tol['rtol']:g})",
            "abs error",
            {"label": "numba DOP853", "values": [vec["max_abs_error"]]},
            goal={"max": 1e-6},
            notes=f"odeint loop: {r['odeint_loop']['max_abs_error']:.2e} on the same rows",
        ),
    ]


def attribution_rows(cfg: dict, repeats: int, quick: bool) -> list:
    """KernelSHAP values of the same points over both true models (seeded, same background),
    and the workflow's exact Shapley values (its ``exact`` explainer) against the notebook's
    KernelSHAP: with 3 features KernelSHAP enumerates every coalition, so both estimate the
    same values and their difference is reported beside the speed."""
    tol, seed = cfg["true_model"], cfg["seed"]
    train = sample_rows(2000, cfg["sampling"], seed)
    scaler = StandardScaler.fit(train)
    background = background_sample(scaler.transform(train), cfg["explain"]["background_size"], seed)
    Z = scaler.transform(sample_rows(3 if quick else 9, cfg["sampling"], seed + 1))
    true_model = TrueModel(scaler, cfg["ode"], tol["rtol"], tol["atol"]).predict
    rows_seen = [0]

    def fast(A):  # counts the rows shap asks the model for
        rows_seen[0] += len(A)
        return true_model(A)

    def loop(A):
        return odeint_loop_flow(scaler.inverse_transform(A), cfg["ode"])

    explainers = {
        "fast": lambda: kernel_shap(fast, background, Z, seed=seed),
        "loop": lambda: kernel_shap(loop, background, Z, seed=seed),
        "exact": lambda: exact_shapley(true_model, background, Z),
    }
    kernel_shap(true_model, background, Z[:1], seed=seed)  # numba compile, shap import
    out, secs = {}, {name: [] for name in explainers}
    for _ in range(repeats):
        for name, explain in explainers.items():
            secs[name] += timed(lambda name=name, explain=explain: out.update({name: explain()}), 1)
    diff = float(np.abs(out["fast"] - out["loop"]).max())
    diff_exact = float(np.abs(out["exact"] - out["loop"]).max())
    rows_per_point = rows_seen[0] / (repeats * len(Z))
    # the same number of rows straight through the model: its share of the s per point
    (model_s,) = timed(lambda: true_model(np.repeat(Z, int(np.ceil(rows_per_point)), 0)), 1)
    per_point = {k: [s / len(Z) for s in v] for k, v in secs.items()}
    sizes = f"s per point ({len(Z)} points, background {len(background)})"

    def row(row_id, claim, ours, label, notes, extra):
        """Ours against the notebook's KernelSHAP over its per-row odeint model."""
        return make_row(
            row_id,
            f"{claim}, {sizes}",
            "s/point",
            {"label": label, "values": per_point[ours]},
            {"label": "notebook KernelSHAP (odeint per row)", "values": per_point["loop"]},
            higher_is_better=False,
            goal={"min": 100},
            notes=notes,
            extra=extra,
        )

    return [
        row(
            "duffing.kernel_shap_true_model",
            "KernelSHAP on the true model",
            "fast",
            "workflow KernelSHAP (numba flow)",
            f"max abs difference of the values {diff:.2e}; shap asks for {rows_per_point:.0f} "
            f"rows per point, {model_s / len(Z):.3g} s of the numba model: the rest is shap's "
            "own work, which caps the ratio",
            {"max_abs_difference": diff, "rows_per_point": rows_per_point},
        ),
        row(
            "duffing.exact_shapley_true_model",
            "exact Shapley values (workflow) vs KernelSHAP (notebook) on the true model",
            "exact",
            "workflow exact explainer (numba flow)",
            f"max abs difference of the values {diff_exact:.2e} (same points and background)",
            {"max_abs_difference": diff_exact},
        ),
    ]


def curves(cfg: dict, repeats: int, quick: bool) -> list:
    tol = cfg["true_model"]
    fast_sizes = [10**3, 10**4, 10**5, 10**6]
    loop_sizes = [10, 10**2, 10**3] if quick else [10, 10**2, 10**3, 10**4]
    X = sample_rows(max(fast_sizes), cfg["sampling"], cfg["seed"])
    duffing_flow(X[:8], cfg["ode"], tol["rtol"], tol["atol"])
    fast = {
        n: timed(lambda n=n: duffing_flow(X[:n], cfg["ode"], tol["rtol"], tol["atol"]), repeats)
        for n in fast_sizes
    }
    loop = {n: timed(lambda n=n: odeint_loop_flow(X[:n], cfg["ode"]), repeats) for n in loop_sizes}
    cap = f"capped at {max(loop_sizes):.0e} rows (10^6 would take ~10 min per repeat)"
    return [
        make_curve("duffing.flow", "Duffing true model (numba)", "rows", fast),
        make_curve("duffing.odeint_loop", "notebook odeint loop", "rows", loop, note=cap),
    ]


def main() -> None:
    args = parse_args(__doc__)
    limit_threads(args.threads)
    cfg = load_config(args.config)["duffing"]
    seed_everything(cfg["seed"])
    rows = true_model_rows(cfg, args.repeats, args.quick)
    rows += attribution_rows(cfg, args.repeats, args.quick)
    write_group(args.out, rows, curves(cfg, args.repeats, args.quick))


if __name__ == "__main__":
    main()
