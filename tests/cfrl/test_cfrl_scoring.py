"""Fair scoring of the counterfactual study: targets, Wilson intervals, IM1/IM2 (fast)."""

import numpy as np
import pytest
import torch

from xai_repro.cfrl.data import explained_indices, split_stratified
from xai_repro.cfrl.metrics import (
    baseline_pairs,
    choose_targets,
    im1_im2,
    validity_summary,
    wilson_interval,
)
from xai_repro.cfrl.scoring import NAMES, in_distribution, pick_class
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


def test_sparsity_coefficient_ramps_in_ten_stairs():
    from xai_repro.cfrl.explainer import sparsity_coefficient

    assert sparsity_coefficient(0, 7.5, 0) == 7.5  # no warm-up: alibi's constant
    steps = [sparsity_coefficient(s, 7.5, 1000) for s in range(0, 1200, 50)]
    assert steps[0] == 0.0 and steps[1] == 0.0 and steps[2] == pytest.approx(0.75)
    assert steps[-1] == 7.5 and sparsity_coefficient(999, 7.5, 1000) == pytest.approx(6.75)
    assert all(b >= a for a, b in zip(steps, steps[1:]))
    assert len(set(steps)) == 11
