"""Fair scoring of the counterfactual study: targets, acceptance rules, Wilson intervals,
IM1/IM2 over valid counterfactuals, the amortised speed-up, the validation split (fast)."""

import numpy as np
import pytest
import torch

from xai_repro.cfrl.data import (
    explained_indices,
    load_explained,
    save_dataset,
    split_stratified,
    split_validation,
)
from xai_repro.cfrl.metrics import (
    accepted,
    amortised,
    baseline_pairs,
    choose_targets,
    im1_im2,
    share_summary,
    validity_summary,
    wilson_interval,
)
from xai_repro.cfrl.scoring import NAMES, in_distribution, pick_class, score_counterfactuals
from xai_repro.common import InputError


def test_choose_targets_never_the_own_class_and_seeded():
    y_pred = np.array([0, 3, 9, 3, 5] * 20)
    t = choose_targets(y_pred, 3, seed=1)
    assert t.shape == (100, 3)
    assert not (t == y_pred[:, None]).any()
    assert all(len(set(row)) == 3 for row in t)
    np.testing.assert_array_equal(t, choose_targets(y_pred, 3, seed=1))
    assert not np.array_equal(t, choose_targets(y_pred, 3, seed=2))
    every = choose_targets(np.array([4]), 9, seed=0)
    np.testing.assert_array_equal(every[0], [0, 1, 2, 3, 5, 6, 7, 8, 9])
    with pytest.raises(ValueError):
        choose_targets(y_pred, 10, seed=0)


def test_baseline_shards_partition_the_pairs():
    y_pred = np.arange(20) % 10
    instance, target = baseline_pairs(y_pred, 3, seed=0)
    assert len(target) == 60 and (target != y_pred[instance]).all()
    parts = [baseline_pairs(y_pred, 3, seed=0, shard=k, shards=3) for k in range(3)]
    joined = sorted(
        zip(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    )
    assert joined == sorted(zip(instance, target))
    assert all((p[1] % 3 == k).all() for k, p in enumerate(parts))
    with pytest.raises(ValueError):
        baseline_pairs(y_pred, 3, seed=0, shard=3, shards=3)


def test_wilson_interval_known_values():
    # Wilson (1927) score interval: 29 of 30 -> [0.833, 0.994]; 0 of 10 -> [0, 0.278]
    lo, hi = wilson_interval(29, 30)
    assert lo == pytest.approx(0.8333, abs=1e-3) and hi == pytest.approx(0.9941, abs=1e-3)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-3)
    assert wilson_interval(0, 0) == [None, None]
    s = validity_summary(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4]))
    assert s["validity"] == 0.75 and s["valid"] == 3 and s["n"] == 4
    assert s["wilson95"][0] < 0.75 < s["wilson95"][1]


def test_im1_im2_known_answer():
    x = np.full((2, 2, 2, 1), 0.5)
    # the counterfactual class's autoencoder reproduces x exactly, the original's gives zeros
    im1, im2 = im1_im2(x, rec_cf_class=x, rec_orig_class=np.zeros_like(x), rec_all=x)
    np.testing.assert_allclose(im1, 0.0)
    np.testing.assert_allclose(im2, 0.0)
    # the other way round, eps = 1: IM1 = |x|^2 / (0 + 1) = 1; IM2 = |0 - x|^2 / (|x|_1 + 1) = 1/3
    im1, im2 = im1_im2(x, rec_cf_class=np.zeros_like(x), rec_orig_class=x, rec_all=x, eps=1.0)
    np.testing.assert_allclose(im1, 1.0)
    np.testing.assert_allclose(im2, 1.0 / (2.0 + 1.0))


class _Const(torch.nn.Module):
    """An 'autoencoder' that returns its input (keep) or zeros."""

    def __init__(self, keep):
        super().__init__()
        self.keep = keep

    def forward(self, x):
        return x if self.keep else torch.zeros_like(x)


