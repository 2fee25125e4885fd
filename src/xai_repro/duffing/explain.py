"""The explainers of the Duffing study (pure functions).

Attributions are arrays of shape (n_points, n_outputs, n_features): for each point,
the contribution of each feature to each output, relative to the background.
KernelSHAP and exact Shapley values are additive (they sum to f(x) - E f(background));
LIME's local linear weights are turned into the same kind of contribution (weight times
the point's standardized deviation from the background mean), so all three are on one
scale and can be compared with each other and with gradient x deviation.

Used by the rule attribute_duffing; the long tables it feeds are in ``tables``, the
points it explains come from ``slices``.
"""

import math
from collections.abc import Callable

import numpy as np

from xai_repro.duffing.ode import FEATURES

EXPLAINERS = ("kernel_shap", "lime", "exact")
Predict = Callable[[np.ndarray], np.ndarray]


def background_sample(Z_train, size: int, seed: int) -> np.ndarray:
    """``size`` training rows drawn without replacement (all rows if fewer)."""
    rng = np.random.default_rng(seed)
    if len(Z_train) <= size:
        return np.asarray(Z_train)
    return np.asarray(Z_train)[np.sort(rng.choice(len(Z_train), size, replace=False))]


def _to_point_output_feature(values, n_points: int, n_features: int) -> np.ndarray:
    """Normalise shap's output layouts to (n_points, n_outputs, n_features)."""
    if isinstance(values, list):  # old shap: one (n, F) array per output
        return np.stack([np.asarray(v) for v in values], axis=1)
    values = np.asarray(values)
    if values.ndim == 2:  # single output
        return values[:, None, :]
    if values.shape[1] == n_features and values.shape[0] == n_points:
        return values.transpose(0, 2, 1)
    raise ValueError(f"unexpected attribution shape {values.shape}")


def kernel_shap(predict: Predict, background, Z, seed: int = 0) -> np.ndarray:
    """KernelSHAP attributions (n, n_outputs, n_features) against ``background``."""
    import shap

    Z = np.asarray(Z, dtype=float)
    np.random.seed(seed)
    explainer = shap.KernelExplainer(predict, np.asarray(background, dtype=float))
    values = explainer.shap_values(Z, silent=True)
    return _to_point_output_feature(values, len(Z), Z.shape[1])


