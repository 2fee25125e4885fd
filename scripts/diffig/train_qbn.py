"""Rule ``train_qbn``: one quantized bottleneck network (``hx`` or ``obs``).

Reads ``gru.pt`` and ``bottleneck.npz``; writes ``<kind>_qbn.pt`` and its history CSV
(epoch, reconstruction MSE, greedy return with the QBN inserted into the GRU). The
kept epoch is the one whose inserted network returns best (ties: lower MSE).
"""

import numpy as np
import pandas as pd

from xai_repro.common import (
    InputError,
    limit_threads,
    resolve_device,
    seed_everything,
    setup_logging,
    write_csv,
)
from xai_repro.diffig.io import load_gru, save_state
from xai_repro.diffig.networks import QBN, MMNet
from xai_repro.diffig.tasks import get_task
from xai_repro.diffig.training import train_qbn

KINDS = {"hx": ("hidden", "tanh", "hx_code"), "obs": ("features", "relu6", "obs_code")}


def main(gru_pt, data_npz, qbn_pt, history_csv, *, kind, seed, qbn, env, max_steps):
    seed_everything(seed)
    task = get_task(env, max_steps)
    key, activation, code_key = KINDS[kind]
    gru = load_gru(gru_pt, task)
    try:
        data = np.load(data_npz)[key]
    except (OSError, KeyError, ValueError) as err:
        raise InputError(f"{data_npz}: no '{key}' array ({err})") from err
    if kind == "hx":
        model = task.make_hx_qbn(data.shape[1], qbn[code_key])
    else:
        model = QBN(data.shape[1], qbn[code_key], activation)

    def insert(q):
        return MMNet(gru, None, q) if kind == "hx" else MMNet(gru, q, None)

    model, history = train_qbn(
        model,
        data,
        insert=insert,
        epochs=qbn["epochs"],
        lr=qbn["learning_rate"],
        batch_size=qbn["batch_size"],
        eval_every=qbn["eval_every"],
        eval_episodes=qbn["eval_episodes"],
        seed=seed,
        patience=qbn["patience"],
        grad_clip=qbn["grad_clip"],
        task=task,
        device=resolve_device(qbn.get("device", "auto")),
    )
    save_state(model, qbn_pt)
    write_csv(history_csv, pd.DataFrame(history))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(
        sm.input.gru,
        sm.input.data,
        sm.output.qbn,
        sm.output.history,
        kind=sm.wildcards.kind,
        **sm.params,
    )
