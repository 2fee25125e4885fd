"""Measures of counterfactual quality and speed (pure NumPy, no I/O).

A counterfactual ``x_cf`` of an image ``x`` toward target class ``t`` is *valid* when
the classifier assigns ``x_cf`` to ``t``. Sparsity is the change from ``x``: L1 is the
summed absolute pixel change (pixels in [0, 1]); L0 the share of pixels that changed by
more than a tolerance. In-distribution is the autoencoder's reconstruction error (mean
squared error per image) of the counterfactuals next to that of real test images.
"""

import numpy as np

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
    diff = diff.reshape(len(diff), -1)
    return diff.sum(axis=1), (diff > l0_tolerance).mean(axis=1)


def reconstruction_error(x: np.ndarray, x_rec: np.ndarray) -> np.ndarray:
    """Mean squared error per image between images and their reconstructions."""
    diff = np.asarray(x, dtype=np.float64) - np.asarray(x_rec, dtype=np.float64)
    return (diff.reshape(len(diff), -1) ** 2).mean(axis=1)


def in_distribution(cf_errors: np.ndarray, test_errors: np.ndarray) -> dict:
    """Autoencoder reconstruction error of counterfactuals vs of real test images.

    ``ratio`` near 1 means the counterfactuals are as well reconstructed as real images.
    """
    cf_mean = float(np.mean(cf_errors))
    test_mean = float(np.mean(test_errors))
    return {
        "counterfactual_reconstruction_mse": cf_mean,
        "test_reconstruction_mse": test_mean,
        "ratio": cf_mean / test_mean if test_mean > 0 else None,
    }


def timing_stats(seconds: np.ndarray) -> dict:
    """min, median and max of repeated timings (seconds)."""
    seconds = np.asarray(seconds, dtype=np.float64)
    return {
        "min": float(seconds.min()),
        "median": float(np.median(seconds)),
        "max": float(seconds.max()),
        "n": int(seconds.size),
    }