def exact_shapley(predict: Predict, background, Z, chunk_rows: int = 200_000) -> np.ndarray:
    """Exact interventional Shapley values (n, n_outputs, n_features) against ``background``.

    For every coalition S of the d features, v_x(S) is the mean over the background rows b of
    f(x on S, b elsewhere), and phi_i = sum over S without i of |S|! (d - |S| - 1)! / d!
    (v_x(S + i) - v_x(S)): the values shap's ExactExplainer computes with an Independent
    masker over the whole background. v_x(empty) = E f(background) is the same for every
    point and v_x(all) = f(x), so each point asks for (2^d - 2) x len(background) rows, in
    one ``predict`` call per chunk of points (~``chunk_rows`` rows), not point by point.
    """
    Z = np.asarray(Z, dtype=float)
    background = np.asarray(background, dtype=float)
    n, d = Z.shape
    if not 1 <= d <= 16 or background.ndim != 2 or background.shape[1] != d:
        raise ValueError(
            f"exact Shapley values need 1-16 features and a background with the points' "
            f"{d} columns; got points {Z.shape}, background {background.shape}"
        )
    coalitions = (np.arange(2**d)[:, None] >> np.arange(d)) & 1 == 1  # bit i: feature i in S
    full = np.asarray(predict(Z), dtype=float).reshape(n, -1)
    # NaN, not np.empty: a coalition value left unset shows instead of reusing freed memory
    v = np.full((n, len(coalitions), full.shape[1]), np.nan)  # v_x(S): point, coalition, output
    v[:, 0] = np.asarray(predict(background), dtype=float).reshape(len(background), -1).mean(0)
    v[:, -1] = full
    inner = coalitions[1:-1]
    step = max(1, chunk_rows // max(1, len(inner) * len(background)))
    for start in range(0, n if len(inner) else 0, step):
        z = Z[start : start + step, None, None, :]
        rows = np.where(inner[None, :, None, :], z, background[None, None, :, :])
        out = np.asarray(predict(rows.reshape(-1, d)), dtype=float)
        v[start : start + len(z), 1:-1] = out.reshape(*rows.shape[:3], -1).mean(axis=2)
    size = coalitions.sum(axis=1)
    weight = np.array([math.factorial(s) * math.factorial(d - s - 1) for s in range(d)])
    phi = np.empty((n, v.shape[2], d))
    for i in range(d):
        without = np.flatnonzero(~coalitions[:, i])
        gain = v[:, without + 2**i, :] - v[:, without, :]
        phi[:, :, i] = np.einsum("c,nck->nk", weight[size[without]], gain) / math.factorial(d)
    return phi


def lime_contributions(
    predict: Predict,
    background,
    Z,
    num_samples: int = 5000,
    seed: int = 0,
    sample_around: str = "mean",
) -> np.ndarray:
    """LIME local linear weights times the standardized deviation from the background mean.

    Features stay continuous (lime's default would discretize them into quartiles).
    ``sample_around`` "mean" draws lime's Gaussian samples around the background mean
    (lime's default), "point" around the explained point; both use the background's
    standard deviations. lime's regression mode explains one output, so each output is
    explained separately.
    """
    from lime.lime_tabular import LimeTabularExplainer

    if sample_around not in ("mean", "point"):
        raise ValueError(f"sample_around must be 'mean' or 'point', not {sample_around!r}")
    Z = np.asarray(Z, dtype=float)
    background = np.asarray(background, dtype=float)
    explainer = LimeTabularExplainer(
        background,
        mode="regression",
        feature_names=list(FEATURES),
        discretize_continuous=False,
        sample_around_instance=sample_around == "point",
        random_state=seed,
    )
    mean, scale = explainer.scaler.mean_, explainer.scaler.scale_
    n_outputs = np.asarray(predict(Z[:1])).shape[1]
    out = np.empty((len(Z), n_outputs, Z.shape[1]))
    for k in range(n_outputs):

        def predict_k(A, k=k):
            return np.asarray(predict(A))[:, k]

        for n, z in enumerate(Z):
            exp = explainer.explain_instance(
                z, predict_k, num_features=Z.shape[1], num_samples=num_samples
            )
            weights = np.zeros(Z.shape[1])
            # in regression mode lime stores the weights under label 1 (label 0 holds
            # their negation, for its "negative class" plots)
            for j, w in exp.local_exp[1]:
                weights[j] = w
            out[n, k] = weights * (z - mean) / scale
    return out


def explain(
    name: str,
    predict: Predict,
    background,
    Z,
    *,
    seed: int = 0,
    lime_num_samples: int = 5000,
    lime_sample_around: str = "mean",
) -> np.ndarray:
    """Dispatch to one of EXPLAINERS; returns (n, n_outputs, n_features)."""
    if name == "kernel_shap":
        return kernel_shap(predict, background, Z, seed=seed)
    if name == "exact":
        return exact_shapley(predict, background, Z)
    if name == "lime":
        return lime_contributions(
            predict, background, Z, lime_num_samples, seed=seed, sample_around=lime_sample_around
        )
    raise ValueError(f"unknown explainer {name!r}; expected one of {EXPLAINERS}")


class QueryCounter:
    """A predict function that counts the rows it is asked for and those outside a box.

    Wrapping a model with the training range [low, high] (per scaled feature) measures
    how often an explainer asks the model about inputs it never saw in training.
    """

    def __init__(self, predict: Predict, low, high):
        self.predict = predict
        self.low = np.asarray(low, dtype=float)
        self.high = np.asarray(high, dtype=float)
        self.rows = 0
        self.outside = 0
        self.below = np.zeros(len(self.low), dtype=np.int64)
        self.above = np.zeros(len(self.low), dtype=np.int64)

    def __call__(self, Z) -> np.ndarray:
        Z = np.asarray(Z, dtype=float)
        below, above = Z < self.low, Z > self.high
        self.rows += len(Z)
        self.outside += int((below | above).any(axis=1).sum())
        self.below += below.sum(axis=0)
        self.above += above.sum(axis=0)
        return self.predict(Z)

    def summary(self) -> dict:
        """Rows asked for and the share outside the box (any feature, and per feature)."""
        n = max(self.rows, 1)
        return {
            "rows": self.rows,
            "outside": self.outside / n,
            "below": dict(zip(FEATURES, (self.below / n).tolist())),
            "above": dict(zip(FEATURES, (self.above / n).tolist())),
        }
