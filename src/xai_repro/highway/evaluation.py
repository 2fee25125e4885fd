"""Seeded greedy episodes of a policy and their outcome.

Used by the rules evaluate_highway and ablate_highway.
"""

import logging
import time

import numpy as np

from xai_repro.highway.env import make_env, run_episode

log = logging.getLogger(__name__)


def episode_records(policy, seeds, order="sorted", log_every=10):
    """run_episode records of ``policy``, one seeded intersection-v0 episode per seed."""
    env = make_env(order=order)
    out, t0 = [], time.perf_counter()
    try:
        for i, s in enumerate(seeds):
            out.append(run_episode(env, policy, s))
            if (i + 1) % log_every == 0:
                log.info("%d/%d episodes, %.1f s", i + 1, len(seeds), time.perf_counter() - t0)
    finally:
        env.close()
    return out


def episode_outcome(records):
    """Mean return, crash rate and arrival rate of run_episode records."""
    return {
        "mean_return": float(np.mean([r["return"] for r in records])),
        "crash_rate": float(np.mean([r["crashed"] for r in records])),
        "arrival_rate": float(np.mean([r["arrived"] for r in records])),
    }
