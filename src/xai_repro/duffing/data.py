"""The Duffing study's data set: sampled initial states and times, the train/test split, and
the surrogate's errors on the test rows.

Used by the rules simulate_duffing, split_duffing and evaluate_surrogate.
"""

import numpy as np

from xai_repro.common import InputError


def sample_inputs(
    n_trajectories: int,
    points_per_trajectory: int,
    x0_range,
    v0_range,
    t_max: float,
    rng: np.random.Generator,
    t_grid: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (x0, v0, t), shape (n_trajectories * points_per_trajectory, 3), and trajectory ids.

    t is uniform on [0, t_max] (``t_grid`` None) or uniform on the ``t_grid`` points
    linspace(0, t_max, t_grid, endpoint=False).
    """
    x0 = rng.uniform(*x0_range, n_trajectories)
    v0 = rng.uniform(*v0_range, n_trajectories)
    shape = (n_trajectories, points_per_trajectory)
    if t_grid is None:
        t = rng.uniform(0.0, t_max, shape)
    else:
        t = np.linspace(0.0, t_max, t_grid, endpoint=False)[rng.integers(0, t_grid, shape)]
    t = np.sort(t, axis=1)
    ids = np.repeat(np.arange(n_trajectories), points_per_trajectory)
    X = np.column_stack([x0[ids], v0[ids], t.ravel()])
    return X, ids


def split_by_trajectory(trajectory, test_fraction: float, rng: np.random.Generator):
    """Boolean test mask: a random ``test_fraction`` of trajectories (at least one each side)."""
    ids = np.unique(trajectory)
    if len(ids) < 2:
        raise InputError("need at least 2 trajectories to split into train and test")
    n_test = min(max(1, round(test_fraction * len(ids))), len(ids) - 1)
    test_ids = rng.choice(ids, n_test, replace=False)
    return np.isin(trajectory, test_ids)


def relative_norm_error(y_pred, y_true) -> np.ndarray:
    """| ||y_pred|| - ||y_true|| | / ||y_true|| per row (the notebook's error histogram)."""
    true_norm = np.linalg.norm(y_true, axis=1)
    return np.abs(np.linalg.norm(y_pred, axis=1) - true_norm) / np.maximum(true_norm, 1e-12)


def relative_state_error(y_pred, y_true) -> np.ndarray:
    """||y_pred - y_true|| / ||y_true|| per row."""
    true_norm = np.linalg.norm(y_true, axis=1)
    return np.linalg.norm(np.asarray(y_pred) - y_true, axis=1) / np.maximum(true_norm, 1e-12)
