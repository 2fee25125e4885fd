"""Rank correlation and top-k overlap on constructed vectors with known answers."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, rankdata

from xai_repro.stability.measures import (
    against_reference,
    compare,
    k_for,
    pairwise,
    rank_correlation,
    shared,
    top_k,
    top_k_overlap,
)


def test_identical_vectors_agree_fully():
    a = np.array([0.3, -2.0, 1.5, 0.1, 4.0, -0.7])
    assert rank_correlation(a, a) == pytest.approx(1.0)
    for k in range(1, a.size + 1):
        assert top_k_overlap(a, a, k) == 1.0


def test_reversed_ranking_is_minus_one():
    a = np.arange(1.0, 8.0)
    assert rank_correlation(a, a[::-1]) == pytest.approx(-1.0)


def test_one_swapped_pair_gives_the_textbook_rho():
    # rho = 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 6 * 2 / (5 * 24) = 0.9
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([2.0, 1.0, 3.0, 4.0, 5.0])
    assert rank_correlation(a, b) == pytest.approx(0.9)


def test_permuted_vector_top_k_known_overlap():
    a = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.5])
    b = np.array([5.0, 1.0, 3.0, 2.0, 4.0, 0.5])  # entries 1 and 4 swapped
    assert top_k_overlap(a, b, 2) == 0.5  # {0, 1} vs {0, 4}
    assert top_k_overlap(a, b, 3) == pytest.approx(2 / 3)  # {0, 1, 2} vs {0, 4, 2}
    assert top_k_overlap(a, -b, 2) == 0.5  # by absolute value: the sign does not matter


def test_ties_get_average_ranks():
    a = np.array([1.0, 1.0, 2.0, 3.0, 3.0, 5.0])
    b = np.array([2.0, 1.0, 3.0, 3.0, 4.0, 6.0])
    expected = pearsonr(rankdata(a), rankdata(b)).statistic
    assert rank_correlation(a, b) == pytest.approx(expected)


def test_a_tie_at_the_top_k_boundary_enters_whole():
    a = np.array([3.0, 2.0, 2.0, 1.0])
    b = np.array([3.0, 2.0, 1.0, 0.0])
    assert top_k(a, 2) == {0, 1, 2}
    assert top_k(b, 2) == {0, 1}
    assert top_k_overlap(a, b, 2) == pytest.approx(2 / 3)  # |{0, 1}| / max(3, 2)


def test_constant_or_too_short_vectors_are_undefined():
    flat = np.ones(5)
    varied = np.arange(5.0)
    assert rank_correlation(flat, varied) is None
    assert rank_correlation(varied[:2], varied[:2]) is None
    assert top_k_overlap(flat, varied, 2) is None
    assert top_k_overlap(-flat, flat, 1) is None  # |value| constant: every entry is top


def test_mismatched_shapes_and_bad_k_raise():
    with pytest.raises(ValueError, match="shapes"):
        rank_correlation(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="k = 0"):
        top_k_overlap(np.arange(3.0), np.arange(3.0), 0)


def test_only_entries_defined_in_both_are_compared():
    a = pd.Series({"p": 1.0, "q": 2.0, "r": np.nan, "s": 4.0, "t": 5.0})
    b = pd.Series({"t": 50.0, "s": 40.0, "r": 30.0, "q": 20.0, "u": 0.0})
    x, y = shared(a, b)
    np.testing.assert_array_equal(x, [2.0, 4.0, 5.0])
    np.testing.assert_array_equal(y, [20.0, 40.0, 50.0])
    result = compare(a, b, top_k_fraction=0.34)
    assert result["entries"] == 3
    assert result["k"] == 2
    assert result["spearman"] == pytest.approx(1.0)
    assert result["chance"] == pytest.approx(2 / 3)
    assert compare(a, pd.Series({"z": 1.0}), 0.1)["spearman"] is None


def test_k_is_a_share_of_the_entries_rounded_up():
    assert k_for(21, 0.1) == 3
    assert k_for(5, 0.01) == 1
    assert k_for(100, 0.1) == 10


def test_pairwise_summarises_every_pair():
    base = pd.Series(np.arange(1.0, 7.0), index=list("abcdef"))
    swapped = base.copy()
    swapped[["a", "b"]] = [2.0, 1.0]
    result = pairwise({0: base, 1: base, 2: swapped}, top_k_fraction=0.5)
    assert result["pairs"] == 3
    rho = [p["spearman"] for p in result["per_pair"]]
    expected = 1 - 6 * 2 / (6 * 35)
    assert rho == pytest.approx([1.0, expected, expected])
    assert result["spearman"]["mean"] == pytest.approx((1 + 2 * expected) / 3)
    assert result["spearman"]["min"] == pytest.approx(expected)
    assert result["spearman"]["max"] == pytest.approx(1.0)
    assert result["spearman"]["n"] == 3
    assert result["chance_top_k_overlap"] == pytest.approx(0.5)


def test_an_undefined_pair_is_counted_apart():
    varied = pd.Series(np.arange(4.0), index=list("abcd"))
    flat = pd.Series(np.ones(4), index=list("abcd"))
    result = pairwise({0: varied, 1: varied, 2: flat}, top_k_fraction=0.25)
    assert result["spearman"]["n"] == 1
    assert result["spearman"]["undefined"] == 2
    assert result["spearman"]["mean"] == pytest.approx(1.0)


def test_pairwise_needs_two_seeds():
    with pytest.raises(ValueError, match="1 seed"):
        pairwise({0: pd.Series([1.0, 2.0, 3.0])}, 0.1)


def test_against_reference_compares_each_seed_with_its_own():
    trained = {0: pd.Series([1.0, 2.0, 3.0, 4.0]), 1: pd.Series([1.0, 2.0, 3.0, 4.0])}
    reference = {0: pd.Series([4.0, 3.0, 2.0, 1.0]), 1: pd.Series([1.0, 2.0, 3.0, 4.0])}
    result = against_reference(trained, reference, 0.5)
    assert result["seeds"] == 2
    assert result["spearman"]["min"] == pytest.approx(-1.0)
    assert result["spearman"]["max"] == pytest.approx(1.0)
    assert result["per_seed"][0]["top_k_overlap"] == 0.0
