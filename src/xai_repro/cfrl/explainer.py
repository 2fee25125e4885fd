"""alibi's CounterfactualRL for the study: construction, the CSV training log, actor weights.

alibi is imported inside the functions (it takes ~12 s), so modules that import this
one stay light. alibi's own ``save``/``load_explainer`` cannot serve here: it writes
Keras' removed "tf" SavedModel format and pickles the explainer with dill. The study
keeps the actor's weights instead (npz for TensorFlow, a weights-only state_dict for
PyTorch) and rebuilds the explainer from the same config.
"""

import logging
import os
import time

import numpy as np

from xai_repro.cfrl.models import (
    N_CLASSES,
    load_torch_state,
    load_weights,
    save_weights,
    set_keras_weights,
)
from xai_repro.common import atomic_output

log = logging.getLogger(__name__)
# alibi's tqdm bars flood the rule's log (the CSV callback logs progress instead); tqdm
# reads its TQDM_* environment when it is first imported, so this must come first.
os.environ.setdefault("TQDM_DISABLE", "1")

LOG_COLUMNS = [
    "step",
    "seconds",
    "reward",
    "critic_loss",
    "actor_loss",
    "sparsity_loss",
    "consistency_loss",
]


def build_explainer(
    predictor,
    encoder,
    decoder,
    *,
    backend: str,
    latent_dim: int,
    coeff_sparsity: float,
    coeff_consistency: float,
    train_steps: int,
    batch_size: int,
    actor_hidden_dim: int,
    critic_hidden_dim: int,
    replay_buffer_size: int,
    exploration_steps: int,
    update_after: int,
    seed: int,
    callbacks=(),
):
    """alibi ``CounterfactualRL`` on images, with the study's parameters."""
    from alibi.explainers import CounterfactualRL

    return CounterfactualRL(
        predictor=predictor,
        encoder=encoder,
        decoder=decoder,
        latent_dim=latent_dim,
        coeff_sparsity=coeff_sparsity,
        coeff_consistency=coeff_consistency,
        train_steps=train_steps,
        batch_size=batch_size,
        backend=backend,
        seed=seed,
        actor_hidden_dim=actor_hidden_dim,
        critic_hidden_dim=critic_hidden_dim,
        replay_buffer_size=replay_buffer_size,
        exploration_steps=exploration_steps,
        update_after=update_after,
        num_workers=0,  # the PyTorch DataLoader stays in the job's process (and thread budget)
        callbacks=list(callbacks),
    )


def make_csv_logger(predictor, *, every: int, total_steps: int):
    """An alibi ``Callback`` that records reward and losses every ``every`` steps.

    The rows (dicts with LOG_COLUMNS) accumulate in ``callback.rows``; the caller writes
    them as CSV once training has finished, so no partial log is left by a failed fit.
    The reward is the seed's: alibi's reward function on the predictor's output for the
    counterfactuals of the sampled batch, averaged.
    """
    from alibi.explainers.cfrl_base import Callback

    class CSVLogger(Callback):
        def __init__(self):
            self.rows = []
            self.start = time.perf_counter()

        def __call__(self, step, update, model, sample, losses):
            if update != 0 or (step % every != 0 and step != total_steps - 1):
                return
            reward = float(
                np.mean(model.params["reward_func"](predictor(sample["X_cf"]), sample["Y_t"]))
            )
            elapsed = time.perf_counter() - self.start
            row = {"step": step, "seconds": elapsed, "reward": reward}
            row.update({k: float(losses.get(k, np.nan)) for k in LOG_COLUMNS[3:]})
            self.rows.append(row)
            rate = (step + 1) / elapsed
            log.info(
                "step %d/%d reward %.3f actor_loss %.4f critic_loss %.4f "
                "(%.1f steps/s, ETA %.0f s)",
                step,
                total_steps,
                reward,
                row["actor_loss"],
                row["critic_loss"],
                rate,
                (total_steps - step - 1) / rate,
            )

    return CSVLogger()


def actor_input_dim(latent_dim: int) -> int:
    """The actor sees [z, one-hot prediction, one-hot target] (no conditioning)."""
    return latent_dim + 2 * N_CLASSES


def save_actor(explainer, path, *, backend: str) -> None:
    """Write the trained actor's weights (npz for TensorFlow, state_dict for PyTorch)."""
    actor = explainer.params["actor"]
    if backend == "tensorflow":
        save_weights(path, actor.get_weights())
        return
    import torch

    with atomic_output(path) as tmp:
        torch.save(actor.state_dict(), tmp)


def load_actor(explainer, path, *, backend: str, latent_dim: int) -> None:
    """Build the explainer's actor (one dummy forward pass) and load its weights from ``path``."""
    actor = explainer.params["actor"]
    if backend == "tensorflow":
        import tensorflow as tf

        actor(tf.zeros((1, actor_input_dim(latent_dim))), training=False)
        set_keras_weights(actor, load_weights(path), path)
        return
    import torch

    with torch.no_grad():
        actor(torch.zeros((1, actor_input_dim(latent_dim))))
    load_torch_state(actor, path)
    actor.eval()
