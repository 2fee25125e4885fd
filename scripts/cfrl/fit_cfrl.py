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
from xai_repro.cfrl.explainer import LOG_COLUMNS, load_cfrl, make_csv_logger, save_actor
from xai_repro.common import limit_threads, setup_logging, write_csv, write_json

log = logging.getLogger(__name__)


def main(dataset_npz, classifier_path, autoencoder_path, actor_path, log_csv, fit_json, **settings):
    """``settings``: seed, image_size, autoencoder, cfrl (the rule's params)."""
    data = load_dataset(dataset_npz)
    cfrl = settings["cfrl"]
    backend = cfrl["backend"]
    logger = make_csv_logger(every=cfrl["log_every"], total_steps=cfrl["train_steps"])
    _, explainer = load_cfrl(classifier_path, autoencoder_path, callbacks=[logger], **settings)
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
    i = sm.input
    main(i.dataset, i.classifier, i.autoencoder, *sm.output, **sm.params)
