"""Rule ``benchmark_true_model``: the vectorized true model vs the notebook's odeint loop.

Reads ``test.csv`` (raw x0, v0, t); writes ``true_model_benchmark.json``. Both
predictors run side by side in this one process, each ``repeats`` times, on rows
drawn from the test set; reported are rows/s (min, median, max), the speed-up of the
medians, and each one's max |error| against a tight per-row reference (solve_ivp
DOP853, rtol = atol = 1e-11) on the same rows as the loop.

Also runs on its own: ``python scripts/benchmark_true_model.py --rows 20000``.
"""

import logging

import numpy as np

from xai_repro.common import limit_threads, read_csv, seed_everything, setup_logging, write_json
from xai_repro.duffing.benchmark import compare_true_models
from xai_repro.duffing.ode import FEATURES, SEED_ODE

log = logging.getLogger(__name__)


def main(test_csv, benchmark_json, *, seed, ode, tolerances, benchmark, threads=1):
    seed_everything(seed)
    data = read_csv(test_csv, columns=list(FEATURES))
    X_all = data[list(FEATURES)].to_numpy()
    rng = np.random.default_rng(seed)
    X = X_all[rng.choice(len(X_all), benchmark["rows"], replace=len(X_all) < benchmark["rows"])]
    result = compare_true_models(
        X,
        ode=ode,
        rtol=tolerances["rtol"],
        atol=tolerances["atol"],
        loop_rows=min(benchmark["loop_rows"], len(X)),
        repeats=benchmark["repeats"],
    )
    log.info(
        "vectorized %.0f rows/s on %d threads (%.0fx), %.0f rows/s on 1 (%.0fx); "
        "odeint loop %.0f rows/s (medians); max errors %.2e vs %.2e",
        result["vectorized"]["rows_per_s"]["median"],
        result["vectorized"]["threads"],
        result["speedup_median"],
        result["vectorized"]["rows_per_s_one_thread"]["median"],
        result["speedup_median_one_thread"],
        result["odeint_loop"]["rows_per_s"]["median"],
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
            compare_true_models(
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
