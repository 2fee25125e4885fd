"""Rule ``prepare_cfrl_data``: the images of the counterfactual study, in one npz.

Reads scikit-learn's bundled 8x8 digits (``dataset: digits``, split stratified by
class) or MNIST from a local path (``dataset: mnist``: Keras' ``mnist.npz`` or a
directory with the four IDX .gz files; with ``mnist.from_test_set`` only MNIST's 10,000
test images are used, split stratified and seeded into n_train / n_test). A seeded,
stratified ``validation_fraction`` of the training images becomes the validation split,
on which choices are tuned. Writes ``dataset.npz`` with x_train, y_train, x_val, y_val,
x_test, y_test (images float32 (n, S, S, 1) in [0, 1], labels int64 in [0, 9]).
Keras' own MNIST download is used only when ``mnist.allow_download`` is true and the
local path is missing.
"""

import logging

import numpy as np

from xai_repro.cfrl.data import load_images, save_dataset, split_validation
from xai_repro.common import limit_threads, seed_everything, setup_logging

log = logging.getLogger(__name__)


def main(dataset_npz, *, dataset, seed, digits, mnist, validation_fraction):
    seed_everything(seed)
    data = load_images(dataset, seed=seed, digits=digits, mnist=mnist)
    data = split_validation(data, validation_fraction, seed)
    for split in ("train", "val", "test"):
        counts = np.bincount(data[f"y_{split}"], minlength=10)
        log.info("%s %s: %s images, per class %s", dataset, split, data[f"x_{split}"].shape, counts)
    save_dataset(dataset_npz, data)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(*sm.output, **sm.params)
