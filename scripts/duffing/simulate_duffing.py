"""Rule ``simulate_duffing``: draw (x0, v0, t) samples and integrate them.

Writes ``samples.csv`` with columns trajectory, x0, v0, t, xt, vt. Each trajectory is
one initial state observed at ``points_per_trajectory`` uniform random times in
[0, t_max], so neighbouring rows share a trajectory, as in the notebook's data; with
``t_grid`` n the times are drawn uniformly from linspace(0, t_max, n, endpoint=False), as
the generator of the notebook's final surrogate drew them (one point per trajectory).
"""

import logging
import time

import numpy as np
import pandas as pd

from xai_repro.common import limit_threads, setup_logging, write_csv
from xai_repro.duffing.ode import FEATURES, TARGETS, duffing_flow

log = logging.getLogger(__name__)


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


def main(samples_csv, *, seed, ode, sampling, tolerances):
    rng = np.random.default_rng(seed)
    X, ids = sample_inputs(
        sampling["n_trajectories"],
        sampling["points_per_trajectory"],
        sampling["x0_range"],
        sampling["v0_range"],
        sampling["t_max"],
        rng,
        sampling["t_grid"],
    )
    start = time.perf_counter()
    Y = duffing_flow(X, ode, tolerances["rtol"], tolerances["atol"])
    log.info("integrated %d rows in %.2f s", len(X), time.perf_counter() - start)
    frame = pd.DataFrame(np.column_stack([X, Y]), columns=[*FEATURES, *TARGETS])
    frame.insert(0, "trajectory", ids)
    write_csv(samples_csv, frame)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.output.samples, **sm.params)
