"""Rule ``collect_bottleneck_data``: GRU features and hidden states from rollouts.

Reads ``gru.pt``; writes ``bottleneck.npz`` with ``features`` (n, 8) and ``hidden``
(n, 32) from epsilon-greedy episodes (the exploration widens what the QBNs see).
"""

import numpy as np

from xai_repro.common import atomic_output, limit_threads, seed_everything, setup_logging
from xai_repro.diffig.io import load_gru
from xai_repro.diffig.rollouts import collect_bottleneck_data


def main(gru_pt, data_npz, *, seed, bottleneck):
    seed_everything(seed)
    data = collect_bottleneck_data(
        load_gru(gru_pt), episodes=bottleneck["episodes"], epsilon=bottleneck["epsilon"], seed=seed
    )
    with atomic_output(data_npz) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **data)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.gru, sm.output.data, **sm.params)
