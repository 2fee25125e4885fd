"""Rule ``train_cfrl_classifier``: the black-box classifier that CFRL explains.

Reads ``dataset.npz``; trains on the training split and writes the Keras 3 classifier's
weights (``classifier.npz``, a list of arrays, see cfrl_models) and ``classifier.json``
(test accuracy, and the loss and accuracy of every epoch on the training and the
validation split: epochs are judged on the validation curve, never on the test images). 28x28 images get alibi's MNISTClassifier shape, 8x8
digits the same shape sized down.
"""

import logging

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.models import save_weights
from xai_repro.cfrl.training import classifier_accuracy, train_classifier
from xai_repro.common import limit_threads, setup_logging, write_json

log = logging.getLogger(__name__)


def main(dataset_npz, weights_path, metrics_json, *, seed, epochs, batch_size, learning_rate):
    data = load_dataset(dataset_npz)
    model, history = train_classifier(
        data["x_train"],
        data["y_train"],
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        validation=(data["x_val"], data["y_val"]),
    )
    val = history["val_accuracy"]
    log.info(
        "validation accuracy %.4f, best %.4f at epoch %d",
        val[-1],
        max(val),
        1 + val.index(max(val)),
    )
    acc = classifier_accuracy(model, data["x_test"], data["y_test"])
    log.info("test accuracy %.4f on %d images", acc, len(data["y_test"]))
    save_weights(weights_path, model.get_weights())
    write_json(
        metrics_json,
        {
            "test_accuracy": acc,
            "n_test": len(data["y_test"]),
            "val_accuracy": val[-1],
            "n_val": len(data["y_val"]),
            "history": history,
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.dataset, sm.output.weights, sm.output.metrics, **sm.params)
