"""Timing the Duffing true model: the vectorized integrator beside the notebook's odeint loop.

Used by the rule benchmark_true_model.
"""

import time

import numpy as np

from xai_repro.duffing.ode import duffing_flow, odeint_loop_flow, reference_flow


def rows_per_second(fn, X, repeats: int) -> list[float]:
    """Throughput of ``fn(X)`` over ``repeats`` timed calls."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(X)
        rates.append(len(X) / (time.perf_counter() - start))
    return rates


def rate_summary(rates) -> dict:
    return {
        "min": float(np.min(rates)),
        "median": float(np.median(rates)),
        "max": float(np.max(rates)),
    }


def compare_true_models(
    X, *, ode, rtol, atol, loop_rows: int, repeats: int, reference_tol: float = 1e-11
) -> dict:
    """Time the true models on ``X`` (the loop on its first ``loop_rows`` rows) and check errors.

    The vectorized model is timed on one thread and on all of numba's threads (the
    job's ``threads``); the notebook's loop can use only one. Runs are interleaved, so all
    see the same machine load.
    """
    import numba

    threads = numba.get_num_threads()
    X_loop = X[:loop_rows]

    def fast(A):
        return duffing_flow(A, ode, rtol, atol)

    def fast_one_thread(A):
        numba.set_num_threads(1)
        try:
            return fast(A)
        finally:
            numba.set_num_threads(threads)

    fast(X[:8])  # compile outside the timed runs
    rates = {"parallel": [], "one_thread": [], "loop": []}
    for _ in range(repeats):
        rates["parallel"] += rows_per_second(fast, X, 1)
        rates["one_thread"] += rows_per_second(fast_one_thread, X, 1)
        rates["loop"] += rows_per_second(lambda A: odeint_loop_flow(A, ode), X_loop, 1)
    reference = reference_flow(X_loop, ode, tol=reference_tol)
    fast_err = float(np.abs(fast(X_loop) - reference).max())
    loop_err = float(np.abs(odeint_loop_flow(X_loop, ode) - reference).max())
    par, one, loop = (rate_summary(rates[k]) for k in ("parallel", "one_thread", "loop"))
    return {
        "vectorized": {
            "rows_per_s": par,
            "rows_per_s_one_thread": one,
            "threads": threads,
            "max_abs_error": fast_err,
            "rows": len(X),
            "rtol": rtol,
            "atol": atol,
        },
        "odeint_loop": {"rows_per_s": loop, "max_abs_error": loop_err, "rows": len(X_loop)},
        "speedup_median": par["median"] / loop["median"],
        "speedup_median_one_thread": one["median"] / loop["median"],
        "speedup_min_over_max": par["min"] / loop["max"],
        "reference": {
            "method": "solve_ivp DOP853 per row",
            "rtol": reference_tol,
            "atol": reference_tol,
        },
        "repeats": repeats,
    }
