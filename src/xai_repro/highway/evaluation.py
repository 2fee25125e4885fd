"""Seeded greedy episodes of a policy and their outcome.

Used by the rules evaluate_highway and ablate_highway.
"""

import logging
import time

import numpy as np

from xai_repro.highway.env import make_env, run_episode
from xai_repro.highway.pretrained import bootstrap_mean_interval, wilson_interval

log = logging.getLogger(__name__)


def episode_records(policy, seeds, order="sorted", log_every=10, observation=None):
    """run_episode records of ``policy``, one seeded intersection-v0 episode per seed;
    ``observation``: keys over the default observation config (make_env)."""
    env = make_env(order=order, observation=observation)
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


def outcome_intervals(records, rng, intact=None):
    """95 % intervals of episode_outcome: Wilson for the crash and arrival rates, a bootstrap
    of the mean return; with ``intact`` (records of the same seeds), the return change
    against it and its paired bootstrap interval."""
    n = len(records)
    returns = np.array([r["return"] for r in records], dtype=float)
    out = {
        "return_ci95": bootstrap_mean_interval(returns, rng),
        "crash_rate_ci95": wilson_interval(sum(bool(r["crashed"]) for r in records), n),
        "arrival_rate_ci95": wilson_interval(sum(bool(r["arrived"]) for r in records), n),
    }
    if intact is not None:
        change = returns - np.array([r["return"] for r in intact], dtype=float)
        out["return_change"] = float(change.mean())
        out["return_change_ci95"] = bootstrap_mean_interval(change, rng)
    return out
