"""Rule ``collect_states_highway``: the states every analysis reads: greedy episodes of the
trained network, one per seed of ``analysis.episode_seed`` onwards, pooled with each state's
episode and each episode's return, crash and arrival.

Writes ``results/highway/states.npz`` (``xai_repro.highway.rollout.collect_states``) and what
the episodes were (number, states, crash and arrival rates with Wilson 95 % intervals, mean
return with a bootstrap interval) as its part of ``metrics.json``, key ``analysis_states``.
"""

import logging

import numpy as np

from xai_repro.common import (
    InputError,
    atomic_output,
    limit_threads,
    seed_everything,
    setup_logging,
    write_json,
)
from xai_repro.highway.env import set_fast_path
from xai_repro.highway.network import load_network
from xai_repro.highway.rollout import collect_states
from xai_repro.highway.states import episodes_summary

log = logging.getLogger(__name__)


def main(
    model_path,
    out_path,
    summary_path,
    *,
    seed,
    episode_seed,
    episodes,
    observation=None,
    fast_env=True,
):
    set_fast_path(fast_env)
    seed_everything(seed)
    rec = collect_states(
        load_network(model_path), range(episode_seed, episode_seed + episodes), observation
    )
    if not len(rec["obs"]):
        raise InputError(f"{model_path}: the episodes produced no states")
    log.info(
        "%d states of %d episodes: %d arrived, %d crashed",
        len(rec["obs"]),
        episodes,
        rec["episode_arrived"].sum(),
        rec["episode_crashed"].sum(),
    )
    with atomic_output(out_path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **rec)
    write_json(
        summary_path, {"analysis_states": episodes_summary(rec, np.random.default_rng(seed))}
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.model, sm.output.states, sm.output.summary, **sm.params)
