"""The Duffing study's long tables of attributions and gradients: one writer, one reader.

A long table has one row per (point, output): the point's slice, the raw value of the
slice's varying feature, its selection flags (``well_predicted``: the surrogate predicts it
within error_tol; ``filtered``: one of the notebook-style selection among the well-predicted
grid points; ``unfiltered``: one of the even spread over the whole slice grid) and the
point's scaled features x0, v0, t, then one column per feature for each quantity
(``attr_<feature>``, ``grad_<feature>``, ``taylor_<feature>``).
``attributions/<explainer>.csv`` adds the model ("ml" or "true");
``finite_differences.csv`` holds each model's gradients and the first-order
reference gradient x (feature - background mean) built from them, also by model.

Used by the rules attribute_duffing, differentiate_models, plot_* and summarize_duffing.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata, spearmanr

from xai_repro.common import read_csv
from xai_repro.duffing.ode import FEATURES, TARGETS

MODELS = ("ml", "true")
SELECTIONS = ("filtered", "unfiltered")
POINT_COLUMNS = ("slice", "value", "well_predicted", *SELECTIONS, *FEATURES)


def columns(prefix: str) -> list[str]:
    """``prefix_<feature>`` for every feature, in FEATURES order."""
    return [f"{prefix}_{f}" for f in FEATURES]


ATTR, GRAD, TAYLOR = columns("attr"), columns("grad"), columns("taylor")


def long_frame(points: pd.DataFrame, cubes: Mapping[str, np.ndarray], **labels) -> pd.DataFrame:
    """Long table of (n_points, n_outputs, n_features) arrays, one row per (point, output).

    ``cubes`` maps a column prefix to its array; ``labels`` are constant columns (model=...).
    """
    frames = []
    for k, target in enumerate(TARGETS):
        frame = points[list(POINT_COLUMNS)].reset_index(drop=True)
        frame.insert(0, "point", np.arange(len(points)))
        for name, value in labels.items():
            frame[name] = value
        frame["output"] = target
        for prefix, cube in cubes.items():
            for j, name in enumerate(columns(prefix)):
                frame[name] = cube[:, k, j]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def attribution_frame(points: pd.DataFrame, model: str, attributions: np.ndarray) -> pd.DataFrame:
    """One model's attributions (n, n_outputs, n_features) as a long table."""
    return long_frame(points, {"attr": attributions}, model=model)


def cube(frame: pd.DataFrame, prefix: str | None, model: str | None = None) -> np.ndarray:
    """Back from a long table to (n_points, n_outputs, n_features), for one model if given.

    ``prefix`` None gives the points' scaled features themselves.
    """
    sub = frame if model is None else frame[frame["model"] == model]
    cols = columns(prefix) if prefix else list(FEATURES)
    parts = [sub[sub["output"] == t].sort_values("point")[cols].to_numpy() for t in TARGETS]
    return np.stack(parts, axis=1)


def read_points(path) -> pd.DataFrame:
    """``points.csv`` written by select_points: the explained points, slice by slice."""
    return read_csv(path, columns=list(POINT_COLUMNS), text=("slice",))


def read_attributions(paths: Iterable) -> dict[str, pd.DataFrame]:
    """Every ``attributions/<explainer>.csv``, keyed by explainer (the file's stem)."""
    return {
        Path(p).stem: read_csv(
            p,
            columns=["point", "model", "output", *POINT_COLUMNS, *ATTR],
            text=("slice", "model", "output"),
        )
        for p in paths
    }


def read_gradients(path) -> pd.DataFrame:
    """``finite_differences.csv``: gradients and the Taylor reference per (point, model, output)."""
    return read_csv(
        path,
        columns=["point", "model", "output", *POINT_COLUMNS, *GRAD, *TAYLOR],
        text=("slice", "model", "output"),
    )


def selected(frame: pd.DataFrame, selection: str | None) -> pd.DataFrame:
    """The rows of one selection of points ("filtered" or "unfiltered"); None keeps all."""
    if selection is None:
        return frame
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, not {selection!r}")
    return frame[frame[selection].astype(bool)]


