"""Rule ``finetune_mmn``: insert both QBNs into the GRU and fine-tune the MMN.

Reads ``gru.pt``, ``hx_qbn.pt``, ``obs_qbn.pt``; writes ``mmn.pt`` (state_dict with keys
gru_net.*, obx_net.*, bhx_net.*, the MMN code base's format) and ``mmn_history.csv``.
Fine-tuning (all parameters, or the QBNs only) matches the GRU's action probabilities
(loss, truncation and gradient clip as configured; the defaults are the MMN code base's)
until the MMN's greedy return reaches the GRU's; ``steps: 0`` keeps the MMN as inserted.
"""

import pandas as pd

from xai_repro.common import limit_threads, seed_everything, setup_logging, write_csv
from xai_repro.diffig.io import load_gru, load_qbn, save_state
from xai_repro.diffig.networks import MMNet
from xai_repro.diffig.rollouts import evaluate
from xai_repro.diffig.tasks import get_task
from xai_repro.diffig.training import finetune_mmn


def main(gru_pt, hx_pt, obs_pt, mmn_pt, history_csv, *, seed, finetune, env, max_steps):
    seed_everything(seed)
    task = get_task(env, max_steps)
    gru = load_gru(gru_pt, task)
    mmn = MMNet(gru, load_qbn(obs_pt, "relu6"), load_qbn(hx_pt, "tanh"))
    target = float(evaluate(MMNet(gru), finetune["eval_episodes"], 30_000, task).mean())
    mmn, history = finetune_mmn(
        mmn,
        gru,
        steps=finetune["steps"],
        lr=finetune["learning_rate"],
        episodes_per_step=finetune["episodes_per_step"],
        target_return=target,
        eval_episodes=finetune["eval_episodes"],
        seed=seed,
        train_gru=finetune["train_gru"],
        task=task,
        loss=finetune["loss"],
        truncation=finetune["truncation"],
        grad_clip=finetune["grad_clip"],
    )
    save_state(mmn, mmn_pt)
    write_csv(history_csv, pd.DataFrame(history))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.gru, sm.input.hx, sm.input.obs, sm.output.mmn, sm.output.history, **sm.params)
