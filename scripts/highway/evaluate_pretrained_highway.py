"""Rule ``evaluate_pretrained_highway``: an rl-agents checkpoint (architecture from the config)
and an untrained network of the same architecture, greedy on the same seeded episodes of the
configured observation, with crash rate, arrival rate and return, each with a 95 % interval
(Wilson for the rates, bootstrap for the mean), and the trained - untrained differences."""

import logging

import numpy as np
import torch

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_json
from xai_repro.highway.env import greedy_policy, make_env, run_episode, set_fast_path
from xai_repro.highway.network import ObsNetwork, load_network, network_config
from xai_repro.highway.pretrained import (
    configure_observation,
    episode_statistics,
    observation_config,
    separation,
)

log = logging.getLogger(__name__)


def main(checkpoint, out_path, *, seed, network, observation, episodes, fast_env=True):
    set_fast_path(fast_env)
    seed_everything(seed)
    nets = {"trained": load_network(checkpoint, network)}
    torch.manual_seed(seed)
    nets["untrained"] = ObsNetwork(**network_config(**network)).eval()
    obs = observation_config(observation)
    env = configure_observation(make_env(order=obs["order"]), obs)
    seeds = [10_000 + seed + i for i in range(episodes)]
    runs = {m: [run_episode(env, greedy_policy(net), s) for s in seeds] for m, net in nets.items()}
    env.close()
    rng = np.random.default_rng(seed)
    result = {
        "checkpoint": str(checkpoint),
        "network": network,
        "observation": obs,
        **{m: episode_statistics(runs[m], rng) for m in nets},
        "trained_minus_untrained": separation(runs["trained"], runs["untrained"], rng),
    }
    for m in nets:
        log.info("%s: %s", m, {k: v for k, v in result[m].items() if k != "returns"})
    log.info("trained - untrained: %s", result["trained_minus_untrained"])
    write_json(out_path, result)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.checkpoint, sm.output.evaluation, **sm.params)
