"""Training of the study's black-box classifier (Keras 3) and generating autoencoder.

The classifier is alibi's MNISTClassifier shape (sized down for 8x8 digits) trained with
cross-entropy on logits; the autoencoder is trained with binary cross-entropy, as in
alibi's CFRL-on-MNIST example, in the framework of the CFRL backend (Keras 3 or
PyTorch). Images are NHWC (n, S, S, 1) in [0, 1]; every epoch is logged with its rate.
"""

import logging
import time

import numpy as np

from xai_repro.cfrl.models import (
    build_classifier,
    build_keras_autoencoder,
    build_torch_autoencoder,
    fit_torch_autoencoder,
)
from xai_repro.common import seed_everything

log = logging.getLogger(__name__)


class AutoencoderError(RuntimeError):
    """The trained autoencoder reconstructs no better than the check requires."""


def check_beats_mean_image(mse: float, mean_image_mse: float, *, max_ratio, source: str) -> float:
    """``mse / mean_image_mse``, the autoencoder's reconstruction error as a share of the
    training mean image's (1: it has learnt nothing about the input).

    Raises AutoencoderError naming ``source`` when the share exceeds ``max_ratio`` (config
    ``cfrl.autoencoder.max_val_mse_ratio``; None: no check): CFRL only moves in the
    decoder's image, and a decoder that ignores its code gives it nothing to move.
    """
    ratio = mse / mean_image_mse
    if max_ratio is not None and not ratio <= max_ratio:
        raise AutoencoderError(
            f"{source}: reconstruction MSE {mse:.5f} is {ratio:.3f} of the training mean "
            f"image's {mean_image_mse:.5f}, above cfrl.autoencoder.max_val_mse_ratio = "
            f"{max_ratio}: the autoencoder has not learnt (too few epochs, or stalled at "
            "the mean image)"
        )
    return ratio


def train_classifier(x_train, y_train, *, epochs, batch_size, learning_rate, seed, validation=None):
    """Fit the classifier on images (n, S, S, 1); returns (model, history dict).

    ``validation``: (x_val, y_val) evaluated after every epoch (history val_loss,
    val_accuracy); it does not steer training.
    """
    import keras

    seed_everything(seed)
    model = build_classifier(keras, x_train.shape[1])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            rate = (epoch + 1) / (time.perf_counter() - start)
            log.info(
                "epoch %d/%d loss %.4f accuracy %.4f val_accuracy %.4f (%.2f epochs/s, ETA %.0f s)",
                epoch + 1,
                epochs,
                logs["loss"],
                logs["accuracy"],
                logs.get("val_accuracy", float("nan")),
                rate,
                (epochs - epoch - 1) / rate,
            )

    history = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        validation_data=validation,
        verbose=0,
        callbacks=[Progress()],
    )
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def classifier_accuracy(model, x, y) -> float:
    """Share of images whose argmax logit is the label."""
    logits = np.asarray(model.predict(x, batch_size=1024, verbose=0))
    return float(np.mean(logits.argmax(axis=1) == y))


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


def train_keras_autoencoder(x, *, latent_dim, hidden_dim, epochs, batch_size, learning_rate, seed):
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


def train_torch_autoencoder(
    x, *, latent_dim, hidden_dim, epochs, batch_size, learning_rate, seed, device="cpu"
):
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
        device=device,
    )
    return encoder, decoder, losses
