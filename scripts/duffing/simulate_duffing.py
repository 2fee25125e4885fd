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
from xai_repro.duffing.data import sample_inputs
from xai_repro.duffing.ode import FEATURES, TARGETS, duffing_flow

log = logging.getLogger(__name__)


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
