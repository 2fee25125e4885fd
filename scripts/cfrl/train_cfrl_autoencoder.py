"""Rule ``train_cfrl_autoencoder``: the autoencoder whose latent space CFRL acts in.

Reads ``dataset.npz``; writes the encoder and decoder weights in the framework of the
CFRL backend (TensorFlow: ``autoencoder.npz``, a weight list of encoder then decoder;
PyTorch: ``autoencoder.pt``, a weights-only state_dict) and ``autoencoder.json``
(validation and test reconstruction error, the validation error of the training mean
image and the share of it the autoencoder leaves, loss per epoch, training CPU seconds).
Loss: binary cross-entropy, as in the seed. The job fails, writing nothing, when the
validation error exceeds ``max_val_mse_ratio`` of the mean image's.
"""

import functools
import logging
import time

import numpy as np

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.metrics import mean_image_error, reconstruction_error
from xai_repro.cfrl.models import reconstruct, save_weights
from xai_repro.cfrl.training import (
    check_beats_mean_image,
    train_keras_autoencoder,
    train_torch_autoencoder,
)
from xai_repro.common.io import atomic_output, write_json
from xai_repro.common.runtime import limit_threads, resolve_device, setup_logging

log = logging.getLogger(__name__)


def main(
    dataset_npz,
    weights_path,
    metrics_json,
    *,
    seed,
    backend,
    latent_dim,
    hidden_dim,
    epochs,
    batch_size,
    learning_rate,
    max_val_mse_ratio,
    device="auto",
):
    data = load_dataset(dataset_npz)
    kwargs = dict(
        latent_dim=latent_dim,
        hidden_dim=hidden_dim,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
    )
    if backend == "tensorflow":  # TensorFlow places its own ops
        train = train_keras_autoencoder
    else:
        train = functools.partial(train_torch_autoencoder, device=resolve_device(device))
    cpu = time.process_time()
    encoder, decoder, losses = train(data["x_train"], **kwargs)
    cpu = time.process_time() - cpu
    mse = {}
    for split in ("val", "test"):
        x_rec = reconstruct(encoder, decoder, data[f"x_{split}"], backend=backend)
        mse[split] = float(np.mean(reconstruction_error(data[f"x_{split}"], x_rec)))
    mean_mse = float(np.mean(mean_image_error(data["x_train"], data["x_val"])))
    log.info(
        "reconstruction MSE: validation %.5f (training mean image: %.5f), test %.5f",
        mse["val"],
        mean_mse,
        mse["test"],
    )
    ratio = check_beats_mean_image(
        mse["val"], mean_mse, max_ratio=max_val_mse_ratio, source=f"{dataset_npz} (validation)"
    )
    if backend == "tensorflow":
        save_weights(weights_path, [*encoder.get_weights(), *decoder.get_weights()])
    else:
        import torch

        state = torch.nn.ModuleDict({"encoder": encoder, "decoder": decoder}).state_dict()
        with atomic_output(weights_path) as tmp:
            torch.save(state, tmp)
    write_json(
        metrics_json,
        {
            "backend": backend,
            "test_reconstruction_mse": mse["test"],
            "val_reconstruction_mse": mse["val"],
            "val_mean_image_mse": mean_mse,
            "val_mse_ratio_to_mean_image": ratio,
            "cpu_seconds": cpu,
            "loss_per_epoch": losses,
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.dataset, sm.output.weights, sm.output.metrics, **sm.params)
