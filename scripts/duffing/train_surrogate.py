"""Rule ``train_surrogate``: fit the Keras MLP surrogate on the scaled training set.

Reads ``train.csv`` and ``scaler.json``; writes ``surrogate.keras`` and ``history.csv``
(epoch, loss, val_loss). Early stopping watches both loss and val_loss with the notebook's
patience; the validation set is the last ``validation_split`` of the rows, i.e. whole
held-out trajectories (rows are stored trajectory by trajectory).
"""

import logging
import time

import numpy as np
import pandas as pd

from xai_repro.common import (
    atomic_output,
    limit_threads,
    read_csv,
    seed_everything,
    setup_logging,
    write_csv,
)
from xai_repro.duffing.ode import FEATURES, TARGETS, load_scaler

log = logging.getLogger(__name__)


def _progress_callback(epochs: int, every: int = 10):
    import keras

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            done = epoch + 1
            if done % every == 0 or done == 1:
                rate = done / (time.perf_counter() - self.start)
                log.info(
                    "epoch %d/%d loss %.3g val_loss %.3g (%.2f epochs/s, ETA %.0f s at most)",
                    done,
                    epochs,
                    logs["loss"],
                    logs["val_loss"],
                    rate,
                    (epochs - done) / rate,
                )

    return Progress()


def train(Z, y, *, surrogate: dict, seed: int, verbose: int = 0):
    """Build and fit the surrogate on scaled inputs ``Z`` (n, 3) and targets ``y`` (n, 2).

    Returns (model, history DataFrame with epoch, loss, val_loss).
    """
    import keras

    from xai_repro.duffing.surrogate import build_surrogate

    seed_everything(seed)
    params = {k: surrogate[k] for k in ("width", "depth", "head_width", "head_activations")}
    model = build_surrogate(
        Z.shape[1],
        y.shape[1],
        learning_rate=surrogate["learning_rate"],
        beta_1=surrogate["beta_1"],
        **params,
    )
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=surrogate["patience"]),
        keras.callbacks.EarlyStopping(monitor="loss", patience=surrogate["patience"]),
        _progress_callback(surrogate["epochs"]),
    ]
    history = model.fit(
        Z.astype(np.float32),
        y.astype(np.float32),
        epochs=surrogate["epochs"],
        batch_size=surrogate["batch_size"],
        validation_split=surrogate["validation_split"],
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
    )
    frame = pd.DataFrame(history.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return model, frame[["epoch", "loss", "val_loss"]]


def main(train_csv, scaler_json, model_path, history_csv, *, seed, surrogate):
    data = read_csv(train_csv, columns=[*FEATURES, *TARGETS])
    scaler = load_scaler(scaler_json)
    Z = scaler.transform(data[list(FEATURES)].to_numpy())
    y = data[list(TARGETS)].to_numpy()
    model, history = train(Z, y, surrogate=surrogate, seed=seed)
    log.info(
        "stopped after %d epochs: loss %.4g, val_loss %.4g",
        len(history),
        history["loss"].iloc[-1],
        history["val_loss"].iloc[-1],
    )
    with atomic_output(model_path) as tmp:
        model.save(tmp)
    write_csv(history_csv, history)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.train, sm.input.scaler, sm.output.model, sm.output.history, **sm.params)
