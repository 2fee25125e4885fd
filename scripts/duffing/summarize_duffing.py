"""Rule ``summarize_duffing``: the study's headline numbers in ``metrics.json``.

Reads ``surrogate_metrics.json``, ``true_model_benchmark.json``, every
``attributions/<explainer>.csv`` and ``<explainer>_queries.json``, and
``finite_differences.csv``. The keys are documented in docs/duffing.md.
"""

from pathlib import Path

import numpy as np

from xai_repro.common import InputError, read_json, setup_logging, write_json
from xai_repro.duffing.ode import FEATURES, TARGETS
from xai_repro.duffing.tables import (
    MODELS,
    cube,
    importance_dict,
    rank_correlation,
    read_attributions,
    read_gradients,
    slice_correlations,
)


def benchmark_metrics(benchmark: dict) -> dict:
    """The true model's speed and accuracy beside the notebook's odeint loop."""
    return {
        "true_model_rows_per_s": benchmark["vectorized"]["rows_per_s"]["median"],
        "true_model_max_abs_error": benchmark["vectorized"]["max_abs_error"],
        "true_model_threads": benchmark["vectorized"]["threads"],
        "true_model_speedup_vs_odeint_loop": benchmark["speedup_median"],
        "true_model_speedup_vs_odeint_loop_one_thread": benchmark["speedup_median_one_thread"],
        "odeint_loop_rows_per_s": benchmark["odeint_loop"]["rows_per_s"]["median"],
        "odeint_loop_max_abs_error": benchmark["odeint_loop"]["max_abs_error"],
    }


def summarize(
    surrogate: dict, benchmark: dict, attributions: dict, gradients, queries: dict
) -> dict:
    cubes = {e: {m: cube(f, "attr", m) for m in MODELS} for e, f in attributions.items()}
    points = next(iter(attributions.values()))
    metrics = {
        "surrogate_test_mse": surrogate["test_mse"],
        "surrogate_relative_error_median": surrogate["relative_error_median"],
        "attribution_rank_correlation": {
            e: {t: rank_correlation(c["ml"][:, k], c["true"][:, k]) for k, t in enumerate(TARGETS)}
            for e, c in cubes.items()
        },
        "gradient_rank_correlation": {
            e: {m: slice_correlations(f, gradients, m) for m in MODELS}
            for e, f in attributions.items()
        },
        "aggregate_importance": {e: importance_dict(f) for e, f in attributions.items()},
        "aggregate_importance_own_slice": {
            e: importance_dict(f, own_slice=True) for e, f in attributions.items()
        },
        "queries_outside_training_range": {
            e: {m: q[m]["outside"] for m in MODELS} for e, q in queries.items()
        },
        "queries_below_t_min": {
            e: {m: q[m]["below"]["t"] for m in MODELS} for e, q in queries.items()
        },
        **benchmark_metrics(benchmark),
        "points_explained": int(next(iter(cubes.values()))["ml"].shape[0]),
        "slice_range": {
            f: [
                float(points.loc[points["slice"] == f, "value"].min()),
                float(points.loc[points["slice"] == f, "value"].max()),
            ]
            for f in FEATURES
        },
    }
    if "exact" in cubes and "kernel_shap" in cubes:
        per_model = {
            m: float(np.abs(cubes["exact"][m] - cubes["kernel_shap"][m]).max()) for m in MODELS
        }
        metrics["exact_vs_kernel_max_abs_diff"] = max(per_model.values())
        metrics["exact_vs_kernel_max_abs_diff_per_model"] = per_model
    return metrics


def read_queries(path) -> dict:
    """``<explainer>_queries.json``: per model, the share of queries outside the training range."""
    data = read_json(path)
    try:
        return {
            m: {"outside": float(data[m]["outside"]), "below": data[m]["below"]} for m in MODELS
        }
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: not a queries file ({type(err).__name__}: {err})") from err


def main(
    surrogate_json, benchmark_json, attribution_csvs, query_jsons, gradients_csv, metrics_json
):
    queries = {Path(p).name.removesuffix("_queries.json"): read_queries(p) for p in query_jsons}
    metrics = summarize(
        read_json(surrogate_json),
        read_json(benchmark_json),
        read_attributions(attribution_csvs),
        read_gradients(gradients_csv),
        queries,
    )
    write_json(metrics_json, metrics)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(
        sm.input.surrogate,
        sm.input.benchmark,
        sm.input.attributions,
        sm.input.queries,
        sm.input.gradients,
        sm.output.metrics,
    )
