"""Rule ``fit_cfrl``: train alibi's CounterfactualRL (DDPG actor and critic) on the training images.

Reads ``dataset.npz``, the classifier (the black-box predictor) and the autoencoder;
writes the actor's weights (``actor.npz`` for the TensorFlow backend, ``actor.pt`` for
PyTorch), the training log ``training_log.csv`` (reward and losses every ``log_every``
steps, recorded with alibi's Callback interface) and ``fit.json`` (wall time, steps/s).
"""

import logging
import time

import pandas as pd

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.explainer import LOG_COLUMNS, build_explainer, make_csv_logger, save_actor
from xai_repro.cfrl.models import load_predictor_and_autoencoder
from xai_repro.common import limit_threads, seed_everything, setup_logging, write_csv, write_json

log = logging.getLogger(__name__)


def main(
    dataset_npz,
    classifier_path,
    autoencoder_path,
    actor_path,
    log_csv,
    fit_json,
    *,
    seed,
    image_size,
    autoencoder,
    cfrl,
):
    data = load_dataset(dataset_npz)
    backend = cfrl["backend"]
    predictor, encoder, decoder = load_predictor_and_autoencoder(
        classifier_path,
        autoencoder_path,
        image_size=image_size,
        autoencoder=autoencoder,
        backend=backend,
    )
    seed_everything(seed)
    logger = make_csv_logger(predictor, every=cfrl["log_every"], total_steps=cfrl["train_steps"])
    explainer = build_explainer(
        predictor,
        encoder,
        decoder,
        backend=backend,
        latent_dim=autoencoder["latent_dim"],
        seed=seed,
        callbacks=[logger],
        **{k: v for k, v in cfrl.items() if k not in ("backend", "log_every")},
    )
    start = time.perf_counter()
    explainer.fit(X=data["x_train"])
    seconds = time.perf_counter() - start
    steps = cfrl["train_steps"]
    log.info(
        "fitted %d steps in %.1f s (%.1f steps/s, %s backend)",
        steps,
        seconds,
        steps / seconds,
        backend,
    )
    save_actor(explainer, actor_path, backend=backend)
    write_csv(log_csv, pd.DataFrame(logger.rows, columns=LOG_COLUMNS))
    write_json(
        fit_json,
        {
            "backend": backend,
            "train_steps": steps,
            "seconds": seconds,
            "steps_per_second": steps / seconds,
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(
        sm.input.dataset,
        sm.input.classifier,
        sm.input.autoencoder,
        sm.output.actor,
        sm.output.log_csv,
        sm.output.fit,
        **sm.params,
    )
