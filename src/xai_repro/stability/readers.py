"""Each study's attribution outputs, read by path and format, as named flat vectors.

A reader takes one seed's study folder (``results/<run>/seed<k>/<study>/``) and returns
``{name: Attribution}``. The files are the studies' own outputs (docs/<study>.md); this
module reads them without importing any study. Every vector is a ``pandas.Series`` whose
index names its entries, so two seeds are compared entry by entry (xai_repro.stability.
measures); an entry a seed lacks, or a NaN, is left out of that comparison.

What is compared, per study:

- highway: IG |attribution| and signed IG per (action, feature), summed over vehicles and
  averaged over the states of the seed's own trained rollout; the ego row of the signed IG per
  slot; KernelSHAP importance per (action, feature); attention by distance rank (weight on the
  ego, on the nearest other vehicle, the second nearest, ..., relative to an even share over
  the vehicles present; mean over heads and rollout states). The reference is the same seed's untrained network on its own rollout.
- duffing: the surrogate's attribution per (explained point, output, feature), one vector per
  explainer; points are keyed by their slice and grid value, so a point one seed's selection
  did not explain is left out. The reference is the true ODE's attribution at the same points.
- diffig: differential IG per (input step, baseline step, feature) over the matrix of evenly
  spaced steps, keyed by grid position (the diagonal, identically zero, left out), and over
  the configured pairs, keyed by step; on the seed's own episode. No reference.
- cfrl: the sparsity pattern of the valid counterfactuals towards a class other than the
  predicted one: mean |x_cf - x| per (target, pixel), the share changing each pixel by more
  than the L0 tolerance per (target, pixel), and |x_cf - x| per (image, target, pixel), the
  image named by its content. No reference.
"""

import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from xai_repro.common import InputError, read_csv, read_json, read_npz


class Attribution(NamedTuple):
    vector: pd.Series  # the trained network's
    reference: pd.Series | None  # the same seed's reference (untrained network, true model)
    source: str  # file(s) and key(s), relative to the study folder


# the row and column order of highway's attribution arrays (docs/highway.md)
HIGHWAY_ACTIONS = ("SLOWER", "IDLE", "FASTER")
HIGHWAY_FEATURES = ("presence", "x", "y", "vx", "vy", "cos_h", "sin_h")
HIGHWAY_POLICIES = ("trained", "untrained")


def lookup(data, dotted: str, path):
    """``data[a][b]...`` for ``dotted`` = ``"a.b..."``; a missing key is an InputError naming
    the file and the key."""
    value = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise InputError(f"{path}: missing key {dotted!r}")
        value = value[part]
    return value


def _array(data, dotted: str, path, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(lookup(data, dotted, path), dtype=float)
    except (TypeError, ValueError) as err:
        raise InputError(f"{path}: {dotted!r} is not a numeric array ({err})") from err
    if array.ndim != ndim:
        raise InputError(f"{path}: {dotted!r} has shape {array.shape}, expected {ndim}-D")
    return array


def _names(names, n: int) -> list[str]:
    return list(names) if len(names) == n else [str(i) for i in range(n)]


def grid_vector(array: np.ndarray, rows, cols) -> pd.Series:
    """A 2-D array as a vector with entries named ``"<row>/<col>"``."""
    rows, cols = _names(rows, array.shape[0]), _names(cols, array.shape[1])
    index = [f"{r}/{c}" for r in rows for c in cols]
    return pd.Series(array.ravel(), index=index, dtype=float)


def attention_by_distance(obs: np.ndarray, attention: np.ndarray) -> np.ndarray:
    """Attention on the ego and on the other vehicles ranked by distance, relative to uniform.

    ``obs`` (steps, entities, features): row 0 the ego, columns presence, x, y (absolute
    coordinates, intersection-v0's default); ``attention`` (steps, heads, entities), absent
    vehicles masked. Each weight is multiplied by the number of entities present (the ego
    included), so 1 is an even share: raw weights fall with rank only because the states that
    have a far r-th vehicle have more vehicles to share among. Returns (entities,): entry 0 the
    ego's, entry r the r-th nearest present vehicle's, mean over heads and over the steps that
    have an r-th vehicle (NaN where none has).
    """
    steps, entities = obs.shape[:2]
    rows = np.full((steps, entities), np.nan)
    weights = attention.mean(axis=1)
    for t in range(steps):
        present = np.flatnonzero(obs[t, 1:, 0] > 0.5) + 1
        share = weights[t] * (present.size + 1)
        distance = np.hypot(*(obs[t, present, 1:3] - obs[t, 0, 1:3]).T)
        ranked = present[np.argsort(distance, kind="stable")]
        rows[t, 0] = share[0]
        rows[t, 1 : 1 + ranked.size] = share[ranked]
    counts = np.isfinite(rows).sum(axis=0)
    totals = np.nansum(rows, axis=0)
    return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)


