"""The counterfactual study's pure functions and data readers (fast: no alibi, no training)."""

import gzip
import math

import numpy as np
import pytest

import prepare_cfrl_data
from conftest import REPO
from xai_repro.cfrl.data import (
    IDX_FILES,
    load_dataset,
    load_mnist_idx,
    load_mnist_npz,
    read_idx,
    write_idx,
)
from xai_repro.cfrl.metrics import (
    expand_targets,
    reconstruction_error,
    select_instances,
    sparsity,
    timing_stats,
    validity,
    validity_per_target,
)
from xai_repro.common import InputError

DIGITS = {"test_fraction": 0.2}
PREPARE = {"seed": 0, "digits": DIGITS, "validation_fraction": 0.25}
MNIST_FIXTURE = REPO.parent / "shared" / "fixtures" / "mnist"


# --- metrics ---------------------------------------------------------------------------


def test_expand_targets_is_instance_major_over_all_classes():
    x = np.arange(3 * 4).reshape(3, 2, 2, 1).astype(np.float32)
    x_rep, index, targets = expand_targets(x)
    assert len(x_rep) == 30
    for i in range(3):
        for t in range(10):
            row = i * 10 + t
            assert index[row] == i and targets[row] == t
            np.testing.assert_array_equal(x_rep[row], x[i])


def test_validity_and_per_target_agree():
    rng = np.random.default_rng(0)
    targets = np.tile(np.arange(10), 7)
    pred = np.where(rng.random(70) < 0.6, targets, (targets + 1) % 10)
    per = validity_per_target(pred, targets)
    # every class is targeted equally often, so validity is the mean over targets
    assert validity(pred, targets) == pytest.approx(np.mean(list(per.values())))
    assert validity(targets, targets) == 1.0
    assert validity((targets + 1) % 10, targets) == 0.0


def test_validity_per_target_marks_untargeted_classes():
    per = validity_per_target(np.array([3, 3]), np.array([3, 4]))
    assert per["3"] == 1.0 and per["4"] == 0.0 and per["0"] is None


def test_validity_refuses_mismatched_shapes():
    with pytest.raises(ValueError):
        validity(np.zeros(3), np.zeros(4))


def test_sparsity_known_values_and_scaling():
    x = np.zeros((2, 2, 2, 1))
    x_cf = x.copy()
    x_cf[0, 0, 0, 0] = 0.5
    x_cf[1] = 0.01  # below the L0 tolerance everywhere
    l1, l0 = sparsity(x, x_cf, l0_tolerance=0.05)
    np.testing.assert_allclose(l1, [0.5, 0.04])
    np.testing.assert_allclose(l0, [0.25, 0.0])
    l1_half, _ = sparsity(x, x_cf / 2, l0_tolerance=0.05)  # L1 is linear in the change
    np.testing.assert_allclose(l1_half, l1 / 2)
    l1_same, l0_same = sparsity(x_cf, x_cf, 0.0)
    assert not l1_same.any() and not l0_same.any()


def test_reconstruction_error():
    x = np.ones((3, 2, 2, 1))
    np.testing.assert_allclose(reconstruction_error(x, x - 0.1), 0.01)


def test_select_instances_is_seeded_distinct_and_checked():
    a = select_instances(100, 10, seed=1)
    assert len(set(a)) == 10 and (np.diff(a) > 0).all()
    np.testing.assert_array_equal(a, select_instances(100, 10, seed=1))
    assert not np.array_equal(a, select_instances(100, 10, seed=2))
    with pytest.raises(ValueError):
        select_instances(5, 6, seed=0)


def test_timing_stats():
    s = timing_stats([3.0, 1.0, 2.0])
    assert s == {"min": 1.0, "median": 2.0, "max": 3.0, "n": 3}


# --- MNIST files -----------------------------------------------------------------------


def _tiny_mnist(n_train=12, n_test=6, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }


def _write_idx_dir(directory, raw):
    directory.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_FILES.items():
        write_idx(directory / name, raw[key])
    return directory


def test_idx_and_npz_give_the_same_images(tmp_path):
    raw = _tiny_mnist()
    np.savez(tmp_path / "mnist.npz", **raw)
    from_npz = load_mnist_npz(tmp_path / "mnist.npz")
    from_idx = load_mnist_idx(_write_idx_dir(tmp_path / "idx", raw))
    for key in raw:
        np.testing.assert_array_equal(from_npz[key], from_idx[key])
    assert from_npz["x_train"].shape == (12, 28, 28, 1)
    assert from_npz["x_train"].dtype == np.float32
    np.testing.assert_allclose(from_npz["x_train"][..., 0] * 255, raw["x_train"])
    np.testing.assert_array_equal(from_npz["y_test"], raw["y_test"])


