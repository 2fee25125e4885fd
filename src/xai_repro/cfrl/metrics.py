"""Measures of counterfactual quality and speed (pure NumPy, no I/O).

A counterfactual ``x_cf`` of an image ``x`` toward target class ``t`` is *valid* when
the classifier assigns ``x_cf`` to ``t`` (top class); it is *accepted* under alibi
``Counterfactual``'s stricter rule when |p_t(x_cf) - target_proba| <= tol. Sparsity is the change from ``x``: L1 is the
summed absolute pixel change (pixels in [0, 1]); L0 the share of pixels that changed by
more than a tolerance. In-distribution scores come from autoencoders that did not
generate the counterfactuals: IM1 and IM2 of Van Looveren & Klaise (2019, "Interpretable
counterfactual explanations guided by prototypes"), from class-specific autoencoders and
one over all classes. Validity shares carry a Wilson 95 % interval.
"""

import math

import numpy as np

from xai_repro.common.stats import wilson_interval

N_CLASSES = 10


def select_instances(n_available: int, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` distinct test instances, drawn once per seed (sorted)."""
    if not 1 <= n <= n_available:
        raise ValueError(f"need 1 <= n <= {n_available} instances, got {n}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_available, size=n, replace=False))


def expand_targets(x: np.ndarray, n_classes: int = N_CLASSES):
    """Every instance toward every class: (x repeated, instance index, target), instance-major.

    For x of shape (n, ...) returns arrays of length n * n_classes, where row
    ``i * n_classes + t`` is instance ``i`` toward target ``t``.
    """
    n = len(x)
    index = np.repeat(np.arange(n), n_classes)
    targets = np.tile(np.arange(n_classes), n)
    return x[index], index, targets


def choose_targets(y_pred: np.ndarray, per_image: int, seed: int) -> np.ndarray:
    """(n, per_image) distinct seeded target classes per image, none its predicted class.

    ``per_image`` = 9 gives every other class (in increasing order).
    """
    if not 1 <= per_image <= N_CLASSES - 1:
        raise ValueError(f"need 1 <= per_image <= {N_CLASSES - 1}, got {per_image}")
    rng = np.random.default_rng(seed)
    rows = []
    for pred in np.asarray(y_pred):
        others = np.array([c for c in range(N_CLASSES) if c != pred])
        rows.append(np.sort(rng.choice(others, size=per_image, replace=False)))
    return np.asarray(rows, dtype=np.int64)


def baseline_pairs(y_pred, per_image: int, seed: int, *, shard: int = 0, shards: int = 1):
    """(instance, target) of the baseline's searches: ``per_image`` seeded non-own targets
    per image (``choose_targets``), instance-major; shard k of n keeps targets t % n == k.
    """
    if not 0 <= shard < shards:
        raise ValueError(f"need 0 <= shard < shards, got {shard} of {shards}")
    targets = choose_targets(y_pred, per_image, seed)
    instance = np.repeat(np.arange(len(targets)), per_image)
    target = targets.reshape(-1)
    keep = target % shards == shard
    return instance[keep], target[keep]


def share_summary(hits) -> dict:
    """Share of True in ``hits``, its counts and Wilson 95 % interval."""
    hits = np.asarray(hits, dtype=bool)
    k, n = int(hits.sum()), int(hits.size)
    return {"validity": k / n if n else None, "valid": k, "n": n, "wilson95": wilson_interval(k, n)}


def validity_summary(cf_pred: np.ndarray, targets: np.ndarray) -> dict:
    """Validity share, counts and Wilson 95 % interval of counterfactuals toward targets."""
    return share_summary(np.asarray(cf_pred) == np.asarray(targets))


def accepted(proba: np.ndarray, targets: np.ndarray, *, target_proba: float, tol: float):
    """alibi ``Counterfactual``'s acceptance rule per counterfactual:
    |p_target - target_proba| <= tol, with ``proba`` (n, classes) class probabilities."""
    proba, targets = np.asarray(proba), np.asarray(targets)
    p_target = proba[np.arange(len(targets)), targets]
    return np.abs(p_target - target_proba) <= tol


def im1_im2(x_cf, rec_cf_class, rec_orig_class, rec_all, eps: float = 1e-6):
    """IM1 and IM2 of Van Looveren & Klaise (2019) per counterfactual (lower is better).

    ``rec_cf_class``: x_cf through the autoencoder of the counterfactual's class;
    ``rec_orig_class``: through that of the original's class; ``rec_all``: through the
    autoencoder of all classes. IM1 = |x_cf - AE_cf(x_cf)|^2 / (|x_cf - AE_orig(x_cf)|^2 + eps);
    IM2 = |AE_cf(x_cf) - AE_all(x_cf)|^2 / (|x_cf|_1 + eps). Arrays (n, ...) -> two (n,).
    """

    def flat(a):
        a = np.asarray(a, dtype=np.float64)
        return a.reshape(len(a), -1)

    x, cf_class, orig_class, every = map(flat, (x_cf, rec_cf_class, rec_orig_class, rec_all))
    im1 = ((x - cf_class) ** 2).sum(1) / (((x - orig_class) ** 2).sum(1) + eps)
    im2 = ((cf_class - every) ** 2).sum(1) / (np.abs(x).sum(1) + eps)
    return im1, im2


def validity(cf_pred: np.ndarray, targets: np.ndarray) -> float:
    """Share of counterfactuals whose predicted class is the target."""
    cf_pred, targets = np.asarray(cf_pred), np.asarray(targets)
    if cf_pred.shape != targets.shape or cf_pred.size == 0:
        raise ValueError(f"predictions {cf_pred.shape} and targets {targets.shape} must match")
    return float(np.mean(cf_pred == targets))


def validity_per_target(
    cf_pred: np.ndarray, targets: np.ndarray, n_classes: int = N_CLASSES
) -> dict:
    """Validity toward each target class {"0": share, ...}; None for a class never targeted."""
    out = {}
    for t in range(n_classes):
        mask = targets == t
        out[str(t)] = float(np.mean(cf_pred[mask] == t)) if mask.any() else None
    return out


def sparsity(x: np.ndarray, x_cf: np.ndarray, l0_tolerance: float):
    """Per counterfactual: (L1 = sum |x_cf - x|, L0 = share of pixels with |x_cf - x| > tol)."""
    diff = np.abs(np.asarray(x_cf, dtype=np.float64) - np.asarray(x, dtype=np.float64))
    diff = diff.reshape(len(diff), int(np.prod(diff.shape[1:])))
    return diff.sum(axis=1), (diff > l0_tolerance).mean(axis=1)


def reconstruction_error(x: np.ndarray, x_rec: np.ndarray) -> np.ndarray:
    """Mean squared error per image between images and their reconstructions."""
    diff = np.asarray(x, dtype=np.float64) - np.asarray(x_rec, dtype=np.float64)
    return (diff.reshape(len(diff), -1) ** 2).mean(axis=1)


def mean_image_error(x_train: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Mean squared error per image of ``x`` against the mean image of ``x_train``: the
    error of an autoencoder that ignores its input (the trivial reconstruction)."""
    mean = np.asarray(x_train, dtype=np.float64).mean(axis=0, keepdims=True)
    return reconstruction_error(x, np.broadcast_to(mean, np.shape(x)))


def timing_stats(seconds: np.ndarray) -> dict:
    """min, median and max of repeated timings (seconds)."""
    seconds = np.asarray(seconds, dtype=np.float64)
    return {
        "min": float(seconds.min()),
        "median": float(np.median(seconds)),
        "max": float(seconds.max()),
        "n": int(seconds.size),
    }


def amortised(cfrl_seconds: float, search_seconds: float, training_seconds: float, n: int):
    """CFRL's cost with its training counted: per counterfactual ``cfrl_seconds`` after a
    one-off ``training_seconds``, against ``search_seconds`` per search.

    Returns the break-even count (the fewest counterfactuals from which CFRL's total is at
    most the search's; None if CFRL is not faster per counterfactual) and the speed-up
    n * search / (training + n * cfrl) at ``n`` counterfactuals.
    """
    gain = search_seconds - cfrl_seconds
    return {
        "training_seconds": float(training_seconds),
        "break_even_count": math.ceil(training_seconds / gain) if gain > 0 else None,
        "n": int(n),
        "speedup_at_n": float(n * search_seconds / (training_seconds + n * cfrl_seconds)),
    }


def speed_summary(
    timing: dict, fit: dict, autoencoder_cpu_seconds: float, n_explained: int
) -> dict:
    """Both methods' seconds per counterfactual (timed side by side), CFRL's speed-up (ratio
    of the CPU medians; ``speedup_wall`` of the wall medians) and the amortised rows: CFRL's
    training CPU time (the fit; with the autoencoder in ``amortised_with_autoencoder``)
    counted against the search, at the ``n_explained`` counterfactuals CFRL explained."""
    cfrl, base = timing["cfrl"], timing["baseline"]
    c, b = cfrl["cpu"], base["cpu"]
    return {
        "cfrl_seconds_per_counterfactual": cfrl,
        "baseline_seconds_per_counterfactual": base,
        "speedup": b["median"] / c["median"],
        # the slowest CFRL round against the fastest search, and the other way round
        "speedup_range": [b["min"] / c["max"], b["max"] / c["min"]],
        "speedup_wall": base["wall"]["median"] / cfrl["wall"]["median"],
        "n_searches": timing["n_searches"],
        "fit_seconds": fit["seconds"],
        "fit_cpu_seconds": fit["cpu_seconds"],
        "fit_steps": fit["train_steps"],
        "fit_steps_per_second": fit["steps_per_second"],
        "autoencoder_cpu_seconds": autoencoder_cpu_seconds,
        "amortised": amortised(c["median"], b["median"], fit["cpu_seconds"], n_explained),
        "amortised_with_autoencoder": amortised(
            c["median"], b["median"], fit["cpu_seconds"] + autoencoder_cpu_seconds, n_explained
        ),
    }
