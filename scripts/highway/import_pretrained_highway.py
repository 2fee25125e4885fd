"""Rule ``import_pretrained_highway``: an rl-agents checkpoint (architecture from the config)
and an untrained network of the same architecture (seeded torch initialisation, the one
``evaluate_pretrained_highway`` evaluates), written as this workflow's network files, which
carry their architecture: the networks every analysis of the run reads.

Writes ``results/highway/pretrained/{trained,untrained}.pt``.
"""

import torch

from xai_repro.common import atomic_output, limit_threads, seed_everything, setup_logging
from xai_repro.highway.network import ObsNetwork, load_network, network_config, save_network


def main(checkpoint, trained_path, untrained_path, *, seed, network):
    seed_everything(seed)
    nets = {trained_path: load_network(checkpoint, network)}
    torch.manual_seed(seed)
    nets[untrained_path] = ObsNetwork(**network_config(**network)).eval()
    for path, net in nets.items():
        with atomic_output(path, suffix=".pt") as tmp:
            save_network(net, tmp)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.checkpoint, sm.output.trained, sm.output.untrained, **sm.params)