def _highway_attention(folder: Path, policy: str) -> pd.Series:
    path = folder / "rollouts" / f"{policy}.npz"
    arrays = read_npz(path, keys=["obs", "attention"])
    obs, attention = arrays["obs"].astype(float), arrays["attention"].astype(float)
    if obs.ndim != 3 or attention.ndim != 3 or obs.shape[2] < 3:
        raise InputError(f"{path}: obs {obs.shape} / attention {attention.shape} not 3-D")
    if attention.shape[0] != obs.shape[0] or attention.shape[2] != obs.shape[1]:
        raise InputError(
            f"{path}: attention {attention.shape} does not match obs {obs.shape} "
            "(steps, heads, entities) vs (steps, entities, features)"
        )
    index = ["ego", *(f"nearest {r}" for r in range(1, obs.shape[1]))]
    return pd.Series(attention_by_distance(obs, attention), index=index, dtype=float)


def read_highway(folder) -> dict[str, Attribution]:
    """highway's IG, SHAP and attention vectors, trained beside untrained (see module doc)."""
    folder = Path(folder)
    ig_path = folder / "analysis" / "explain_ig_highway.json"
    shap_path = folder / "analysis" / "explain_shap_highway.json"
    ig, shap = read_json(ig_path), read_json(shap_path)

    def pair(data, path, key, pick=lambda a: a, ndim=2):
        return [
            grid_vector(
                pick(_array(data, key.format(m=m), path, ndim)), HIGHWAY_ACTIONS, HIGHWAY_FEATURES
            )
            for m in HIGHWAY_POLICIES
        ]

    ego = lambda a: a[:, 0, :]  # noqa: E731  (slot 0 of (actions, slots, features))
    vectors = {
        "ig_abs_per_feature": (pair(ig, ig_path, "ig.{m}.abs_per_feature"), ig_path),
        "ig_signed_per_feature": (pair(ig, ig_path, "ig.{m}.signed_per_feature"), ig_path),
        "ig_signed_ego_slot": (pair(ig, ig_path, "ig.{m}.signed_per_slot", ego, 3), ig_path),
        "shap_importance": (pair(shap, shap_path, "shap_feature_importance.{m}"), shap_path),
    }
    out = {
        name: Attribution(trained, untrained, str(path.relative_to(folder)))
        for name, ((trained, untrained), path) in vectors.items()
    }
    out["attention_by_distance"] = Attribution(
        _highway_attention(folder, "trained"),
        _highway_attention(folder, "untrained"),
        "rollouts/trained.npz, rollouts/untrained.npz: obs, attention",
    )
    return out


DUFFING_KEYS = ["slice", "value", "model", "output"]


def _duffing_frame(path) -> pd.DataFrame:
    frame = read_csv(path, columns=DUFFING_KEYS, text=("slice", "model", "output"))
    features = [c for c in frame.columns if c.startswith("attr_")]
    if not features:
        raise InputError(f"{path}: no attribution columns (attr_<feature>)")
    frame = frame.assign(point=frame["slice"].astype(str) + "=" + frame["value"].map(repr))
    if frame.duplicated(["point", "model", "output"]).any():
        raise InputError(f"{path}: a (slice, value, model, output) row appears twice")
    return frame.melt(["point", "model", "output"], features, "feature", "attribution")


def _duffing_vector(long: pd.DataFrame, model: str, path) -> pd.Series:
    rows = long[long["model"] == model]
    if rows.empty:
        raise InputError(f"{path}: no rows of model {model!r}")
    index = rows["point"] + "/" + rows["output"] + "/" + rows["feature"].str.removeprefix("attr_")
    return pd.Series(rows["attribution"].to_numpy(float), index=index.to_numpy(), dtype=float)


def read_duffing(folder, explainers) -> dict[str, Attribution]:
    """One vector per explainer: the surrogate's (``ml``) attributions, the true model's as
    reference (see module doc)."""
    folder = Path(folder)
    out = {}
    for explainer in explainers:
        path = folder / "attributions" / f"{explainer}.csv"
        long = _duffing_frame(path)
        out[explainer] = Attribution(
            _duffing_vector(long, "ml", path),
            _duffing_vector(long, "true", path),
            str(path.relative_to(folder)),
        )
    return out


