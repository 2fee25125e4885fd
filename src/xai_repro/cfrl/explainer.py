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
    load_predictor_and_autoencoder,
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

NOT_ALIBI = ("backend", "log_every", "sparsity_warmup_steps")  # config keys alibi does not take
LOG_COLUMNS = [
    "step",
    "seconds",
    "reward",
    "coeff_sparsity",
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


def load_cfrl(
    classifier_path,
    autoencoder_path,
    *,
    image_size: int,
    autoencoder: dict,
    cfrl: dict,
    seed: int,
    actor_path=None,
    callbacks=(),
):
    """The study's CFRL explainer from its files: (predictor, explainer).

    Rebuilds the classifier (as a numpy predictor) and the autoencoder of ``cfrl.backend``
    from their weight files, seeds every library, and builds ``CounterfactualRL`` with the
    config's ``cfrl`` section. With ``actor_path`` the trained actor is loaded (explain);
    without it the actor is fresh (fit). Used by both ``fit_cfrl`` and ``explain_cfrl``.
    """
    from xai_repro.common import seed_everything

    backend = cfrl["backend"]
    predictor, encoder, decoder = load_predictor_and_autoencoder(
        classifier_path,
        autoencoder_path,
        image_size=image_size,
        autoencoder=autoencoder,
        backend=backend,
    )
    seed_everything(seed)
    explainer = build_explainer(
        predictor,
        encoder,
        decoder,
        backend=backend,
        latent_dim=autoencoder["latent_dim"],
        seed=seed,
        callbacks=callbacks,
        **{k: v for k, v in cfrl.items() if k not in NOT_ALIBI},
    )
    if cfrl["sparsity_warmup_steps"] > 0:
        explainer.params["coeff_sparsity"] = 0.0
        explainer.params["callbacks"].append(
            make_sparsity_warmup(cfrl["coeff_sparsity"], cfrl["sparsity_warmup_steps"])
        )
    if actor_path is not None:
        load_actor(explainer, actor_path, backend=backend, latent_dim=autoencoder["latent_dim"])
    return predictor, explainer


WARMUP_LEVELS = 10  # distinct coefficients of the ramp (TF retraces its update per value)


def sparsity_coefficient(step: int, coeff: float, warmup_steps: int) -> float:
    """Sparsity coefficient at ``step``: a staircase ramp from 0 to ``coeff`` over the first
    ``warmup_steps`` steps in WARMUP_LEVELS equal stairs, then ``coeff`` (alibi's constant
    coefficient when ``warmup_steps`` is 0)."""
    if warmup_steps <= 0 or step >= warmup_steps:
        return float(coeff)
    return float(coeff) * (step * WARMUP_LEVELS // warmup_steps) / WARMUP_LEVELS


def make_sparsity_warmup(coeff: float, warmup_steps: int):
    """An alibi ``Callback`` that sets the actor's sparsity coefficient after every update.

    alibi passes ``params["coeff_sparsity"]`` to each actor update, so changing it between
    updates schedules the coefficient without touching alibi.
    """
    from alibi.explainers.cfrl_base import Callback

    class SparsityWarmup(Callback):
        def __call__(self, step, update, model, sample, losses):
            model.params["coeff_sparsity"] = sparsity_coefficient(step + 1, coeff, warmup_steps)

    return SparsityWarmup()


def make_csv_logger(*, every: int, total_steps: int):
    """An alibi ``Callback`` that records reward and losses every ``every`` steps.

    The rows (dicts with LOG_COLUMNS) accumulate in ``callback.rows``; the caller writes
    them as CSV once training has finished, so no partial log is left by a failed fit.
    The reward is the seed's: alibi's reward function on the explainer's predictor's output
    for the counterfactuals of the sampled batch, averaged (the share of the batch's
    counterfactuals that reach their target: training validity).
    """
    from alibi.explainers.cfrl_base import Callback

    class CSVLogger(Callback):
        def __init__(self):
            self.rows = []
            self.start = time.perf_counter()

        def __call__(self, step, update, model, sample, losses):
            if update != 0 or (step % every != 0 and step != total_steps - 1):
                return
            y_cf = model.params["predictor"](sample["X_cf"])
            reward = float(np.mean(model.params["reward_func"](y_cf, sample["Y_t"])))
            elapsed = time.perf_counter() - self.start
            row = {"step": step, "seconds": elapsed, "reward": reward}
            row["coeff_sparsity"] = float(model.params["coeff_sparsity"])
            row.update({k: float(losses.get(k, np.nan)) for k in LOG_COLUMNS[4:]})
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


def explain_all_targets(explainer, x, *, batch_size: int, repeats: int):
    """CFRL counterfactuals of every image in x toward every class, timed ``repeats`` times.

    Returns (instance index, targets, x_cf, seconds per repeat, seconds of the warm-up call).
    """
    from xai_repro.cfrl.metrics import expand_targets

    x_rep, index, targets = expand_targets(x)
    start = time.perf_counter()
    explanation = explainer.explain(x_rep, Y_t=targets, batch_size=batch_size)
    warmup = time.perf_counter() - start
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        explanation = explainer.explain(x_rep, Y_t=targets, batch_size=batch_size)
        seconds.append(time.perf_counter() - start)
    x_cf = np.asarray(explanation.data["cf"]["X"], dtype=np.float32).reshape(x_rep.shape)
    return index, targets, x_cf, np.asarray(seconds), warmup


def make_validation_monitor(x, y_pred, *, every: int, total_steps: int, batch_size: int = 100):
    """An alibi ``Callback`` that measures CFRL's validity on held-out images during training.

    Every ``every`` steps and after the last, the explainer being trained explains each
    image of ``x`` (n, S, S, 1) toward the 9 classes other than ``y_pred`` (its predicted
    class); rows {"step", "validity", "n"} accumulate in ``callback.rows`` and the CPU
    seconds spent in ``callback.cpu_seconds`` (not training, so callers subtract it).
    """
    from alibi.explainers.cfrl_base import Callback

    from xai_repro.cfrl.metrics import choose_targets

    x = np.asarray(x, dtype=np.float32)
    targets = choose_targets(y_pred, N_CLASSES - 1, seed=0).reshape(-1)  # every other class
    x_rep = np.repeat(x, N_CLASSES - 1, axis=0)

    class ValidationMonitor(Callback):
        def __init__(self):
            self.rows = []
            self.seconds = 0.0
            self.cpu_seconds = 0.0

        def __call__(self, step, update, model, sample, losses):
            if update != 0 or (step % every != 0 and step != total_steps - 1):
                return
            start, cpu = time.perf_counter(), time.process_time()
            explanation = model.explain(x_rep, Y_t=targets, batch_size=batch_size)
            x_cf = np.asarray(explanation.data["cf"]["X"], dtype=np.float32)
            pred = np.asarray(model.params["predictor"](x_cf.reshape(x_rep.shape))).argmax(1)
            self.rows.append(
                {"step": step, "validity": float(np.mean(pred == targets)), "n": len(targets)}
            )
            self.seconds += time.perf_counter() - start
            self.cpu_seconds += time.process_time() - cpu
            log.info("step %d validation validity %.3f", step, self.rows[-1]["validity"])

    return ValidationMonitor()


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
