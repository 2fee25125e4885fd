"""xai_repro.common.stats: the Wilson interval against values computed by hand."""

import math

import pytest

from xai_repro.common.stats import Z95, wilson_interval


def _by_hand(k, n, z=Z95):
    p = k / n
    centre = (k + z * z / 2) / (n + z * z)
    half = z * math.sqrt(n) / (n + z * z) * math.sqrt(p * (1 - p) + z * z / (4 * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


@pytest.mark.parametrize(("k", "n"), [(0, 10), (81, 263), (29, 30), (5, 5), (1, 2)])
def test_wilson_interval_equals_the_closed_form(k, n):
    assert wilson_interval(k, n) == pytest.approx(_by_hand(k, n), abs=1e-12)


def test_wilson_interval_known_values_and_edges():
    assert wilson_interval(0, 10) == pytest.approx([0.0, 0.2775], abs=1e-4)
    assert wilson_interval(0, 0) == [None, None]
    with pytest.raises(ValueError, match="successes = 11"):
        wilson_interval(11, 10)
