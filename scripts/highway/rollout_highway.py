"""Rule ``rollout_highway``: one seeded, rendered greedy episode of a Q-network.

Records states, actions, rewards, Q-values, attention matrices, the activations of every
nn.Linear (forward hooks) and rgb frames (SDL_VIDEODRIVER=offscreen) into one .npz.
"""

import logging

import numpy as np

from xai_repro.common import (
    InputError,
    atomic_output,
    limit_threads,
    seed_everything,
    setup_logging,
)
from xai_repro.highway.env import set_fast_path
from xai_repro.highway.network import load_network
from xai_repro.highway.rollout import rollout

log = logging.getLogger(__name__)


def main(model_path, out_path, *, seed, episode_seed, observation=None, fast_env=True):
    set_fast_path(fast_env)
    seed_everything(seed)
    net = load_network(model_path)
    rec = rollout(net, episode_seed, observation=observation)
    if not len(rec["actions"]):
        raise InputError(f"{model_path}: rollout produced no steps")
    log.info(
        "rollout: %d steps, return %.2f, crashed %s",
        len(rec["actions"]),
        rec["rewards"].sum(),
        rec["crashed"],
    )
    with atomic_output(out_path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **rec)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.model, sm.output.rollout, **sm.params)