def test_in_distribution_uses_the_class_scorers():
    # only class 7's autoencoder reconstructs; counterfactuals of class 7 from class 2
    scorers = torch.nn.ModuleDict({n: _Const(n in ("class7", "all")) for n in NAMES})
    x_cf = np.full((3, 4, 4, 1), 0.25, dtype=np.float32)
    out = in_distribution(scorers, x_cf, np.array([7, 7, 7]), np.array([2, 2, 2]))
    assert out["im1"] == pytest.approx(0.0) and out["im2"] == pytest.approx(0.0)
    assert out["reconstruction_mse"] == pytest.approx(0.0) and out["n"] == 3
    # swapped: class 2's scorer gives zeros -> IM1 = |x|^2 / (|x - x|^2 + eps) is large
    out = in_distribution(scorers, x_cf, np.array([2, 2, 2]), np.array([7, 7, 7]))
    assert out["im1"] > 1e3
    assert out["im2"] == pytest.approx(16 * 0.25**2 / (16 * 0.25), rel=1e-4)
    assert in_distribution(scorers, x_cf[:0], np.array([]), np.array([]))["im1"] is None


def test_pick_class_takes_each_rows_class():
    recs = {f"class{c}": np.full((3, 1), float(c)) for c in range(10)}
    np.testing.assert_array_equal(pick_class(recs, np.array([4, 0, 9]))[:, 0], [4, 0, 9])


def test_split_stratified_and_explained_indices():
    y = np.repeat(np.arange(10), 50)
    x = np.arange(500, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 2, 1))
    out = split_stratified(x, y, n_train=400, n_test=100, seed=0, source="f")
    assert np.bincount(out["y_test"]).tolist() == [10] * 10
    assert not set(out["x_train"][:, 0, 0, 0]) & set(out["x_test"][:, 0, 0, 0])
    with pytest.raises(InputError, match="from_test_set"):
        split_stratified(x, y, n_train=450, n_test=100, seed=0, source="f")
    idx = explained_indices(out, 20, seed=0, source="d.npz")
    assert len(set(idx)) == 20
    with pytest.raises(InputError, match="n_instances"):
        explained_indices(out, 101, seed=0, source="d.npz")


def test_every_job_reads_the_same_explained_images(tmp_path):
    rng = np.random.default_rng(0)
    data = {}
    for split, n in (("train", 30), ("val", 10), ("test", 40)):
        data[f"x_{split}"] = rng.random((n, 4, 4, 1)).astype(np.float32)
        data[f"y_{split}"] = rng.integers(0, 10, n)
    path = tmp_path / "dataset.npz"
    save_dataset(path, data)
    loaded, index = load_explained(path, 12, seed=3)
    np.testing.assert_array_equal(index, explained_indices(data, 12, seed=3, source="x"))
    for key in data:
        np.testing.assert_array_equal(loaded[key], data[key])
    with pytest.raises(InputError, match="n_instances = 41.*dataset.npz"):
        load_explained(path, 41, seed=3)


def test_sparsity_coefficient_ramps_in_ten_stairs():
    from xai_repro.cfrl.explainer import sparsity_coefficient

    assert sparsity_coefficient(0, 7.5, 0) == 7.5  # no warm-up: alibi's constant
    steps = [sparsity_coefficient(s, 7.5, 1000) for s in range(0, 1200, 50)]
    assert steps[0] == 0.0 and steps[1] == 0.0 and steps[2] == pytest.approx(0.75)
    assert steps[-1] == 7.5 and sparsity_coefficient(999, 7.5, 1000) == pytest.approx(6.75)
    assert all(b >= a for a, b in zip(steps, steps[1:]))
    assert len(set(steps)) == 11


def _one_hot_proba(classes, p=0.97):
    """Class probabilities with ``p`` on each row's class and the rest spread evenly."""
    proba = np.full((len(classes), 10), (1 - p) / 9)
    proba[np.arange(len(classes)), classes] = p
    return proba


