"""Rule ``train_cfrl_classifier``: the black-box classifier that CFRL explains.

Reads ``dataset.npz``; writes the Keras 3 classifier's weights (``classifier.npz``, a
list of arrays, see cfrl_models) and ``classifier.json`` (test accuracy and the loss
and accuracy of every epoch). 28x28 images get alibi's MNISTClassifier shape, 8x8
digits the same shape sized down.
"""

import logging
import time

import numpy as np

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.models import build_classifier, save_weights
from xai_repro.common import limit_threads, seed_everything, setup_logging, write_json

log = logging.getLogger(__name__)


def train_classifier(x_train, y_train, *, epochs, batch_size, learning_rate, seed):
    """Fit the classifier on images (n, S, S, 1); returns (model, history dict)."""
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
                "epoch %d/%d loss %.4f accuracy %.4f (%.2f epochs/s, ETA %.0f s)",
                epoch + 1,
                epochs,
                logs["loss"],
                logs["accuracy"],
                rate,
                (epochs - epoch - 1) / rate,
            )

    history = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[Progress()],
    )
    return model, {k: [float(v) for v in vals] for k, vals in history.history.items()}


def accuracy(model, x, y) -> float:
    """Share of images whose argmax logit is the label."""
    logits = np.asarray(model.predict(x, batch_size=1024, verbose=0))
    return float(np.mean(logits.argmax(axis=1) == y))


def main(dataset_npz, weights_path, metrics_json, *, seed, epochs, batch_size, learning_rate):
    data = load_dataset(dataset_npz)
    model, history = train_classifier(
        data["x_train"],
        data["y_train"],
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
    )
    acc = accuracy(model, data["x_test"], data["y_test"])
    log.info("test accuracy %.4f on %d images", acc, len(data["y_test"]))
    save_weights(weights_path, model.get_weights())
    write_json(
        metrics_json,
        {"test_accuracy": acc, "n_test": len(data["y_test"]), "history": history},
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.dataset, sm.output.weights, sm.output.metrics, **sm.params)