def read_diffig(folder) -> dict[str, Attribution]:
    """Differential IG over the step matrix and the configured pairs (see module doc)."""
    folder = Path(folder)
    path = folder / "diff_ig.json"
    data = read_json(path)
    features = [str(f) for f in lookup(data, "features", path)]
    steps = _array(data, "matrix.steps", path, 1).astype(int)
    matrix = _array(data, "matrix.attribution", path, 3)
    if matrix.shape != (steps.size, steps.size, len(features)):
        raise InputError(
            f"{path}: matrix.attribution has shape {matrix.shape}, expected "
            f"({steps.size}, {steps.size}, {len(features)}) from matrix.steps and features"
        )
    # keyed by grid position, not step number: two seeds' episodes may differ in length, and
    # the grid spreads the same number of steps evenly over each
    entries = {
        f"grid {i}/grid {j}/{feature}": matrix[i, j, f]
        for i in range(steps.size)
        for j in range(steps.size)
        if i != j
        for f, feature in enumerate(features)
    }
    pairs = {}
    for n, item in enumerate(lookup(data, "pairs", path)):
        where = f"pairs.{n}"
        attribution = lookup(item, "attribution", f"{path} ({where})")
        if len(attribution) != len(features):
            raise InputError(f"{path}: {where}.attribution has {len(attribution)} values")
        for feature, value in zip(features, attribution):
            pairs[f"{item['input']}/{item['baseline']}/{feature}"] = float(value)
    return {
        "diff_ig_matrix": Attribution(
            pd.Series(entries, dtype=float), None, "diff_ig.json: matrix"
        ),
        "diff_ig_pairs": Attribution(pd.Series(pairs, dtype=float), None, "diff_ig.json: pairs"),
    }


CFRL_KEYS = ["x", "test_index", "y_pred", "instance", "target", "x_cf", "cf_pred"]


def image_digest(image: np.ndarray) -> int:
    """A 40-bit integer naming an image by its content: two seeds that explain the same image
    name it alike even where their test sets are ordered or drawn differently."""
    data = np.ascontiguousarray(image, dtype=np.float32).tobytes()
    return int.from_bytes(hashlib.blake2b(data, digest_size=5).digest(), "big")


def _cfrl_changes(path) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """|x_cf - x| (counterfactuals, pixels) of the valid counterfactuals towards another class,
    with their image's digest and target, and the number of classes targeted."""
    a = read_npz(path, keys=CFRL_KEYS)
    n = a["instance"].shape[0]
    if any(a[k].shape[0] != n for k in ("target", "x_cf", "cf_pred")):
        raise InputError(f"{path}: instance, target, x_cf and cf_pred differ in length")
    if a["instance"].size and (a["instance"].min() < 0 or a["instance"].max() >= len(a["x"])):
        raise InputError(f"{path}: instance indexes outside x ({len(a['x'])} images)")
    if a["x_cf"].shape[1:] != a["x"].shape[1:]:
        raise InputError(f"{path}: x_cf {a['x_cf'].shape} and x {a['x'].shape} differ per image")
    instance, target = a["instance"], a["target"]
    keep = (a["cf_pred"] == target) & (target != a["y_pred"][instance])
    change = np.abs(a["x_cf"][keep] - a["x"][instance[keep]]).reshape(int(keep.sum()), -1)
    classes = int(target.max()) + 1 if target.size else 1
    image_key = np.array([image_digest(image) for image in a["x"]], dtype=np.int64)
    return change, image_key[instance[keep]], target[keep], classes


def _per_target(values: np.ndarray, target: np.ndarray) -> pd.Series:
    pixels = values.shape[1]
    entries = {}
    for t in np.unique(target):
        mean = values[target == t].mean(axis=0)
        entries.update({f"target {t}/pixel {p}": mean[p] for p in range(pixels)})
    return pd.Series(entries, dtype=float)


def read_cfrl(folder, l0_tolerance) -> dict[str, Attribution]:
    """CFRL's counterfactual sparsity patterns (see module doc)."""
    folder = Path(folder)
    path = folder / "counterfactuals" / "cfrl.npz"
    change, image_key, target, classes = _cfrl_changes(path)
    pixels = change.shape[1]
    # one integer per (image, target, pixel): string names would not scale to MNIST
    keys = (image_key[:, None] * classes + target[:, None]) * pixels + np.arange(pixels)
    source = "counterfactuals/cfrl.npz"
    return {
        "mean_abs_change_per_target": Attribution(_per_target(change, target), None, source),
        "changed_share_per_target": Attribution(
            _per_target((change > l0_tolerance).astype(float), target), None, source
        ),
        "abs_change_per_pair": Attribution(
            pd.Series(change.ravel(), index=keys.ravel(), dtype=float), None, source
        ),
    }
