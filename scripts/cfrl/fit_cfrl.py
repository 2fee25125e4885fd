"""Rule ``fit_cfrl``: train alibi's CounterfactualRL (DDPG actor and critic) on the training images.

Reads ``dataset.npz``, the classifier (the black-box predictor) and the autoencoder;
trains on the training split and writes the actor's weights (``actor.npz`` for the
TensorFlow backend, ``actor.pt`` for PyTorch), the training log ``training_log.csv``
(reward and losses every ``log_every`` steps, recorded with alibi's Callback interface)
and ``fit.json`` (wall and CPU time, steps/s, and CFRL's validity on the first
``validation.n_instances`` validation images every ``validation.every`` steps: the
curve on which the number of steps is judged; its time is not counted as training).
"""

import logging
import time

import pandas as pd

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.explainer import (
    LOG_COLUMNS,
    load_cfrl,
    make_csv_logger,
    make_validation_monitor,
    save_actor,
)
from xai_repro.common import limit_threads, setup_logging, write_csv, write_json

log = logging.getLogger(__name__)


def main(
    dataset_npz,
    classifier_path,
    autoencoder_path,
    actor_path,
    log_csv,
    fit_json,
    *,
    validation,
    **settings,
):
    """``settings``: seed, image_size, autoencoder, cfrl (the rule's params besides validation)."""
    data = load_dataset(dataset_npz)
    cfrl = settings["cfrl"]
    backend, steps = cfrl["backend"], cfrl["train_steps"]
    logger = make_csv_logger(every=cfrl["log_every"], total_steps=steps)
    predictor, explainer = load_cfrl(
        classifier_path, autoencoder_path, callbacks=[logger], **settings
    )
    x_val = data["x_val"][: validation["n_instances"]]
    monitor = make_validation_monitor(
        x_val, predictor(x_val).argmax(axis=1), every=validation["every"], total_steps=steps
    )
    explainer.params["callbacks"].append(monitor)
    start, cpu = time.perf_counter(), time.process_time()
    explainer.fit(X=data["x_train"])
    seconds = time.perf_counter() - start - monitor.seconds
    cpu_seconds = time.process_time() - cpu - monitor.cpu_seconds
    log.info(
        "fitted %d steps in %.1f s, %.1f CPU s (%.1f steps/s, %s backend); "
        "validation measurements %.1f CPU s",
        steps,
        seconds,
        cpu_seconds,
        steps / seconds,
        backend,
        monitor.cpu_seconds,
    )
    save_actor(explainer, actor_path, backend=backend)
    write_csv(log_csv, pd.DataFrame(logger.rows, columns=LOG_COLUMNS))
    write_json(
        fit_json,
        {
            "backend": backend,
            "train_steps": steps,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "steps_per_second": steps / seconds,
            "validation": monitor.rows,
            "validation_cpu_seconds": monitor.cpu_seconds,
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    i = sm.input
    main(i.dataset, i.classifier, i.autoencoder, *sm.output, **sm.params)
