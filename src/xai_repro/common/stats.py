"""Interval estimates shared by the studies.

``wilson_interval``: the Wilson score interval of a binomial share, for rates over
independent trials (episodes, counterfactuals).
"""

import math

# the two-sided 95 % normal quantile
Z95 = 1.959964


def wilson_interval(successes: int, n: int, z: float = Z95) -> list:
    """Wilson score interval [lo, hi] of ``successes`` out of ``n`` (95 % by default);
    [None, None] when there are no trials."""
    if n <= 0:
        return [None, None]
    if not 0 <= successes <= n:
        raise ValueError(f"successes = {successes} is not within 0..{n}")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [float(max(0.0, centre - half)), float(min(1.0, centre + half))]
