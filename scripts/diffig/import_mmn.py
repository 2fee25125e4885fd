"""Rule ``import_mmn``: a pretrained MMN of the seed's users, checked and re-saved.

Reads the configured state_dict (keys gru_net.*, obx_net.*, bhx_net.*; CUDA-saved files
load on the CPU; ``weights_only=True``), builds the task's MMN from it strictly and writes
``mmn.pt`` in the same format.
"""

from xai_repro.common import setup_logging
from xai_repro.diffig.io import load_mmn, save_state
from xai_repro.diffig.tasks import get_task


def main(source_pt, mmn_pt, *, env="CartPole-v1"):
    save_state(load_mmn(source_pt, task=get_task(env)), mmn_pt)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.source, sm.output.mmn, **sm.params)