def aggregate_importance(frame: pd.DataFrame, own_slice: bool = False) -> pd.DataFrame:
    """Mean |attribution| per (model, output) and feature: the notebook's aggregate bars.

    ``own_slice=True`` averages each feature over its own slice only, as the notebook's
    ``aggregate`` meant to (it overwrote one entry per feature and kept the last);
    ``own_slice=False`` averages each feature over every explained point (all slices).
    """
    parts = []
    for feature in FEATURES:
        sub = frame[frame["slice"] == feature] if own_slice else frame
        parts.append(
            sub.groupby(["model", "output"])[f"attr_{feature}"]
            .agg(lambda s: np.mean(np.abs(s)))
            .rename(feature)
        )
    return pd.concat(parts, axis=1)


def importance_dict(frame: pd.DataFrame, own_slice: bool = False) -> dict:
    """aggregate_importance as {model: {output: {feature: value}}}."""
    agg = aggregate_importance(frame, own_slice)
    return {
        m: {t: dict(zip(FEATURES, agg.loc[(m, t)].to_numpy())) for t in TARGETS}
        for m in MODELS
        if m in agg.index.get_level_values(0)
    }


def rank_correlation(a, b) -> float:
    """Spearman rank correlation of two attribution arrays (flattened); NaN if constant."""
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def gradient_times_deviation(gradients: np.ndarray, Z, reference) -> np.ndarray:
    """First-order Taylor attribution: d f_k / d z_j * (z_j - reference_j), (n, O, F)."""
    Z = np.asarray(Z, dtype=float)
    return gradients * (Z - np.asarray(reference, dtype=float))[:, None, :]


def bootstrap_rank_correlation(a, b, *, resamples: int = 2000, seed: int = 0) -> dict:
    """Spearman rho of paired samples with a 95 % percentile bootstrap interval.

    Returns {"rho", "low", "high", "n"}; the pairs are resampled with replacement
    ``resamples`` times (resamples with a constant side are skipped). NaN where rho is.
    """
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    rho = rank_correlation(a, b)
    low = high = float("nan")
    if not np.isnan(rho):
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(a), (resamples, len(a)))
        # Spearman = Pearson of the ranks (ties averaged), one resample per row
        ra, rb = rankdata(a[idx], axis=1), rankdata(b[idx], axis=1)
        ra -= ra.mean(axis=1, keepdims=True)
        rb -= rb.mean(axis=1, keepdims=True)
        denom = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
        keep = denom > 0
        draws = (ra * rb).sum(axis=1)[keep] / denom[keep]
        if len(draws):
            low, high = (float(q) for q in np.quantile(draws, [0.025, 0.975]))
    return {"rho": rho, "low": low, "high": high, "n": len(a)}


def slice_correlations(
    frame: pd.DataFrame,
    gradients: pd.DataFrame,
    model: str,
    reference_model: str | None = None,
    selection: str | None = "filtered",
    seed: int = 0,
) -> dict:
    """{output: {feature: bootstrap_rank_correlation(attr_f, taylor_f)} over slice f's points}.

    ``model``'s attributions against ``reference_model``'s (default: the same model's)
    first-order reference, on the points of ``selection``. Only the slice where f varies
    is used: on the other slices f sits at its training mean, so its reference is near 0
    by construction and would only add ties.
    """
    reference_model = reference_model or model
    frame, gradients = selected(frame, selection), selected(gradients, selection)
    out = {}
    for target in TARGETS:
        att = frame[(frame["model"] == model) & (frame["output"] == target)]
        ref = gradients[(gradients["model"] == reference_model) & (gradients["output"] == target)]
        out[target] = {}
        for feature in FEATURES:
            a = att[att["slice"] == feature].sort_values("point")
            r = ref[ref["slice"] == feature].sort_values("point")
            if not np.array_equal(a["point"].to_numpy(), r["point"].to_numpy()):
                raise ValueError(
                    f"slice {feature}: attributions and gradients hold different points"
                )
            out[target][feature] = bootstrap_rank_correlation(
                a[f"attr_{feature}"].to_numpy(), r[f"taylor_{feature}"].to_numpy(), seed=seed
            )
    return out
