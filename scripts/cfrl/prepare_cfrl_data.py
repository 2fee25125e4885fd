"""Rule ``prepare_cfrl_data``: the images of the counterfactual study, in one npz.

Reads scikit-learn's bundled 8x8 digits (``dataset: digits``, split stratified by
class) or MNIST from a local path (``dataset: mnist``: Keras' ``mnist.npz`` or a
directory with the four IDX .gz files; with ``mnist.from_test_set`` only MNIST's 10,000
test images are used, split stratified and seeded into n_train / n_test). Writes ``dataset.npz`` with x_train, y_train,
x_test, y_test (images float32 (n, S, S, 1) in [0, 1], labels int64 in [0, 9]).
Keras' own MNIST download is used only when ``mnist.allow_download`` is true and the
local path is missing.
"""

import logging
from pathlib import Path

import numpy as np

from xai_repro.cfrl.data import (
    check_images_labels,
    load_digits_split,
    load_mnist_idx,
    load_mnist_npz,
    save_dataset,
    split_stratified,
)
from xai_repro.common import InputError, limit_threads, seed_everything, setup_logging

log = logging.getLogger(__name__)


def download_mnist():
    """Keras' MNIST download (needs a network); returns a dataset dict."""
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    out = {}
    for split, (x, y) in {"train": (x_train, y_train), "test": (x_test, y_test)}.items():
        out[f"x_{split}"], out[f"y_{split}"] = check_images_labels(
            x, y, f"keras.datasets.mnist ({split})", image_size=28
        )
    return out


def load(dataset: str, *, seed: int, digits: dict, mnist: dict) -> dict:
    """The dataset dict named by ``dataset`` (see the module docstring)."""
    if dataset == "digits":
        return load_digits_split(digits["test_fraction"], seed)
    if dataset != "mnist":
        raise InputError(f"config cfrl.dataset: unknown dataset {dataset!r}")
    path = Path(mnist["path"])
    if not path.exists():
        if mnist["allow_download"]:
            log.warning("%s not found; downloading MNIST with keras (allow_download)", path)
            return download_mnist()
        raise InputError(
            f"{path}: MNIST not found (config cfrl.mnist.path; put Keras' mnist.npz or the "
            "four IDX .gz files there, or set cfrl.mnist.allow_download: true)"
        )
    resplit = mnist["from_test_set"]
    if mnist["format"] == "npz":
        data = load_mnist_npz(path)
    else:
        data = load_mnist_idx(path, splits=("test",) if resplit else ("train", "test"))
    if not resplit:
        return data
    return split_stratified(data["x_test"], data["y_test"], seed=seed, source=str(path), **resplit)


def main(dataset_npz, *, dataset, seed, digits, mnist):
    seed_everything(seed)
    data = load(dataset, seed=seed, digits=digits, mnist=mnist)
    for split in ("train", "test"):
        counts = np.bincount(data[f"y_{split}"], minlength=10)
        log.info("%s %s: %s images, per class %s", dataset, split, data[f"x_{split}"].shape, counts)
    save_dataset(dataset_npz, data)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(*sm.output, **sm.params)
