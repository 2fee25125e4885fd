"""Rule ``benchmark_highway_training``: training env steps/s, single env vs subprocess envs.

Both variants run the same short DQN training in this one process, alternately, ``repeats``
times; the JSON holds min/median/max of each and the median ratio.
"""

import functools
import logging
import time

import numpy as np

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_json
from xai_repro.highway.env import make_env
from xai_repro.highway.training import build_model

log = logging.getLogger(__name__)


def steps_per_s(n_envs, *, steps, seed, net, dqn, order):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    cls = SubprocVecEnv if n_envs > 1 else DummyVecEnv
    kw = {"start_method": "fork"} if n_envs > 1 else None
    env_fn = functools.partial(make_env, order=order)
    env = make_vec_env(env_fn, n_envs=n_envs, seed=seed, vec_env_cls=cls, vec_env_kwargs=kw)
    model = build_model(env, seed=seed, net=net, dqn=dqn, total_steps=steps)
    t0 = time.perf_counter()
    model.learn(steps)
    rate = steps / (time.perf_counter() - t0)
    env.close()
    return rate


def main(out_path, *, seed, steps, repeats, n_envs, net, dqn, order="sorted"):
    seed_everything(seed)
    # gradient updates must happen inside the timed window
    dqn = dict(dqn, learning_starts=min(dqn["learning_starts"], steps // 5))
    rates = {"single_env": [], f"subproc_{n_envs}_envs": []}
    for r in range(repeats):
        for name, n in (("single_env", 1), (f"subproc_{n_envs}_envs", n_envs)):
            rates[name].append(
                steps_per_s(n, steps=steps, seed=seed + r, net=net, dqn=dqn, order=order)
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