def test_prepare_writes_the_mnist_dataset(tmp_path):
    raw = _tiny_mnist(n_train=40)
    raw["y_train"] = (np.arange(40) % 10).astype(np.uint8)  # 4 per class: 1 to validation
    directory = _write_idx_dir(tmp_path / "idx", raw)
    out = tmp_path / "dataset.npz"
    mnist = {
        "path": str(directory),
        "format": "idx",
        "allow_download": False,
        "from_test_set": None,
    }
    prepare_cfrl_data.main(out, dataset="mnist", mnist=mnist, **PREPARE)
    data = load_dataset(out)
    assert np.bincount(data["y_val"]).tolist() == [1] * 10
    joined = np.concatenate([data["x_train"], data["x_val"]])[..., 0] * 255
    order = np.lexsort(joined.reshape(40, -1).T)
    raw_order = np.lexsort(raw["x_train"].reshape(40, -1).T)
    np.testing.assert_allclose(joined[order], raw["x_train"][raw_order], atol=1e-3)
    np.testing.assert_array_equal(data["y_test"], raw["y_test"])


def test_prepare_digits_is_seeded_and_stratified(tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for path in (a, b):
        prepare_cfrl_data.main(path, dataset="digits", mnist={}, **PREPARE)
    da, db = load_dataset(a), load_dataset(b)
    np.testing.assert_array_equal(da["x_test"], db["x_test"])
    assert da["x_train"].shape[1:] == (8, 8, 1)
    assert len(da["y_train"]) + len(da["y_val"]) + len(da["y_test"]) == 1797
    assert len(da["y_val"]) == math.ceil(0.25 * (1797 - len(da["y_test"])))  # sklearn rounds up
    counts = np.bincount(da["y_test"], minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    assert 0.0 <= da["x_train"].min() and da["x_train"].max() <= 1.0


def _corrupt(kind, tmp_path):
    """Make one bad MNIST input; return (mnist config, text the error must contain)."""
    raw = _tiny_mnist()
    if kind == "missing-npz":
        return {"path": str(tmp_path / "nope.npz"), "format": "npz"}, "nope.npz"
    if kind.startswith("npz-"):
        if kind == "npz-float-images":
            raw["x_train"] = raw["x_train"].astype(np.float32)
        elif kind == "npz-wrong-shape":
            raw["x_test"] = raw["x_test"][:, :27, :27]
        elif kind == "npz-label-range":
            raw["y_train"][3] = 10
        elif kind == "npz-label-count":
            raw["y_test"] = raw["y_test"][:-1]
        elif kind == "npz-missing-key":
            del raw["y_test"]
        path = tmp_path / "mnist.npz"
        np.savez(path, **raw)
        return {"path": str(path), "format": "npz"}, "mnist.npz"
    directory = _write_idx_dir(tmp_path / "idx", raw)
    target = directory / IDX_FILES["x_train"]
    if kind == "idx-missing-file":
        target.unlink()
    elif kind == "idx-truncated-data":
        blob = gzip.decompress(target.read_bytes())
        target.write_bytes(gzip.compress(blob[:-100]))
    elif kind == "idx-truncated-gzip":
        target.write_bytes(target.read_bytes()[:200])
    elif kind == "idx-wrong-magic":
        blob = bytearray(gzip.decompress(target.read_bytes()))
        blob[2] = 0x0D  # float32 instead of unsigned bytes
        target.write_bytes(gzip.compress(bytes(blob)))
    elif kind == "idx-not-gzip":
        target.write_bytes(b"hello, not gzip")
    elif kind == "idx-label-range":
        labels = raw["y_test"].copy()
        labels[0] = 11
        write_idx(directory / IDX_FILES["y_test"], labels)
        return {"path": str(directory), "format": "idx"}, IDX_FILES["x_test"]
    return {"path": str(directory), "format": "idx"}, IDX_FILES["x_train"]


BAD = [
    "missing-npz",
    "npz-float-images",
    "npz-wrong-shape",
    "npz-label-range",
    "npz-label-count",
    "npz-missing-key",
    "idx-missing-file",
    "idx-truncated-data",
    "idx-truncated-gzip",
    "idx-wrong-magic",
    "idx-not-gzip",
    "idx-label-range",
]


@pytest.mark.parametrize("kind", BAD)
def test_bad_mnist_input_names_the_file_and_writes_nothing(tmp_path, kind):
    mnist, expected = _corrupt(kind, tmp_path)
    mnist.update(allow_download=False, from_test_set=None)
    out = tmp_path / "out" / "dataset.npz"
    with pytest.raises(InputError, match=expected.replace(".", r"\.")):
        prepare_cfrl_data.main(out, dataset="mnist", mnist=mnist, **PREPARE)
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_truncated_npz_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, **_tiny_mnist())
    path.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(InputError, match="mnist.npz"):
        load_mnist_npz(path)


def test_read_idx_roundtrip_any_shape(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz", expected_ndim=3), arr)
    with pytest.raises(InputError, match="1 dimension"):
        read_idx(tmp_path / "a.gz", expected_ndim=1)


def test_load_dataset_refuses_out_of_range_images(tmp_path):
    path = tmp_path / "d.npz"
    x = np.full((2, 8, 8, 1), 2.0, dtype=np.float32)
    y = np.zeros(2, dtype=np.int64)
    np.savez(path, x_train=x, y_train=y, x_val=x, y_val=y, x_test=x, y_test=y)
    with pytest.raises(InputError, match="outside"):
        load_dataset(path)


def test_explaining_more_images_than_the_test_set_names_the_key(tmp_path):
    import explain_cfrl

    path = tmp_path / "dataset.npz"
    prepare_cfrl_data.main(path, dataset="digits", mnist={}, **PREPARE)
    with pytest.raises(InputError, match="cfrl.explain.n_instances"):
        explain_cfrl.main(
            path,
            tmp_path / "classifier.npz",
            tmp_path / "autoencoder.npz",
            tmp_path / "actor.npz",
            tmp_path / "cf.npz",
            tmp_path / "cf.json",
            seed=0,
            image_size=8,
            autoencoder={"latent_dim": 4, "hidden_dim": 8},
            cfrl={"backend": "tensorflow"},
            explain={"n_instances": 10_000, "batch_size": 100, "repeats": 1},
        )
    assert not (tmp_path / "cf.npz").exists()


def test_baseline_searching_more_images_than_cfrl_explains_names_the_key(tmp_path):
    """Refused before TensorFlow's graph mode is entered, so it runs in this process; the
    searches themselves run in their own process (test_cfrl_pipeline.py)."""
    import search_baseline_counterfactuals

    path = tmp_path / "dataset.npz"
    prepare_cfrl_data.main(path, dataset="digits", mnist={}, **PREPARE)
    outputs = (tmp_path / "baseline_0.npz", tmp_path / "baseline_0_timing.json")
    with pytest.raises(InputError, match="cfrl.baseline.n_instances = 3 exceeds the 2"):
        search_baseline_counterfactuals.main(
            path,
            tmp_path / "classifier.npz",
            *outputs,
            seed=0,
            image_size=8,
            n_explained=2,
            baseline={"n_instances": 3, "shards": 1},
            shard="0",
        )
    assert not any(p.exists() for p in outputs)


def test_reader_on_the_real_mnist_t10k_files():
    """The reader on MNIST's own t10k files, against a decoding written here from the format
    (16-byte image header, 8-byte label header, unsigned bytes)."""
    with gzip.open(MNIST_FIXTURE / IDX_FILES["x_test"]) as fh:
        images = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(MNIST_FIXTURE / IDX_FILES["y_test"]) as fh:
        labels = np.frombuffer(fh.read(), dtype=np.uint8, offset=8)
    counts = np.bincount(labels, minlength=10)
    # the test set's published class sizes (LeCun, Cortes & Burges, MNIST page)
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

    raw = read_idx(MNIST_FIXTURE / IDX_FILES["x_test"], expected_ndim=3)
    assert raw.shape == (10000, 28, 28) and raw.dtype == np.uint8
    np.testing.assert_array_equal(raw, images)
    data = load_mnist_idx(MNIST_FIXTURE, splits=("test",))
    assert set(data) == {"x_test", "y_test"}
    assert data["x_test"].shape == (10000, 28, 28, 1) and data["x_test"].dtype == np.float32
    np.testing.assert_array_equal(np.rint(data["x_test"][..., 0] * 255).astype(np.uint8), images)
    np.testing.assert_array_equal(np.bincount(data["y_test"], minlength=10), counts)
    np.testing.assert_array_equal(data["y_test"], labels)
