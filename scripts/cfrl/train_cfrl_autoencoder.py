"""Rule ``train_cfrl_autoencoder``: the autoencoder whose latent space CFRL acts in.

Reads ``dataset.npz``; writes the encoder and decoder weights in the framework of the
CFRL backend (TensorFlow: ``autoencoder.npz``, a weight list of encoder then decoder;
PyTorch: ``autoencoder.pt``, a weights-only state_dict) and ``autoencoder.json`` (test
reconstruction error, loss per epoch). Loss: binary cross-entropy, as in the seed.
"""

import logging
import time

import numpy as np

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.metrics import reconstruction_error
from xai_repro.cfrl.models import (
    build_keras_autoencoder,
    build_torch_autoencoder,
    fit_torch_autoencoder,
    reconstruct,
    save_weights,
)
from xai_repro.common.io import atomic_output, write_json
from xai_repro.common.runtime import limit_threads, seed_everything, setup_logging

log = logging.getLogger(__name__)


def _log_epoch(epoch, epochs, loss, start):
    rate = (epoch + 1) / (time.perf_counter() - start)
    log.info(
        "epoch %d/%d loss %.4f (%.2f epochs/s, ETA %.0f s)",
        epoch + 1,
        epochs,
        loss,
        rate,
        (epochs - epoch - 1) / rate,
    )


def train_keras(x, *, latent_dim, hidden_dim, epochs, batch_size, learning_rate, seed):
    """Fit the Keras autoencoder on images x; returns (encoder, decoder, losses per epoch)."""
    import keras

    seed_everything(seed)
    encoder, decoder = build_keras_autoencoder(keras, x.shape[1], latent_dim, hidden_dim)
    inputs = keras.Input(x.shape[1:])
    ae = keras.Model(inputs, decoder(encoder(inputs)))
    ae.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.BinaryCrossentropy(from_logits=False),
    )
    start = time.perf_counter()
    progress = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: _log_epoch(epoch, epochs, logs["loss"], start)
    )
    history = ae.fit(
        x, x, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0, callbacks=[progress]
    )
    return encoder, decoder, [float(v) for v in history.history["loss"]]


def train_torch(x, *, latent_dim, hidden_dim, epochs, batch_size, learning_rate, seed):
    """Fit the PyTorch autoencoder on images x; returns (encoder, decoder, losses per epoch)."""
    import torch

    seed_everything(seed)
    encoder, decoder = build_torch_autoencoder(x.shape[1], latent_dim, hidden_dim)
    start = time.perf_counter()
    losses = fit_torch_autoencoder(
        torch.nn.Sequential(encoder, decoder),
        x,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        on_epoch=lambda epoch, loss: _log_epoch(epoch, epochs, loss, start),
    )
    return encoder, decoder, losses


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
    train = train_keras if backend == "tensorflow" else train_torch
    encoder, decoder, losses = train(data["x_train"], **kwargs)
    x_rec = reconstruct(encoder, decoder, data["x_test"], backend=backend)
    mse = float(np.mean(reconstruction_error(data["x_test"], x_rec)))
    log.info("test reconstruction MSE %.5f", mse)
    if backend == "tensorflow":
        save_weights(weights_path, [*encoder.get_weights(), *decoder.get_weights()])
    else:
        import torch

        state = torch.nn.ModuleDict({"encoder": encoder, "decoder": decoder}).state_dict()
        with atomic_output(weights_path) as tmp:
            torch.save(state, tmp)
    write_json(
        metrics_json,
        {"backend": backend, "test_reconstruction_mse": mse, "loss_per_epoch": losses},
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.dataset, sm.output.weights, sm.output.metrics, **sm.params)
