"""Rule ``evaluate_highway``: seeded greedy episodes of trained, untrained and random policies
(the same seeds for each), with crash rate, arrival rate and return, each with a 95 % interval,
and the trained - untrained differences with theirs."""

import logging

import numpy as np

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_json
from xai_repro.highway.env import greedy_policy, set_fast_path
from xai_repro.highway.evaluation import episode_records
from xai_repro.highway.network import load_network
from xai_repro.highway.pretrained import episode_statistics, separation

log = logging.getLogger(__name__)


def main(trained, untrained, out_path, *, seed, episodes, order="sorted", fast_env=True):
    set_fast_path(fast_env)
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    policies = {
        "trained": greedy_policy(load_network(trained)),
        "untrained": greedy_policy(load_network(untrained)),
        "random": lambda obs: int(rng.integers(3)),
    }
    runs = {
        name: episode_records(policy, range(10_000 + seed, 10_000 + seed + episodes), order)
        for name, policy in policies.items()
    }
    stats_rng = np.random.default_rng(seed)
    result = {name: episode_statistics(runs[name], stats_rng) for name in policies}
    for name in policies:
        log.info("%s: %s", name, {k: v for k, v in result[name].items() if k != "returns"})
    result["trained_minus_untrained"] = separation(runs["trained"], runs["untrained"], stats_rng)
    log.info("trained - untrained: %s", result["trained_minus_untrained"])
    write_json(out_path, result)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.trained, sm.input.untrained, sm.output.evaluation, **sm.params)
