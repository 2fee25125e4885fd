"""Image data of the counterfactual study: scikit-learn's 8x8 digits and local MNIST files.

Every loader returns images as float32 in [0, 1] with shape (n, H, W, 1) (NHWC, one
channel) and labels as int64 in [0, 9]. MNIST is read from a local path only, in one
of its two standard forms: Keras' ``mnist.npz`` (keys x_train, y_train, x_test, y_test)
or the four IDX files ``{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz``. Any
problem with a file (missing, truncated, wrong magic, shape, dtype or labels) raises
InputError naming the file.
"""

import gzip
import logging
import struct
import zlib
from pathlib import Path

import numpy as np

from xai_repro.common import InputError, read_npz, write_npz

log = logging.getLogger(__name__)

N_CLASSES = 10
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
_IDX_UBYTE = 0x08
DATASET_KEYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def check_images_labels(x, y, source: str, *, image_size: int | None = None):
    """Validate raw images (n, H, W) uint8 and labels (n,) integers in [0, 9].

    Returns (images float32 (n, H, W, 1) in [0, 1], labels int64). ``source`` names
    the file(s) in error messages.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.dtype != np.uint8:
        raise InputError(f"{source}: images must be uint8 (0-255), found dtype {x.dtype}")
    if x.ndim != 3 or x.shape[1] != x.shape[2]:
        raise InputError(f"{source}: images must have shape (n, H, W) with H == W, found {x.shape}")
    if image_size is not None and x.shape[1] != image_size:
        raise InputError(f"{source}: images must be {image_size}x{image_size}, found {x.shape[1:]}")
    if not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"{source}: labels must be integers, found dtype {y.dtype}")
    if y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise InputError(f"{source}: need one label per image: images {x.shape}, labels {y.shape}")
    if x.shape[0] == 0:
        raise InputError(f"{source}: no images")
    if y.min() < 0 or y.max() >= N_CLASSES:
        raise InputError(
            f"{source}: labels must lie in [0, {N_CLASSES - 1}], found [{y.min()}, {y.max()}]"
        )
    return (x.astype(np.float32) / 255.0)[..., None], y.astype(np.int64)


def read_idx(path: str | Path, *, expected_ndim: int) -> np.ndarray:
    """Read one gzipped IDX file of unsigned bytes (MNIST's format) into a uint8 array."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: MNIST file not found")
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"{path}: not a readable gzip file ({err})") from err
    if len(raw) < 4:
        raise InputError(f"{path}: truncated IDX file ({len(raw)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != _IDX_UBYTE or ndim != expected_ndim:
        raise InputError(
            f"{path}: not an IDX file of unsigned bytes with {expected_ndim} dimension(s) "
            f"(magic {raw[:4].hex()}, expected 0000 08 {expected_ndim:02x})"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InputError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise InputError(
            f"{path}: IDX header announces shape {shape} ({size} bytes) but the file holds "
            f"{len(raw) - header} bytes (truncated or corrupt)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (used by tests to make MNIST-format files)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, _IDX_UBYTE, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.tobytes())


def load_mnist_idx(directory: str | Path, *, splits=("train", "test")):
    """Load MNIST's IDX .gz files of ``splits`` in ``directory``; returns a dataset dict.

    ``splits=("test",)`` reads only the two t10k files (x_test, y_test).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: MNIST directory not found")
    out = {}
    for split in splits:
        x = read_idx(directory / IDX_FILES["x_" + split], expected_ndim=3)
        y = read_idx(directory / IDX_FILES["y_" + split], expected_ndim=1)
        source = f"{directory / IDX_FILES['x_' + split]} + {IDX_FILES['y_' + split]}"
        out[f"x_{split}"], out[f"y_{split}"] = check_images_labels(x, y, source, image_size=28)
    return out


def split_stratified(x, y, *, n_train: int, n_test: int, seed: int, source: str) -> dict:
    """Seeded split of (x, y) into n_train / n_test images, stratified by class."""
    from sklearn.model_selection import train_test_split

    if n_train + n_test > len(y):
        raise InputError(
            f"{source}: {n_train} + {n_test} images requested (config cfrl.mnist.from_test_set) "
            f"but the file holds {len(y)}"
        )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, train_size=n_train, test_size=n_test, random_state=seed, stratify=y
    )
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def load_mnist_npz(path: str | Path):
    """Load MNIST from Keras' ``mnist.npz``; returns a dataset dict."""
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: MNIST file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in NPZ_KEYS if k not in data.files]
            if missing:
                raise InputError(f"{path}: missing array(s) {missing}; found {data.files}")
            raw = {k: data[k] for k in NPZ_KEYS}
    except InputError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise InputError(f"{path}: not a readable npz file ({err})") from err
    out = {}
    for split in ("train", "test"):
        out[f"x_{split}"], out[f"y_{split}"] = check_images_labels(
            raw[f"x_{split}"], raw[f"y_{split}"], f"{path} ({split})", image_size=28
        )
    return out


def load_digits_split(test_fraction: float, seed: int):
    """scikit-learn's bundled 8x8 digits (pixel values 0-16), split stratified by class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def split_validation(data: dict, fraction: float, seed: int) -> dict:
    """Move a seeded, class-stratified ``fraction`` of the training images into x_val, y_val.

    Choices (classifier epochs, CFRL steps) are tuned on this split, never on the test
    images that are explained.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise InputError(f"config cfrl.validation.fraction must lie in (0, 1), got {fraction}")
    try:
        x_train, x_val, y_train, y_val = train_test_split(
            data["x_train"],
            data["y_train"],
            test_size=fraction,
            random_state=seed,
            stratify=data["y_train"],
        )
    except ValueError as err:  # too few images of a class, or fewer than one per class
        raise InputError(
            f"config cfrl.validation.fraction = {fraction}: cannot split the "
            f"{len(data['y_train'])} training images stratified by class ({err})"
        ) from err
    return {**data, "x_train": x_train, "y_train": y_train, "x_val": x_val, "y_val": y_val}


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


def load_images(dataset: str, *, seed: int, digits: dict, mnist: dict) -> dict:
    """The dataset dict named by ``dataset``: the 8x8 digits, or MNIST from ``mnist.path``
    (npz or IDX; with ``mnist.from_test_set`` only its test images, split); Keras'
    download only with ``mnist.allow_download`` and the path missing."""
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


def save_dataset(path, data: dict) -> None:
    """Write a dataset dict as a compressed npz, atomically."""
    write_npz(path, **{k: data[k] for k in DATASET_KEYS})


def load_dataset(path) -> dict:
    """Read a dataset written by ``save_dataset``, checking keys, shapes and ranges."""
    out = read_npz(path, DATASET_KEYS)
    for split in ("train", "val", "test"):
        x, y = out[f"x_{split}"], out[f"y_{split}"]
        if x.ndim != 4 or x.shape[-1] != 1 or x.shape[0] != y.shape[0]:
            raise InputError(f"{path}: x_{split} {x.shape} / y_{split} {y.shape} do not match")
        if x.min() < 0 or x.max() > 1:
            raise InputError(f"{path}: x_{split} values outside [0, 1]")
    return out


def explained_indices(data: dict, n_instances: int, seed: int, source) -> np.ndarray:
    """Indices of the test images CFRL explains (seeded, sorted; the baseline takes the
    first ones); more than the test set holds -> InputError naming the key and ``source``."""
    n_test = len(data["x_test"])
    if not 1 <= n_instances <= n_test:
        raise InputError(
            f"config cfrl.explain.n_instances = {n_instances} exceeds the {n_test} test "
            f"images of {source}"
        )
    from xai_repro.cfrl.metrics import select_instances

    return select_instances(n_test, n_instances, seed)


def load_explained(dataset_npz, n_instances: int, seed: int):
    """The dataset of ``dataset_npz`` and the indices of its test images that CFRL explains:
    (data, index). explain_cfrl, search_baseline_counterfactuals (the first ones) and
    time_counterfactuals read their images through it, so all three take the same ones."""
    data = load_dataset(dataset_npz)
    return data, explained_indices(data, n_instances, seed, dataset_npz)
