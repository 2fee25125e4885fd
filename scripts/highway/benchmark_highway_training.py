"""Rule ``benchmark_highway_training``: training env steps/s, single env vs subprocess envs.

Both variants run the same short DQN training in this one process, alternately, ``repeats``
times; the JSON holds min/median/max of each and the median ratio.
"""

import functools
import logging

import numpy as np

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_json
from xai_repro.highway.env import make_env, set_fast_path
from xai_repro.highway.training import training_steps_per_s

log = logging.getLogger(__name__)


def main(out_path, *, seed, steps, repeats, n_envs, net, dqn, order="sorted", fast_env=True):
    set_fast_path(fast_env)
    seed_everything(seed)
    # gradient updates must happen inside the timed window
    dqn = dict(dqn, learning_starts=min(dqn["learning_starts"], steps // 5))
    env_fn = functools.partial(make_env, order=order, fast=fast_env)
    rates = {"single_env": [], f"subproc_{n_envs}_envs": []}
    for r in range(repeats):
        for name, n in (("single_env", 1), (f"subproc_{n_envs}_envs", n_envs)):
            rates[name].append(
                training_steps_per_s(env_fn, n, steps=steps, seed=seed + r, net=net, dqn=dqn)
            )
            log.info("repeat %d %s: %.2f env steps/s", r, name, rates[name][-1])
    summary = {
        k: {"min": min(v), "median": float(np.median(v)), "max": max(v), "runs": v}
        for k, v in rates.items()
    }
    summary["speedup_median"] = (
        summary[f"subproc_{n_envs}_envs"]["median"] / summary["single_env"]["median"]
    )
    summary["steps_per_run"] = steps
    write_json(out_path, summary)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(1)
    main(sm.output.benchmark, **sm.params)