def test_failed_counterfactuals_are_left_out_of_sparsity_and_in_distribution():
    """A failed search returns the original image; it must not count as 'no change'."""
    scorers = torch.nn.ModuleDict({n: _Const(True) for n in NAMES})
    x = np.zeros((3, 2, 2, 1), dtype=np.float32)
    x_cf = x.copy()
    x_cf[0] = 0.5  # valid, L1 = 4 * 0.5 = 2, every pixel changed
    x_cf[1] = 0.25  # valid, L1 = 1
    # row 2 failed: x_cf is the original, predicted as the original class 0
    target = np.array([3, 3, 3])
    proba = _one_hot_proba(np.array([3, 3, 0]))
    out = score_counterfactuals(
        x, np.zeros(3, dtype=int), np.arange(3), target, x_cf, proba, scorers, 0.1,
        {"target_proba": 1.0, "tol": 0.05},
    )  # fmt: skip
    assert out["validity"]["valid"] == 2 and out["validity"]["n"] == 3
    assert out["sparsity_n"] == 2 and out["in_distribution"]["n"] == 2
    assert out["sparsity_l1"] == pytest.approx(1.5)  # (2 + 1) / 2, not (2 + 1 + 0) / 3
    assert out["sparsity_l0"] == pytest.approx(1.0)
    none_valid = score_counterfactuals(
        x, np.zeros(3, dtype=int), np.arange(3), target, x, _one_hot_proba(np.zeros(3, int)),
        scorers, 0.1, {"target_proba": 1.0, "tol": 0.05},
    )  # fmt: skip
    assert none_valid["sparsity_n"] == 0 and none_valid["sparsity_l1"] is None


def test_alibis_acceptance_rule_is_stricter_than_the_top_class():
    target = np.array([1, 1, 1, 1])
    proba = np.zeros((4, 10))
    proba[:, 1] = [0.96, 0.951, 0.6, 0.2]  # top class for the first three
    proba[:, 0] = 1 - proba[:, 1]
    # alibi Counterfactual._prob_condition: |p_target - target_proba| <= tol
    np.testing.assert_array_equal(
        accepted(proba, target, target_proba=1.0, tol=0.05), [True, True, False, False]
    )
    np.testing.assert_array_equal(
        accepted(proba, target, target_proba=0.5, tol=0.15), [False, False, True, False]
    )
    scorers = torch.nn.ModuleDict({n: _Const(True) for n in NAMES})
    x = np.zeros((4, 2, 2, 1), dtype=np.float32)
    out = score_counterfactuals(
        x, np.zeros(4, dtype=int), np.arange(4), target, x, proba, scorers, 0.1,
        {"target_proba": 1.0, "tol": 0.05},
    )  # fmt: skip
    assert out["validity"]["valid"] == 3 and out["validity_strict"]["valid"] == 2
    assert share_summary([True, False])["wilson95"] == wilson_interval(1, 2)


def test_amortised_speedup_known_answer():
    # 10 s of training, 0.01 s per CFRL counterfactual, 1.01 s per search: CFRL saves 1 s each
    row = amortised(0.01, 1.01, 10.0, n=40)
    assert row["break_even_count"] == 10
    assert row["speedup_at_n"] == pytest.approx(40 * 1.01 / (10 + 40 * 0.01))
    assert amortised(0.01, 1.01, 10.0, n=10)["speedup_at_n"] == pytest.approx(1.01 / 1.01)
    assert amortised(2.0, 1.0, 10.0, n=5)["break_even_count"] is None  # never pays off


def test_validation_split_is_stratified_disjoint_and_refuses_tiny_sets():
    y = np.repeat(np.arange(10), 20)
    x = np.arange(200, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 2, 1))
    data = {"x_train": x, "y_train": y, "x_test": x[:5], "y_test": y[:5]}
    out = split_validation(data, 0.1, seed=0)
    assert np.bincount(out["y_val"]).tolist() == [2] * 10
    assert len(out["y_train"]) == 180
    assert not set(out["x_train"][:, 0, 0, 0]) & set(out["x_val"][:, 0, 0, 0])
    np.testing.assert_array_equal(out["x_test"], data["x_test"])
    np.testing.assert_array_equal(out["x_val"], split_validation(data, 0.1, seed=0)["x_val"])
    with pytest.raises(InputError, match="cfrl.validation.fraction"):
        # 12 images of 10 classes: 8 classes have a single image
        split_validation({**data, "x_train": x[:12], "y_train": np.arange(12) % 10}, 0.1, seed=0)
