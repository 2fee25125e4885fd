"""Rule ``collect_bottleneck_data``: GRU features and hidden states from rollouts.

Reads ``gru.pt``; writes ``bottleneck.npz`` with ``features`` (n, 8 or 200), ``hidden``
(n, 32) and the episodes' ``returns``, drawn as the MMN code base draws them (every other
episode explores at the start; episodes capped at ``diffig.max_steps``).
"""

import numpy as np

from xai_repro.common import atomic_output, limit_threads, seed_everything, setup_logging
from xai_repro.diffig.io import load_gru
from xai_repro.diffig.rollouts import collect_bottleneck_data
from xai_repro.diffig.tasks import get_task


def main(gru_pt, data_npz, *, seed, bottleneck, env, max_steps):
    seed_everything(seed)
    task = get_task(env, max_steps)
    data = collect_bottleneck_data(
        load_gru(gru_pt, task),
        episodes=bottleneck["episodes"],
        epsilon=bottleneck["epsilon"],
        seed=seed,
        task=task,
        max_steps=bottleneck["max_steps"],
    )
    with atomic_output(data_npz) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **data)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.gru, sm.output.data, **sm.params)
