"""Rule ``import_gru``: a pretrained GRU policy of the MMN code base, checked and re-saved.

Reads the configured ``gru_32/model.p``-style state_dict (CartPole: input_ff.0/2, gru,
actor_linear, critic_linear; Pong: conv1..conv4 and input_ff.0/2/4/6 too), loads it strictly
into the task's network (``weights_only=True``) and writes ``gru.pt`` in the same format.
"""

from xai_repro.common import setup_logging
from xai_repro.diffig.io import load_gru, save_state
from xai_repro.diffig.tasks import get_task


def main(source_pt, gru_pt, *, env):
    save_state(load_gru(source_pt, get_task(env)), gru_pt)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.source, sm.output.gru, **sm.params)
