"""The Duffing study's headline numbers: the ``metrics.json`` summary.

The keys are documented in docs/duffing.md.
Used by the rule summarize_duffing.
"""

import numpy as np

from xai_repro.common import InputError, read_json
from xai_repro.duffing.ode import FEATURES, TARGETS
from xai_repro.duffing.tables import (
    MODELS,
    SELECTIONS,
    bootstrap_rank_correlation,
    cube,
    importance_dict,
    rank_correlation,
    selected,
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


def agreement(attributions: dict, selection: str) -> dict:
    """{explainer: {output: Spearman(surrogate's, true model's attributions)}} on a selection."""
    out = {}
    for e, frame in attributions.items():
        c = {m: cube(selected(frame, selection), "attr", m) for m in MODELS}
        out[e] = {
            t: rank_correlation(c["ml"][:, k], c["true"][:, k]) for k, t in enumerate(TARGETS)
        }
    return out


def gradient_agreement(gradients, selection: str) -> dict:
    """{output: {feature: Spearman with interval of the surrogate's and the true model's
    first-order references (gradient x deviation) over slice f}}."""
    rows = selected(gradients, selection)
    out = {}
    for target in TARGETS:
        out[target] = {}
        for feature in FEATURES:
            sub = rows[(rows["output"] == target) & (rows["slice"] == feature)]
            ml, true = (
                sub[sub["model"] == m].sort_values("point")[f"taylor_{feature}"].to_numpy()
                for m in MODELS
            )
            out[target][feature] = bootstrap_rank_correlation(ml, true)
    return out


def summarize(
    surrogate: dict, benchmark: dict, attributions: dict, gradients, queries: dict
) -> dict:
    cubes = {e: {m: cube(f, "attr", m) for m in MODELS} for e, f in attributions.items()}
    points_all = next(iter(attributions.values()))
    points = selected(points_all, "filtered")
    metrics = {
        "surrogate_test_mse": surrogate["test_mse"],
        "surrogate_relative_error_median": surrogate["relative_error_median"],
        "surrogate_relative_state_error_median": surrogate["relative_state_error_median"],
        "surrogate_relative_state_error_p95": surrogate["relative_state_error_p95"],
        "surrogate_test_rows": surrogate["test_rows"],
        "attribution_rank_correlation": agreement(attributions, "filtered"),
        "attribution_rank_correlation_unfiltered": agreement(attributions, "unfiltered"),
        "gradient_rank_correlation": {
            e: {m: slice_correlations(f, gradients, m, selection="filtered") for m in MODELS}
            for e, f in attributions.items()
        },
        "gradient_rank_correlation_unfiltered": {
            e: {m: slice_correlations(f, gradients, m, selection="unfiltered") for m in MODELS}
            for e, f in attributions.items()
        },
        "surrogate_attribution_vs_true_gradient": {
            e: {s: slice_correlations(f, gradients, "ml", "true", selection=s) for s in SELECTIONS}
            for e, f in attributions.items()
        },
        "surrogate_gradient_vs_true_gradient": {
            s: gradient_agreement(gradients, s) for s in SELECTIONS
        },
        "aggregate_importance": {
            e: importance_dict(selected(f, "filtered")) for e, f in attributions.items()
        },
        "aggregate_importance_own_slice": {
            e: importance_dict(selected(f, "filtered"), own_slice=True)
            for e, f in attributions.items()
        },
        "queries_outside_training_range": {
            e: {m: q[m]["outside"] for m in MODELS} for e, q in queries.items()
        },
        "queries_below_t_min": {
            e: {m: q[m]["below"]["t"] for m in MODELS} for e, q in queries.items()
        },
        **benchmark_metrics(benchmark),
        "points_explained": int(next(iter(cubes.values()))["ml"].shape[0]),
        "points_per_selection": {
            s: int(selected(points_all, s)["point"].nunique()) for s in SELECTIONS
        },
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
