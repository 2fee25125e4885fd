"""Rule ``benchmark_true_model``: the vectorized true model vs the seed's odeint loop.

Reads ``test.csv`` (raw x0, v0, t); writes ``true_model_benchmark.json``. Both
predictors run side by side in this one process, each ``repeats`` times, on rows
drawn from the test set; reported are rows/s (min, median, max), the speed-up of the
medians, and each one's max |error| against a tight per-row reference (solve_ivp
DOP853, rtol = atol = 1e-11) on the same rows as the loop.

Also runs on its own: ``python scripts/benchmark_true_model.py --rows 20000``.
"""

import logging
import time

import numpy as np
from duffing_ode import FEATURES, SEED_ODE, duffing_flow, odeint_loop_flow, reference_flow

from _helpers import limit_threads, read_csv, seed_everything, setup_logging, write_json

log = logging.getLogger(__name__)


def rows_per_second(fn, X, repeats: int) -> list[float]:
    """Throughput of ``fn(X)`` over ``repeats`` timed calls."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(X)
        rates.append(len(X) / (time.perf_counter() - start))
    return rates


def summary(rates) -> dict:
    return {
        "min": float(np.min(rates)),
        "median": float(np.median(rates)),
        "max": float(np.max(rates)),
    }


def compare(
    X, *, ode, rtol, atol, loop_rows: int, repeats: int, reference_tol: float = 1e-11
) -> dict:
    """Time both true models on ``X`` (the loop on its first ``loop_rows`` rows) and check errors."""
    import numba

    X_loop = X[:loop_rows]
    fast = lambda A: duffing_flow(A, ode, rtol, atol)  # noqa: E731
    fast(X[:8])  # compile outside the timed runs
    fast_rates, loop_rates = [], []
    for _ in range(repeats):  # interleaved, so both see the same machine load
        fast_rates += rows_per_second(fast, X, 1)
        loop_rates += rows_per_second(lambda A: odeint_loop_flow(A, ode), X_loop, 1)
    reference = reference_flow(X_loop, ode, tol=reference_tol)
    fast_err = float(np.abs(fast(X_loop) - reference).max())
    loop_err = float(np.abs(odeint_loop_flow(X_loop, ode) - reference).max())
    fast_summary, loop_summary = summary(fast_rates), summary(loop_rates)
    return {
        "vectorized": {
            "rows_per_s": fast_summary,
            "max_abs_error": fast_err,
            "rows": len(X),
            "rtol": rtol,
            "atol": atol,
            "threads": numba.get_num_threads(),
        },
        "odeint_loop": {"rows_per_s": loop_summary, "max_abs_error": loop_err, "rows": len(X_loop)},
        "speedup_median": fast_summary["median"] / loop_summary["median"],
        "speedup_min_over_max": fast_summary["min"] / loop_summary["max"],
        "reference": {
            "method": "solve_ivp DOP853 per row",
            "rtol": reference_tol,
            "atol": reference_tol,
        },
        "repeats": repeats,
    }


def main(test_csv, benchmark_json, *, seed, ode, tolerances, benchmark, threads=1):
    seed_everything(seed)
    data = read_csv(test_csv, columns=list(FEATURES))
    X_all = data[list(FEATURES)].to_numpy()
    rng = np.random.default_rng(seed)
    X = X_all[rng.choice(len(X_all), benchmark["rows"], replace=len(X_all) < benchmark["rows"])]
    result = compare(
        X,
        ode=ode,
        rtol=tolerances["rtol"],
        atol=tolerances["atol"],
        loop_rows=min(benchmark["loop_rows"], len(X)),
        repeats=benchmark["repeats"],
    )
    log.info(
        "vectorized %.0f rows/s, odeint loop %.0f rows/s (median): %.0fx; max errors %.2e vs %.2e",
        result["vectorized"]["rows_per_s"]["median"],
        result["odeint_loop"]["rows_per_s"]["median"],
        result["speedup_median"],
        result["vectorized"]["max_abs_error"],
        result["odeint_loop"]["max_abs_error"],
    )
    write_json(benchmark_json, result)


def _cli():
    import argparse
    import json

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=20000)
    p.add_argument("--loop-rows", type=int, default=500)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--tol", type=float, default=1e-9)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    limit_threads(args.threads)
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            rng.uniform(-2, 2, args.rows),
            rng.uniform(-2, 2, args.rows),
            rng.uniform(0, 10, args.rows),
        ]
    )
    print(
        json.dumps(
            compare(
                X,
                ode=SEED_ODE,
                rtol=args.tol,
                atol=args.tol,
                loop_rows=args.loop_rows,
                repeats=args.repeats,
            ),
            indent=2,
        )
    )


if __name__ == "__main__":
    if "snakemake" in globals():
        sm = snakemake  # noqa: F821
        setup_logging(sm.log[0])
        limit_threads(sm.threads)
        main(sm.input.test, sm.output.benchmark, threads=sm.threads, **sm.params)
    else:
        _cli()
